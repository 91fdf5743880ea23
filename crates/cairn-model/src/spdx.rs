//! SPDX 2.3 JSON documents as plain serde data.
//!
//! The fields cairn writes or reads are typed; unknown members are kept in `extra` maps and
//! written back unchanged. Schema validity is checked against the official schema in tests
//! (`testdata/spdx/`), not here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `spdxVersion` of the documents cairn writes.
pub const SPDX_VERSION: &str = "SPDX-2.3";
/// `dataLicense`, fixed by the specification.
pub const DATA_LICENSE: &str = "CC0-1.0";
/// `SPDXID` of the document itself.
pub const DOCUMENT_ID: &str = "SPDXRef-DOCUMENT";
/// The value for "no information" (`NOASSERTION`).
pub const NOASSERTION: &str = "NOASSERTION";

/// Unknown members of an object, kept for re-serialisation.
pub type Extra = BTreeMap<String, Value>;

/// An SPDX document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// `SPDX-2.3`.
    #[serde(rename = "spdxVersion")]
    pub spdx_version: String,
    /// `CC0-1.0`.
    #[serde(rename = "dataLicense")]
    pub data_license: String,
    /// `SPDXRef-DOCUMENT`.
    #[serde(rename = "SPDXID")]
    pub spdx_id: String,
    /// Document name.
    pub name: String,
    /// A URI unique to this document.
    #[serde(rename = "documentNamespace")]
    pub document_namespace: String,
    /// Who made it and when.
    #[serde(rename = "creationInfo")]
    pub creation_info: CreationInfo,
    /// Packages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<Package>,
    /// Files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<File>,
    /// Relationships between elements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relationships: Vec<Relationship>,
    /// Licences referenced as `LicenseRef-*`.
    #[serde(
        rename = "hasExtractedLicensingInfos",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub has_extracted_licensing_infos: Vec<ExtractedLicensingInfo>,
    /// Unknown members (documentDescribes, externalDocumentRefs, snippets, annotations, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `creationInfo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreationInfo {
    /// `YYYY-MM-DDThh:mm:ssZ`.
    pub created: String,
    /// `Tool: name-version`, `Organization: ...`, `Person: ...`.
    pub creators: Vec<String>,
    /// The SPDX licence list version the document's ids come from.
    #[serde(
        rename = "licenseListVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub license_list_version: Option<String>,
    /// Unknown members (comment).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Package {
    /// `SPDXRef-...`.
    #[serde(rename = "SPDXID")]
    pub spdx_id: String,
    /// Name.
    pub name: String,
    /// Version.
    #[serde(
        rename = "versionInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub version_info: Option<String>,
    /// `Organization: ...`, `Person: ...` or `NOASSERTION`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier: Option<String>,
    /// Where the package can be downloaded, or `NOASSERTION`.
    #[serde(rename = "downloadLocation")]
    pub download_location: String,
    /// Whether the package's files were analysed.
    #[serde(
        rename = "filesAnalyzed",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub files_analyzed: Option<bool>,
    /// Digests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checksums: Vec<Checksum>,
    /// Home page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    /// Where the information came from.
    #[serde(
        rename = "sourceInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub source_info: Option<String>,
    /// Concluded licence expression, or `NOASSERTION`.
    #[serde(
        rename = "licenseConcluded",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub license_concluded: Option<String>,
    /// Declared licence expression, or `NOASSERTION`.
    #[serde(
        rename = "licenseDeclared",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub license_declared: Option<String>,
    /// Copyright text, or `NOASSERTION`.
    #[serde(
        rename = "copyrightText",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub copyright_text: Option<String>,
    /// Package URLs, CPEs and other identifiers.
    #[serde(
        rename = "externalRefs",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub external_refs: Vec<ExternalRef>,
    /// `LIBRARY`, `APPLICATION`, `OPERATING-SYSTEM`, `CONTAINER`, ...
    #[serde(
        rename = "primaryPackagePurpose",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub primary_package_purpose: Option<String>,
    /// Unknown members.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct File {
    /// `SPDXRef-...`.
    #[serde(rename = "SPDXID")]
    pub spdx_id: String,
    /// `./path`.
    #[serde(rename = "fileName")]
    pub file_name: String,
    /// Digests (SHA1 is required by the specification).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checksums: Vec<Checksum>,
    /// Unknown members.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checksum {
    /// `SHA256`, `SHA1`, `SHA512`, ...
    pub algorithm: String,
    /// Lowercase hex.
    #[serde(rename = "checksumValue")]
    pub checksum_value: String,
}

/// An external reference such as a package URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalRef {
    /// `PACKAGE-MANAGER`, `SECURITY`, `PERSISTENT-ID`, `OTHER`.
    #[serde(rename = "referenceCategory")]
    pub reference_category: String,
    /// `purl`, `cpe23Type`, ...
    #[serde(rename = "referenceType")]
    pub reference_type: String,
    /// The reference itself.
    #[serde(rename = "referenceLocator")]
    pub reference_locator: String,
    /// Unknown members (comment).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A relationship between two elements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Relationship {
    /// The subject.
    #[serde(rename = "spdxElementId")]
    pub spdx_element_id: String,
    /// `DESCRIBES`, `CONTAINS`, `DEPENDS_ON`, ...
    #[serde(rename = "relationshipType")]
    pub relationship_type: String,
    /// The object.
    #[serde(rename = "relatedSpdxElement")]
    pub related_spdx_element: String,
    /// Unknown members (comment).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A licence that is not on the SPDX list, referenced as `LicenseRef-*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtractedLicensingInfo {
    /// `LicenseRef-...`.
    #[serde(rename = "licenseId")]
    pub license_id: String,
    /// The text (or the declared name when no text is known).
    #[serde(rename = "extractedText")]
    pub extracted_text: String,
    /// A readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Unknown members.
    #[serde(flatten)]
    pub extra: Extra,
}
