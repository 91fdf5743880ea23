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

use crate::descriptor::ResourceDescriptor;
use crate::digest::DigestSet;
use crate::key::KeyId;
use crate::metablock::{ArtifactList, MetadataError, MetadataType};
use crate::predicate::link::v03::Link as LinkPredicate;
use crate::predicate::{LINK_V0_3, PredicateError};
use crate::statement::Statement;

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

    /// The file name in-toto gives a link signed by `keyid`: `<step>.<first 8 of keyid>.link`
    /// (python's `FILENAME_FORMAT`, also what in-toto-golang and the verifiers look for).
    pub fn file_name(&self, keyid: &KeyId) -> String {
        format!("{}.{}.link", self.name, keyid.short())
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

impl Link {
    /// The link as an in-toto Statement v1 with the link v0.3 predicate, as in-toto-golang
    /// writes attestations: products become the subjects (`name` = path, `digest`), materials
    /// become ResourceDescriptors in the predicate, and `name`, `command`, `byproducts`,
    /// `environment` move into the predicate. Unknown top-level fields are not carried over.
    ///
    /// A link without products gives a statement without subjects, which
    /// [`Statement::validate`] rejects (the spec requires at least one subject).
    pub fn to_statement(&self) -> Statement {
        let descriptors = |artifacts: &BTreeMap<String, DigestSet>| -> Vec<ResourceDescriptor> {
            artifacts
                .iter()
                .map(|(path, digest)| ResourceDescriptor::subject(path.clone(), digest.clone()))
                .collect()
        };
        let predicate = LinkPredicate {
            name: self.name.clone(),
            command: self.command.clone(),
            materials: descriptors(&self.materials),
            byproducts: self.byproducts.clone(),
            environment: self.environment.clone(),
            extra: Map::new(),
        };
        Statement::new(
            descriptors(&self.products),
            LINK_V0_3,
            serde_json::to_value(&predicate).expect("a link predicate serialises to JSON"),
        )
    }

    /// The legacy link a Statement with the link v0.3 predicate describes (the inverse of
    /// [`Link::to_statement`]): subjects become products and predicate materials become
    /// materials; each needs a `name`.
    pub fn from_statement(statement: &Statement) -> Result<Self, PredicateError> {
        if statement.predicate_type != LINK_V0_3 {
            return Err(PredicateError::UnexpectedType {
                expected: LINK_V0_3,
                found: statement.predicate_type.clone(),
            });
        }
        let predicate = LinkPredicate::from_value(statement.predicate.clone())?;
        let artifacts = |list: &[ResourceDescriptor], field: &'static str| {
            list.iter()
                .map(|rd| {
                    let name = rd.name.clone().ok_or(PredicateError::Required {
                        predicate_type: LINK_V0_3,
                        field,
                    })?;
                    Ok((name, rd.digests()))
                })
                .collect::<Result<BTreeMap<_, _>, PredicateError>>()
        };
        let mut link = Link::new(predicate.name);
        link.materials = artifacts(&predicate.materials, "materials[].name")?;
        link.products = artifacts(&statement.subject, "subject[].name")?;
        link.command = predicate.command;
        link.byproducts = predicate.byproducts;
        link.environment = predicate.environment;
        Ok(link)
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
            link.file_name(&KeyId::new("776a00e29f3559e0141b3b")),
            "write-code.776a00e2.link"
        );
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
    fn converts_to_and_from_a_link_v03_statement() {
        let mut link = Link::new("build");
        link.command = vec!["make".into()];
        link.materials
            .insert("src/a.c".into(), DigestSet::sha256(&[1; 32]));
        link.products
            .insert("a.out".into(), DigestSet::sha256(&[2; 32]));
        link.set_command_byproducts(0, "", "");
        let st = link.to_statement();
        st.validate().unwrap();
        assert_eq!(st.subject[0].name.as_deref(), Some("a.out"));
        let v: Value = serde_json::from_slice(&st.to_vec()).unwrap();
        assert_eq!(v["predicateType"], LINK_V0_3);
        assert_eq!(v["predicate"]["materials"][0]["name"], "src/a.c");
        assert_eq!(v["predicate"]["name"], "build");
        assert!(matches!(
            st.typed_predicate().unwrap(),
            crate::predicate::Predicate::LinkV03(_)
        ));
        assert_eq!(Link::from_statement(&st).unwrap(), link);

        let mut nameless = st.clone();
        nameless.subject[0].name = None;
        assert!(matches!(
            Link::from_statement(&nameless),
            Err(PredicateError::Required {
                field: "subject[].name",
                ..
            })
        ));
        let mut other = st;
        other.predicate_type = "x".into();
        assert!(matches!(
            Link::from_statement(&other),
            Err(PredicateError::UnexpectedType { .. })
        ));
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
