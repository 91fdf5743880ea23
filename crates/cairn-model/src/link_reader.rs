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
use crate::digest::DigestSet;
use crate::json::{JsonError, MAX_DEPTH, MAX_DOCUMENT_BYTES};
use crate::link::Link;
use crate::metablock::{MetablockSignature, MetadataError, MetadataType};

/// A link metablock read in one pass: the typed link, the signatures, and the canonical bytes
/// the signatures cover.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkMetablock {
    /// The typed link. Its digests are not validated yet (see [`Link::validate_digests`]): a
    /// signature check comes first.
    pub link: Link,
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
    pub fn into_parts(self) -> (Link, Vec<MetablockSignature>) {
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
pub fn read_link(bytes: &[u8]) -> Result<Link, LinkReadError> {
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
    Artifacts(BTreeMap<String, DigestSet>),
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

    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<Top, A::Error> {
        self.not_link.set(true);
        Err(de::Error::custom("not a link metablock"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Top, E> {
        self.not_object()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Top, E> {
        self.not_object()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Top, E> {
        self.not_object()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Top, E> {
        self.not_object()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Top, E> {
        self.not_object()
    }
    fn visit_unit<E: de::Error>(self) -> Result<Top, E> {
        self.not_object()
    }
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

    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<Fields, A::Error> {
        self.not_link.set(true);
        Err(de::Error::custom("not a link"))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Fields, E> {
        self.not_object()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Fields, E> {
        self.not_object()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Fields, E> {
        self.not_object()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Fields, E> {
        self.not_object()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Fields, E> {
        self.not_object()
    }
    fn visit_unit<E: de::Error>(self) -> Result<Fields, E> {
        self.not_object()
    }
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
    type Value = DigestSet;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<DigestSet, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DigestSeed {
    type Value = DigestSet;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of algorithm to hex digest")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DigestSet, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(alg) = map.next_key::<String>()? {
            let hex: String = map.next_value()?;
            match out.entry(alg) {
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(hex);
                }
                std::collections::btree_map::Entry::Occupied(slot) => {
                    return Err(duplicate(slot.key()));
                }
            }
        }
        Ok(DigestSet::from_map_unchecked(out))
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
fn into_link(mut fields: Fields) -> Result<Link, MetadataError> {
    let name = match fields.remove("name") {
        Some(Field::Str(s)) => s,
        _ => return Err(shape("name is missing or not a string")),
    };
    let mut link = Link::new(name);
    fields.remove("_type");
    link.command = match fields.remove("command") {
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
    for (field, target) in [
        ("byproducts", &mut link.byproducts),
        ("environment", &mut link.environment),
    ] {
        *target = match fields.remove(field) {
            None | Some(Field::Other(Value::Null)) => Map::new(),
            Some(Field::Other(Value::Object(m))) => m,
            Some(_) => return Err(shape(format!("{field} is not an object"))),
        };
    }
    for (field, target) in [
        ("materials", &mut link.materials),
        ("products", &mut link.products),
    ] {
        *target = match fields.remove(field) {
            None | Some(Field::Other(Value::Null)) => BTreeMap::new(),
            Some(Field::Artifacts(m)) => m,
            Some(_) => return Err(shape(format!("{field} is not an object"))),
        };
    }
    for (key, field) in fields {
        let value = match field {
            Field::Str(s) => Value::String(s),
            Field::Other(v) => v,
            Field::Artifacts(map) => Value::Object(
                map.into_iter()
                    .map(|(path, digests)| {
                        let digests = digests
                            .into_map()
                            .into_iter()
                            .map(|(alg, hex)| (alg, Value::String(hex)))
                            .collect();
                        (path, Value::Object(digests))
                    })
                    .collect(),
            ),
        };
        link.extra.insert(key, value);
    }
    Ok(link)
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
        assert_eq!(fast.link, Link::from_signed(&slow.signed).unwrap());
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
    fn reads_bare_links() {
        let doc = format!(
            r#"{{"_type": "link", "name": "x", "products": {{"a": {{"sha256": "{HEX}"}}}}}}"#
        );
        let link = read_link(doc.as_bytes()).unwrap();
        assert_eq!(link.products["a"].get("sha256"), Some(HEX));
        assert_eq!(
            read_link(br#"{"_type": "layout"}"#),
            Err(LinkReadError::NotALinkMetablock)
        );
    }
}
