//! Object identifiers of the key algorithms and curves cairn recognises.

use pkcs8::spki::ObjectIdentifier;

use crate::error::KeyError;

pub(crate) const RSA_ENCRYPTION: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
pub(crate) const RSASSA_PSS: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
pub(crate) const EC_PUBLIC_KEY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
pub(crate) const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
pub(crate) const ED448: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.113");
pub(crate) const X25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.110");
pub(crate) const DSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10040.4.1");
pub(crate) const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
pub(crate) const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const P224: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.33");
const P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
const SECP256K1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.10");
const P192: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.1");
const BRAINPOOL_P256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.36.3.3.2.8.1.1.7");

pub(crate) fn unsupported_curve(oid: ObjectIdentifier) -> KeyError {
    let curve = match oid {
        P224 => "P-224".to_string(),
        P521 => "P-521".to_string(),
        SECP256K1 => "secp256k1".to_string(),
        P192 => "P-192".to_string(),
        BRAINPOOL_P256R1 => "brainpoolP256r1".to_string(),
        other => other.to_string(),
    };
    KeyError::UnsupportedCurve { curve }
}

pub(crate) fn unsupported_key_type(oid: ObjectIdentifier) -> KeyError {
    let algorithm = match oid {
        ED448 => "Ed448".to_string(),
        X25519 => "X25519 (a key-agreement key)".to_string(),
        DSA => "DSA".to_string(),
        RSASSA_PSS => "RSASSA-PSS-restricted RSA (id-RSASSA-PSS)".to_string(),
        other => other.to_string(),
    };
    KeyError::UnsupportedKeyType { algorithm }
}
