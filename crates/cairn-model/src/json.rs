//! Strict JSON reading for signed and untrusted documents.
//!
//! `serde_json` keeps the last of two duplicate object keys. For signed data that is an attack:
//! two parsers can read different values from the same signed bytes. Every document cairn
//! verifies is therefore read through [`from_slice`], which rejects duplicate keys, bounds the
//! size of the input and the nesting depth, and reports where it failed.

use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// The largest JSON document cairn reads as metadata (links, layouts, envelopes, bundles,
/// statements): 64 MiB. A link with 100,000 artifacts is about 12 MiB.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024 * 1024;

/// The deepest nesting of arrays and objects accepted. Real documents stay under 20.
pub const MAX_DEPTH: usize = 100;

/// Why a JSON document was rejected.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonError {
    /// The document is larger than [`MAX_DOCUMENT_BYTES`].
    #[error("document is {size} bytes, more than the limit of {limit} bytes")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The input is not JSON (syntax, duplicate key, nesting too deep, trailing data).
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// The input is JSON but not the shape the caller expected (a missing field, a wrong type).
    #[error("unexpected document shape: {message}")]
    Shape {
        /// What the deserialiser said.
        message: String,
    },
}

impl JsonError {
    fn from_serde(err: &serde_json::Error) -> Self {
        let text = err.to_string();
        // serde_json appends " at line L column C"; we report those as fields.
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
}

/// Parses `bytes` as a JSON value, rejecting duplicate keys, excessive depth and oversize input.
pub fn value_from_slice(bytes: &[u8]) -> Result<Value, JsonError> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(JsonError::TooLarge {
            size: bytes.len(),
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictValue { depth: 0 }
        .deserialize(&mut de)
        .map_err(|e| JsonError::from_serde(&e))?;
    de.end().map_err(|e| JsonError::from_serde(&e))?;
    Ok(value)
}

/// Parses `bytes` strictly (see [`value_from_slice`]) and then into `T`.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    let value = value_from_slice(bytes)?;
    from_value(value)
}

/// Converts an already-parsed value into `T`, with the error type of this module.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, JsonError> {
    serde_json::from_value(value).map_err(|e| JsonError::Shape {
        message: e.to_string(),
    })
}

struct StrictValue {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl StrictValue {
    fn nested<E: de::Error>(&self) -> Result<StrictValue, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom(format_args!(
                "nesting deeper than {MAX_DEPTH} levels"
            )));
        }
        Ok(StrictValue {
            depth: self.depth + 1,
        })
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
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.nested()?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(StrictValue { depth: inner.depth })? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.nested()?;
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let v = map.next_value_seed(StrictValue { depth: inner.depth })?;
            // One map traversal per key: large links have 100,000s of artifact paths.
            match out.entry(key) {
                serde_json::map::Entry::Vacant(slot) => {
                    slot.insert(v);
                }
                serde_json::map::Entry::Occupied(slot) => {
                    return Err(de::Error::custom(format_args!(
                        "duplicate key {:?}",
                        slot.key()
                    )));
                }
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_duplicate_keys_at_any_depth() {
        let err = value_from_slice(br#"{"a":{"b":1,"b":2}}"#).unwrap_err();
        assert!(
            matches!(err, JsonError::Syntax { ref message, .. } if message.contains("duplicate key \"b\"")),
            "{err}"
        );
        assert!(value_from_slice(br#"{"a":1,"b":{"a":1}}"#).is_ok());
    }

    #[test]
    fn rejects_deep_nesting_without_overflowing_the_stack() {
        let doc = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let err = value_from_slice(doc.as_bytes()).unwrap_err();
        assert!(matches!(err, JsonError::Syntax { .. }), "{err}");
        let ok = format!("{}{}", "[".repeat(50), "]".repeat(50));
        assert!(value_from_slice(ok.as_bytes()).is_ok());
    }

    #[test]
    fn rejects_oversize_documents_before_parsing() {
        let big = vec![b' '; MAX_DOCUMENT_BYTES + 1];
        assert_eq!(
            value_from_slice(&big).unwrap_err(),
            JsonError::TooLarge {
                size: MAX_DOCUMENT_BYTES + 1,
                limit: MAX_DOCUMENT_BYTES
            }
        );
    }

    #[test]
    fn shape_errors_are_not_syntax_errors() {
        #[derive(Debug, serde::Deserialize)]
        struct T {
            #[allow(dead_code)]
            a: u8,
        }
        assert_eq!(
            from_slice::<T>(br#"{"b":1}"#).unwrap_err(),
            JsonError::Shape {
                message: "missing field `a`".into()
            }
        );
    }

    #[test]
    fn rejects_trailing_garbage_and_truncation() {
        assert!(value_from_slice(br#"{"a":1} x"#).is_err());
        assert!(value_from_slice(br#"{"a":"#).is_err());
        assert!(value_from_slice(b"").is_err());
    }
}
