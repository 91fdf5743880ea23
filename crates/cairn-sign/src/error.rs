//! Errors: one type per operation (loading keys, signing, checking one signature, the
//! envelope-level operations).

use std::path::PathBuf;

/// A boxed lower-level cause (ASN.1, PEM, RSA internals). Kept out of the variant types so the
/// public API does not pin third-party error types; the renderer walks `source()`.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a key could not be read, decoded, decrypted or generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key file could not be read.
    #[error("cannot read key file {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The input is far larger than any key file.
    #[error("key file is too large ({size} bytes; a key file is at most {limit} bytes)")]
    TooLarge {
        /// Size of the input in bytes (at least; reading stops past the limit).
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// The input is empty.
    #[error("key file is empty")]
    Empty,
    /// The input is neither PEM, DER nor a securesystemslib JSON key.
    #[error(
        "not a key: expected a PEM block (-----BEGIN ...-----), DER or a securesystemslib JSON key"
    )]
    NotAKey,
    /// A PEM block is broken (bad base64, missing END line, truncated).
    #[error("malformed PEM ({label})")]
    MalformedPem {
        /// The block's label, or "unknown" when even the label is unreadable.
        label: String,
        /// The decoder's error.
        #[source]
        source: Cause,
    },
    /// The PEM label is not a key format we read.
    #[error("unsupported PEM block \"{label}\"")]
    UnsupportedPemLabel {
        /// The label.
        label: String,
    },
    /// The DER structure inside the PEM (or given as DER) does not decode.
    #[error("malformed {format} key")]
    MalformedDer {
        /// The structure, e.g. "PKCS#8", "SPKI", "PKCS#1", "SEC1".
        format: &'static str,
        /// The decoder's error.
        #[source]
        source: Cause,
    },
    /// The key algorithm is not one cairn supports.
    #[error("unsupported key type {algorithm}")]
    UnsupportedKeyType {
        /// A name (e.g. "Ed448", "DSA") or the algorithm OID.
        algorithm: String,
    },
    /// An elliptic-curve key on a curve cairn does not support.
    #[error("unsupported curve {curve} (cairn supports P-256 and P-384)")]
    UnsupportedCurve {
        /// The curve name (e.g. "secp256k1", "P-224", "P-521") or its OID.
        curve: String,
    },
    /// The key bytes do not form a valid key (point not on the curve, bad RSA numbers).
    #[error("invalid {key_type} key")]
    InvalidKey {
        /// The key type.
        key_type: &'static str,
        /// The library's error, when there is one.
        #[source]
        source: Option<Cause>,
    },
    /// An RSA key below the minimum size.
    #[error("RSA key of {bits} bits is too small (minimum {min})")]
    RsaTooSmall {
        /// The key size.
        bits: usize,
        /// The minimum.
        min: usize,
    },
    /// An RSA key above the maximum size.
    #[error("RSA key of {bits} bits is too large (maximum {max})")]
    RsaTooLarge {
        /// The key size.
        bits: usize,
        /// The maximum.
        max: usize,
    },
    /// The key is encrypted and no password was given.
    #[error("the key is encrypted and no password was given")]
    PasswordRequired,
    /// Decryption failed: the password is wrong (or the ciphertext was altered).
    #[error("wrong password (or the encrypted key is corrupted)")]
    WrongPassword,
    /// The key is encrypted with a scheme cairn does not read.
    #[error("unsupported key encryption: {scheme}")]
    UnsupportedEncryption {
        /// What was found.
        scheme: String,
    },
    /// A cosign/Sigstore encrypted key whose JSON is malformed.
    #[error("malformed cosign encrypted key: {reason}")]
    MalformedCosignKey {
        /// What is wrong.
        reason: &'static str,
    },
    /// A private key was expected, a public key was found.
    #[error("expected a private key, found a public key")]
    NotAPrivateKey,
    /// A securesystemslib JSON key object is malformed.
    #[error("malformed securesystemslib key: {reason}")]
    MalformedJsonKey {
        /// What is wrong.
        reason: &'static str,
    },
    /// A securesystemslib JSON key names a key type / scheme pair cairn does not support.
    #[error("unsupported securesystemslib key (keytype \"{keytype}\", scheme \"{scheme}\")")]
    UnsupportedJsonKey {
        /// The `keytype` field.
        keytype: String,
        /// The `scheme` field.
        scheme: String,
    },
    /// A signature scheme that does not fit the key (e.g. ed25519 on an RSA key).
    #[error("scheme {scheme} cannot be used with a {key_type} key")]
    SchemeMismatch {
        /// The scheme.
        scheme: String,
        /// The key type.
        key_type: &'static str,
    },
    /// The operating system's random number generator failed.
    #[error("random number generator failed")]
    Rng,
    /// Key generation or encoding failed inside the crypto library.
    #[error("cannot {action} {key_type} key")]
    Crypto {
        /// What was being done ("generate", "encode", "encrypt").
        action: &'static str,
        /// The key type.
        key_type: &'static str,
        /// The library's error.
        #[source]
        source: Cause,
    },
}

/// Why a signature could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The crypto library refused to sign.
    #[error("{scheme} signing failed")]
    Crypto {
        /// The scheme.
        scheme: &'static str,
        /// The library's error.
        #[source]
        source: Cause,
    },
    /// The bytes to sign could not be produced (canonical JSON of the metablock).
    #[error("cannot serialise the signed object as canonical JSON")]
    Canonical(#[source] cairn_model::canonical::CanonicalError),
}

/// Why one signature did not verify against one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The signature is well-formed but does not verify.
    #[error("signature does not verify")]
    Invalid,
    /// The signature bytes cannot be a signature of this scheme (length, encoding).
    #[error("malformed {scheme} signature: {reason}")]
    Malformed {
        /// The scheme.
        scheme: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// The signature's text encoding (hex in metablocks) is broken.
    #[error("signature is not valid {encoding}")]
    Encoding {
        /// "hex" or "base64".
        encoding: &'static str,
    },
}

/// Why an envelope or metablock operation could not be carried out (not: "the signature is
/// bad", which is a [`crate::Verdict`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The signed object could not be put in canonical form.
    #[error("cannot serialise the signed object as canonical JSON")]
    Canonical(#[source] cairn_model::canonical::CanonicalError),
    /// Signing failed.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// A threshold of zero would accept anything.
    #[error("signature threshold must be at least 1")]
    ZeroThreshold,
}
