//! SLSA Build provenance v1 (`https://slsa.dev/provenance/v1`; the same schema serves SLSA
//! v1.0 and v1.1).
//!
//! Required fields are checked by [`Provenance::validate`] (as the in-toto/attestation Go
//! validator does), not by deserialisation, so a malformed document reports which field is
//! missing. Unknown fields are kept at every level.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::descriptor::ResourceDescriptor;
use crate::predicate::{PredicateError, SLSA_PROVENANCE_V1, check_descriptors};
use crate::time::Timestamp;

/// The provenance predicate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// The inputs of the build: what was built, how, from what.
    #[serde(rename = "buildDefinition", default)]
    pub build_definition: BuildDefinition,
    /// Details of this particular run.
    #[serde(rename = "runDetails", default)]
    pub run_details: RunDetails,
    /// Fields not interpreted here.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `buildDefinition`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuildDefinition {
    /// URI of the template for how the build ran (defines the parameter schemas).
    #[serde(rename = "buildType", default)]
    pub build_type: String,
    /// Parameters under the control of the build's invoker (REQUIRED, may be empty).
    #[serde(
        rename = "externalParameters",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub external_parameters: Option<Map<String, Value>>,
    /// Parameters under the control of the builder.
    #[serde(
        rename = "internalParameters",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub internal_parameters: Option<Map<String, Value>>,
    /// Artifacts fetched during the build (sources, dependencies, base images).
    #[serde(
        rename = "resolvedDependencies",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resolved_dependencies: Vec<ResourceDescriptor>,
    /// Fields not interpreted here.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `runDetails`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunDetails {
    /// The build platform that ran the build.
    #[serde(default)]
    pub builder: Builder,
    /// Metadata of this run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BuildMetadata>,
    /// Additional artifacts produced by the build that are not subjects (logs, SBOMs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub byproducts: Vec<ResourceDescriptor>,
    /// Fields not interpreted here.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `runDetails.builder`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Builder {
    /// URI identifying the build platform (and its trust boundary).
    #[serde(default)]
    pub id: String,
    /// Versions of the builder's components.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub version: BTreeMap<String, String>,
    /// Dependencies of the builder itself.
    #[serde(
        rename = "builderDependencies",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub builder_dependencies: Vec<ResourceDescriptor>,
    /// Fields not interpreted here.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `runDetails.metadata`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuildMetadata {
    /// Identifies this run within the builder (e.g. a CI run URL or id).
    #[serde(
        rename = "invocationId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub invocation_id: Option<String>,
    /// When the build started.
    #[serde(rename = "startedOn", default, skip_serializing_if = "Option::is_none")]
    pub started_on: Option<Timestamp>,
    /// When the build finished.
    #[serde(
        rename = "finishedOn",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub finished_on: Option<Timestamp>,
    /// Fields not interpreted here.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Provenance {
    /// Reads and validates a provenance v1 predicate.
    pub fn from_value(value: Value) -> Result<Self, PredicateError> {
        let p: Provenance = crate::predicate::from_value(SLSA_PROVENANCE_V1, value)?;
        p.validate()?;
        Ok(p)
    }

    /// The required fields of the spec, in the order of the in-toto/attestation Go validator:
    /// `buildDefinition` (non-empty) with `buildType` and `externalParameters`; `runDetails`
    /// (non-empty) with a non-empty `builder` that has an `id`. Every ResourceDescriptor must be
    /// valid.
    pub fn validate(&self) -> Result<(), PredicateError> {
        let required = |field| PredicateError::Required {
            predicate_type: SLSA_PROVENANCE_V1,
            field,
        };
        let bd = &self.build_definition;
        if *bd == BuildDefinition::default() {
            return Err(required("buildDefinition"));
        }
        if bd.build_type.is_empty() {
            return Err(required("buildDefinition.buildType"));
        }
        if bd.external_parameters.is_none() {
            return Err(required("buildDefinition.externalParameters"));
        }
        check_descriptors(
            SLSA_PROVENANCE_V1,
            "buildDefinition.resolvedDependencies",
            &bd.resolved_dependencies,
        )?;
        let rd = &self.run_details;
        if *rd == RunDetails::default() {
            return Err(required("runDetails"));
        }
        if rd.builder == Builder::default() {
            return Err(required("runDetails.builder"));
        }
        if rd.builder.id.is_empty() {
            return Err(required("runDetails.builder.id"));
        }
        check_descriptors(
            SLSA_PROVENANCE_V1,
            "runDetails.builder.builderDependencies",
            &rd.builder.builder_dependencies,
        )?;
        check_descriptors(SLSA_PROVENANCE_V1, "runDetails.byproducts", &rd.byproducts)
    }
}
