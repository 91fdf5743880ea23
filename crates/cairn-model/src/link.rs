//! The typed view of a legacy in-toto v1.0 link (`"_type": "link"`), the `signed` part of a link
//! metablock or the payload of a DSSE-wrapped link.
//!
//! Writing produces exactly the field set in-toto python 3.1.0 and in-toto-golang write:
//! `_type`, `name`, `materials`, `products`, `byproducts`, `command`, `environment`, each always
//! present (empty when unused). Unknown fields read from elsewhere are kept in [`Link::extra`].
//!
//! ```
//! use cairn_model::{DigestSet, Link, Metablock};
//!
//! let mut link = Link::new("package");
//! link.command = vec!["tar".into(), "zcvf".into(), "foo.tar.gz".into(), "foo.py".into()];
//! link.products.insert("foo.tar.gz".into(), DigestSet::sha256(&[0x52; 32]));
//! let block = Metablock::unsigned(link.to_signed_value());
//! assert_eq!(Link::from_signed(&block.signed).unwrap(), link);
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::digest::DigestSet;
use crate::metablock::{ArtifactList, MetadataError, MetadataType};

/// An in-toto v1.0 link: what one step consumed, ran and produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    #[serde(rename = "_type")]
    kind: LinkTag,
    /// The step name (matches a layout step's `name`).
    pub name: String,
    /// Artifacts consumed, by normalised path.
    #[serde(default)]
    pub materials: BTreeMap<String, DigestSet>,
    /// Artifacts produced, by normalised path.
    #[serde(default)]
    pub products: BTreeMap<String, DigestSet>,
    /// What running the command produced besides artifacts: in-toto writes `return-value`,
    /// `stdout` and `stderr` when a command ran.
    #[serde(default)]
    pub byproducts: Map<String, Value>,
    /// The command that was run, one argument per element (empty when none was run).
    #[serde(default)]
    pub command: Vec<String>,
    /// Environment information the functionary chose to record.
    #[serde(default)]
    pub environment: Map<String, Value>,
    /// Fields not interpreted here, kept so a re-serialised link keeps them.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
enum LinkTag {
    #[default]
    #[serde(rename = "link")]
    Link,
}

impl Link {
    /// An empty link for step `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Link {
            kind: LinkTag::Link,
            name: name.into(),
            materials: BTreeMap::new(),
            products: BTreeMap::new(),
            byproducts: Map::new(),
            command: Vec::new(),
            environment: Map::new(),
            extra: Map::new(),
        }
    }

    /// Reads the typed view of a link's `signed` value. Checks `_type`, the shape and every
    /// artifact digest (see [`DigestSet::validate`]).
    pub fn from_signed(signed: &Value) -> Result<Self, MetadataError> {
        check_type(signed, MetadataType::Link)?;
        let link = Link::deserialize(signed).map_err(|e| MetadataError::Shape {
            kind: MetadataType::Link,
            message: e.to_string(),
        })?;
        link.validate_digests()?;
        Ok(link)
    }

    /// Checks every material and product digest.
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

    /// The JSON value to put into [`crate::Metablock::signed`] (or to serialise as a DSSE
    /// payload).
    pub fn to_signed_value(&self) -> Value {
        serde_json::to_value(self).expect("a link has string keys only and serialises to JSON")
    }

    /// `byproducts["return-value"]` as in-toto records it, if present and an integer.
    pub fn return_value(&self) -> Option<i64> {
        self.byproducts.get("return-value").and_then(Value::as_i64)
    }

    /// Sets the byproducts in-toto records for a command: `return-value`, `stdout`, `stderr`.
    pub fn set_command_byproducts(&mut self, return_value: i64, stdout: &str, stderr: &str) {
        self.byproducts
            .insert("return-value".into(), Value::from(return_value));
        self.byproducts
            .insert("stdout".into(), Value::from(stdout.to_owned()));
        self.byproducts
            .insert("stderr".into(), Value::from(stderr.to_owned()));
    }
}

/// Checks `signed._type` against `expected`.
pub(crate) fn check_type(signed: &Value, expected: MetadataType) -> Result<(), MetadataError> {
    match signed.get("_type").and_then(Value::as_str) {
        Some(t) if t == expected.as_str() => Ok(()),
        found => Err(MetadataError::WrongType {
            expected,
            found: found.map(str::to_owned),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_the_reference_field_set() {
        let link = Link::new("write-code");
        assert_eq!(
            link.to_signed_value(),
            json!({"_type": "link", "name": "write-code", "materials": {}, "products": {},
                   "byproducts": {}, "command": [], "environment": {}})
        );
    }

    #[test]
    fn reads_and_keeps_unknown_fields() {
        let v = json!({"_type": "link", "name": "x", "materials": {}, "products":
            {"a": {"sha256": "74dc3727c6e89308b39e4dfedf787e37841198b1fa165a27c013544a60502549"}},
            "byproducts": {"return-value": 2}, "command": ["ls"], "environment": {}, "future": [1]});
        let link = Link::from_signed(&v).unwrap();
        assert_eq!(link.extra["future"], json!([1]));
        assert_eq!(link.return_value(), Some(2));
        assert_eq!(link.to_signed_value(), v);
    }

    #[test]
    fn rejects_wrong_type_missing_name_and_bad_digests() {
        assert_eq!(
            Link::from_signed(&json!({"_type": "layout"})),
            Err(MetadataError::WrongType {
                expected: MetadataType::Link,
                found: Some("layout".into())
            })
        );
        assert!(matches!(
            Link::from_signed(&json!({"_type": "link"})),
            Err(MetadataError::Shape { .. })
        ));
        let bad = json!({"_type": "link", "name": "x", "materials": {"f": {"sha256": "abc"}}});
        assert!(matches!(
            Link::from_signed(&bad),
            Err(MetadataError::Digest { list: ArtifactList::Materials, ref artifact, .. }) if artifact == "f"
        ));
    }
}
