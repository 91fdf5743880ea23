//! Media types, descriptors, image manifests, image indexes and platforms (OCI image spec 1.1;
//! Docker schema 2 read as its OCI equivalent).
//!
//! cairn keeps the exact bytes of every manifest it moves (digests are over bytes); the parsed
//! forms here are for walking the graph and are never re-serialised in place of the original.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::digest::Digest;

/// Media types cairn reads and writes.
pub mod media {
    /// OCI image manifest.
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    /// OCI image index.
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    /// Docker schema 2 manifest.
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    /// Docker schema 2 manifest list.
    pub const DOCKER_MANIFEST_LIST: &str =
        "application/vnd.docker.distribution.manifest.list.v2+json";
    /// Docker schema 1 (signed) manifest: not supported.
    pub const DOCKER_SCHEMA1_SIGNED: &str =
        "application/vnd.docker.distribution.manifest.v1+prettyjws";
    /// The OCI empty descriptor's media type (`{}`).
    pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
    /// Sigstore bundle v0.3, used as artifactType and layer media type of attached bundles.
    pub const SIGSTORE_BUNDLE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
    /// Older Sigstore bundle media type prefix (`application/vnd.dev.sigstore.bundle+json;version=0.x`).
    pub const SIGSTORE_BUNDLE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";
    /// DSSE envelope layer of cosign's `.att` images.
    pub const DSSE_ENVELOPE: &str = "application/vnd.dsse.envelope.v1+json";
    /// Simple signing payload layer of cosign's `.sig` images.
    pub const COSIGN_SIMPLESIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
    /// The `Accept` header for manifests: everything cairn understands.
    pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";
}

/// Annotation keys.
pub mod annotations {
    /// The tag of a manifest in an OCI layout's `index.json`.
    pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
    /// Creation time (RFC 3339).
    pub const CREATED: &str = "org.opencontainers.image.created";
    /// Suggested file name of a layer.
    pub const TITLE: &str = "org.opencontainers.image.title";
    /// `message-signature` or `dsse-envelope` (cosign BUNDLE_SPEC).
    pub const BUNDLE_CONTENT: &str = "dev.sigstore.bundle.content";
    /// The in-toto predicate type of a DSSE bundle (cosign BUNDLE_SPEC).
    pub const BUNDLE_PREDICATE_TYPE: &str = "dev.sigstore.bundle.predicateType";
    /// cosign's per-layer signature annotation.
    pub const COSIGN_SIGNATURE: &str = "dev.cosignproject.cosign/signature";
    /// cosign's per-layer certificate annotation (PEM).
    pub const COSIGN_CERTIFICATE: &str = "dev.sigstore.cosign/certificate";
    /// cosign's per-layer Rekor bundle annotation (JSON).
    pub const COSIGN_BUNDLE: &str = "dev.sigstore.cosign/bundle";
    /// cosign's per-layer predicate type annotation on `.att` layers.
    pub const COSIGN_PREDICATE_TYPE: &str = "predicateType";
}

/// The largest manifest cairn accepts (distribution's own limit is 4 MiB).
pub const MAX_MANIFEST_SIZE: u64 = 4 * 1024 * 1024;

/// The OCI empty JSON blob `{}`.
pub const EMPTY_JSON: &[u8] = b"{}";

/// A content descriptor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Descriptor {
    /// Media type of the referenced content.
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// Digest of the referenced content.
    pub digest: Digest,
    /// Size in bytes.
    pub size: u64,
    /// Artifact type (for artifact manifests listed in indexes and referrers).
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Platform (entries of an index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// Fields cairn does not interpret (`urls`, `data`, ...), kept as they were.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl Descriptor {
    /// A descriptor for `bytes` of `media_type`.
    pub fn for_bytes(media_type: &str, bytes: &[u8]) -> Descriptor {
        Descriptor {
            media_type: media_type.to_string(),
            digest: Digest::sha256_of(bytes),
            size: bytes.len() as u64,
            artifact_type: None,
            annotations: BTreeMap::new(),
            platform: None,
            extra: BTreeMap::new(),
        }
    }

    /// The OCI empty descriptor (`application/vnd.oci.empty.v1+json`, `{}`).
    pub fn empty() -> Descriptor {
        Descriptor::for_bytes(media::OCI_EMPTY, EMPTY_JSON)
    }

    /// True for manifest and index media types.
    pub fn is_manifest(&self) -> bool {
        is_manifest_media_type(&self.media_type)
    }
}

/// True for the manifest and index media types cairn understands.
pub fn is_manifest_media_type(mt: &str) -> bool {
    matches!(
        mt,
        media::OCI_MANIFEST
            | media::OCI_INDEX
            | media::DOCKER_MANIFEST
            | media::DOCKER_MANIFEST_LIST
    )
}

/// A platform (`os/architecture[/variant]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    /// CPU architecture (`amd64`, `arm64`, ...).
    pub architecture: String,
    /// Operating system (`linux`, `windows`, ...).
    pub os: String,
    /// CPU variant (`v7`, `v8`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Operating system version.
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// Other fields, kept.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// A `--platform` value: `os/arch[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformSpec {
    /// Operating system.
    pub os: String,
    /// Architecture.
    pub architecture: String,
    /// Variant, when given.
    pub variant: Option<String>,
}

/// A `--platform` value that is not `os/arch[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid platform `{0}` (expected os/arch[/variant], e.g. linux/arm64)")]
pub struct PlatformError(pub String);

impl FromStr for PlatformSpec {
    type Err = PlatformError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split('/').collect();
        let ok = |p: &&str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
        };
        if !(2..=3).contains(&parts.len()) || !parts.iter().all(ok) {
            return Err(PlatformError(s.to_string()));
        }
        Ok(PlatformSpec {
            os: parts[0].to_string(),
            architecture: parts[1].to_string(),
            variant: parts.get(2).map(|v| v.to_string()),
        })
    }
}

impl fmt::Display for PlatformSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl PlatformSpec {
    /// True when `p` is this platform. A spec without a variant matches any variant; `arm64`
    /// without a variant is `arm64/v8`.
    pub fn matches(&self, p: &Platform) -> bool {
        if p.os != self.os || p.architecture != self.architecture {
            return false;
        }
        match &self.variant {
            None => true,
            Some(v) => {
                let have = p.variant.as_deref().or(if p.architecture == "arm64" {
                    Some("v8")
                } else {
                    None
                });
                have == Some(v.as_str())
            }
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// An image manifest (OCI or Docker schema 2).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ImageManifest {
    /// Always 2.
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    /// The media type the document declares, if any.
    #[serde(rename = "mediaType", default)]
    pub media_type: Option<String>,
    /// Artifact type (artifact manifests).
    #[serde(rename = "artifactType", default)]
    pub artifact_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// Layers.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// The manifest this one refers to (referrers).
    #[serde(default)]
    pub subject: Option<Descriptor>,
    /// Annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// An image index (OCI or Docker manifest list).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageIndex {
    /// Always 2.
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    /// The media type the document declares, if any.
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Artifact type.
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
    /// Entries.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    /// The manifest this one refers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl ImageIndex {
    /// An empty OCI index.
    pub fn new() -> ImageIndex {
        ImageIndex {
            schema_version: 2,
            media_type: Some(media::OCI_INDEX.to_string()),
            artifact_type: None,
            manifests: Vec::new(),
            subject: None,
            annotations: BTreeMap::new(),
        }
    }
}

impl Default for ImageIndex {
    fn default() -> Self {
        ImageIndex::new()
    }
}

/// A parsed manifest.
// Short-lived values walked once; boxing would only add noise at every match.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Manifest {
    /// An image (or artifact) manifest.
    Image(ImageManifest),
    /// An index.
    Index(ImageIndex),
}

/// Why manifest bytes could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// Not JSON, or not the shape its media type requires.
    #[error("malformed {media_type} manifest")]
    Malformed {
        /// The media type it was read as.
        media_type: String,
        /// The parse error.
        #[source]
        source: cairn_model::JsonError,
    },
    /// A media type cairn does not read (schema 1, unknown).
    #[error("unsupported manifest media type `{0}`")]
    Unsupported(String),
    /// The document's `mediaType` differs from the one it was served or described as.
    #[error("manifest declares media type `{declared}` but was served as `{served}`")]
    MediaTypeMismatch {
        /// In the document.
        declared: String,
        /// In the descriptor or Content-Type.
        served: String,
    },
    /// `schemaVersion` is not 2.
    #[error("manifest schemaVersion is {0}, expected 2")]
    SchemaVersion(u32),
}

#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<serde::de::IgnoredAny>,
}

impl Manifest {
    /// Parses `bytes` served or described as `media_type` (may be empty or generic when unknown:
    /// then the document's own `mediaType`, or the presence of `manifests`, decides).
    pub fn parse(media_type: &str, bytes: &[u8]) -> Result<Manifest, ManifestError> {
        let served = media_type.split(';').next().unwrap_or("").trim();
        // One strict parse; the probe and the typed document are both read from that value
        // (an index.json with thousands of tags is parsed once, not twice).
        let value = cairn_model::json::value_from_slice(bytes).map_err(|source| {
            ManifestError::Malformed {
                media_type: served.to_string(),
                source,
            }
        })?;
        let probe = Probe::deserialize(&value).map_err(|e| ManifestError::Malformed {
            media_type: served.to_string(),
            source: cairn_model::json::JsonError::Shape {
                message: e.to_string(),
            },
        })?;
        let effective = match (&probe.media_type, is_manifest_media_type(served)) {
            (Some(declared), true) if declared != served => {
                return Err(ManifestError::MediaTypeMismatch {
                    declared: declared.clone(),
                    served: served.to_string(),
                });
            }
            (_, true) => served.to_string(),
            (Some(declared), false) => declared.clone(),
            (None, false) if probe.manifests.is_some() => media::OCI_INDEX.to_string(),
            (None, false)
                if served.is_empty()
                    || served == "application/json"
                    || served == "application/octet-stream" =>
            {
                media::OCI_MANIFEST.to_string()
            }
            (None, false) => return Err(ManifestError::Unsupported(served.to_string())),
        };
        let malformed = |source| ManifestError::Malformed {
            media_type: effective.clone(),
            source,
        };
        let m = match effective.as_str() {
            media::OCI_MANIFEST | media::DOCKER_MANIFEST => {
                let m: ImageManifest = cairn_model::json::from_value(value).map_err(malformed)?;
                if m.schema_version != 2 {
                    return Err(ManifestError::SchemaVersion(m.schema_version));
                }
                Manifest::Image(m)
            }
            media::OCI_INDEX | media::DOCKER_MANIFEST_LIST => {
                let m: ImageIndex = cairn_model::json::from_value(value).map_err(malformed)?;
                if m.schema_version != 2 {
                    return Err(ManifestError::SchemaVersion(m.schema_version));
                }
                Manifest::Index(m)
            }
            other => return Err(ManifestError::Unsupported(other.to_string())),
        };
        Ok(m)
    }

    /// The `subject` field, when this manifest refers to another.
    pub fn subject(&self) -> Option<&Descriptor> {
        match self {
            Manifest::Image(m) => m.subject.as_ref(),
            Manifest::Index(m) => m.subject.as_ref(),
        }
    }

    /// The artifact type: `artifactType`, else (for images) the config media type.
    pub fn artifact_type(&self) -> Option<&str> {
        match self {
            Manifest::Image(m) => m
                .artifact_type
                .as_deref()
                .or(Some(m.config.media_type.as_str())),
            Manifest::Index(m) => m.artifact_type.as_deref(),
        }
    }

    /// The annotations.
    pub fn annotations(&self) -> &BTreeMap<String, String> {
        match self {
            Manifest::Image(m) => &m.annotations,
            Manifest::Index(m) => &m.annotations,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_by_media_type() {
        let empty = Descriptor::empty();
        let body = serde_json::json!({
            "schemaVersion": 2, "mediaType": media::OCI_MANIFEST,
            "config": empty, "layers": [], "unknown": 1
        });
        let bytes = serde_json::to_vec(&body).expect("json");
        assert!(matches!(
            Manifest::parse(media::OCI_MANIFEST, &bytes),
            Ok(Manifest::Image(_))
        ));
        assert!(matches!(
            Manifest::parse("", &bytes),
            Ok(Manifest::Image(_))
        ));
        assert!(matches!(
            Manifest::parse(media::OCI_INDEX, &bytes),
            Err(ManifestError::MediaTypeMismatch { .. })
        ));
        assert!(matches!(
            Manifest::parse(media::DOCKER_SCHEMA1_SIGNED, b"{\"schemaVersion\":1}"),
            Err(ManifestError::Unsupported(_))
        ));
        assert!(matches!(
            Manifest::parse(
                media::OCI_INDEX,
                b"{\"schemaVersion\":2,\"manifests\":[{}]}"
            ),
            Err(ManifestError::Malformed { .. })
        ));
        let dup = br#"{"schemaVersion":2,"schemaVersion":2,"manifests":[]}"#;
        assert!(Manifest::parse(media::OCI_INDEX, dup).is_err());
    }

    #[test]
    fn platform_specs() {
        let spec: PlatformSpec = "linux/arm64".parse().expect("valid");
        let p = Platform {
            architecture: "arm64".into(),
            os: "linux".into(),
            variant: None,
            os_version: None,
            extra: BTreeMap::new(),
        };
        assert!(spec.matches(&p));
        let v8: PlatformSpec = "linux/arm64/v8".parse().expect("valid");
        assert!(v8.matches(&p));
        let v7: PlatformSpec = "linux/arm64/v7".parse().expect("valid");
        assert!(!v7.matches(&p));
        assert!("linux".parse::<PlatformSpec>().is_err());
        assert!("linux/amd64/v1/x".parse::<PlatformSpec>().is_err());
        assert!("linux//x".parse::<PlatformSpec>().is_err());
    }
}
