//! Key ids and the public-key objects that in-toto layouts embed (securesystemslib's JSON key
//! format, plus the OpenPGP key objects of in-toto's GPG support).
//!
//! These are plain data: turning a [`PublicKey`] into a verifier, and computing key ids, is
//! cairn-sign's job.

use std::borrow::Borrow;
use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// A key id as in-toto writes it: lowercase hex of a hash (64 characters for sha256), or a GPG
/// fingerprint. Kept as given; compare with [`KeyId::as_str`] or through `Borrow<str>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyId(String);

impl KeyId {
    /// Wraps a key id.
    pub fn new(id: impl Into<String>) -> Self {
        KeyId(id.into())
    }

    /// The key id text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 8 characters, as in-toto link file names use them (`<step>.<keyid8>.link`).
    pub fn short(&self) -> &str {
        self.0.get(..8).unwrap_or(&self.0)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Borrow<str> for KeyId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<String> for KeyId {
    fn from(s: String) -> Self {
        KeyId(s)
    }
}

impl From<&str> for KeyId {
    fn from(s: &str) -> Self {
        KeyId(s.to_owned())
    }
}

/// A securesystemslib public key object:
/// `{"keytype", "scheme", "keyval": {"public", "private"?}, "keyid_hash_algorithms"?, "keyid"?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicKey {
    /// `rsa`, `ed25519`, `ecdsa`, `ecdsa-sha2-nistp256`, ...
    pub keytype: String,
    /// `rsassa-pss-sha256`, `ed25519`, `ecdsa-sha2-nistp256`, ...
    pub scheme: String,
    /// The key material.
    pub keyval: KeyVal,
    /// Present in keys written by securesystemslib < 1.0, in-toto-golang and in-toto-rs; part of
    /// the legacy key id computation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyid_hash_algorithms: Option<Vec<String>>,
    /// The key id the writer recorded inside the object (not authoritative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyid: Option<KeyId>,
    /// Fields not interpreted here.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `keyval` of a securesystemslib key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyVal {
    /// PEM (RSA, ECDSA) or hex (Ed25519) public key. Empty for in-toto-golang CA entries that
    /// carry a `certificate` (kept in `extra`).
    pub public: String,
    /// Layouts written by in-toto python carry `"private": ""`; kept so it round-trips.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private: Option<String>,
    /// Fields not interpreted here (in-toto-golang's `certificate`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A key object as found in a layout's `keys` map.
///
/// Told apart by its fields, not by trial deserialisation: `keytype` means a securesystemslib key;
/// `method` + `type` means an OpenPGP key from in-toto's GPG support, which cairn keeps but does
/// not verify with.
#[derive(Debug, Clone, PartialEq)]
pub enum LayoutKey {
    /// A securesystemslib key.
    Key(PublicKey),
    /// An OpenPGP key object (`{"keyid", "type", "method", "hashes", "keyval"}`), kept as is.
    OpenPgp(Map<String, Value>),
}

impl LayoutKey {
    /// The securesystemslib key, if it is one.
    pub fn as_public_key(&self) -> Option<&PublicKey> {
        match self {
            LayoutKey::Key(k) => Some(k),
            LayoutKey::OpenPgp(_) => None,
        }
    }
}

impl From<PublicKey> for LayoutKey {
    fn from(key: PublicKey) -> Self {
        LayoutKey::Key(key)
    }
}

impl Serialize for LayoutKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            LayoutKey::Key(k) => k.serialize(s),
            LayoutKey::OpenPgp(m) => m.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for LayoutKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(d)?;
        if map.contains_key("keytype") {
            serde_json::from_value(Value::Object(map))
                .map(LayoutKey::Key)
                .map_err(D::Error::custom)
        } else if map.contains_key("method") && map.contains_key("type") {
            Ok(LayoutKey::OpenPgp(map))
        } else {
            Err(D::Error::custom(
                "key object has neither \"keytype\" (securesystemslib) nor \"method\" and \"type\" (OpenPGP)",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_securesystemslib_and_gpg_keys_and_keeps_unknown_fields() {
        let k: LayoutKey = serde_json::from_value(json!({
            "keyid": "ab", "keytype": "rsa", "scheme": "rsassa-pss-sha256",
            "keyid_hash_algorithms": ["sha256", "sha512"],
            "keyval": {"public": "", "certificate": "PEM"}
        }))
        .unwrap();
        let pk = k.as_public_key().unwrap();
        assert_eq!(pk.keyval.extra["certificate"], "PEM");
        assert_eq!(pk.keyid.as_ref().map(KeyId::as_str), Some("ab"));
        let back = serde_json::to_value(&k).unwrap();
        assert_eq!(back["keyval"]["certificate"], "PEM");
        assert!(back["keyval"].get("private").is_none());

        let g: LayoutKey = serde_json::from_value(json!({
            "keyid": "8288", "type": "rsa", "method": "pgp+rsa-pkcsv1.5",
            "hashes": ["pgp+SHA2"], "keyval": {"public": {"e": "1", "n": "2"}, "private": ""}
        }))
        .unwrap();
        assert!(matches!(g, LayoutKey::OpenPgp(_)));
        assert!(serde_json::from_value::<LayoutKey>(json!({"keyval": {}})).is_err());
    }

    #[test]
    fn key_id_short_and_borrow() {
        let id = KeyId::new("776a00e29f3559e0");
        assert_eq!(id.short(), "776a00e2");
        assert_eq!(KeyId::new("ab").short(), "ab");
        let mut m = std::collections::BTreeMap::new();
        m.insert(id.clone(), 1);
        assert_eq!(m.get("776a00e29f3559e0"), Some(&1));
    }
}
