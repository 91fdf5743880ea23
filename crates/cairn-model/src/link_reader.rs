//! Single-pass reading of legacy link metablocks.
//!
//! [`crate::Metablock::from_slice`] keeps `signed` as a `serde_json::Value` so that any document
//! can be canonicalised exactly as received. For links that is costly: a link with 50,000
//! artifacts becomes a tree of several hundred thousand small allocations, which is then
//! canonicalised (for the signature check) and converted again into a [`Link`]. This module
//! reads a link metablock once, straight into a typed [`Link`], and produces the OLPC canonical
//! bytes of `signed` from what it read, without a `Value` tree for the artifact lists.
//!
//! It is as strict as [`crate::json`]: duplicate keys at any depth, nesting deeper than
//! [`MAX_DEPTH`] and documents larger than [`MAX_DOCUMENT_BYTES`] are errors, and the canonical
//! bytes are byte-identical to [`crate::canonical::to_vec`] of the `signed` value (fields the
//! typed view does not know, and fields of an unexpected JSON type, are kept as values and
//! canonicalised as such).
//!
//! A document that is not a link metablock (a layout, a DSSE envelope, a bundle) gives
//! [`LinkReadError::NotALinkMetablock`]; callers fall back to the general reader.
//!
//! ```
//! use cairn_model::link_reader::read_link_metablock;
//! use cairn_model::Metablock;
//!
//! let file = br#"{"signatures": [{"keyid": "ab", "sig": "cd"}], "signed": {"name": "build",
//!   "_type": "link", "command": ["make"], "materials": {},
//!   "products": {"a.out": {"sha256": "74dc3727c6e89308b39e4dfedf787e37841198b1fa165a27c013544a60502549"}},
//!   "byproducts": {"return-value": 0}, "environment": {}}}"#;
//! let block = read_link_metablock(file)?;
//! assert_eq!(block.link.name, "build");
//! assert_eq!(block.signatures[0].keyid, "ab");
//! // The same bytes as canonicalising the whole `signed` value.
//! assert_eq!(block.signed_bytes(), Metablock::from_slice(file)?.signed_bytes()?.as_slice());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::canonical::{self, CanonicalError};
use crate::digest::{DigestError, DigestSet, validate_digest};
use crate::json::{JsonError, MAX_DEPTH, MAX_DOCUMENT_BYTES};
use crate::link::Link;
use crate::metablock::{ArtifactList, MetablockSignature, MetadataError, MetadataType};

/// The visitor methods for every JSON value but an object: each is `self.not_object()`, which
/// marks the document as not of the expected kind.
macro_rules! reject_non_objects {
    ($de:lifetime, $out:ty) => {
        fn visit_seq<A: SeqAccess<$de>>(self, _seq: A) -> Result<$out, A::Error> {
            self.not_object()
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<$out, E> {
            self.not_object()
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<$out, E> {
            self.not_object()
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<$out, E> {
            self.not_object()
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<$out, E> {
            self.not_object()
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<$out, E> {
            self.not_object()
        }
        fn visit_unit<E: de::Error>(self) -> Result<$out, E> {
            self.not_object()
        }
    };
}

/// The digests of one artifact, compactly: sorted `(algorithm, digest)` pairs in one boxed
/// slice. Equal to a [`DigestSet`] in content (see [`ArtifactDigests::to_digest_set`]), about a
/// quarter of its memory: a `DigestSet` is a `BTreeMap`, whose first node is allocated for
/// eleven entries, and links carry tens of thousands of one-entry sets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArtifactDigests(Box<[(Box<str>, Box<str>)]>);

impl ArtifactDigests {
    /// No digest at all.
    pub fn new() -> Self {
        ArtifactDigests::default()
    }

    /// One SHA-256 digest.
    pub fn sha256(digest: &[u8; 32]) -> Self {
        ArtifactDigests(Box::new([("sha256".into(), hex::encode(digest).into())]))
    }

    /// From an algorithm -> digest map, without validating (see [`ArtifactDigests::validate`]).
    pub fn from_map_unchecked(map: BTreeMap<String, String>) -> Self {
        ArtifactDigests(map.into_iter().map(|(a, v)| (a.into(), v.into())).collect())
    }

    /// The digest for `algorithm`, if present.
    pub fn get(&self, algorithm: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(a, _)| &**a == algorithm)
            .map(|(_, v)| &**v)
    }

    /// `(algorithm, digest)` pairs in algorithm order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(a, v)| (&**a, &**v))
    }

    /// Number of algorithms.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there is no digest at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Checks every entry as [`DigestSet::validate`] does.
    pub fn validate(&self) -> Result<(), DigestError> {
        self.iter().try_for_each(|(a, v)| validate_digest(a, v))
    }

    /// As [`DigestSet::matches`]: at least one shared algorithm, and agreement on every one.
    pub fn matches(&self, other: &ArtifactDigests) -> bool {
        let mut shared = 0;
        for (alg, v) in self.iter() {
            if let Some(w) = other.get(alg) {
                if v != w {
                    return false;
                }
                shared += 1;
            }
        }
        shared > 0
    }

    /// The same digests as a [`DigestSet`].
    pub fn to_digest_set(&self) -> DigestSet {
        DigestSet::from_map_unchecked(
            self.iter()
                .map(|(a, v)| (a.to_owned(), v.to_owned()))
                .collect(),
        )
    }
}

impl From<&DigestSet> for ArtifactDigests {
    fn from(set: &DigestSet) -> Self {
        ArtifactDigests(set.iter().map(|(a, v)| (a.into(), v.into())).collect())
    }
}

impl fmt::Display for ArtifactDigests {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (a, v)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{a}:{v}")?;
        }
        Ok(())
    }
}

/// Artifacts of one side of a link, by path.
pub type Artifacts = BTreeMap<String, ArtifactDigests>;

/// A legacy link as this reader produces it: [`Link`] with compact digests.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadLink {
    /// The step name.
    pub name: String,
    /// The command run.
    pub command: Vec<String>,
    /// Artifacts consumed.
    pub materials: Artifacts,
    /// Artifacts produced.
    pub products: Artifacts,
    /// `return-value`, `stdout`, `stderr`.
    pub byproducts: Map<String, Value>,
    /// What the functionary recorded of its environment.
    pub environment: Map<String, Value>,
    /// Fields the link schema does not name.
    pub extra: Map<String, Value>,
}

impl ReadLink {
    /// Checks every material and product digest (as [`Link::validate_digests`]).
    pub fn validate_digests(&self) -> Result<(), MetadataError> {
        for (list, artifacts) in [
            (ArtifactList::Materials, &self.materials),
            (ArtifactList::Products, &self.products),
        ] {
            for (path, digests) in artifacts {
                digests.validate().map_err(|source| MetadataError::Digest {
                    list,
                    artifact: path.clone(),
                    source,
                })?;
            }
        }
        Ok(())
    }

    /// The same link as a [`Link`].
    pub fn into_link(self) -> Link {
        let sets = |a: Artifacts| -> BTreeMap<String, DigestSet> {
            a.into_iter().map(|(p, d)| (p, d.to_digest_set())).collect()
        };
        let mut link = Link::new(self.name);
        link.command = self.command;
        link.materials = sets(self.materials);
        link.products = sets(self.products);
        link.byproducts = self.byproducts;
        link.environment = self.environment;
        link.extra = self.extra;
        link
    }
}

/// A link metablock read in one pass: the typed link, the signatures, and the canonical bytes
/// the signatures cover.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkMetablock {
    /// The typed link. Its digests are not validated yet (see [`ReadLink::validate_digests`]):
    /// a signature check comes first.
    pub link: ReadLink,
    /// The signatures, as received.
    pub signatures: Vec<MetablockSignature>,
    signed_bytes: Vec<u8>,
}

impl LinkMetablock {
    /// The OLPC canonical JSON of `signed`: what the signatures cover.
    pub fn signed_bytes(&self) -> &[u8] {
        &self.signed_bytes
    }

    /// Drops the canonical bytes (they are only needed for the signature check) and returns the
    /// link and the signatures.
    pub fn into_parts(self) -> (ReadLink, Vec<MetablockSignature>) {
        (self.link, self.signatures)
    }
}

/// Why a link could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkReadError {
    /// The document is JSON but not a link metablock: no `signed`/`signatures`, or `signed`
    /// is not an object whose `_type` is `"link"`. Read it with the general reader instead.
    #[error("not a link metablock")]
    NotALinkMetablock,
    /// Not JSON, or the strict rules are broken (duplicate key, depth, size).
    #[error(transparent)]
    Json(#[from] JsonError),
    /// A link, but one whose fields have the wrong shape.
    #[error(transparent)]
    Link(#[from] MetadataError),
    /// `signed` has no canonical form (a non-integer number).
    #[error(transparent)]
    Canonical(#[from] CanonicalError),
}

/// Reads a legacy link metablock (`{"signed": {"_type": "link", ...}, "signatures": [...]}`).
pub fn read_link_metablock(bytes: &[u8]) -> Result<LinkMetablock, LinkReadError> {
    check_size(bytes)?;
    let not_link = Cell::new(false);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let top = match (TopSeed {
        not_link: &not_link,
    })
    .deserialize(&mut de)
    {
        Ok(top) => top,
        Err(_) if not_link.get() => return Err(LinkReadError::NotALinkMetablock),
        Err(e) => return Err(LinkReadError::Json(syntax(&e))),
    };
    de.end().map_err(|e| LinkReadError::Json(syntax(&e)))?;
    let (Some(signed), Some(signatures)) = (top.signed, top.signatures) else {
        return Err(LinkReadError::NotALinkMetablock);
    };
    let signatures: Vec<MetablockSignature> = serde_json::from_value(signatures).map_err(|e| {
        LinkReadError::Json(JsonError::Shape {
            message: format!("signatures: {e}"),
        })
    })?;
    let mut signed_bytes = Vec::with_capacity(bytes.len());
    write_fields(&signed, &mut signed_bytes)?;
    let link = into_link(signed)?;
    Ok(LinkMetablock {
        link,
        signatures,
        signed_bytes,
    })
}

/// Reads a bare legacy link (`{"_type": "link", ...}`, the payload of a DSSE-wrapped link) into
/// its typed view, with the rules of [`read_link_metablock`]. A JSON document that is not a
/// link gives [`LinkReadError::NotALinkMetablock`].
pub fn read_link(bytes: &[u8]) -> Result<ReadLink, LinkReadError> {
    check_size(bytes)?;
    let not_link = Cell::new(false);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let fields = match (SignedSeed {
        not_link: &not_link,
        depth: 1,
    })
    .deserialize(&mut de)
    {
        Ok(f) => f,
        Err(_) if not_link.get() => return Err(LinkReadError::NotALinkMetablock),
        Err(e) => return Err(LinkReadError::Json(syntax(&e))),
    };
    de.end().map_err(|e| LinkReadError::Json(syntax(&e)))?;
    Ok(into_link(fields)?)
}

/// The in-toto Statement types whose link predicate [`read_link_statement`] reads.
const STATEMENT_TYPES: &[&str] = &[
    "https://in-toto.io/Statement/v1",
    "https://in-toto.io/Statement/v0.1",
];

/// Reads an in-toto Statement with the link v0.3 predicate (the payload of a DSSE link, what
/// `cairn run` writes) into the same typed view: products are the subjects, materials the
/// predicate's `materials`, each named by its `name` (or `uri` when the name is empty or
/// missing). Strict as [`read_link_metablock`]. A JSON document that is not a Statement, or a
/// Statement with another predicate type, gives [`LinkReadError::NotALinkMetablock`].
pub fn read_link_statement(bytes: &[u8]) -> Result<ReadLink, LinkReadError> {
    check_size(bytes)?;
    let not_link = Cell::new(false);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parts = match (StatementSeed {
        not_link: &not_link,
    })
    .deserialize(&mut de)
    {
        Ok(p) => p,
        Err(_) if not_link.get() => return Err(LinkReadError::NotALinkMetablock),
        Err(e) => return Err(LinkReadError::Json(syntax(&e))),
    };
    de.end().map_err(|e| LinkReadError::Json(syntax(&e)))?;
    if parts.predicate_type.as_deref() != Some(crate::predicate::LINK_V0_3) {
        return Err(LinkReadError::NotALinkMetablock);
    }
    let predicate = parts
        .predicate
        .ok_or_else(|| shape("the Statement has no predicate"))?;
    let name = match predicate.name {
        Some(Value::String(s)) => s,
        _ => return Err(shape("the link predicate has no name").into()),
    };
    let command = match predicate.command {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Some(s),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| shape("command is not a list of strings"))?,
        Some(_) => return Err(shape("command is not a list of strings").into()),
    };
    let object = |v: Option<Value>| match v {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    Ok(ReadLink {
        name,
        command,
        materials: descriptors(predicate.materials, "materials")?,
        products: descriptors(parts.subject, "subject")?,
        byproducts: object(predicate.byproducts),
        environment: object(predicate.environment),
        extra: Map::new(),
    })
}

/// A ResourceDescriptor as the link view needs it.
struct Descriptor {
    name: Option<Value>,
    uri: Option<Value>,
    digest: ArtifactDigests,
}

/// A list of descriptors, or the JSON type found instead of a list.
type DescriptorList = Result<Vec<Descriptor>, &'static str>;

fn descriptors(list: Option<DescriptorList>, what: &str) -> Result<Artifacts, MetadataError> {
    let mut out = Artifacts::new();
    let items = match list {
        None => return Ok(out),
        Some(Err(_)) => return Err(shape(format!("{what} is not a list"))),
        Some(Ok(items)) => items,
    };
    for (i, item) in items.into_iter().enumerate() {
        let name = match (item.name, item.uri) {
            (Some(Value::String(n)), _) if !n.is_empty() => n,
            (_, Some(Value::String(u))) => u,
            _ => return Err(shape(format!("{what}[{i}] has no name or uri"))),
        };
        match out.entry(name) {
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(item.digest);
            }
            std::collections::btree_map::Entry::Occupied(slot) => {
                return Err(shape(format!("{what} lists {:?} twice", slot.key())));
            }
        }
    }
    Ok(out)
}

#[derive(Default)]
struct StatementParts {
    subject: Option<DescriptorList>,
    predicate_type: Option<String>,
    predicate: Option<PredicateParts>,
}

#[derive(Default)]
struct PredicateParts {
    name: Option<Value>,
    command: Option<Value>,
    materials: Option<DescriptorList>,
    byproducts: Option<Value>,
    environment: Option<Value>,
}

/// Sets `slot` once; a second value for the same key is a duplicate.
fn once<T, E: de::Error>(slot: &mut Option<T>, value: T, key: &str) -> Result<(), E> {
    if slot.is_some() {
        return Err(duplicate(key));
    }
    *slot = Some(value);
    Ok(())
}

struct StatementSeed<'a> {
    not_link: &'a Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for StatementSeed<'_> {
    type Value = StatementParts;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<StatementParts, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StatementSeed<'_> {
    type Value = StatementParts;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an in-toto Statement")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StatementParts, A::Error> {
        let mut parts = StatementParts::default();
        let mut seen = std::collections::BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(duplicate(&key));
            }
            match key.as_str() {
                "_type" => match map.next_value_seed(StrictValue { depth: 2 })? {
                    Value::String(t) if STATEMENT_TYPES.contains(&t.as_str()) => {}
                    _ => {
                        self.not_link.set(true);
                        return Err(de::Error::custom("not a Statement"));
                    }
                },
                "subject" => {
                    let list = map.next_value_seed(DescriptorsSeed { depth: 2 })?;
                    once(&mut parts.subject, list, &key)?;
                }
                "predicateType" => match map.next_value_seed(StrictValue { depth: 2 })? {
                    Value::String(t) => once(&mut parts.predicate_type, t, &key)?,
                    _ => {
                        self.not_link.set(true);
                        return Err(de::Error::custom("not a link Statement"));
                    }
                },
                "predicate" => {
                    let p = map.next_value_seed(PredicateSeed)?;
                    once(&mut parts.predicate, p, &key)?;
                }
                _ => {
                    map.next_value_seed(StrictValue { depth: 2 })?;
                }
            }
        }
        if !seen.contains("_type") {
            self.not_link.set(true);
            return Err(de::Error::custom("not a Statement"));
        }
        Ok(parts)
    }

    reject_non_objects!('de, StatementParts);
}

impl StatementSeed<'_> {
    fn not_object<E: de::Error>(&self) -> Result<StatementParts, E> {
        self.not_link.set(true);
        Err(E::custom("not a Statement"))
    }
}

/// The link predicate object (depth 2). Anything but an object is an error.
struct PredicateSeed;

impl<'de> DeserializeSeed<'de> for PredicateSeed {
    type Value = PredicateParts;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<PredicateParts, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PredicateSeed {
    type Value = PredicateParts;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a link predicate object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PredicateParts, A::Error> {
        let mut p = PredicateParts::default();
        let mut seen = std::collections::BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(duplicate(&key));
            }
            let value = StrictValue { depth: 3 };
            match key.as_str() {
                "materials" => {
                    p.materials = Some(map.next_value_seed(DescriptorsSeed { depth: 3 })?);
                }
                "name" => p.name = Some(map.next_value_seed(value)?),
                "command" => p.command = Some(map.next_value_seed(value)?),
                "byproducts" => p.byproducts = Some(map.next_value_seed(value)?),
                "environment" => p.environment = Some(map.next_value_seed(value)?),
                _ => {
                    map.next_value_seed(value)?;
                }
            }
        }
        Ok(p)
    }
}

/// A list of ResourceDescriptors at `depth`; any other JSON type is recorded, not an error
/// here (the caller says which field is not a list).
struct DescriptorsSeed {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for DescriptorsSeed {
    type Value = DescriptorList;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<DescriptorList, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DescriptorsSeed {
    type Value = DescriptorList;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of resource descriptors")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<DescriptorList, A::Error> {
        if self.depth + 2 > MAX_DEPTH {
            return Err(too_deep());
        }
        let mut out = Vec::new();
        while let Some(d) = seq.next_element_seed(DescriptorSeed {
            depth: self.depth + 1,
        })? {
            out.push(d);
        }
        Ok(Ok(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<DescriptorList, A::Error> {
        StrictValue { depth: self.depth }.visit_map(map)?;
        Ok(Err("object"))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<DescriptorList, E> {
        Ok(Err("bool"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<DescriptorList, E> {
        Ok(Err("number"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<DescriptorList, E> {
        Ok(Err("number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<DescriptorList, E> {
        Ok(Err("number"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<DescriptorList, E> {
        Ok(Err("string"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<DescriptorList, E> {
        Ok(Err("null"))
    }
}

/// One ResourceDescriptor: `name`, `uri`, `digest` read; other members checked and dropped.
struct DescriptorSeed {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for DescriptorSeed {
    type Value = Descriptor;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Descriptor, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DescriptorSeed {
    type Value = Descriptor;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a resource descriptor object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Descriptor, A::Error> {
        let mut d = Descriptor {
            name: None,
            uri: None,
            digest: ArtifactDigests::new(),
        };
        let mut seen = std::collections::BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(duplicate(&key));
            }
            let value = StrictValue {
                depth: self.depth + 1,
            };
            match key.as_str() {
                "name" => d.name = Some(map.next_value_seed(value)?),
                "uri" => d.uri = Some(map.next_value_seed(value)?),
                "digest" => d.digest = map.next_value_seed(DigestSeed)?,
                _ => {
                    map.next_value_seed(value)?;
                }
            }
        }
        Ok(d)
    }
}

fn check_size(bytes: &[u8]) -> Result<(), JsonError> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(JsonError::TooLarge {
            size: bytes.len(),
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    Ok(())
}

fn syntax(err: &serde_json::Error) -> JsonError {
    let text = err.to_string();
    let message = match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    JsonError::Syntax {
        line: err.line(),
        column: err.column(),
        message,
    }
}

/// One field of `signed`, typed where the link's schema says what it is.
#[derive(Debug)]
enum Field {
    /// A string (`_type`, `name`).
    Str(String),
    /// An object of artifacts (`materials`, `products`), sorted by path.
    Artifacts(Artifacts),
    /// Anything else, as a value.
    Other(Value),
}

/// The fields of `signed`, sorted by key (byte order, as canonical JSON wants).
type Fields = BTreeMap<String, Field>;

struct Top {
    signed: Option<Fields>,
    signatures: Option<Value>,
}

struct TopSeed<'a> {
    not_link: &'a Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for TopSeed<'_> {
    type Value = Top;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Top, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_> {
    type Value = Top;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a metablock object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
        let mut top = Top {
            signed: None,
            signatures: None,
        };
        let mut others = std::collections::BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "signed" => {
                    if top.signed.is_some() {
                        return Err(duplicate(&key));
                    }
                    top.signed = Some(map.next_value_seed(SignedSeed {
                        not_link: self.not_link,
                        depth: 2,
                    })?);
                }
                "signatures" => {
                    if top.signatures.is_some() {
                        return Err(duplicate(&key));
                    }
                    top.signatures = Some(map.next_value_seed(StrictValue { depth: 2 })?);
                }
                _ => {
                    // Kept strict (duplicates, depth) but not used: the general reader ignores
                    // unknown top-level members of a metablock too. A DSSE envelope or a
                    // bundle has no `signed`, and ends as `NotALinkMetablock` below.
                    if others.contains(&key) {
                        return Err(duplicate(&key));
                    }
                    map.next_value_seed(StrictValue { depth: 2 })?;
                    others.insert(key);
                }
            }
        }
        Ok(top)
    }

    reject_non_objects!('de, Top);
}

impl TopSeed<'_> {
    fn not_object<E: de::Error>(&self) -> Result<Top, E> {
        self.not_link.set(true);
        Err(E::custom("not a link metablock"))
    }
}

fn duplicate<E: de::Error>(key: &str) -> E {
    E::custom(format_args!("duplicate key {key:?}"))
}

fn too_deep<E: de::Error>() -> E {
    E::custom(format_args!("nesting deeper than {MAX_DEPTH} levels"))
}

/// Reads `signed`; marks `not_link` and stops when it is not an object with `_type: "link"`.
struct SignedSeed<'a> {
    not_link: &'a Cell<bool>,
    /// Depth of the `signed` object itself.
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for SignedSeed<'_> {
    type Value = Fields;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Fields, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for SignedSeed<'_> {
    type Value = Fields;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a link object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
        if self.depth > MAX_DEPTH {
            return Err(too_deep());
        }
        let inner = self.depth + 1;
        let mut fields = Fields::new();
        while let Some(key) = map.next_key::<String>()? {
            let field = match key.as_str() {
                "_type" => {
                    let v = map.next_value_seed(StrictValue { depth: inner })?;
                    match v {
                        Value::String(s) if s == "link" => Field::Str(s),
                        _ => {
                            self.not_link.set(true);
                            return Err(de::Error::custom("not a link"));
                        }
                    }
                }
                "materials" | "products" => map.next_value_seed(ArtifactsSeed { depth: inner })?,
                _ => match map.next_value_seed(StrictValue { depth: inner })? {
                    Value::String(s) => Field::Str(s),
                    v => Field::Other(v),
                },
            };
            match fields.entry(key) {
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(field);
                }
                std::collections::btree_map::Entry::Occupied(slot) => {
                    return Err(duplicate(slot.key()));
                }
            }
        }
        if !fields.contains_key("_type") {
            self.not_link.set(true);
            return Err(de::Error::custom("not a link"));
        }
        Ok(fields)
    }

    reject_non_objects!('de, Fields);
}

impl SignedSeed<'_> {
    fn not_object<E: de::Error>(&self) -> Result<Fields, E> {
        self.not_link.set(true);
        Err(E::custom("not a link"))
    }
}

/// `materials` / `products`: an object of path to digest set, read straight into a sorted map;
/// any other JSON type is kept as a value (the typed view rejects it later, unless `null`).
struct ArtifactsSeed {
    /// Depth of the artifacts object.
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for ArtifactsSeed {
    type Value = Field;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Field, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ArtifactsSeed {
    type Value = Field;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of artifacts")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Field, A::Error> {
        // The digest objects sit one level deeper than the artifacts object.
        if self.depth + 1 > MAX_DEPTH {
            return Err(too_deep());
        }
        let mut out = BTreeMap::new();
        while let Some(path) = map.next_key::<String>()? {
            let digests = map.next_value_seed(DigestSeed)?;
            match out.entry(path) {
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(digests);
                }
                std::collections::btree_map::Entry::Occupied(slot) => {
                    return Err(duplicate(slot.key()));
                }
            }
        }
        Ok(Field::Artifacts(out))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Field, A::Error> {
        StrictValue { depth: self.depth }
            .visit_seq(seq)
            .map(Field::Other)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Field, E> {
        Ok(Field::Other(Value::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Field, E> {
        Ok(Field::Other(Value::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Field, E> {
        Ok(Field::Other(Value::from(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Field, E> {
        StrictValue { depth: self.depth }
            .visit_f64(v)
            .map(Field::Other)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Field, E> {
        Ok(Field::Other(Value::String(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Field, E> {
        Ok(Field::Other(Value::String(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Field, E> {
        Ok(Field::Other(Value::Null))
    }
}

/// One artifact's digest set: an object of algorithm to string. Anything else is an error
/// (such a link is invalid whatever its signature says).
struct DigestSeed;

impl<'de> DeserializeSeed<'de> for DigestSeed {
    type Value = ArtifactDigests;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<ArtifactDigests, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DigestSeed {
    type Value = ArtifactDigests;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of algorithm to hex digest")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ArtifactDigests, A::Error> {
        let Some(alg) = map.next_key::<Box<str>>()? else {
            return Ok(ArtifactDigests::default());
        };
        let first = (alg, map.next_value::<Box<str>>()?);
        let Some(alg) = map.next_key::<Box<str>>()? else {
            // The common case: one algorithm, one exact-size allocation.
            return Ok(ArtifactDigests(Box::new([first])));
        };
        let mut out = vec![first, (alg, map.next_value::<Box<str>>()?)];
        while let Some(alg) = map.next_key::<Box<str>>()? {
            let hex = map.next_value::<Box<str>>()?;
            out.push((alg, hex));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(w) = out.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(duplicate(&w[0].0));
        }
        Ok(ArtifactDigests(out.into_boxed_slice()))
    }
}

/// Any JSON value, strictly: duplicate keys and nesting deeper than [`MAX_DEPTH`] are errors.
struct StrictValue {
    /// Depth of this value if it is an array or object.
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        if self.depth > MAX_DEPTH {
            return Err(too_deep());
        }
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(StrictValue {
            depth: self.depth + 1,
        })? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        if self.depth > MAX_DEPTH {
            return Err(too_deep());
        }
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let v = map.next_value_seed(StrictValue {
                depth: self.depth + 1,
            })?;
            match out.entry(key) {
                serde_json::map::Entry::Vacant(slot) => {
                    slot.insert(v);
                }
                serde_json::map::Entry::Occupied(slot) => {
                    return Err(duplicate(slot.key()));
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// Writes the canonical JSON of the `signed` object from its fields.
fn write_fields(fields: &Fields, out: &mut Vec<u8>) -> Result<(), CanonicalError> {
    out.push(b'{');
    for (i, (key, field)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(key, out);
        out.push(b':');
        match field {
            Field::Str(s) => write_string(s, out),
            Field::Other(v) => out.extend_from_slice(&canonical::to_vec(v)?),
            Field::Artifacts(map) => {
                out.push(b'{');
                for (j, (path, digests)) in map.iter().enumerate() {
                    if j > 0 {
                        out.push(b',');
                    }
                    write_string(path, out);
                    out.extend_from_slice(b":{");
                    for (k, (alg, hex)) in digests.iter().enumerate() {
                        if k > 0 {
                            out.push(b',');
                        }
                        write_string(alg, out);
                        out.push(b':');
                        write_string(hex, out);
                    }
                    out.push(b'}');
                }
                out.push(b'}');
            }
        }
    }
    out.push(b'}');
    Ok(())
}

/// A canonical JSON string: only `"` and `\` are escaped (see [`crate::canonical`]).
fn write_string(s: &str, out: &mut Vec<u8>) {
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

fn shape(message: impl Into<String>) -> MetadataError {
    MetadataError::Shape {
        kind: MetadataType::Link,
        message: message.into(),
    }
}

/// The typed link from its fields. `null` or a missing field is an empty list or object, as
/// in-toto's readers treat them; any other wrong JSON type is an error.
fn into_link(mut fields: Fields) -> Result<ReadLink, MetadataError> {
    let name = match fields.remove("name") {
        Some(Field::Str(s)) => s,
        _ => return Err(shape("name is missing or not a string")),
    };
    fields.remove("_type");
    let command = match fields.remove("command") {
        None | Some(Field::Other(Value::Null)) => Vec::new(),
        Some(Field::Other(Value::Array(items))) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Some(s),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| shape("command is not a list of strings"))?,
        Some(_) => return Err(shape("command is not a list of strings")),
    };
    let mut object = |field: &str| match fields.remove(field) {
        None | Some(Field::Other(Value::Null)) => Ok(Map::new()),
        Some(Field::Other(Value::Object(m))) => Ok(m),
        Some(_) => Err(shape(format!("{field} is not an object"))),
    };
    let byproducts = object("byproducts")?;
    let environment = object("environment")?;
    let mut artifacts = |field: &str| match fields.remove(field) {
        None | Some(Field::Other(Value::Null)) => Ok(Artifacts::new()),
        Some(Field::Artifacts(m)) => Ok(m),
        Some(_) => Err(shape(format!("{field} is not an object"))),
    };
    let materials = artifacts("materials")?;
    let products = artifacts("products")?;
    let mut extra = Map::new();
    for (key, field) in fields {
        let value = match field {
            Field::Str(s) => Value::String(s),
            Field::Other(v) => v,
            Field::Artifacts(map) => Value::Object(
                map.into_iter()
                    .map(|(path, digests)| {
                        let digests = digests
                            .iter()
                            .map(|(alg, hex)| (alg.to_owned(), Value::String(hex.to_owned())))
                            .collect();
                        (path, Value::Object(digests))
                    })
                    .collect(),
            ),
        };
        extra.insert(key, value);
    }
    Ok(ReadLink {
        name,
        command,
        materials,
        products,
        byproducts,
        environment,
        extra,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metablock::Metablock;

    const HEX: &str = "74dc3727c6e89308b39e4dfedf787e37841198b1fa165a27c013544a60502549";

    fn same_bytes(doc: &str) {
        let fast = read_link_metablock(doc.as_bytes()).unwrap();
        let slow = Metablock::from_slice(doc.as_bytes()).unwrap();
        assert_eq!(
            fast.signed_bytes(),
            slow.signed_bytes().unwrap().as_slice(),
            "{doc}"
        );
        assert_eq!(fast.signatures, slow.signatures);
        assert_eq!(
            fast.link.into_link(),
            Link::from_signed(&slow.signed).unwrap()
        );
    }

    #[test]
    fn canonical_bytes_equal_the_value_path() {
        same_bytes(&format!(
            r#"{{"signed": {{"products": {{"b\"q": {{"sha256": "{HEX}", "zz": "X\\\\y"}}, "a": {{"sha256": "{HEX}"}}}},
               "_type": "link", "name": "st\u00e9p\n", "command": ["a", "b\\\"c"],
               "byproducts": {{"return-value": -3, "stdout": "\u001b"}},
               "environment": {{"k": [1, true, null, {{"y": 2, "x": 1}}]}}, "materials": {{}},
               "future": {{"z": 1}}, "Zed": "upper"}},
              "signatures": [{{"keyid": "k", "sig": "00", "cert": ""}}]}}"#
        ));
        // Missing fields stay missing; extra top-level members are ignored, as before.
        same_bytes(r#"{"extra": 1, "signatures": [], "signed": {"_type": "link", "name": "x"}}"#);
    }

    #[test]
    fn null_and_missing_lists_are_empty_and_kept_in_the_canonical_form() {
        let doc = r#"{"signatures": [], "signed": {"_type": "link", "name": "x", "materials": null, "command": null}}"#;
        let fast = read_link_metablock(doc.as_bytes()).unwrap();
        let slow = Metablock::from_slice(doc.as_bytes()).unwrap();
        assert_eq!(fast.signed_bytes(), slow.signed_bytes().unwrap().as_slice());
        assert!(fast.link.materials.is_empty() && fast.link.command.is_empty());
    }

    #[test]
    fn duplicates_are_rejected_at_every_level() {
        for doc in [
            r#"{"signatures": [], "signatures": [], "signed": {"_type": "link", "name": "x"}}"#.to_owned(),
            r#"{"signatures": [], "signed": {"_type": "link", "name": "x", "name": "y"}}"#.to_owned(),
            format!(r#"{{"signatures": [], "signed": {{"_type": "link", "name": "x", "products": {{"a": {{"sha256": "{HEX}"}}, "a": {{"sha256": "{HEX}"}}}}}}}}"#),
            format!(r#"{{"signatures": [], "signed": {{"_type": "link", "name": "x", "products": {{"a": {{"sha256": "{HEX}", "sha256": "{HEX}"}}}}}}}}"#),
            r#"{"signatures": [], "signed": {"_type": "link", "name": "x", "environment": {"a": {"b": 1, "b": 2}}}}"#.to_owned(),
            r#"{"signatures": [{"keyid": "a", "keyid": "b", "sig": ""}], "signed": {"_type": "link", "name": "x"}}"#.to_owned(),
            r#"{"x": 1, "x": 1, "signatures": [], "signed": {"_type": "link", "name": "x"}}"#.to_owned(),
        ] {
            let err = read_link_metablock(doc.as_bytes()).unwrap_err();
            assert!(
                matches!(&err, LinkReadError::Json(JsonError::Syntax { message, .. }) if message.contains("duplicate key")),
                "{doc}: {err}"
            );
        }
    }

    #[test]
    fn depth_and_size_are_bounded() {
        let deep = format!(
            r#"{{"signatures": [], "signed": {{"_type": "link", "name": "x", "environment": {{"a": {}1{}}}}}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        assert!(matches!(
            read_link_metablock(deep.as_bytes()),
            Err(LinkReadError::Json(JsonError::Syntax { .. }))
        ));
        let ok = format!(
            r#"{{"signatures": [], "signed": {{"_type": "link", "name": "x", "environment": {{"a": {}1{}}}}}}}"#,
            "[".repeat(90),
            "]".repeat(90)
        );
        same_bytes(&ok);
        // The general reader draws the line at the same depth.
        for n in 95..100 {
            let doc = format!(
                r#"{{"signatures": [], "signed": {{"_type": "link", "name": "x", "environment": {{"a": {}1{}}}}}}}"#,
                "[".repeat(n),
                "]".repeat(n)
            );
            assert_eq!(
                read_link_metablock(doc.as_bytes()).is_ok(),
                Metablock::from_slice(doc.as_bytes()).is_ok(),
                "depth {n}"
            );
        }
        let big = vec![b' '; MAX_DOCUMENT_BYTES + 1];
        assert!(matches!(
            read_link_metablock(&big),
            Err(LinkReadError::Json(JsonError::TooLarge { .. }))
        ));
    }

    #[test]
    fn other_documents_are_not_link_metablocks() {
        for doc in [
            r#"{"signed": {"_type": "layout", "steps": []}, "signatures": []}"#,
            r#"{"signed": {"steps": [], "_type": "layout"}, "signatures": []}"#,
            r#"{"signed": {"name": "x"}, "signatures": []}"#,
            r#"{"signed": [], "signatures": []}"#,
            r#"{"payload": "e30=", "payloadType": "application/vnd.in-toto+json", "signatures": []}"#,
            r#"{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}"#,
            r#"[1]"#,
            r#""x""#,
        ] {
            assert_eq!(
                read_link_metablock(doc.as_bytes()),
                Err(LinkReadError::NotALinkMetablock),
                "{doc}"
            );
        }
        assert!(matches!(
            read_link_metablock(b"{\"signed\": "),
            Err(LinkReadError::Json(_))
        ));
    }

    #[test]
    fn wrong_shapes_are_link_errors() {
        for doc in [
            r#"{"signatures": [], "signed": {"_type": "link"}}"#,
            r#"{"signatures": [], "signed": {"_type": "link", "name": 1}}"#,
            r#"{"signatures": [], "signed": {"_type": "link", "name": "x", "command": "ls"}}"#,
            r#"{"signatures": [], "signed": {"_type": "link", "name": "x", "command": [1]}}"#,
            r#"{"signatures": [], "signed": {"_type": "link", "name": "x", "products": []}}"#,
            r#"{"signatures": [], "signed": {"_type": "link", "name": "x", "byproducts": 1}}"#,
        ] {
            assert!(
                matches!(
                    read_link_metablock(doc.as_bytes()),
                    Err(LinkReadError::Link(_))
                ),
                "{doc}"
            );
        }
        // A digest that is not a string cannot be a digest at all.
        assert!(read_link_metablock(
            br#"{"signatures": [], "signed": {"_type": "link", "name": "x", "products": {"a": {"sha256": 1}}}}"#
        )
        .is_err());
        assert!(matches!(
            read_link_metablock(
                br#"{"signatures": [], "signed": {"_type": "link", "name": "x", "environment": {"f": 1.5}}}"#
            ),
            Err(LinkReadError::Canonical(_))
        ));
    }

    #[test]
    fn compact_digests_equal_digest_sets() {
        let sha512 = "ab".repeat(64);
        let doc = format!(
            r#"{{"_type": "link", "name": "x", "products": {{"a": {{"sha512": "{sha512}", "sha256": "{HEX}", "md5": "{}"}}, "e": {{}}}}}}"#,
            "cd".repeat(16)
        );
        let link = read_link(doc.as_bytes()).unwrap();
        let a = &link.products["a"];
        let algs: Vec<&str> = a.iter().map(|(alg, _)| alg).collect();
        assert_eq!(algs, ["md5", "sha256", "sha512"]);
        assert_eq!(ArtifactDigests::from(&a.to_digest_set()), *a);
        assert_eq!(a.to_string(), a.to_digest_set().to_string());
        assert!(a.validate().is_ok());
        assert!(link.products["e"].is_empty());
        let only256 = ArtifactDigests::from_map_unchecked(BTreeMap::from([(
            "sha256".to_owned(),
            HEX.to_owned(),
        )]));
        assert!(a.matches(&only256) && only256.matches(a));
        assert!(!a.matches(&ArtifactDigests::sha256(&[0; 32])));
        assert!(!a.matches(&ArtifactDigests::new()));
        let bad = ArtifactDigests::from_map_unchecked(BTreeMap::from([(
            "sha256".to_owned(),
            "ABC".to_owned(),
        )]));
        assert!(bad.validate().is_err());
    }

    #[test]
    fn reads_bare_links() {
        let doc = format!(
            r#"{{"_type": "link", "name": "x", "products": {{"a": {{"sha256": "{HEX}"}}}}}}"#
        );
        let link = read_link(doc.as_bytes()).unwrap();
        assert_eq!(link.products["a"].get("sha256"), Some(HEX));
        assert_eq!(
            link.products["a"].to_digest_set(),
            DigestSet::with("sha256", HEX).unwrap()
        );
        assert_eq!(
            read_link(br#"{"_type": "layout"}"#),
            Err(LinkReadError::NotALinkMetablock)
        );
    }
}
