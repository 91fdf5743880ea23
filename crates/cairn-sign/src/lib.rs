#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cosign;
pub mod dsse;
mod error;
mod keyid;
pub mod metablock;
mod oids;
mod password;
mod pbes1;
mod pem;
mod private;
mod public;
mod scheme;
mod verify;

pub use error::{Cause, Error, KeyError, SignError, VerifyError};
pub use keyid::{KeyId, KeyIdRule, KeyIds};
pub use password::{PASSWORD_ENV, Password, PasswordError};
pub use pem::{MAX_KEY_FILE, ParsedKey, is_encrypted, load_key, parse_key, read_key_file};
pub use private::{PrivateKey, RSA_DEFAULT_BITS};
pub use public::{PublicKey, RSA_MAX_BITS, RSA_MIN_BITS};
pub use scheme::{EcdsaSignatureFormat, KeyType, Scheme};
pub use verify::{
    AcceptedKey, KeyMatch, MAX_SIGNATURES, RejectReason, Rejection, SignatureMatch,
    ThresholdVerdict, TrustedKey, Verdict,
};

/// Something that signs: a private key on disk, in memory, or elsewhere (a KMS, an ephemeral
/// keyless key). Object-safe, so callers hold `&dyn Signer`.
pub trait Signer: Send + Sync {
    /// The key id written next to signatures.
    fn key_id(&self) -> &KeyId;
    /// The signature scheme.
    fn scheme(&self) -> Scheme;
    /// Signs `msg` (the whole message; hashing is part of the scheme).
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, SignError>;
    /// The public key that verifies the signatures.
    fn public_key(&self) -> &PublicKey;
}

impl<T: Signer + ?Sized> Signer for &T {
    fn key_id(&self) -> &KeyId {
        (**self).key_id()
    }
    fn scheme(&self) -> Scheme {
        (**self).scheme()
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, SignError> {
        (**self).sign(msg)
    }
    fn public_key(&self) -> &PublicKey {
        (**self).public_key()
    }
}

impl<T: Signer + ?Sized> Signer for Box<T> {
    fn key_id(&self) -> &KeyId {
        (**self).key_id()
    }
    fn scheme(&self) -> Scheme {
        (**self).scheme()
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, SignError> {
        (**self).sign(msg)
    }
    fn public_key(&self) -> &PublicKey {
        (**self).public_key()
    }
}

impl<T: Signer + ?Sized> Signer for std::sync::Arc<T> {
    fn key_id(&self) -> &KeyId {
        (**self).key_id()
    }
    fn scheme(&self) -> Scheme {
        (**self).scheme()
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, SignError> {
        (**self).sign(msg)
    }
    fn public_key(&self) -> &PublicKey {
        (**self).public_key()
    }
}

/// Something that checks a signature over a message.
pub trait Verifier: Send + Sync {
    /// `Ok(())` when `sig` is a valid signature of `msg`.
    fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), VerifyError>;
}
