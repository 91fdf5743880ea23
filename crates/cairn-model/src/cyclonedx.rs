//! CycloneDX 1.5 / 1.6 JSON documents (BOMs) as plain serde data.
//!
//! Only the parts cairn writes or reads are typed; everything else survives a read and write
//! unchanged in the `extra` maps, so a BOM read from elsewhere re-serialises without loss of
//! fields (JSON object key order is not kept). Validity against the official schema is not
//! checked here: that is the schema's job (see `testdata/cyclonedx/`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `bomFormat` value every CycloneDX JSON document carries.
pub const BOM_FORMAT: &str = "CycloneDX";

/// Unknown members of an object, kept for re-serialisation.
pub type Extra = BTreeMap<String, Value>;

/// A CycloneDX BOM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bom {
    /// Always `CycloneDX`.
    pub bom_format: String,
    /// `1.6`, `1.5`, ...
    pub spec_version: String,
    /// `urn:uuid:...`, the same for every version of one BOM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    /// The version of this BOM (starts at 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// Timestamp, tools, the described component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// The components.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<Component>>,
    /// The dependency graph, by `bom-ref`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependencies: Option<Vec<Dependency>>,
    /// Unknown members.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `metadata`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// RFC 3339 date-time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// The tools that made the BOM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Tools>,
    /// The component the BOM describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<Box<Component>>,
    /// Name/value properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Vec<Property>>,
    /// Unknown members.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `metadata.tools`: an object with components and services (1.5+), or the legacy array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Tools {
    /// The 1.5+ form.
    Object {
        /// Tools that are software components.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        components: Option<Vec<Component>>,
        /// Tools that are services.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        services: Option<Vec<Value>>,
        /// Unknown members.
        #[serde(flatten)]
        extra: Extra,
    },
    /// The deprecated array of tool objects.
    Legacy(Vec<Value>),
}

/// A component: a library, application, operating system, file, ...
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Component {
    /// `library`, `application`, `operating-system`, `container`, `file`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The identifier other parts of the BOM use for this component.
    #[serde(rename = "bom-ref", default, skip_serializing_if = "Option::is_none")]
    pub bom_ref: Option<String>,
    /// Who supplied the component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier: Option<OrganizationalEntity>,
    /// Free-text author (deprecated in 1.6 in favour of `authors`, still valid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Group (Maven group id, npm scope, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Name.
    pub name: String,
    /// Version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `required`, `optional` or `excluded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Digests of the component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashes: Option<Vec<Hash>>,
    /// Licences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licenses: Option<Vec<LicenseChoice>>,
    /// Copyright text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copyright: Option<String>,
    /// CPE 2.2 or 2.3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpe: Option<String>,
    /// Package URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// Links: website, VCS, distribution, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_references: Option<Vec<ExternalReference>>,
    /// Name/value properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Vec<Property>>,
    /// Sub-components.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<Component>>,
    /// Unknown members (evidence, pedigree, swid, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

impl Component {
    /// A component with a type and name and nothing else.
    pub fn new(kind: impl Into<String>, name: impl Into<String>) -> Self {
        Component {
            kind: kind.into(),
            bom_ref: None,
            supplier: None,
            author: None,
            group: None,
            name: name.into(),
            version: None,
            description: None,
            scope: None,
            hashes: None,
            licenses: None,
            copyright: None,
            cpe: None,
            purl: None,
            external_references: None,
            properties: None,
            components: None,
            extra: Extra::new(),
        }
    }
}

/// An organisation (supplier, manufacturer).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrganizationalEntity {
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Web addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Vec<String>>,
    /// Unknown members (contact, bom-ref, address).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hash {
    /// `SHA-256`, `SHA-512`, `SHA-1`, ...
    pub alg: String,
    /// Lowercase hex.
    pub content: String,
}

/// One entry of a `licenses` array: a licence, or an SPDX expression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LicenseChoice {
    /// A single licence by SPDX id or by name.
    License {
        /// The licence.
        license: License,
        /// Unknown members.
        #[serde(flatten)]
        extra: Extra,
    },
    /// An SPDX licence expression.
    Expression {
        /// The expression, e.g. `MIT OR Apache-2.0`.
        expression: String,
        /// Unknown members (acknowledgement, bom-ref).
        #[serde(flatten)]
        extra: Extra,
    },
}

/// A licence: `id` (SPDX list) or `name`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct License {
    /// SPDX licence id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Licence name when it has no SPDX id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Licence URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Unknown members (text, licensing, properties).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A link to something outside the BOM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalReference {
    /// `website`, `vcs`, `distribution`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// IRI.
    pub url: String,
    /// Unknown members (comment, hashes).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A name/value property.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Property {
    /// Name (namespaced, e.g. `cairn:location`).
    pub name: String,
    /// Value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// One node of the dependency graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dependency {
    /// The `bom-ref` of the dependent.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The `bom-ref`s it depends on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depends_on: Option<Vec<String>>,
    /// Unknown members (provides).
    #[serde(flatten)]
    pub extra: Extra,
}
