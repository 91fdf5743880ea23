//! in-toto attestation `Statement` (spec v1 `statement.md`): subjects, a predicate type and a
//! predicate. Reads `https://in-toto.io/Statement/v1` and the legacy
//! `https://in-toto.io/Statement/v0.1` (real SLSA generator output still uses it) and records
//! which; writes v1.
//!
//! ```
//! use cairn_model::{DigestSet, ResourceDescriptor, Statement};
//! use serde_json::json;
//!
//! let subject = ResourceDescriptor::subject("app.tar.gz", DigestSet::sha256(&[7; 32]));
//! let st = Statement::new(vec![subject], "https://slsa.dev/provenance/v1", json!({}));
//! let bytes = st.to_vec();
//! assert_eq!(Statement::from_slice(&bytes).unwrap(), st);
//! ```

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::descriptor::{DescriptorError, ResourceDescriptor};
use crate::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE};
use crate::json::{self, JsonError};
use crate::predicate::{Predicate, PredicateError};

/// `_type` of an in-toto Statement v1.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// `_type` of the legacy in-toto Statement v0.1.
pub const STATEMENT_V0_1: &str = "https://in-toto.io/Statement/v0.1";

/// The `_type` of a statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StatementType {
    /// `https://in-toto.io/Statement/v1`.
    V1,
    /// `https://in-toto.io/Statement/v0.1` (legacy; read, never written by cairn).
    V0_1,
    /// Anything else; kept so the document can be inspected, rejected by
    /// [`Statement::validate`].
    Unknown(String),
}

impl StatementType {
    /// The `_type` URI.
    pub fn as_str(&self) -> &str {
        match self {
            StatementType::V1 => STATEMENT_V1,
            StatementType::V0_1 => STATEMENT_V0_1,
            StatementType::Unknown(s) => s,
        }
    }

    fn from_uri(uri: String) -> Self {
        match uri.as_str() {
            STATEMENT_V1 => StatementType::V1,
            STATEMENT_V0_1 => StatementType::V0_1,
            _ => StatementType::Unknown(uri),
        }
    }
}

impl fmt::Display for StatementType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for StatementType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for StatementType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(StatementType::from_uri)
    }
}

/// An in-toto Statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// Which statement version this is.
    #[serde(rename = "_type")]
    pub statement_type: StatementType,
    /// The artifacts the statement is about.
    #[serde(default)]
    pub subject: Vec<ResourceDescriptor>,
    /// URI naming the predicate's schema.
    #[serde(rename = "predicateType", default)]
    pub predicate_type: String,
    /// The predicate (a JSON object). `Null` when absent, which [`Statement::validate`]
    /// rejects (and which is then not written).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub predicate: Value,
    /// Fields not interpreted here.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Why a statement could not be read or is not valid.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatementError {
    /// The bytes are not acceptable JSON (syntax, duplicate keys, size, depth) or not the shape
    /// of a statement.
    #[error("statement is not valid JSON of the expected shape")]
    Json(#[from] JsonError),
    /// `_type` is not a statement type cairn reads.
    #[error("unsupported statement _type {found:?}; expected {STATEMENT_V1} (or {STATEMENT_V0_1})")]
    Type {
        /// The `_type` found.
        found: String,
    },
    /// `subject` is missing or empty.
    #[error("statement has no subject")]
    SubjectRequired,
    /// A subject is not a valid ResourceDescriptor.
    #[error("subject {index} is invalid")]
    Subject {
        /// 0-based index in `subject`.
        index: usize,
        /// Why.
        source: DescriptorError,
    },
    /// A subject has no digest (the spec requires one for every subject).
    #[error("subject {index} has no digest")]
    SubjectDigestRequired {
        /// 0-based index in `subject`.
        index: usize,
    },
    /// `predicateType` is missing or empty.
    #[error("statement has no predicateType")]
    PredicateTypeRequired,
    /// `predicate` is missing or null.
    #[error("statement has no predicate")]
    PredicateRequired,
    /// `predicate` is not a JSON object.
    #[error("statement predicate is not a JSON object")]
    PredicateNotObject,
    /// The DSSE envelope does not carry an in-toto payload.
    #[error("envelope payloadType is {found:?}, not {IN_TOTO_PAYLOAD_TYPE}")]
    PayloadType {
        /// The `payloadType` found.
        found: String,
    },
}

impl Statement {
    /// A v1 statement.
    pub fn new(
        subject: Vec<ResourceDescriptor>,
        predicate_type: impl Into<String>,
        predicate: Value,
    ) -> Self {
        Statement {
            statement_type: StatementType::V1,
            subject,
            predicate_type: predicate_type.into(),
            predicate,
            extra: Map::new(),
        }
    }

    /// Reads a statement strictly (duplicate keys, size, depth) and validates it.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, StatementError> {
        let st = Statement::from_slice_unvalidated(bytes)?;
        st.validate()?;
        Ok(st)
    }

    /// Reads and validates the statement carried by a DSSE envelope (payloadType must be
    /// [`IN_TOTO_PAYLOAD_TYPE`]). Does not check signatures.
    pub fn from_envelope(envelope: &Envelope) -> Result<Self, StatementError> {
        if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
            return Err(StatementError::PayloadType {
                found: envelope.payload_type.clone(),
            });
        }
        Statement::from_slice(&envelope.payload)
    }

    /// Reads a statement strictly as JSON but without the spec's validation, for inspecting
    /// documents that are not valid (e.g. spec illustrations with placeholder digests).
    pub fn from_slice_unvalidated(bytes: &[u8]) -> Result<Self, StatementError> {
        Ok(json::from_slice(bytes)?)
    }

    /// The spec's rules, in the order of the reference Go validator: `_type` is v1 or v0.1;
    /// `subject` is non-empty; every subject identifies something, has a digest, and its
    /// digests are well-formed; `predicateType` is non-empty; `predicate` is an object.
    pub fn validate(&self) -> Result<(), StatementError> {
        if let StatementType::Unknown(found) = &self.statement_type {
            return Err(StatementError::Type {
                found: found.clone(),
            });
        }
        if self.subject.is_empty() {
            return Err(StatementError::SubjectRequired);
        }
        for (index, subject) in self.subject.iter().enumerate() {
            if !subject.is_identified() {
                return Err(StatementError::Subject {
                    index,
                    source: DescriptorError::MissingRequiredField,
                });
            }
            if !subject.has_digest() {
                return Err(StatementError::SubjectDigestRequired { index });
            }
            subject
                .validate()
                .map_err(|source| StatementError::Subject { index, source })?;
        }
        if self.predicate_type.is_empty() {
            return Err(StatementError::PredicateTypeRequired);
        }
        match self.predicate {
            Value::Null => Err(StatementError::PredicateRequired),
            Value::Object(_) => Ok(()),
            _ => Err(StatementError::PredicateNotObject),
        }
    }

    /// The statement as compact JSON (what goes into a DSSE payload).
    pub fn to_vec(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a statement has string keys only and serialises to JSON")
    }

    /// An unsigned DSSE envelope carrying this statement as its payload.
    pub fn to_envelope(&self) -> Envelope {
        Envelope::in_toto(self.to_vec())
    }

    /// The predicate read into its typed form, chosen by `predicateType`.
    pub fn typed_predicate(&self) -> Result<Predicate, PredicateError> {
        Predicate::parse(&self.predicate_type, self.predicate.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::DigestSet;
    use serde_json::json;

    fn valid() -> Value {
        json!({"_type": STATEMENT_V1, "predicateType": "p", "predicate": {},
               "subject": [{"name": "a", "digest": {"sha256": "ab".repeat(32)}}]})
    }

    fn check(v: &Value) -> Result<Statement, StatementError> {
        Statement::from_slice(&serde_json::to_vec(v).unwrap())
    }

    #[test]
    fn accepts_v1_and_v01_and_records_which() {
        assert_eq!(check(&valid()).unwrap().statement_type, StatementType::V1);
        let mut v = valid();
        v["_type"] = json!(STATEMENT_V0_1);
        assert_eq!(check(&v).unwrap().statement_type, StatementType::V0_1);
    }

    #[test]
    fn typed_errors() {
        let mut v = valid();
        v["_type"] = json!("https://in-toto.io/Statement/v2");
        assert!(matches!(check(&v), Err(StatementError::Type { .. })));
        let mut v = valid();
        v["predicate"] = json!([1]);
        assert_eq!(check(&v), Err(StatementError::PredicateNotObject));
        let mut v = valid();
        v["predicate"] = Value::Null;
        assert_eq!(check(&v), Err(StatementError::PredicateRequired));
        let mut v = valid();
        v["subject"][0]["digest"]["sha256"] = json!("AB");
        assert!(matches!(
            check(&v),
            Err(StatementError::Subject {
                index: 0,
                source: DescriptorError::Digest(_)
            })
        ));
        assert!(matches!(
            Statement::from_slice(br#"{"_type":"x","_type":"y"}"#),
            Err(StatementError::Json(_))
        ));
    }

    #[test]
    fn unknown_fields_survive() {
        let mut v = valid();
        v["future"] = json!({"x": 1});
        v["subject"][0]["annotations"] = json!({"k": true});
        let st = check(&v).unwrap();
        assert_eq!(serde_json::to_value(&st).unwrap(), v);
    }

    #[test]
    fn new_writes_v1() {
        let st = Statement::new(
            vec![ResourceDescriptor::subject(
                "f",
                DigestSet::sha256(&[0; 32]),
            )],
            "t",
            json!({"k": 1}),
        );
        let v: Value = serde_json::from_slice(&st.to_vec()).unwrap();
        assert_eq!(v["_type"], STATEMENT_V1);
        assert_eq!(v["predicateType"], "t");
        st.validate().unwrap();
        let env = st.to_envelope();
        assert_eq!(Statement::from_envelope(&env).unwrap(), st);
        let mut other = env;
        other.payload_type = "application/json".into();
        assert!(matches!(
            Statement::from_envelope(&other),
            Err(StatementError::PayloadType { .. })
        ));
    }
}
