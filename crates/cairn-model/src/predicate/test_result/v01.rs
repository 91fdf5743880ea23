//! The in-toto test-result predicate v0.1 (`https://in-toto.io/attestation/test-result/v0.1`):
//! the outcome of a test run, the configuration it ran with, and the tests by outcome.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::descriptor::ResourceDescriptor;
use crate::predicate::{PredicateError, TEST_RESULT_V0_1, check_descriptors};

/// The test-result predicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    /// The overall outcome.
    pub result: Outcome,
    /// The configuration the tests ran with (CI workflow files, test configs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub configuration: Vec<ResourceDescriptor>,
    /// Where the run can be seen (e.g. a CI run URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Names of the tests that passed.
    #[serde(rename = "passedTests", default, skip_serializing_if = "Vec::is_empty")]
    pub passed_tests: Vec<String>,
    /// Names of the tests that passed with warnings.
    #[serde(rename = "warnedTests", default, skip_serializing_if = "Vec::is_empty")]
    pub warned_tests: Vec<String>,
    /// Names of the tests that failed.
    #[serde(rename = "failedTests", default, skip_serializing_if = "Vec::is_empty")]
    pub failed_tests: Vec<String>,
    /// Fields not interpreted here.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `result`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// `PASSED`.
    #[serde(rename = "PASSED")]
    Passed,
    /// `WARNED`.
    #[serde(rename = "WARNED")]
    Warned,
    /// `FAILED`.
    #[serde(rename = "FAILED")]
    Failed,
}

impl TestResult {
    /// Reads and validates a test-result v0.1 predicate.
    pub fn from_value(value: Value) -> Result<Self, PredicateError> {
        let p: TestResult = crate::predicate::from_value(TEST_RESULT_V0_1, value)?;
        p.validate()?;
        Ok(p)
    }

    /// `result` is required (enforced when reading); configuration descriptors must be valid.
    pub fn validate(&self) -> Result<(), PredicateError> {
        check_descriptors(TEST_RESULT_V0_1, "configuration", &self.configuration)
    }
}
