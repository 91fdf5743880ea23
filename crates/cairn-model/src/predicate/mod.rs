//! Typed predicates of in-toto Statements, chosen by `predicateType` (never by trying one
//! deserialiser after another).
//!
//! Versions are module paths: [`slsa::v1::Provenance`], [`slsa::v02::Provenance`],
//! [`link::v03::Link`], [`vsa::v1::VerificationSummary`], [`test_result::v01::TestResult`]. Each keeps unknown fields. A predicate
//! type cairn has no model for is [`Predicate::Other`], untouched.

pub mod link;
pub mod slsa;
pub mod test_result;
pub mod vsa;

use serde_json::Value;

use crate::descriptor::DescriptorError;

/// `predicateType` of SLSA Build provenance v1 (also used by SLSA v1.1).
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
/// `predicateType` of SLSA provenance v0.2.
pub const SLSA_PROVENANCE_V0_2: &str = "https://slsa.dev/provenance/v0.2";
/// `predicateType` of the in-toto link predicate v0.3.
pub const LINK_V0_3: &str = "https://in-toto.io/attestation/link/v0.3";
/// `predicateType` of the SLSA Verification Summary Attestation v1.
pub const VSA_V1: &str = "https://slsa.dev/verification_summary/v1";
/// `predicateType` of SPDX 2.3 documents (cairn-model `spdx` has the document model).
pub const SPDX_V2_3: &str = "https://spdx.dev/Document/v2.3";
/// `predicateType` of SPDX documents without a version (as cosign writes it).
pub const SPDX: &str = "https://spdx.dev/Document";
/// `predicateType` of CycloneDX BOMs (cairn-model `cyclonedx` has the document model).
pub const CYCLONEDX: &str = "https://cyclonedx.org/bom";
/// `predicateType` of the in-toto test-result predicate v0.1.
pub const TEST_RESULT_V0_1: &str = "https://in-toto.io/attestation/test-result/v0.1";

/// A statement's predicate in its typed form.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Predicate {
    /// [`SLSA_PROVENANCE_V1`].
    SlsaProvenanceV1(Box<slsa::v1::Provenance>),
    /// [`SLSA_PROVENANCE_V0_2`].
    SlsaProvenanceV02(Box<slsa::v02::Provenance>),
    /// [`LINK_V0_3`].
    LinkV03(Box<link::v03::Link>),
    /// [`VSA_V1`].
    VsaV1(Box<vsa::v1::VerificationSummary>),
    /// [`TEST_RESULT_V0_1`].
    TestResultV01(Box<test_result::v01::TestResult>),
    /// Any other predicate type, kept as received.
    Other {
        /// The `predicateType`.
        predicate_type: String,
        /// The predicate.
        value: Value,
    },
}

/// Why a predicate could not be read or is not valid.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PredicateError {
    /// The predicate does not have the shape of its type (wrong JSON type, bad timestamp).
    #[error("predicate of type {predicate_type} has an invalid shape: {message}")]
    Shape {
        /// The `predicateType`.
        predicate_type: String,
        /// What the deserialiser said.
        message: String,
    },
    /// A required field is missing or empty.
    #[error("predicate of type {predicate_type} requires {field}")]
    Required {
        /// The `predicateType`.
        predicate_type: &'static str,
        /// JSON path of the field, e.g. `runDetails.builder.id`.
        field: &'static str,
    },
    /// The statement carries another predicate type than the one asked for.
    #[error("expected predicate type {expected}, found {found:?}")]
    UnexpectedType {
        /// The type asked for.
        expected: &'static str,
        /// The `predicateType` found.
        found: String,
    },
    /// A ResourceDescriptor inside the predicate is invalid.
    #[error("{field}[{index}] of predicate type {predicate_type} is invalid")]
    Descriptor {
        /// The `predicateType`.
        predicate_type: &'static str,
        /// JSON path of the list, e.g. `buildDefinition.resolvedDependencies`.
        field: &'static str,
        /// 0-based index in the list (0 for a single descriptor).
        index: usize,
        /// Why.
        source: DescriptorError,
    },
}

impl Predicate {
    /// Reads `value` as the predicate type named by `predicate_type` and validates it against
    /// its specification's required fields. Unknown types give [`Predicate::Other`].
    pub fn parse(predicate_type: &str, value: Value) -> Result<Self, PredicateError> {
        Ok(match predicate_type {
            SLSA_PROVENANCE_V1 => {
                Predicate::SlsaProvenanceV1(Box::new(slsa::v1::Provenance::from_value(value)?))
            }
            SLSA_PROVENANCE_V0_2 => {
                Predicate::SlsaProvenanceV02(Box::new(slsa::v02::Provenance::from_value(value)?))
            }
            LINK_V0_3 => Predicate::LinkV03(Box::new(link::v03::Link::from_value(value)?)),
            VSA_V1 => Predicate::VsaV1(Box::new(vsa::v1::VerificationSummary::from_value(value)?)),
            TEST_RESULT_V0_1 => {
                Predicate::TestResultV01(Box::new(test_result::v01::TestResult::from_value(value)?))
            }
            other => Predicate::Other {
                predicate_type: other.to_owned(),
                value,
            },
        })
    }

    /// The `predicateType` URI of this predicate.
    pub fn predicate_type(&self) -> &str {
        match self {
            Predicate::SlsaProvenanceV1(_) => SLSA_PROVENANCE_V1,
            Predicate::SlsaProvenanceV02(_) => SLSA_PROVENANCE_V0_2,
            Predicate::LinkV03(_) => LINK_V0_3,
            Predicate::VsaV1(_) => VSA_V1,
            Predicate::TestResultV01(_) => TEST_RESULT_V0_1,
            Predicate::Other { predicate_type, .. } => predicate_type,
        }
    }

    /// The predicate as a JSON value (for a Statement's `predicate`).
    pub fn to_value(&self) -> Value {
        let v = match self {
            Predicate::SlsaProvenanceV1(p) => serde_json::to_value(p),
            Predicate::SlsaProvenanceV02(p) => serde_json::to_value(p),
            Predicate::LinkV03(p) => serde_json::to_value(p),
            Predicate::VsaV1(p) => serde_json::to_value(p),
            Predicate::TestResultV01(p) => serde_json::to_value(p),
            Predicate::Other { value, .. } => return value.clone(),
        };
        v.expect("predicates have string keys only and serialise to JSON")
    }
}

/// Deserialises `value` as `T`, mapping the error to [`PredicateError::Shape`].
pub(crate) fn from_value<T: serde::de::DeserializeOwned>(
    predicate_type: &str,
    value: Value,
) -> Result<T, PredicateError> {
    serde_json::from_value(value).map_err(|e| PredicateError::Shape {
        predicate_type: predicate_type.to_owned(),
        message: e.to_string(),
    })
}

/// Validates each descriptor of a list, reporting the first bad one with its location.
pub(crate) fn check_descriptors(
    predicate_type: &'static str,
    field: &'static str,
    list: &[crate::descriptor::ResourceDescriptor],
) -> Result<(), PredicateError> {
    for (index, rd) in list.iter().enumerate() {
        rd.validate().map_err(|source| PredicateError::Descriptor {
            predicate_type,
            field,
            index,
            source,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
