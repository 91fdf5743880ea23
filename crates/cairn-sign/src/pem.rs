//! Reading key files: format detection (PEM label, DER, securesystemslib JSON), size limits,
//! decryption.

use std::io::Read;
use std::path::Path;

use pkcs8::der::Decode;
use serde_json::Value;
use zeroize::Zeroizing;

use crate::cosign;
use crate::error::KeyError;
use crate::password::Password;
use crate::private::PrivateKey;
use crate::public::{PublicKey, check_json_pair, json_key_header};
use crate::scheme::Scheme;

/// Largest key file cairn reads (an RSA-8192 private key PEM is about 6.5 KiB).
pub const MAX_KEY_FILE: u64 = 1024 * 1024;

/// Upper bound on PBKDF2 iterations in an encrypted PKCS#8 key (bounds the work a hostile file
/// can cause).
const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;
/// Upper bound on scrypt memory (128 · N · r bytes) in an encrypted PKCS#8 key.
const MAX_SCRYPT_MEMORY: u64 = 256 * 1024 * 1024;

/// A key read from a file: private or public.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one per loaded key file; boxing buys nothing
pub enum ParsedKey {
    /// A private key (its public half is available too).
    Private(PrivateKey),
    /// A public key.
    Public(PublicKey),
}

impl ParsedKey {
    /// The public key (of a private key, its public half).
    pub fn public_key(&self) -> &PublicKey {
        match self {
            ParsedKey::Private(k) => crate::Signer::public_key(k),
            ParsedKey::Public(k) => k,
        }
    }
}

/// Reads a key file whole, refusing files larger than [`MAX_KEY_FILE`] without reading them.
/// The buffer is zeroized on drop.
pub fn read_key_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let io = |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    if let Ok(meta) = file.metadata()
        && meta.is_file()
        && meta.len() > MAX_KEY_FILE
    {
        return Err(KeyError::TooLarge {
            size: meta.len(),
            limit: MAX_KEY_FILE,
        });
    }
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(MAX_KEY_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_KEY_FILE {
        return Err(KeyError::TooLarge {
            size: bytes.len() as u64,
            limit: MAX_KEY_FILE,
        });
    }
    Ok(bytes)
}

/// Reads and parses a key file (see [`parse_key`]).
pub fn load_key(path: &Path, password: Option<&Password>) -> Result<ParsedKey, KeyError> {
    parse_key(&read_key_file(path)?, password)
}

/// Whether the key in `bytes` needs a password (encrypted PKCS#8 or a cosign key).
pub fn is_encrypted(bytes: &[u8]) -> bool {
    matches!(
        first_block(bytes),
        Some(Ok(block)) if matches!(
            block.label.as_str(),
            "ENCRYPTED PRIVATE KEY" | cosign::SIGSTORE_LABEL | cosign::COSIGN_LABEL
        )
    )
}

/// Parses a private or public key.
///
/// Recognised: PEM `PRIVATE KEY` (PKCS#8), `ENCRYPTED PRIVATE KEY` (PKCS#8 PBES2),
/// `RSA PRIVATE KEY` (PKCS#1), `EC PRIVATE KEY` (SEC1), `PUBLIC KEY` (SPKI), `RSA PUBLIC KEY`
/// (PKCS#1), `ENCRYPTED SIGSTORE PRIVATE KEY` / `ENCRYPTED COSIGN PRIVATE KEY` (cosign); the
/// same structures as DER; securesystemslib JSON key objects. An `EC PARAMETERS` block before
/// the key (as `openssl ecparam -genkey` writes) is skipped.
pub fn parse_key(bytes: &[u8], password: Option<&Password>) -> Result<ParsedKey, KeyError> {
    if bytes.len() as u64 > MAX_KEY_FILE {
        return Err(KeyError::TooLarge {
            size: bytes.len() as u64,
            limit: MAX_KEY_FILE,
        });
    }
    let trimmed = bytes.trim_ascii();
    if trimmed.is_empty() {
        return Err(KeyError::Empty);
    }
    if trimmed.starts_with(b"{") {
        return parse_json_key(trimmed, password);
    }
    if let Some(block) = first_block(bytes) {
        let block = block?;
        return parse_pem_block(&block.label, &block.der, password);
    }
    if trimmed.starts_with(b"-----") {
        return Err(KeyError::MalformedPem {
            label: "unknown".into(),
            source: "no -----BEGIN line".into(),
        });
    }
    if bytes.first() == Some(&0x30) {
        return parse_der(bytes);
    }
    Err(KeyError::NotAKey)
}

struct Block {
    label: String,
    der: Zeroizing<Vec<u8>>,
}

/// The first PEM block that is not `EC PARAMETERS`, decoded; `None` when there is no BEGIN line.
fn first_block(bytes: &[u8]) -> Option<Result<Block, KeyError>> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    let mut rest = bytes;
    loop {
        let start = find(rest, BEGIN)?;
        let after = &rest[start + BEGIN.len()..];
        let Some(label_end) = find(after, b"-----") else {
            return Some(Err(KeyError::MalformedPem {
                label: "unknown".into(),
                source: "unterminated BEGIN line".into(),
            }));
        };
        let label = match std::str::from_utf8(&after[..label_end]) {
            Ok(l) if !l.contains('\n') => l.to_string(),
            _ => {
                return Some(Err(KeyError::MalformedPem {
                    label: "unknown".into(),
                    source: "unreadable label".into(),
                }));
            }
        };
        let end_marker = format!("-----END {label}-----");
        let Some(end) = find(after, end_marker.as_bytes()) else {
            return Some(Err(KeyError::MalformedPem {
                label,
                source: "no matching -----END line (truncated?)".into(),
            }));
        };
        let block_end = start + BEGIN.len() + end + end_marker.len();
        let text = &rest[start..block_end];
        rest = &rest[block_end..];
        if label == "EC PARAMETERS" {
            continue;
        }
        if find(text, b"Proc-Type:").is_some() {
            return Some(Err(KeyError::UnsupportedEncryption {
                scheme: "legacy OpenSSL PEM encryption (Proc-Type header); convert the key \
                         with `openssl pkcs8 -topk8`"
                    .into(),
            }));
        }
        let body_start = find(text, b"\n").map_or(text.len(), |i| i + 1);
        let body_end = text.len() - end_marker.len();
        let body = text.get(body_start..body_end).unwrap_or_default();
        return Some(
            decode_body(body)
                .map(|der| Block {
                    label: label.clone(),
                    der,
                })
                .map_err(|source| KeyError::MalformedPem { label, source }),
        );
    }
}

/// Base64 of a PEM body. Lenient about layout (any line length, CRLF, trailing spaces), as
/// RFC 7468 asks of parsers, strict about the alphabet and padding.
fn decode_body(body: &[u8]) -> Result<Zeroizing<Vec<u8>>, crate::error::Cause> {
    use base64::Engine;
    if body.contains(&b':') {
        return Err("PEM headers are not supported".into());
    }
    let compact: Zeroizing<Vec<u8>> = Zeroizing::new(
        body.iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect(),
    );
    if compact.is_empty() {
        return Err("empty PEM body".into());
    }
    base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .map(Zeroizing::new)
        .map_err(|e| Box::new(e) as crate::error::Cause)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn parse_pem_block(
    label: &str,
    der: &[u8],
    password: Option<&Password>,
) -> Result<ParsedKey, KeyError> {
    Ok(match label {
        "PRIVATE KEY" => ParsedKey::Private(PrivateKey::from_pkcs8_der(der)?),
        "ENCRYPTED PRIVATE KEY" => {
            let password = password.ok_or(KeyError::PasswordRequired)?;
            ParsedKey::Private(PrivateKey::from_pkcs8_encrypted_der(der, password)?)
        }
        "RSA PRIVATE KEY" => ParsedKey::Private(PrivateKey::from_pkcs1_der(der)?),
        "EC PRIVATE KEY" => ParsedKey::Private(PrivateKey::from_sec1_der(der)?),
        "PUBLIC KEY" => ParsedKey::Public(PublicKey::from_spki_der(der)?),
        "RSA PUBLIC KEY" => ParsedKey::Public(PublicKey::from_pkcs1_der(der)?),
        cosign::SIGSTORE_LABEL | cosign::COSIGN_LABEL => {
            let password = password.ok_or(KeyError::PasswordRequired)?;
            let plain = cosign::decrypt(der, password)?;
            ParsedKey::Private(PrivateKey::from_pkcs8_der(&plain)?)
        }
        other => {
            return Err(KeyError::UnsupportedPemLabel {
                label: other.to_string(),
            });
        }
    })
}

fn parse_der(der: &[u8]) -> Result<ParsedKey, KeyError> {
    // Decide by structure, not by trial: SPKI and PKCS#8 are SEQUENCEs whose first element is
    // a SEQUENCE (AlgorithmIdentifier) or an INTEGER (version) respectively.
    if pkcs8::spki::SubjectPublicKeyInfoRef::from_der(der).is_ok() {
        return PublicKey::from_spki_der(der).map(ParsedKey::Public);
    }
    if pkcs8::PrivateKeyInfoRef::from_der(der).is_ok() {
        return PrivateKey::from_pkcs8_der(der).map(ParsedKey::Private);
    }
    if pkcs1::RsaPublicKeyRef::from_der(der).is_ok() {
        return PublicKey::from_pkcs1_der(der).map(ParsedKey::Public);
    }
    if pkcs1::RsaPrivateKeyRef::from_der(der).is_ok() {
        return PrivateKey::from_pkcs1_der(der).map(ParsedKey::Private);
    }
    if sec1::EcPrivateKey::from_der(der).is_ok() {
        return PrivateKey::from_sec1_der(der).map(ParsedKey::Private);
    }
    Err(KeyError::NotAKey)
}

fn parse_json_key(bytes: &[u8], password: Option<&Password>) -> Result<ParsedKey, KeyError> {
    let value =
        cairn_model::json::value_from_slice(bytes).map_err(|_| KeyError::MalformedJsonKey {
            reason: "not a JSON object",
        })?;
    let private = value
        .get("keyval")
        .and_then(|v| v.get("private"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let Some(private) = private else {
        return PublicKey::from_securesystemslib_json(&value).map(ParsedKey::Public);
    };
    let (keytype, scheme) = json_key_header(&value)?;
    let key = if private.contains("-----BEGIN") {
        match parse_key(private.as_bytes(), password)? {
            ParsedKey::Private(k) => k,
            ParsedKey::Public(_) => {
                return Err(KeyError::MalformedJsonKey {
                    reason: "keyval.private holds a public key",
                });
            }
        }
    } else if scheme == Scheme::Ed25519 {
        let seed =
            Zeroizing::new(
                hex::decode(private).map_err(|_| KeyError::MalformedJsonKey {
                    reason: "ed25519 keyval.private is not hex",
                })?,
            );
        PrivateKey::from_ed25519_seed(&seed)?
    } else {
        return Err(KeyError::MalformedJsonKey {
            reason: "keyval.private is not a PEM private key",
        });
    };
    check_json_pair(crate::Signer::public_key(&key), keytype, scheme)?;
    let key = key.with_scheme(scheme)?;
    // The declared public half must be the private key's.
    if let Some(public) = value
        .get("keyval")
        .and_then(|v| v.get("public"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        let declared = PublicKey::from_securesystemslib_json(&value)?;
        let actual = crate::Signer::public_key(&key);
        if declared.to_spki_der() != actual.to_spki_der() {
            let _ = public;
            return Err(KeyError::MalformedJsonKey {
                reason: "keyval.public does not belong to keyval.private",
            });
        }
    }
    let key = match value.get("keyid").and_then(Value::as_str) {
        Some(id) => key.with_key_id(crate::KeyId::new(id)),
        None => key,
    };
    Ok(ParsedKey::Private(key))
}

/// Refuses encrypted PKCS#8 whose key derivation would cost more than any honest key file.
pub(crate) fn check_pbes2_cost(
    info: &pkcs8::EncryptedPrivateKeyInfoRef<'_>,
) -> Result<(), KeyError> {
    use pkcs8::pkcs5::{EncryptionScheme, pbes2::Kdf};
    match &info.encryption_algorithm {
        EncryptionScheme::Pbes2(params) => match &params.kdf {
            Kdf::Pbkdf2(p) if p.iteration_count > MAX_PBKDF2_ITERATIONS => {
                Err(KeyError::UnsupportedEncryption {
                    scheme: format!(
                        "PBKDF2 with {} iterations (more than {MAX_PBKDF2_ITERATIONS})",
                        p.iteration_count
                    ),
                })
            }
            Kdf::Scrypt(p) => {
                let memory = 128u64
                    .saturating_mul(p.cost_parameter)
                    .saturating_mul(u64::from(p.block_size));
                if memory > MAX_SCRYPT_MEMORY || p.parallelization > 16 {
                    Err(KeyError::UnsupportedEncryption {
                        scheme: format!(
                            "scrypt N={} r={} p={} (over {} MiB or p > 16)",
                            p.cost_parameter,
                            p.block_size,
                            p.parallelization,
                            MAX_SCRYPT_MEMORY >> 20
                        ),
                    })
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        },
        EncryptionScheme::Pbes1(_) => Err(KeyError::UnsupportedEncryption {
            scheme: "PBES1 other than pbeWithMD5AndDES-CBC; re-encrypt with PBES2, e.g. \
                     `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
                .into(),
        }),
        #[allow(unreachable_patterns)]
        _ => Err(KeyError::UnsupportedEncryption {
            scheme: "unknown PKCS#5 scheme".into(),
        }),
    }
}
