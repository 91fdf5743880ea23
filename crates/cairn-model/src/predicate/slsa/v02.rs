//! SLSA provenance v0.2 (`https://slsa.dev/provenance/v0.2`), read for compatibility: real
//! slsa-github-generator output is Statement v0.1 + this predicate.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::digest::DigestSet;
use crate::predicate::{PredicateError, SLSA_PROVENANCE_V0_2};
use crate::time::Timestamp;

/// The provenance v0.2 predicate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// The entity that ran the build.
    #[serde(default)]
    pub builder: Builder,
    /// URI of the template for how the build ran.
    #[serde(rename = "buildType", default)]
    pub build_type: String,
    /// How the build was started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocation: Option<Invocation>,
    /// Build steps (schema defined by `buildType`).
    #[serde(
        rename = "buildConfig",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub build_config: Option<Value>,
    /// Metadata of the build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// Artifacts the build used (sources, dependencies).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub materials: Vec<Material>,
    /// Fields not interpreted here.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `builder`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Builder {
    /// URI identifying the builder.
    #[serde(default)]
    pub id: String,
    /// Fields not interpreted here.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `invocation`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Invocation {
    /// Where the top-level build configuration came from.
    #[serde(
        rename = "configSource",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub config_source: Option<ConfigSource>,
    /// Parameters the invoker chose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Environment of the build (builder-specific).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Value>,
    /// Fields not interpreted here.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `invocation.configSource`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConfigSource {
    /// URI of the configuration's source (e.g. `git+https://...@refs/tags/v1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Digests of that source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<DigestSet>,
    /// The entry point within the source (e.g. a workflow path).
    #[serde(
        rename = "entryPoint",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub entry_point: Option<String>,
    /// Fields not interpreted here.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `metadata`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// Identifies this build invocation.
    #[serde(
        rename = "buildInvocationId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub build_invocation_id: Option<String>,
    /// When the build started.
    #[serde(
        rename = "buildStartedOn",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub build_started_on: Option<Timestamp>,
    /// When the build finished.
    #[serde(
        rename = "buildFinishedOn",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub build_finished_on: Option<Timestamp>,
    /// Which information the builder claims is complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completeness: Option<Completeness>,
    /// Whether the builder claims the build is reproducible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reproducible: Option<bool>,
    /// Fields not interpreted here.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `metadata.completeness`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Completeness {
    /// `invocation.parameters` is complete.
    #[serde(default)]
    pub parameters: bool,
    /// `invocation.environment` is complete.
    #[serde(default)]
    pub environment: bool,
    /// `materials` is complete.
    #[serde(default)]
    pub materials: bool,
    /// Fields not interpreted here.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One entry of `materials`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Material {
    /// URI of the material.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Digests of the material.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<DigestSet>,
    /// Fields not interpreted here.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Provenance {
    /// Reads and validates a provenance v0.2 predicate.
    pub fn from_value(value: Value) -> Result<Self, PredicateError> {
        let p: Provenance = crate::predicate::from_value(SLSA_PROVENANCE_V0_2, value)?;
        p.validate()?;
        Ok(p)
    }

    /// The spec's required fields: `builder.id` and `buildType`.
    pub fn validate(&self) -> Result<(), PredicateError> {
        let required = |field| PredicateError::Required {
            predicate_type: SLSA_PROVENANCE_V0_2,
            field,
        };
        if self.builder.id.is_empty() {
            return Err(required("builder.id"));
        }
        if self.build_type.is_empty() {
            return Err(required("buildType"));
        }
        Ok(())
    }
}
