//! The in-toto link predicate v0.3 (`https://in-toto.io/attestation/link/v0.3`): a legacy
//! link's content inside a Statement. Products become the Statement's subjects; materials are
//! ResourceDescriptors here.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::predicate::{LINK_V0_3, PredicateError, check_descriptors};

/// The link predicate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Link {
    /// The step name.
    #[serde(default)]
    pub name: String,
    /// The command that was run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Artifacts consumed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub materials: Vec<crate::descriptor::ResourceDescriptor>,
    /// What running the command produced besides artifacts (`return-value`, `stdout`,
    /// `stderr`).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub byproducts: Map<String, Value>,
    /// Environment information the functionary chose to record.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub environment: Map<String, Value>,
    /// Fields not interpreted here.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Link {
    /// Reads and validates a link v0.3 predicate.
    pub fn from_value(value: Value) -> Result<Self, PredicateError> {
        let p: Link = crate::predicate::from_value(LINK_V0_3, value)?;
        p.validate()?;
        Ok(p)
    }

    /// The spec's rules: `name` is required; materials are valid ResourceDescriptors.
    pub fn validate(&self) -> Result<(), PredicateError> {
        if self.name.is_empty() {
            return Err(PredicateError::Required {
                predicate_type: LINK_V0_3,
                field: "name",
            });
        }
        check_descriptors(LINK_V0_3, "materials", &self.materials)
    }
}
