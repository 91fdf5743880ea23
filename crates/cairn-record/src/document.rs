//! Writing links without building a JSON tree.
//!
//! A link over 50,000 files held as `serde_json::Value` costs two B-tree nodes (~1 KiB) per
//! artifact; serialising straight from the recorded artifacts keeps a recording's peak memory
//! to the artifact map itself. [`LinkDocument`] borrows the parts of a link and writes:
//! the OLPC canonical JSON of its `signed` part (what legacy signatures cover), the legacy
//! metablock file, and the Statement v1 (link v0.3 predicate) payload for DSSE.
//!
//! Every string is written by `cairn_model::canonical` (for canonical bytes) or `serde_json`
//! (for files), so the escaping rules are those of the model; the tests check the output
//! against the `Value`-based path (`build_link`, `link_statement`, `Metablock`).

use std::collections::BTreeMap;

use cairn_model::DigestSet;
use cairn_model::canonical::{self, CanonicalError};
use serde::ser::{SerializeMap, SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::artifacts::Artifacts;
use crate::hash::Digests;
use crate::link::{LINK_PREDICATE_TYPE, STATEMENT_TYPE};

/// Artifacts as recorded now, or as read back from a link (the `record start` state).
#[derive(Debug, Clone, Copy)]
pub enum ArtifactsRef<'a> {
    /// Freshly recorded.
    Recorded(&'a Artifacts),
    /// A link's artifact map.
    Map(&'a BTreeMap<String, DigestSet>),
}

impl<'a> ArtifactsRef<'a> {
    /// Number of artifacts.
    pub fn len(&self) -> usize {
        match self {
            ArtifactsRef::Recorded(a) => a.map.len(),
            ArtifactsRef::Map(m) => m.len(),
        }
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn entries(&self) -> Box<dyn Iterator<Item = (&'a str, DigestsRef<'a>)> + 'a> {
        match *self {
            ArtifactsRef::Recorded(a) => Box::new(
                a.map
                    .iter()
                    .map(|(k, v)| (k.as_str(), DigestsRef::Recorded(v))),
            ),
            ArtifactsRef::Map(m) => {
                Box::new(m.iter().map(|(k, v)| (k.as_str(), DigestsRef::Set(v))))
            }
        }
    }
}

#[derive(Clone, Copy)]
enum DigestsRef<'a> {
    Recorded(&'a Digests),
    Set(&'a DigestSet),
}

impl<'a> DigestsRef<'a> {
    /// `(algorithm, hex)` in key order.
    fn entries(self) -> Box<dyn Iterator<Item = (&'a str, &'a str)> + 'a> {
        match self {
            // Digests are kept in algorithm order, which is also name order
            // (sha256 < sha384 < sha512).
            DigestsRef::Recorded(d) => Box::new(d.iter().map(|(a, h)| (a.name(), h.as_str()))),
            DigestsRef::Set(s) => Box::new(s.iter()),
        }
    }
}

impl Serialize for DigestsRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        for (a, h) in self.entries() {
            m.serialize_entry(a, h)?;
        }
        m.end()
    }
}

/// An artifact map as a JSON object (legacy link).
struct AsObject<'a>(ArtifactsRef<'a>);

impl Serialize for AsObject<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (name, d) in self.0.entries() {
            m.serialize_entry(name, &d)?;
        }
        m.end()
    }
}

/// An artifact map as a list of ResourceDescriptors (Statement).
struct AsDescriptors<'a>(ArtifactsRef<'a>);

impl Serialize for AsDescriptors<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for (name, digest) in self.0.entries() {
            seq.serialize_element(&Descriptor { name, digest })?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct Descriptor<'a> {
    name: &'a str,
    digest: DigestsRef<'a>,
}

/// Writes a string as OLPC canonical JSON (the rule of `cairn_model::canonical`: only `\\` and
/// `"` are escaped), without the allocations of going through a `Value` for every artifact
/// name and digest. The tests compare it with `cairn_model::canonical` on awkward strings.
fn push_canonical_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'"' || b == b'\\' {
            out.extend_from_slice(&bytes[start..i]);
            out.push(b'\\');
            out.push(b);
            start = i + 1;
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// The parts of a link, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct LinkDocument<'a> {
    /// Step name.
    pub name: &'a str,
    /// Command as run.
    pub command: &'a [String],
    /// Byproducts (`stdout`, `stderr`, `return-value`, ...).
    pub byproducts: &'a Map<String, Value>,
    /// Environment (recorded variables, recording options).
    pub environment: &'a Map<String, Value>,
    /// Materials.
    pub materials: ArtifactsRef<'a>,
    /// Products.
    pub products: ArtifactsRef<'a>,
}

/// The legacy link's `signed` object, keys in canonical order.
struct Signed<'a>(&'a LinkDocument<'a>);

impl Serialize for Signed<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let mut st = s.serialize_struct("Link", 7)?;
        st.serialize_field("_type", "link")?;
        st.serialize_field("byproducts", d.byproducts)?;
        st.serialize_field("command", d.command)?;
        st.serialize_field("environment", d.environment)?;
        st.serialize_field("materials", &AsObject(d.materials))?;
        st.serialize_field("name", d.name)?;
        st.serialize_field("products", &AsObject(d.products))?;
        st.end()
    }
}

/// A metablock signature as written in link files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureRef<'a> {
    /// Key id.
    pub keyid: &'a str,
    /// Hex signature.
    pub sig: &'a str,
}

#[derive(Serialize)]
struct MetablockOut<'a> {
    signatures: &'a [SignatureRef<'a>],
    signed: Signed<'a>,
}

#[derive(Serialize)]
struct StatementOut<'a> {
    #[serde(rename = "_type")]
    kind: &'static str,
    subject: AsDescriptors<'a>,
    #[serde(rename = "predicateType")]
    predicate_type: &'static str,
    predicate: PredicateOut<'a>,
}

#[derive(Serialize)]
struct PredicateOut<'a> {
    name: &'a str,
    command: &'a [String],
    materials: AsDescriptors<'a>,
    byproducts: &'a Map<String, Value>,
    environment: &'a Map<String, Value>,
}

impl LinkDocument<'_> {
    /// OLPC canonical JSON of the `signed` object: the bytes a legacy signature covers.
    pub fn canonical_signed(&self) -> Result<Vec<u8>, CanonicalError> {
        let mut out = Vec::with_capacity(64 + 120 * (self.materials.len() + self.products.len()));
        out.extend_from_slice(b"{\"_type\":\"link\",\"byproducts\":");
        out.extend_from_slice(&canonical::to_vec(&Value::Object(self.byproducts.clone()))?);
        out.extend_from_slice(b",\"command\":");
        let command = Value::Array(self.command.iter().cloned().map(Value::String).collect());
        out.extend_from_slice(&canonical::to_vec(&command)?);
        out.extend_from_slice(b",\"environment\":");
        out.extend_from_slice(&canonical::to_vec(&Value::Object(
            self.environment.clone(),
        ))?);
        for (key, artifacts) in [("materials", self.materials), ("name", self.products)] {
            if key == "name" {
                out.extend_from_slice(b",\"name\":");
                push_canonical_str(&mut out, self.name);
                out.extend_from_slice(b",\"products\":");
            } else {
                out.extend_from_slice(b",\"materials\":");
            }
            out.push(b'{');
            // BTreeMap<String, _> iterates in byte order of the keys: canonical order.
            for (i, (name, digests)) in artifacts.entries().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                push_canonical_str(&mut out, name);
                out.extend_from_slice(b":{");
                for (j, (alg, hex)) in digests.entries().enumerate() {
                    if j > 0 {
                        out.push(b',');
                    }
                    push_canonical_str(&mut out, alg);
                    out.push(b':');
                    push_canonical_str(&mut out, hex);
                }
                out.push(b'}');
            }
            out.push(b'}');
        }
        out.push(b'}');
        Ok(out)
    }

    /// The legacy metablock file: pretty JSON `{"signatures": [...], "signed": {...}}`.
    pub fn metablock_json(&self, signatures: &[SignatureRef<'_>]) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(&MetablockOut {
            signatures,
            signed: Signed(self),
        })
        .expect("a link has string keys only and serialises to JSON");
        out.push(b'\n');
        out
    }

    /// The Statement v1 (link v0.3 predicate) as compact JSON: the DSSE payload.
    pub fn statement_json(&self) -> Vec<u8> {
        serde_json::to_vec(&StatementOut {
            kind: STATEMENT_TYPE,
            subject: AsDescriptors(self.products),
            predicate_type: LINK_PREDICATE_TYPE,
            predicate: PredicateOut {
                name: self.name,
                command: self.command,
                materials: AsDescriptors(self.materials),
                byproducts: self.byproducts,
                environment: self.environment,
            },
        })
        .expect("a statement has string keys only and serialises to JSON")
    }
}

#[cfg(test)]
mod tests;
