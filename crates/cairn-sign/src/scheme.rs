//! Key types and signature schemes, with the names securesystemslib and in-toto use.

use std::fmt;

/// The algorithm family of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyType {
    /// Ed25519.
    Ed25519,
    /// ECDSA on NIST P-256.
    EcdsaP256,
    /// ECDSA on NIST P-384.
    EcdsaP384,
    /// RSA (2048 to 8192 bits).
    Rsa,
}

impl KeyType {
    /// A short human name ("ed25519", "ecdsa-p256", "ecdsa-p384", "rsa"), as `cairn key generate --type` spells it.
    pub fn name(self) -> &'static str {
        match self {
            KeyType::Ed25519 => "ed25519",
            KeyType::EcdsaP256 => "ecdsa-p256",
            KeyType::EcdsaP384 => "ecdsa-p384",
            KeyType::Rsa => "rsa",
        }
    }

    /// The scheme in-toto uses by default for this key type.
    pub fn default_scheme(self) -> Scheme {
        match self {
            KeyType::Ed25519 => Scheme::Ed25519,
            KeyType::EcdsaP256 => Scheme::EcdsaSha2Nistp256,
            KeyType::EcdsaP384 => Scheme::EcdsaSha2Nistp384,
            KeyType::Rsa => Scheme::RsassaPssSha256,
        }
    }

    /// The securesystemslib 1.x `keytype` ("ed25519", "ecdsa", "rsa").
    pub fn securesystemslib_keytype(self) -> &'static str {
        match self {
            KeyType::Ed25519 => "ed25519",
            KeyType::EcdsaP256 | KeyType::EcdsaP384 => "ecdsa",
            KeyType::Rsa => "rsa",
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A signature scheme: key type, hash, padding and signature encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scheme {
    /// `ed25519`: pure Ed25519 (RFC 8032).
    Ed25519,
    /// `ecdsa-sha2-nistp256`: ECDSA P-256 with SHA-256; signs ASN.1 DER, verifies DER or raw r‖s.
    EcdsaSha2Nistp256,
    /// `ecdsa-sha2-nistp384`: ECDSA P-384 with SHA-384; signs ASN.1 DER, verifies DER or raw r‖s.
    EcdsaSha2Nistp384,
    /// `rsassa-pss-sha256`: RSASSA-PSS, SHA-256, MGF1-SHA-256, salt length 32 (in-toto's default).
    RsassaPssSha256,
    /// `rsa-pkcs1v15-sha256`: RSASSA-PKCS1-v1_5 with SHA-256.
    RsaPkcs1v15Sha256,
}

impl Scheme {
    /// The securesystemslib name of the scheme.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Ed25519 => "ed25519",
            Scheme::EcdsaSha2Nistp256 => "ecdsa-sha2-nistp256",
            Scheme::EcdsaSha2Nistp384 => "ecdsa-sha2-nistp384",
            Scheme::RsassaPssSha256 => "rsassa-pss-sha256",
            Scheme::RsaPkcs1v15Sha256 => "rsa-pkcs1v15-sha256",
        }
    }

    /// Parses a securesystemslib scheme name.
    pub fn from_name(name: &str) -> Option<Scheme> {
        Some(match name {
            "ed25519" => Scheme::Ed25519,
            "ecdsa-sha2-nistp256" => Scheme::EcdsaSha2Nistp256,
            "ecdsa-sha2-nistp384" => Scheme::EcdsaSha2Nistp384,
            "rsassa-pss-sha256" => Scheme::RsassaPssSha256,
            "rsa-pkcs1v15-sha256" => Scheme::RsaPkcs1v15Sha256,
            _ => return None,
        })
    }

    /// Whether a key of `key_type` can use this scheme.
    pub fn fits(self, key_type: KeyType) -> bool {
        matches!(
            (self, key_type),
            (Scheme::Ed25519, KeyType::Ed25519)
                | (Scheme::EcdsaSha2Nistp256, KeyType::EcdsaP256)
                | (Scheme::EcdsaSha2Nistp384, KeyType::EcdsaP384)
                | (
                    Scheme::RsassaPssSha256 | Scheme::RsaPkcs1v15Sha256,
                    KeyType::Rsa
                )
        )
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How an ECDSA signature is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EcdsaSignatureFormat {
    /// ASN.1 DER `SEQUENCE { r INTEGER, s INTEGER }` (X.509, securesystemslib, cosign).
    Der,
    /// Raw fixed-width big-endian `r ‖ s` (IEEE P1363, JOSE, some DSSE signers).
    Raw,
    /// Strict DER when the bytes decode as DER, else raw `r ‖ s` when they have exactly the
    /// raw length. What [`crate::Verifier::verify`] does.
    Either,
}
