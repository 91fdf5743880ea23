//! Legacy in-toto v1.0 "Metablock": `{"signed": {...}, "signatures": [...]}`.
//!
//! The `signed` part is kept as the JSON value that was received (every field, known or not), so
//! that a signature is checked over the canonical form of what the signer signed, not over a
//! re-serialised model that might have dropped fields (in-toto-golang's `rootcas`, for example).
//! Typed views (`Link`, `Layout`) are read from it separately.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::canonical::{self, CanonicalError};
use crate::digest::DigestError;
use crate::json::{self, JsonError};
use crate::rule::RuleError;
use crate::time::TimestampError;

/// A signed in-toto metadata document (link or layout) in the legacy envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metablock {
    /// The signed object exactly as received.
    pub signed: Value,
    /// Signatures over the canonical JSON of `signed`.
    pub signatures: Vec<MetablockSignature>,
}

/// One metablock signature: hex-encoded, with the signer's declared key id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetablockSignature {
    /// The key id the signer declares.
    pub keyid: String,
    /// Hex-encoded signature. Empty for OpenPGP signatures, which in-toto's GPG support writes
    /// as `signature` + `other_headers` (kept in `extra`; see [`MetablockSignature::is_openpgp`]).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sig: String,
    /// Fields we do not interpret (in-toto-golang writes `"cert": ""`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl MetablockSignature {
    /// True for an OpenPGP signature object (`signature` and `other_headers`, no `sig`), which
    /// cairn keeps but cannot verify.
    pub fn is_openpgp(&self) -> bool {
        self.sig.is_empty() && self.extra.contains_key("signature")
    }
}

/// What a metablock's `signed._type` says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataType {
    /// `"_type": "link"`.
    Link,
    /// `"_type": "layout"`.
    Layout,
}

impl MetadataType {
    /// The `_type` string.
    pub fn as_str(self) -> &'static str {
        match self {
            MetadataType::Link => "link",
            MetadataType::Layout => "layout",
        }
    }
}

impl std::fmt::Display for MetadataType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which list of a link an artifact is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactList {
    /// `materials`.
    Materials,
    /// `products`.
    Products,
}

impl std::fmt::Display for ArtifactList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ArtifactList::Materials => "materials",
            ArtifactList::Products => "products",
        })
    }
}

/// Why a link or layout could not be read into its typed view, or is not valid.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetadataError {
    /// `_type` is missing or names another kind of document.
    #[error("expected an in-toto {expected}, found _type {found:?}")]
    WrongType {
        /// What the caller asked for.
        expected: MetadataType,
        /// The `_type` found (`None`: missing or not a string).
        found: Option<String>,
    },
    /// The document does not have the shape of its type (missing field, wrong JSON type).
    #[error("invalid in-toto {kind}: {message}")]
    Shape {
        /// The document kind.
        kind: MetadataType,
        /// What the deserialiser said.
        message: String,
    },
    /// An artifact digest is malformed.
    #[error("artifact {artifact:?} in {list} has an invalid digest")]
    Digest {
        /// Materials or products.
        list: ArtifactList,
        /// The artifact path.
        artifact: String,
        /// Why.
        source: DigestError,
    },
    /// An artifact rule of a step or inspection does not parse.
    #[error("rule {index} of {list} of {item:?} is invalid")]
    Rule {
        /// The step or inspection name (or its position when it has no name).
        item: String,
        /// `expected_materials` or `expected_products`.
        list: &'static str,
        /// 0-based index of the rule.
        index: usize,
        /// Why.
        source: RuleError,
    },
    /// The layout's `expires` is not an RFC 3339 date-time.
    #[error("layout expires is invalid")]
    Expires {
        /// Why.
        source: TimestampError,
    },
    /// Two steps or inspections share a name.
    #[error("step or inspection name {name:?} is used more than once")]
    DuplicateName {
        /// The name.
        name: String,
    },
    /// A step or inspection has an empty name.
    #[error("a step or inspection has an empty name")]
    EmptyName,
    /// A step's threshold is zero.
    #[error("step {step:?} has threshold 0; it must be at least 1")]
    ZeroThreshold {
        /// The step name.
        step: String,
    },
    /// A step authorises a key id that the layout's `keys` does not hold.
    #[error("step {step:?} names key {keyid} that is not in the layout's keys")]
    UnknownKey {
        /// The step name.
        step: String,
        /// The missing key id.
        keyid: String,
    },
    /// A layout key is listed under a key id different from the one inside the key object.
    #[error("layout key listed as {listed} says its keyid is {inner}")]
    KeyIdMismatch {
        /// The key id used as the map key.
        listed: String,
        /// The `keyid` inside the object.
        inner: String,
    },
    /// A layout has no `expires`, which the in-toto specification requires.
    #[error("layout has no expires date")]
    MissingExpires,
}

impl Metablock {
    /// Reads a metablock strictly (duplicate keys, size and depth are errors).
    pub fn from_slice(bytes: &[u8]) -> Result<Self, JsonError> {
        json::from_slice(bytes)
    }

    /// The bytes the signatures cover: OLPC canonical JSON of the received `signed` value.
    pub fn signed_bytes(&self) -> Result<Vec<u8>, CanonicalError> {
        canonical::to_vec(&self.signed)
    }

    /// The `_type` of the signed object, if it is one we know.
    pub fn metadata_type(&self) -> Option<MetadataType> {
        match self.signed.get("_type").and_then(Value::as_str) {
            Some("link") => Some(MetadataType::Link),
            Some("layout") => Some(MetadataType::Layout),
            _ => None,
        }
    }

    /// Wraps a freshly made `signed` value with no signatures yet.
    pub fn unsigned(signed: Value) -> Self {
        Metablock {
            signed,
            signatures: Vec::new(),
        }
    }

    /// Serialises the metablock as in-toto writes files: pretty, keys sorted, 1-space indent is
    /// python's choice; we write 2 spaces (readers do not care, signatures do not cover layout).
    pub fn to_pretty_json(&self) -> Vec<u8> {
        // Serialising a Value-backed struct cannot fail.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_unknown_fields_and_canonicalises_what_was_received() {
        let doc = br#"{"signatures":[{"keyid":"ab","sig":"cd","cert":""}],"signed":{"_type":"layout","rootcas":{"x":1},"steps":[]}}"#;
        let mb = Metablock::from_slice(doc).unwrap();
        assert_eq!(mb.metadata_type(), Some(MetadataType::Layout));
        assert_eq!(
            mb.signatures[0].extra.get("cert"),
            Some(&Value::String(String::new()))
        );
        assert_eq!(
            mb.signed_bytes().unwrap(),
            br#"{"_type":"layout","rootcas":{"x":1},"steps":[]}"#
        );
        let back = serde_json::to_vec(&mb).unwrap();
        assert_eq!(Metablock::from_slice(&back).unwrap(), mb);
    }

    #[test]
    fn openpgp_signatures_are_kept() {
        let doc = br#"{"signatures":[{"keyid":"8288","other_headers":"04","signature":"ab"}],"signed":{"_type":"link"}}"#;
        let mb = Metablock::from_slice(doc).unwrap();
        assert!(mb.signatures[0].is_openpgp());
        let back = serde_json::to_value(&mb).unwrap();
        assert!(back["signatures"][0].get("sig").is_none());
        assert_eq!(back["signatures"][0]["signature"], "ab");
    }

    #[test]
    fn duplicate_keys_in_signed_are_rejected() {
        let doc = br#"{"signatures":[],"signed":{"_type":"link","name":"a","name":"b"}}"#;
        assert!(Metablock::from_slice(doc).is_err());
    }
}
