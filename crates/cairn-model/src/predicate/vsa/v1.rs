//! SLSA Verification Summary Attestation v1 (`https://slsa.dev/verification_summary/v1`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::descriptor::ResourceDescriptor;
use crate::predicate::{PredicateError, VSA_V1, check_descriptors};
use crate::time::Timestamp;

/// The VSA predicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerificationSummary {
    /// Who performed the verification.
    #[serde(default)]
    pub verifier: Verifier,
    /// When the verification happened.
    #[serde(
        rename = "timeVerified",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub time_verified: Option<Timestamp>,
    /// URI of the artifact or resource that was verified.
    #[serde(rename = "resourceUri", default)]
    pub resource_uri: String,
    /// The policy the resource was checked against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<ResourceDescriptor>,
    /// The attestations the verifier used.
    #[serde(
        rename = "inputAttestations",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub input_attestations: Vec<ResourceDescriptor>,
    /// The outcome.
    #[serde(rename = "verificationResult")]
    pub verification_result: VerificationResult,
    /// SLSA track/level results established (e.g. `SLSA_BUILD_LEVEL_3`) and custom properties.
    #[serde(rename = "verifiedLevels", default)]
    pub verified_levels: Vec<String>,
    /// Count of transitive dependencies at each SLSA level.
    #[serde(
        rename = "dependencyLevels",
        default,
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub dependency_levels: BTreeMap<String, u64>,
    /// The SLSA version the levels refer to (e.g. `1.0`).
    #[serde(
        rename = "slsaVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub slsa_version: Option<String>,
    /// Fields not interpreted here.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `verifier`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Verifier {
    /// URI identifying the verifier.
    #[serde(default)]
    pub id: String,
    /// Versions of the verifier's components.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub version: BTreeMap<String, String>,
    /// Fields not interpreted here.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `verificationResult`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VerificationResult {
    /// `PASSED`.
    #[serde(rename = "PASSED")]
    Passed,
    /// `FAILED`.
    #[serde(rename = "FAILED")]
    Failed,
}

impl VerificationSummary {
    /// Reads and validates a VSA v1 predicate.
    pub fn from_value(value: Value) -> Result<Self, PredicateError> {
        let p: VerificationSummary = crate::predicate::from_value(VSA_V1, value)?;
        p.validate()?;
        Ok(p)
    }

    /// The spec's required fields: `verifier.id`, `timeVerified`, `resourceUri`, `policy`,
    /// `verificationResult` (enforced when reading), `verifiedLevels`; and valid descriptors.
    pub fn validate(&self) -> Result<(), PredicateError> {
        let required = |field| PredicateError::Required {
            predicate_type: VSA_V1,
            field,
        };
        if self.verifier.id.is_empty() {
            return Err(required("verifier.id"));
        }
        if self.time_verified.is_none() {
            return Err(required("timeVerified"));
        }
        if self.resource_uri.is_empty() {
            return Err(required("resourceUri"));
        }
        let Some(policy) = &self.policy else {
            return Err(required("policy"));
        };
        check_descriptors(VSA_V1, "policy", std::slice::from_ref(policy))?;
        if self.verified_levels.is_empty() {
            return Err(required("verifiedLevels"));
        }
        check_descriptors(VSA_V1, "inputAttestations", &self.input_attestations)
    }
}
