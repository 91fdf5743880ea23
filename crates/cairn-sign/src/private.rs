//! Private keys: generation, decoding (PKCS#8, PKCS#1, SEC1), encoding (PKCS#8, encrypted
//! PKCS#8, cosign) and signing.

use std::fmt;

use p256::elliptic_curve::Generate;
use pkcs8::der::Decode;
use pkcs8::{DecodePrivateKey, EncodePrivateKey, PrivateKeyInfoRef};
use rand_core::UnwrapErr;
use rsa::traits::PublicKeyParts;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::{KeyError, SignError};
use crate::keyid::{KeyId, KeyIdRule};
use crate::password::Password;
use crate::public::{Inner as PublicInner, PublicKey, check_rsa_size};
use crate::scheme::{KeyType, Scheme};
use crate::{Signer, oids};

/// DER of an Ed25519 PKCS#8 v1 `PrivateKeyInfo` up to the 32-byte seed (RFC 8410 §10.3).
const ED25519_PKCS8_V1_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// RSA modulus size of generated keys.
pub const RSA_DEFAULT_BITS: usize = 3072;

/// PBKDF2-HMAC-SHA256 iterations for encrypted PKCS#8 that cairn writes (OWASP 2023 figure).
const PBKDF2_ITERATIONS: u32 = 600_000;

/// A private key, its public half, the signature scheme and the key id written into signatures.
///
/// Secret material is zeroized on drop by the underlying key types.
pub struct PrivateKey {
    inner: Inner,
    public: PublicKey,
    key_id: KeyId,
}

enum Inner {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    Rsa(Box<rsa::PrivateKey>),
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("key_type", &self.public.key_type())
            .field("scheme", &self.public.scheme())
            .field("key_id", &self.key_id.as_str())
            .finish_non_exhaustive()
    }
}

/// Tells "wrong password" apart from "cairn cannot decrypt this scheme".
fn pkcs8_decrypt_error(e: pkcs8::Error) -> KeyError {
    use pkcs8::pkcs5::Error as P5;
    match e {
        pkcs8::Error::EncryptedPrivateKey(P5::UnsupportedAlgorithm { oid }) => {
            KeyError::UnsupportedEncryption {
                scheme: format!("PKCS#5 algorithm {oid}"),
            }
        }
        pkcs8::Error::EncryptedPrivateKey(P5::AlgorithmParametersInvalid { oid }) => {
            KeyError::UnsupportedEncryption {
                scheme: format!("invalid parameters for PKCS#5 algorithm {oid}"),
            }
        }
        _ => KeyError::WrongPassword,
    }
}

fn rng() -> UnwrapErr<getrandom::SysRng> {
    UnwrapErr(getrandom::SysRng)
}

impl PrivateKey {
    fn from_inner(inner: Inner) -> Result<Self, KeyError> {
        let public_inner = match &inner {
            Inner::Ed25519(k) => PublicInner::Ed25519(k.verifying_key()),
            Inner::P256(k) => PublicInner::P256(*k.verifying_key()),
            Inner::P384(k) => PublicInner::P384(*k.verifying_key()),
            Inner::Rsa(k) => PublicInner::Rsa(k.to_public_key()),
        };
        let public = PublicKey::from_inner(public_inner)?;
        let key_id = public.key_id(KeyIdRule::Securesystemslib1);
        Ok(PrivateKey {
            inner,
            public,
            key_id,
        })
    }

    /// Generates a new key with the operating system's random number generator. RSA keys have
    /// [`RSA_DEFAULT_BITS`] bits.
    pub fn generate(key_type: KeyType) -> Result<Self, KeyError> {
        let mut rng = rng();
        let inner = match key_type {
            KeyType::Ed25519 => Inner::Ed25519(ed25519_dalek::SigningKey::generate(&mut rng)),
            KeyType::EcdsaP256 => Inner::P256(
                p256::ecdsa::SigningKey::try_generate_from_rng(&mut getrandom::SysRng)
                    .map_err(|_| KeyError::Rng)?,
            ),
            KeyType::EcdsaP384 => Inner::P384(
                p384::ecdsa::SigningKey::try_generate_from_rng(&mut getrandom::SysRng)
                    .map_err(|_| KeyError::Rng)?,
            ),
            KeyType::Rsa => Inner::Rsa(Box::new(
                rsa::PrivateKey::new(&mut rng, RSA_DEFAULT_BITS).map_err(|e| KeyError::Crypto {
                    action: "generate",
                    key_type: "rsa",
                    source: Box::new(e),
                })?,
            )),
        };
        Self::from_inner(inner)
    }

    /// Generates an RSA key of `bits` bits (2048 to 8192).
    pub fn generate_rsa(bits: usize) -> Result<Self, KeyError> {
        check_rsa_size(bits)?;
        let key = rsa::PrivateKey::new(&mut rng(), bits).map_err(|e| KeyError::Crypto {
            action: "generate",
            key_type: "rsa",
            source: Box::new(e),
        })?;
        Self::from_inner(Inner::Rsa(Box::new(key)))
    }

    /// Decodes an unencrypted DER PKCS#8 `PrivateKeyInfo`.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let malformed = |e: pkcs8::Error| KeyError::MalformedDer {
            format: "PKCS#8",
            source: Box::new(e),
        };
        let info = PrivateKeyInfoRef::from_der(der).map_err(|e| KeyError::MalformedDer {
            format: "PKCS#8",
            source: Box::new(e),
        })?;
        let inner = match info.algorithm.oid {
            oids::ED25519 => {
                Inner::Ed25519(ed25519_dalek::SigningKey::from_pkcs8_der(der).map_err(malformed)?)
            }
            oids::EC_PUBLIC_KEY => {
                let curve = info
                    .algorithm
                    .parameters
                    .and_then(|p| p.decode_as::<pkcs8::spki::ObjectIdentifier>().ok());
                match curve {
                    Some(oids::P256) => Inner::P256(
                        p256::ecdsa::SigningKey::from_pkcs8_der(der).map_err(malformed)?,
                    ),
                    Some(oids::P384) => Inner::P384(
                        p384::ecdsa::SigningKey::from_pkcs8_der(der).map_err(malformed)?,
                    ),
                    Some(other) => return Err(oids::unsupported_curve(other)),
                    None => {
                        return Err(KeyError::MalformedDer {
                            format: "PKCS#8",
                            source: "EC key without a named curve".into(),
                        });
                    }
                }
            }
            oids::RSA_ENCRYPTION => {
                let key = rsa::PrivateKey::from_pkcs8_der(der).map_err(malformed)?;
                check_rsa_size(key.n().bit_width() as usize)?;
                Inner::Rsa(Box::new(key))
            }
            other => return Err(oids::unsupported_key_type(other)),
        };
        Self::from_inner(inner)
    }

    /// Decodes an encrypted DER PKCS#8 `EncryptedPrivateKeyInfo` (PBES2).
    pub fn from_pkcs8_encrypted_der(der: &[u8], password: &Password) -> Result<Self, KeyError> {
        let info = pkcs8::EncryptedPrivateKeyInfoRef::from_der(der).map_err(|e| {
            KeyError::MalformedDer {
                format: "encrypted PKCS#8",
                source: Box::new(e),
            }
        })?;
        let plain = match &info.encryption_algorithm {
            pkcs8::pkcs5::EncryptionScheme::Pbes1(alg)
                if alg.encryption == pkcs8::pkcs5::pbes1::EncryptionScheme::PbeWithMd5AndDesCbc =>
            {
                crate::pbes1::decrypt_md5_des(
                    password.as_bytes(),
                    &alg.parameters.salt,
                    alg.parameters.iteration_count,
                    info.encrypted_data.as_bytes(),
                )?
            }
            _ => {
                crate::pem::check_pbes2_cost(&info)?;
                Zeroizing::new(
                    info.decrypt(password.as_bytes())
                        .map_err(pkcs8_decrypt_error)?
                        .as_bytes()
                        .to_vec(),
                )
            }
        };
        // A wrong password usually fails the CBC padding check, but one time in 256 it
        // "decrypts" to garbage: report that as a wrong password too.
        Self::from_pkcs8_der(&plain).map_err(|e| match e {
            KeyError::MalformedDer { .. } => KeyError::WrongPassword,
            other => other,
        })
    }

    /// Decodes a PKCS#1 DER `RSAPrivateKey`.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, KeyError> {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        let key = rsa::PrivateKey::from_pkcs1_der(der).map_err(|e| KeyError::MalformedDer {
            format: "PKCS#1",
            source: Box::new(e),
        })?;
        check_rsa_size(key.n().bit_width() as usize)?;
        Self::from_inner(Inner::Rsa(Box::new(key)))
    }

    /// Decodes a SEC1 DER `ECPrivateKey` (P-256 or P-384; the curve must be named).
    pub fn from_sec1_der(der: &[u8]) -> Result<Self, KeyError> {
        let malformed_ec = |source: crate::error::Cause| KeyError::MalformedDer {
            format: "SEC1",
            source,
        };
        let parsed = sec1::EcPrivateKey::from_der(der).map_err(|e| KeyError::MalformedDer {
            format: "SEC1",
            source: Box::new(e),
        })?;
        let curve =
            parsed
                .parameters
                .and_then(|p| p.named_curve())
                .ok_or(KeyError::MalformedDer {
                    format: "SEC1",
                    source: "EC key without a named curve".into(),
                })?;
        let inner = match curve {
            oids::P256 => Inner::P256(p256::ecdsa::SigningKey::from(
                p256::SecretKey::from_sec1_der(der).map_err(|e| malformed_ec(Box::new(e)))?,
            )),
            oids::P384 => Inner::P384(p384::ecdsa::SigningKey::from(
                p384::SecretKey::from_sec1_der(der).map_err(|e| malformed_ec(Box::new(e)))?,
            )),
            other => return Err(oids::unsupported_curve(other)),
        };
        Self::from_inner(inner)
    }

    /// An ECDSA key from its big-endian secret scalar (32 bytes for P-256, 48 for P-384).
    pub fn from_ecdsa_scalar(key_type: KeyType, scalar: &[u8]) -> Result<Self, KeyError> {
        let inner = match key_type {
            KeyType::EcdsaP256 => {
                Inner::P256(p256::ecdsa::SigningKey::from_slice(scalar).map_err(|e| {
                    KeyError::InvalidKey {
                        key_type: "ecdsa-p256",
                        source: Some(Box::new(e)),
                    }
                })?)
            }
            KeyType::EcdsaP384 => {
                Inner::P384(p384::ecdsa::SigningKey::from_slice(scalar).map_err(|e| {
                    KeyError::InvalidKey {
                        key_type: "ecdsa-p384",
                        source: Some(Box::new(e)),
                    }
                })?)
            }
            other => {
                return Err(KeyError::UnsupportedKeyType {
                    algorithm: format!("{other} is not an ECDSA key type"),
                });
            }
        };
        Self::from_inner(inner)
    }

    /// An Ed25519 key from its 32-byte seed (securesystemslib JSON `keyval.private`).
    pub fn from_ed25519_seed(seed: &[u8]) -> Result<Self, KeyError> {
        let seed: &[u8; 32] = seed.try_into().map_err(|_| KeyError::InvalidKey {
            key_type: "ed25519",
            source: Some("private key is not 32 bytes".into()),
        })?;
        Self::from_inner(Inner::Ed25519(ed25519_dalek::SigningKey::from_bytes(seed)))
    }

    /// Reads a private key from PEM, DER or a securesystemslib JSON key; `password` is used
    /// when the key is encrypted (encrypted PKCS#8, cosign).
    pub fn from_bytes(bytes: &[u8], password: Option<&Password>) -> Result<Self, KeyError> {
        match crate::pem::parse_key(bytes, password)? {
            crate::ParsedKey::Private(k) => Ok(k),
            crate::ParsedKey::Public(_) => Err(KeyError::NotAPrivateKey),
        }
    }

    /// The public half.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        self.public.key_type()
    }

    /// Uses another signature scheme (only RSA has a choice).
    pub fn with_scheme(mut self, scheme: Scheme) -> Result<Self, KeyError> {
        self.public = self.public.with_scheme(scheme)?;
        self.key_id = self.public.key_id(KeyIdRule::Securesystemslib1);
        Ok(self)
    }

    /// Writes signatures under the key id of `rule` (default: securesystemslib 1.x).
    pub fn with_key_id_rule(mut self, rule: KeyIdRule) -> Self {
        self.key_id = self.public.key_id(rule);
        self
    }

    /// Writes signatures under an explicit key id (as a layout declares it).
    pub fn with_key_id(mut self, key_id: KeyId) -> Self {
        self.key_id = key_id;
        self
    }

    /// DER PKCS#8 `PrivateKeyInfo` (secret).
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let key_type = self.key_type().name();
        let doc = match &self.inner {
            // RFC 8410 PKCS#8 v1 (seed only), as OpenSSL writes it: Python `cryptography`
            // refuses the v2 form with the public key that ed25519-dalek writes.
            Inner::Ed25519(k) => {
                let mut der = Zeroizing::new(ED25519_PKCS8_V1_PREFIX.to_vec());
                der.extend_from_slice(k.as_bytes());
                return Ok(der);
            }
            Inner::P256(k) => k.to_pkcs8_der(),
            Inner::P384(k) => k.to_pkcs8_der(),
            Inner::Rsa(k) => k.to_pkcs8_der(),
        }
        .map_err(|e| KeyError::Crypto {
            action: "encode",
            key_type,
            source: Box::new(e),
        })?;
        Ok(Zeroizing::new(doc.as_bytes().to_vec()))
    }

    /// PEM PKCS#8: `PRIVATE KEY`, or `ENCRYPTED PRIVATE KEY` (PBES2: PBKDF2-HMAC-SHA256 with
    /// 600,000 iterations, AES-256-CBC; readable by OpenSSL and Python `cryptography`) when a
    /// password is given.
    pub fn to_pkcs8_pem(&self, password: Option<&Password>) -> Result<Zeroizing<String>, KeyError> {
        let key_type = self.key_type().name();
        let der = self.to_pkcs8_der()?;
        let (label, bytes) = match password {
            None => ("PRIVATE KEY", der),
            Some(password) => {
                let mut rng = rng();
                let mut salt = [0u8; 16];
                let mut iv = [0u8; 16];
                rand_core::Rng::fill_bytes(&mut rng, &mut salt);
                rand_core::Rng::fill_bytes(&mut rng, &mut iv);
                let params = pkcs8::pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(
                    PBKDF2_ITERATIONS,
                    &salt,
                    iv,
                )
                .map_err(|e| KeyError::Crypto {
                    action: "encrypt",
                    key_type,
                    source: Box::new(e),
                })?;
                let info = PrivateKeyInfoRef::from_der(&der).map_err(|e| KeyError::Crypto {
                    action: "encrypt",
                    key_type,
                    source: Box::new(e),
                })?;
                let doc = info
                    .encrypt_with_params(params, password.as_bytes())
                    .map_err(|e| KeyError::Crypto {
                        action: "encrypt",
                        key_type,
                        source: Box::new(e),
                    })?;
                (
                    "ENCRYPTED PRIVATE KEY",
                    Zeroizing::new(doc.as_bytes().to_vec()),
                )
            }
        };
        let pem = pkcs8::der::pem::encode_string(label, pkcs8::LineEnding::LF, &bytes)
            .expect("base64 of an in-memory DER document always encodes");
        Ok(Zeroizing::new(pem))
    }

    /// PEM `ENCRYPTED SIGSTORE PRIVATE KEY` as cosign writes it (scrypt + NaCl secretbox over
    /// the PKCS#8 DER).
    pub fn to_cosign_pem(&self, password: &Password) -> Result<Zeroizing<String>, KeyError> {
        let der = self.to_pkcs8_der()?;
        crate::cosign::encrypt_pem(&der, password)
    }
}

impl Signer for PrivateKey {
    fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    fn scheme(&self) -> Scheme {
        self.public.scheme()
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, SignError> {
        let scheme = self.public.scheme();
        let crypto = |e: signature::Error| SignError::Crypto {
            scheme: scheme.name(),
            source: Box::new(e),
        };
        Ok(match &self.inner {
            Inner::Ed25519(k) => signature::Signer::<ed25519_dalek::Signature>::try_sign(k, msg)
                .map_err(crypto)?
                .to_bytes()
                .to_vec(),
            Inner::P256(k) => {
                let sig: p256::ecdsa::Signature =
                    signature::Signer::try_sign(k, msg).map_err(crypto)?;
                sig.to_der().as_bytes().to_vec()
            }
            Inner::P384(k) => {
                let sig: p384::ecdsa::Signature =
                    signature::Signer::try_sign(k, msg).map_err(crypto)?;
                sig.to_der().as_bytes().to_vec()
            }
            Inner::Rsa(k) => {
                let key = (**k).clone();
                match scheme {
                    Scheme::RsaPkcs1v15Sha256 => {
                        let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(key);
                        let sig: rsa::pkcs1v15::Signature =
                            signature::Signer::try_sign(&signer, msg).map_err(crypto)?;
                        signature::SignatureEncoding::to_vec(&sig)
                    }
                    _ => {
                        let signer = rsa::pss::SigningKey::<Sha256>::new_with_salt_len(key, 32);
                        let sig: rsa::pss::Signature =
                            signature::RandomizedSigner::try_sign_with_rng(
                                &signer,
                                &mut rng(),
                                msg,
                            )
                            .map_err(crypto)?;
                        signature::SignatureEncoding::to_vec(&sig)
                    }
                }
            }
        })
    }

    fn public_key(&self) -> &PublicKey {
        &self.public
    }
}
