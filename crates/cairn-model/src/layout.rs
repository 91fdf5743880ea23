//! The typed view of a legacy in-toto v1.0 layout (`"_type": "layout"`): steps, inspections,
//! functionary keys, expiry and readme, with artifact rules parsed into [`ArtifactRule`]s.
//!
//! Unknown fields are kept at every level ([`Layout::extra`], [`Step::extra`],
//! [`Inspection::extra`]): in-toto-golang writes `rootcas`, `intermediatecas` and
//! `cert_constraints`, which a verifier may need and which a signature covers. Signatures are
//! still checked over the received `signed` value ([`crate::Metablock::signed_bytes`]), never
//! over a re-serialised `Layout`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::key::{KeyId, LayoutKey};
use crate::link::check_type;
use crate::metablock::{MetadataError, MetadataType};
use crate::rule::ArtifactRule;
use crate::time::Timestamp;

/// An in-toto v1.0 layout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Layout {
    #[serde(rename = "_type")]
    kind: LayoutTag,
    /// When the layout stops being valid. The specification requires it; in-toto python accepts
    /// DSSE layouts without it, so reading keeps `None` and [`Layout::validate`] rejects it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<Timestamp>,
    /// Free text for humans.
    #[serde(default)]
    pub readme: String,
    /// Functionary keys by key id.
    #[serde(default)]
    pub keys: BTreeMap<KeyId, LayoutKey>,
    /// The supply chain's steps, in order.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// Inspections the verifier runs.
    #[serde(default)]
    pub inspect: Vec<Inspection>,
    /// Fields not interpreted here (in-toto-golang's `rootcas`, `intermediatecas`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One step of a layout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    #[serde(rename = "_type", default)]
    kind: StepTag,
    /// Unique name; links for this step carry the same name.
    pub name: String,
    /// Rules over the step's materials.
    #[serde(default)]
    pub expected_materials: Vec<ArtifactRule>,
    /// Rules over the step's products.
    #[serde(default)]
    pub expected_products: Vec<ArtifactRule>,
    /// Key ids of the functionaries allowed to sign links for this step.
    #[serde(default)]
    pub pubkeys: Vec<KeyId>,
    /// The command the step is expected to run (a mismatch is a warning in the reference).
    #[serde(default)]
    pub expected_command: Vec<String>,
    /// How many distinct functionaries must have signed matching links.
    #[serde(default = "one")]
    pub threshold: u32,
    /// Fields not interpreted here (in-toto-golang's `cert_constraints`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One inspection of a layout: a command the verifier runs after checking the steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inspection {
    #[serde(rename = "_type", default)]
    kind: InspectionTag,
    /// Unique name (shares the namespace of step names).
    pub name: String,
    /// Rules over the inspection's materials.
    #[serde(default)]
    pub expected_materials: Vec<ArtifactRule>,
    /// Rules over the inspection's products.
    #[serde(default)]
    pub expected_products: Vec<ArtifactRule>,
    /// The command to run.
    #[serde(default)]
    pub run: Vec<String>,
    /// Fields not interpreted here.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
enum LayoutTag {
    #[default]
    #[serde(rename = "layout")]
    Layout,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
enum StepTag {
    #[default]
    #[serde(rename = "step")]
    Step,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
enum InspectionTag {
    #[default]
    #[serde(rename = "inspection")]
    Inspection,
}

impl Layout {
    /// An empty layout expiring at `expires`.
    pub fn new(expires: Timestamp) -> Self {
        Layout {
            kind: LayoutTag::Layout,
            expires: Some(expires),
            readme: String::new(),
            keys: BTreeMap::new(),
            steps: Vec::new(),
            inspect: Vec::new(),
            extra: Map::new(),
        }
    }

    /// Reads the typed view of a layout's `signed` value (or DSSE payload).
    ///
    /// Checks `_type`, the shape, `expires` and every artifact rule, and reports which rule of
    /// which step is malformed. Semantic checks (unique names, known keys, thresholds, expiry
    /// present) are [`Layout::validate`].
    pub fn from_signed(signed: &Value) -> Result<Self, MetadataError> {
        check_type(signed, MetadataType::Layout)?;
        // Rules and expiry first, so their errors are typed and located rather than a serde
        // message.
        if let Some(text) = signed.get("expires").and_then(Value::as_str) {
            Timestamp::parse(text).map_err(|source| MetadataError::Expires { source })?;
        }
        for list_name in ["steps", "inspect"] {
            let Some(items) = signed.get(list_name).and_then(Value::as_array) else {
                continue;
            };
            for (pos, item) in items.iter().enumerate() {
                let name = item
                    .get("name")
                    .and_then(Value::as_str)
                    .map_or_else(|| format!("{list_name}[{pos}]"), str::to_owned);
                for list in ["expected_materials", "expected_products"] {
                    let Some(rules) = item.get(list).and_then(Value::as_array) else {
                        continue;
                    };
                    for (index, rule) in rules.iter().enumerate() {
                        ArtifactRule::from_value(rule).map_err(|source| MetadataError::Rule {
                            item: name.clone(),
                            list,
                            index,
                            source,
                        })?;
                    }
                }
            }
        }
        Layout::deserialize(signed).map_err(|e| MetadataError::Shape {
            kind: MetadataType::Layout,
            message: e.to_string(),
        })
    }

    /// The JSON value to put into [`crate::Metablock::signed`] (or to serialise as a DSSE
    /// payload).
    pub fn to_signed_value(&self) -> Value {
        serde_json::to_value(self).expect("a layout has string keys only and serialises to JSON")
    }

    /// Semantic checks in-toto python and in-toto-golang apply when loading a layout:
    /// `expires` present, step and inspection names non-empty and unique, thresholds at least 1,
    /// every step key id present in `keys`, and every key listed under its own `keyid`.
    pub fn validate(&self) -> Result<(), MetadataError> {
        if self.expires.is_none() {
            return Err(MetadataError::MissingExpires);
        }
        for (listed, key) in &self.keys {
            let inner = match key {
                LayoutKey::Key(k) => k.keyid.as_ref().map(KeyId::as_str),
                LayoutKey::OpenPgp(m) => m.get("keyid").and_then(Value::as_str),
            };
            if let Some(inner) = inner.filter(|inner| *inner != listed.as_str()) {
                return Err(MetadataError::KeyIdMismatch {
                    listed: listed.to_string(),
                    inner: inner.to_owned(),
                });
            }
        }
        let mut seen = BTreeSet::new();
        let names = self
            .steps
            .iter()
            .map(|s| &s.name)
            .chain(self.inspect.iter().map(|i| &i.name));
        for name in names {
            if name.is_empty() {
                return Err(MetadataError::EmptyName);
            }
            if !seen.insert(name.as_str()) {
                return Err(MetadataError::DuplicateName { name: name.clone() });
            }
        }
        for step in &self.steps {
            if step.threshold == 0 {
                return Err(MetadataError::ZeroThreshold {
                    step: step.name.clone(),
                });
            }
            if let Some(missing) = step.pubkeys.iter().find(|k| !self.keys.contains_key(*k)) {
                return Err(MetadataError::UnknownKey {
                    step: step.name.clone(),
                    keyid: missing.to_string(),
                });
            }
        }
        Ok(())
    }

    /// The step called `name`.
    pub fn step(&self, name: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.name == name)
    }

    /// The inspection called `name`.
    pub fn inspection(&self, name: &str) -> Option<&Inspection> {
        self.inspect.iter().find(|i| i.name == name)
    }
}

impl Step {
    /// A step with no rules, no keys and threshold 1.
    pub fn new(name: impl Into<String>) -> Self {
        Step {
            kind: StepTag::Step,
            name: name.into(),
            expected_materials: Vec::new(),
            expected_products: Vec::new(),
            pubkeys: Vec::new(),
            expected_command: Vec::new(),
            threshold: 1,
            extra: Map::new(),
        }
    }
}

impl Inspection {
    /// An inspection running `run`, with no rules.
    pub fn new(name: impl Into<String>, run: Vec<String>) -> Self {
        Inspection {
            kind: InspectionTag::Inspection,
            name: name.into(),
            expected_materials: Vec::new(),
            expected_products: Vec::new(),
            run,
            extra: Map::new(),
        }
    }
}

#[cfg(test)]
mod tests;
