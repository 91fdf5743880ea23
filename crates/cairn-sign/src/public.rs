//! Public keys: decoding (SPKI, PKCS#1, raw Ed25519, securesystemslib JSON), encoding, key ids
//! and signature verification.

use std::fmt;

use ed25519_dalek::Verifier as _;
use pkcs8::der::Decode;
use pkcs8::spki::{ObjectIdentifier, SubjectPublicKeyInfoRef};
use rsa::traits::PublicKeyParts;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::error::{KeyError, VerifyError};
use crate::keyid::{KeyId, KeyIdRule, KeyIds};
use crate::scheme::{EcdsaSignatureFormat, KeyType, Scheme};
use crate::{Verifier, oids};

/// Smallest RSA modulus cairn accepts, for verification and generation.
pub const RSA_MIN_BITS: usize = 2048;
/// Largest RSA modulus cairn accepts (bounds the cost of a verification).
pub const RSA_MAX_BITS: usize = 8192;

/// A public key together with the signature scheme it is used with.
#[derive(Clone)]
pub struct PublicKey {
    inner: Inner,
    scheme: Scheme,
    spki_der: Vec<u8>,
}

#[derive(Clone)]
pub(crate) enum Inner {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Rsa(rsa::PublicKey),
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.scheme == other.scheme && self.spki_der == other.spki_der
    }
}
impl Eq for PublicKey {}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("key_type", &self.key_type())
            .field("scheme", &self.scheme)
            .field("keyid", &self.key_id(KeyIdRule::Securesystemslib1).as_str())
            .finish()
    }
}

impl PublicKey {
    pub(crate) fn from_inner(inner: Inner) -> Result<Self, KeyError> {
        let key_type = inner.key_type();
        let spki_der = match &inner {
            Inner::Ed25519(k) => encode_spki(k),
            Inner::P256(k) => encode_spki(k),
            Inner::P384(k) => encode_spki(k),
            Inner::Rsa(k) => encode_spki(k),
        }
        .map_err(|source| KeyError::Crypto {
            action: "encode",
            key_type: key_type.name(),
            source,
        })?;
        Ok(PublicKey {
            inner,
            scheme: key_type.default_scheme(),
            spki_der,
        })
    }

    /// Decodes a DER `SubjectPublicKeyInfo`.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(|e| KeyError::MalformedDer {
            format: "SPKI",
            source: Box::new(e),
        })?;
        let oid = spki.algorithm.oid;
        let bits = spki
            .subject_public_key
            .as_bytes()
            .ok_or(KeyError::MalformedDer {
                format: "SPKI",
                source: "public key bit string has unused bits".into(),
            })?;
        let inner = match oid {
            oids::ED25519 => {
                let raw: &[u8; 32] = bits.try_into().map_err(|_| KeyError::InvalidKey {
                    key_type: "ed25519",
                    source: Some("public key is not 32 bytes".into()),
                })?;
                Inner::Ed25519(ed25519_from_bytes(raw)?)
            }
            oids::EC_PUBLIC_KEY => {
                let curve = spki
                    .algorithm
                    .parameters
                    .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                    .ok_or(KeyError::MalformedDer {
                        format: "SPKI",
                        source: "EC key without a named curve".into(),
                    })?;
                match curve {
                    oids::P256 => Inner::P256(
                        p256::ecdsa::VerifyingKey::from_sec1_bytes(bits)
                            .map_err(|e| invalid("ecdsa-p256", e))?,
                    ),
                    oids::P384 => Inner::P384(
                        p384::ecdsa::VerifyingKey::from_sec1_bytes(bits)
                            .map_err(|e| invalid("ecdsa-p384", e))?,
                    ),
                    other => return Err(oids::unsupported_curve(other)),
                }
            }
            oids::RSA_ENCRYPTION => Inner::Rsa(rsa_from_pkcs1_der(bits)?),
            other => return Err(oids::unsupported_key_type(other)),
        };
        Self::from_inner(inner)
    }

    /// An ECDSA key from its SEC1 point encoding (`04 ‖ x ‖ y`, or compressed).
    pub fn from_sec1_point(key_type: KeyType, point: &[u8]) -> Result<Self, KeyError> {
        let inner = match key_type {
            KeyType::EcdsaP256 => Inner::P256(
                p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
                    .map_err(|e| invalid("ecdsa-p256", e))?,
            ),
            KeyType::EcdsaP384 => Inner::P384(
                p384::ecdsa::VerifyingKey::from_sec1_bytes(point)
                    .map_err(|e| invalid("ecdsa-p384", e))?,
            ),
            other => {
                return Err(KeyError::UnsupportedKeyType {
                    algorithm: format!("{other} is not an ECDSA key type"),
                });
            }
        };
        Self::from_inner(inner)
    }

    /// Decodes a PKCS#1 DER `RSAPublicKey`.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, KeyError> {
        Self::from_inner(Inner::Rsa(rsa_from_pkcs1_der(der)?))
    }

    /// An Ed25519 key from its raw 32 bytes.
    pub fn from_ed25519_bytes(raw: &[u8]) -> Result<Self, KeyError> {
        let raw: &[u8; 32] = raw.try_into().map_err(|_| KeyError::InvalidKey {
            key_type: "ed25519",
            source: Some("public key is not 32 bytes".into()),
        })?;
        Self::from_inner(Inner::Ed25519(ed25519_from_bytes(raw)?))
    }

    /// Reads a public key from text or bytes: PEM (`PUBLIC KEY`, `RSA PUBLIC KEY`), DER (SPKI
    /// or PKCS#1) or a securesystemslib JSON key object. An unencrypted private key file yields
    /// its public half; an encrypted one needs [`crate::parse_key`] with a password.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        match crate::pem::parse_key(bytes, None)? {
            crate::ParsedKey::Public(k) => Ok(k),
            crate::ParsedKey::Private(k) => Ok(k.public_key().clone()),
        }
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        self.inner.key_type()
    }

    /// The signature scheme this key verifies.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The same key used with another scheme (only RSA has a choice: PSS or PKCS#1 v1.5).
    pub fn with_scheme(mut self, scheme: Scheme) -> Result<Self, KeyError> {
        if !scheme.fits(self.key_type()) {
            return Err(KeyError::SchemeMismatch {
                scheme: scheme.name().to_string(),
                key_type: self.key_type().name(),
            });
        }
        self.scheme = scheme;
        Ok(self)
    }

    /// The size of the key in bits (RSA modulus size, curve size, 256 for Ed25519).
    pub fn bits(&self) -> usize {
        match &self.inner {
            Inner::Ed25519(_) | Inner::P256(_) => 256,
            Inner::P384(_) => 384,
            Inner::Rsa(k) => k.n().bit_width() as usize,
        }
    }

    /// DER `SubjectPublicKeyInfo`.
    pub fn to_spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// PEM `PUBLIC KEY` (64-column base64, LF, with a trailing newline), as OpenSSL, Python
    /// `cryptography` and cosign write it.
    pub fn to_spki_pem(&self) -> String {
        pkcs8::der::pem::encode_string("PUBLIC KEY", pkcs8::LineEnding::LF, &self.spki_der)
            .expect("base64 of an in-memory DER document always encodes")
    }

    /// The raw 32 bytes of an Ed25519 key.
    pub fn ed25519_bytes(&self) -> Option<[u8; 32]> {
        match &self.inner {
            Inner::Ed25519(k) => Some(k.to_bytes()),
            _ => None,
        }
    }

    /// The securesystemslib `keyval.public` value under `rule`: hex for Ed25519, SPKI PEM for
    /// the others (with its trailing newline for securesystemslib 1.x, without for legacy).
    pub fn securesystemslib_public(&self, rule: KeyIdRule) -> String {
        match &self.inner {
            Inner::Ed25519(k) => hex::encode(k.to_bytes()),
            _ => {
                let pem = self.to_spki_pem();
                match rule {
                    KeyIdRule::Securesystemslib1 => pem,
                    KeyIdRule::Legacy => pem.trim_end().to_string(),
                }
            }
        }
    }

    /// The securesystemslib JSON key object under `rule`, without a `keyid` field (the object
    /// the key id hashes; layouts want [`Self::to_layout_key_json`]): `{"keytype", "scheme", "keyval": {"public"}}`, plus
    /// `"keyid_hash_algorithms": ["sha256", "sha512"]` for the legacy rule.
    pub fn to_securesystemslib_json(&self, rule: KeyIdRule) -> Value {
        let mut obj = Map::new();
        obj.insert(
            "keytype".into(),
            Value::from(self.key_type().securesystemslib_keytype()),
        );
        obj.insert("scheme".into(), Value::from(self.scheme.name()));
        obj.insert(
            "keyval".into(),
            json!({ "public": self.securesystemslib_public(rule) }),
        );
        if rule == KeyIdRule::Legacy {
            obj.insert("keyid_hash_algorithms".into(), json!(["sha256", "sha512"]));
        }
        Value::Object(obj)
    }

    /// The key object as an in-toto layout embeds it in `keys`: the securesystemslib JSON form
    /// under `rule` plus its `"keyid"` (in-toto python refuses layout keys without one).
    pub fn to_layout_key_json(&self, rule: KeyIdRule) -> Value {
        let mut value = self.to_securesystemslib_json(rule);
        if let Value::Object(obj) = &mut value {
            obj.insert("keyid".into(), Value::from(self.key_id(rule).as_str()));
        }
        value
    }

    /// The key id under `rule`.
    pub fn key_id(&self, rule: KeyIdRule) -> KeyId {
        let canonical = cairn_model::canonical::to_vec(&self.to_securesystemslib_json(rule))
            .expect("a key object of strings has a canonical form");
        KeyId::new(hex::encode(Sha256::digest(&canonical)))
    }

    /// The key ids under both rules.
    pub fn key_ids(&self) -> KeyIds {
        KeyIds {
            legacy: self.key_id(KeyIdRule::Legacy),
            securesystemslib1: self.key_id(KeyIdRule::Securesystemslib1),
        }
    }

    /// Reads a securesystemslib JSON key object (as in a layout's `keys` map or a
    /// `*.pub` written by securesystemslib). Accepted `keytype`/`scheme` pairs: `rsa` with
    /// `rsassa-pss-sha256` or `rsa-pkcs1v15-sha256`; `ed25519`/`ed25519` (hex or PEM public);
    /// `ecdsa`, `ecdsa-sha2-nistp256` or `ecdsa-sha2-nistp384` with `ecdsa-sha2-nistp256/384`.
    pub fn from_securesystemslib_json(value: &Value) -> Result<Self, KeyError> {
        let (keytype, scheme) = json_key_header(value)?;
        let public = value
            .get("keyval")
            .and_then(|v| v.get("public"))
            .and_then(Value::as_str)
            .ok_or(KeyError::MalformedJsonKey {
                reason: "missing keyval.public string",
            })?;
        let key = if public.contains("-----BEGIN") {
            match crate::pem::parse_key(public.as_bytes(), None)? {
                crate::ParsedKey::Public(k) => k,
                crate::ParsedKey::Private(_) => {
                    return Err(KeyError::MalformedJsonKey {
                        reason: "keyval.public holds a private key",
                    });
                }
            }
        } else if scheme == Scheme::Ed25519 {
            let raw = hex::decode(public).map_err(|_| KeyError::MalformedJsonKey {
                reason: "ed25519 keyval.public is not hex",
            })?;
            Self::from_ed25519_bytes(&raw)?
        } else {
            return Err(KeyError::MalformedJsonKey {
                reason: "keyval.public is not a PEM public key",
            });
        };
        check_json_pair(&key, keytype, scheme)?;
        key.with_scheme(scheme)
    }

    /// Verifies an ECDSA signature in the given encoding (errors for non-ECDSA keys).
    pub fn verify_ecdsa(
        &self,
        msg: &[u8],
        sig: &[u8],
        format: EcdsaSignatureFormat,
    ) -> Result<(), VerifyError> {
        match &self.inner {
            Inner::P256(k) => ecdsa_verify_p256(k, msg, sig, format, self.scheme),
            Inner::P384(k) => ecdsa_verify_p384(k, msg, sig, format, self.scheme),
            _ => Err(VerifyError::Malformed {
                scheme: self.scheme.name(),
                reason: "not an ECDSA key",
            }),
        }
    }
}

impl Verifier for PublicKey {
    fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), VerifyError> {
        let scheme = self.scheme;
        match &self.inner {
            Inner::Ed25519(k) => {
                let sig = ed25519_dalek::Signature::from_slice(sig).map_err(|_| {
                    VerifyError::Malformed {
                        scheme: "ed25519",
                        reason: "not 64 bytes",
                    }
                })?;
                // `verify` (not `verify_strict`): RFC 8032 / Wycheproof semantics; non-canonical
                // S is rejected either way. See docs/keys.md.
                k.verify(msg, &sig).map_err(|_| VerifyError::Invalid)
            }
            Inner::P256(_) | Inner::P384(_) => {
                self.verify_ecdsa(msg, sig, EcdsaSignatureFormat::Either)
            }
            Inner::Rsa(k) => {
                if sig.len() != k.size() {
                    return Err(VerifyError::Malformed {
                        scheme: scheme.name(),
                        reason: "length differs from the modulus length",
                    });
                }
                let hashed = Sha256::digest(msg);
                let result = match scheme {
                    Scheme::RsaPkcs1v15Sha256 => {
                        k.verify(rsa::Pkcs1v15Sign::new::<Sha256>(), &hashed, sig)
                    }
                    // Salt length fixed at 32 (= digest length): in-toto / securesystemslib
                    // sign with it, and Wycheproof's "mgf1_32" files expect other lengths to fail.
                    _ => k.verify(rsa::Pss::<Sha256>::new_with_salt(32), &hashed, sig),
                };
                result.map_err(|_| VerifyError::Invalid)
            }
        }
    }
}

impl Inner {
    pub(crate) fn key_type(&self) -> KeyType {
        match self {
            Inner::Ed25519(_) => KeyType::Ed25519,
            Inner::P256(_) => KeyType::EcdsaP256,
            Inner::P384(_) => KeyType::EcdsaP384,
            Inner::Rsa(_) => KeyType::Rsa,
        }
    }
}

macro_rules! ecdsa_verify_fn {
    ($name:ident, $curve:ident, $field_len:expr) => {
        fn $name(
            key: &$curve::ecdsa::VerifyingKey,
            msg: &[u8],
            sig: &[u8],
            format: EcdsaSignatureFormat,
            scheme: Scheme,
        ) -> Result<(), VerifyError> {
            let malformed = |reason| VerifyError::Malformed {
                scheme: scheme.name(),
                reason,
            };
            let raw = |sig: &[u8]| {
                $curve::ecdsa::Signature::from_slice(sig)
                    .map_err(|_| malformed("not r||s of the curve's size with 0 < r, s < n"))
            };
            let parsed = match format {
                EcdsaSignatureFormat::Der => $curve::ecdsa::Signature::from_der(sig)
                    .map_err(|_| malformed("not strict DER"))?,
                EcdsaSignatureFormat::Raw => raw(sig)?,
                EcdsaSignatureFormat::Either => match $curve::ecdsa::Signature::from_der(sig) {
                    Ok(s) => s,
                    Err(_) if sig.len() == 2 * $field_len => raw(sig)?,
                    Err(_) => return Err(malformed("neither strict DER nor raw r||s")),
                },
            };
            signature::Verifier::verify(key, msg, &parsed).map_err(|_| VerifyError::Invalid)
        }
    };
}

ecdsa_verify_fn!(ecdsa_verify_p256, p256, 32);
ecdsa_verify_fn!(ecdsa_verify_p384, p384, 48);

fn encode_spki<K: pkcs8::EncodePublicKey>(key: &K) -> Result<Vec<u8>, crate::error::Cause> {
    Ok(key.to_public_key_der()?.into_vec())
}

fn invalid(key_type: &'static str, e: impl std::error::Error + Send + Sync + 'static) -> KeyError {
    KeyError::InvalidKey {
        key_type,
        source: Some(Box::new(e)),
    }
}

fn ed25519_from_bytes(raw: &[u8; 32]) -> Result<ed25519_dalek::VerifyingKey, KeyError> {
    ed25519_dalek::VerifyingKey::from_bytes(raw).map_err(|e| invalid("ed25519", e))
}

pub(crate) fn check_rsa_size(bits: usize) -> Result<(), KeyError> {
    if bits < RSA_MIN_BITS {
        return Err(KeyError::RsaTooSmall {
            bits,
            min: RSA_MIN_BITS,
        });
    }
    if bits > RSA_MAX_BITS {
        return Err(KeyError::RsaTooLarge {
            bits,
            max: RSA_MAX_BITS,
        });
    }
    Ok(())
}

fn rsa_from_pkcs1_der(der: &[u8]) -> Result<rsa::PublicKey, KeyError> {
    let parsed = pkcs1::RsaPublicKeyRef::from_der(der).map_err(|e| KeyError::MalformedDer {
        format: "PKCS#1",
        source: Box::new(e),
    })?;
    let n = rsa::BoxedUint::from_be_slice_vartime(parsed.modulus.as_bytes());
    let bits = n.bit_width() as usize;
    check_rsa_size(bits)?;
    let e = rsa::BoxedUint::from_be_slice_vartime(parsed.public_exponent.as_bytes());
    rsa::PublicKey::new_with_size_limits(n, e, RSA_MIN_BITS..=RSA_MAX_BITS)
        .map_err(|e| invalid("rsa", e))
}

pub(crate) fn json_key_header(value: &Value) -> Result<(&str, Scheme), KeyError> {
    let keytype =
        value
            .get("keytype")
            .and_then(Value::as_str)
            .ok_or(KeyError::MalformedJsonKey {
                reason: "missing keytype string",
            })?;
    let scheme_name =
        value
            .get("scheme")
            .and_then(Value::as_str)
            .ok_or(KeyError::MalformedJsonKey {
                reason: "missing scheme string",
            })?;
    let scheme = Scheme::from_name(scheme_name).ok_or_else(|| KeyError::UnsupportedJsonKey {
        keytype: keytype.to_string(),
        scheme: scheme_name.to_string(),
    })?;
    let keytype_fits = match keytype {
        "rsa" => matches!(scheme, Scheme::RsassaPssSha256 | Scheme::RsaPkcs1v15Sha256),
        "ed25519" => scheme == Scheme::Ed25519,
        "ecdsa" => matches!(
            scheme,
            Scheme::EcdsaSha2Nistp256 | Scheme::EcdsaSha2Nistp384
        ),
        // securesystemslib < 0.20 used the scheme name as the keytype.
        "ecdsa-sha2-nistp256" => scheme == Scheme::EcdsaSha2Nistp256,
        "ecdsa-sha2-nistp384" => scheme == Scheme::EcdsaSha2Nistp384,
        _ => false,
    };
    if !keytype_fits {
        return Err(KeyError::UnsupportedJsonKey {
            keytype: keytype.to_string(),
            scheme: scheme_name.to_string(),
        });
    }
    Ok((keytype, scheme))
}

pub(crate) fn check_json_pair(
    key: &PublicKey,
    keytype: &str,
    scheme: Scheme,
) -> Result<(), KeyError> {
    if scheme.fits(key.key_type()) {
        Ok(())
    } else {
        Err(KeyError::UnsupportedJsonKey {
            keytype: keytype.to_string(),
            scheme: scheme.name().to_string(),
        })
    }
}
