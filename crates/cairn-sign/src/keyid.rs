//! in-toto / securesystemslib key ids.
//!
//! Two rules exist and give different ids for the same key (see `docs/keys.md`):
//!
//! - **legacy** (securesystemslib < 1.0, in-toto-golang, in-toto-rs): SHA-256 of the OLPC
//!   canonical JSON of `{"keyid_hash_algorithms": ["sha256", "sha512"], "keytype", "keyval":
//!   {"public"}, "scheme"}`, with a PEM public value stripped of its trailing newline;
//! - **securesystemslib 1.x** (in-toto python 3.x): SHA-256 of the canonical JSON of
//!   `{"keytype", "keyval": {"public"}, "scheme"}`, with the PEM *including* its trailing newline.
//!
//! PEM values are cairn's own encoding of the SPKI (64-column base64, LF line ends), so the id
//! does not depend on how a key file happens to be wrapped.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A key id: lowercase hex of a SHA-256 digest (or, for ids declared by others, whatever
/// string they chose).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyId(String);

impl KeyId {
    /// Wraps an id as declared in a document (no validation: ids are opaque labels there).
    pub fn new(id: impl Into<String>) -> Self {
        KeyId(id.into())
    }

    /// The id text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first `n` characters (in-toto link file names use 8).
    pub fn short(&self, n: usize) -> &str {
        self.0.get(..n).unwrap_or(&self.0)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for KeyId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Which key-id rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyIdRule {
    /// securesystemslib < 1.0, in-toto-golang, in-toto-rs.
    Legacy,
    /// securesystemslib 1.x, in-toto python 3.x. cairn's default for signing.
    #[serde(rename = "securesystemslib-1")]
    Securesystemslib1,
}

impl KeyIdRule {
    /// Both rules, in the order verification tries them.
    pub const ALL: [KeyIdRule; 2] = [KeyIdRule::Securesystemslib1, KeyIdRule::Legacy];

    /// A short label ("legacy", "securesystemslib-1").
    pub fn label(self) -> &'static str {
        match self {
            KeyIdRule::Legacy => "legacy",
            KeyIdRule::Securesystemslib1 => "securesystemslib-1",
        }
    }
}

impl fmt::Display for KeyIdRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The ids of one key under both rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyIds {
    /// Legacy rule.
    pub legacy: KeyId,
    /// securesystemslib 1.x rule.
    pub securesystemslib1: KeyId,
}

impl KeyIds {
    /// The id under `rule`.
    pub fn get(&self, rule: KeyIdRule) -> &KeyId {
        match rule {
            KeyIdRule::Legacy => &self.legacy,
            KeyIdRule::Securesystemslib1 => &self.securesystemslib1,
        }
    }

    /// Which rule, if any, gives `id`.
    pub fn rule_of(&self, id: &str) -> Option<KeyIdRule> {
        KeyIdRule::ALL
            .into_iter()
            .find(|rule| self.get(*rule).as_str().eq_ignore_ascii_case(id))
    }
}
