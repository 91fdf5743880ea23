//! Key-based bundles with no transparency-log entry and no timestamp, verified by cairn itself
//! (`sigstore-verify` 0.15.1 refuses any bundle without signing-time evidence, even with its
//! tlog check skipped). Only reached when the caller opted in (`VerifyOptions::allow_missing_tlog`)
//! and the bundle is key-based (public-key hint, no certificate).
//!
//! - message signature: the bundle's `messageDigest` must be the artifact's digest (same
//!   algorithm), and the signature must verify with the given key over the artifact (ECDSA:
//!   over the digest, prehashed; Ed25519 and RSA: over the artifact's bytes, with cairn-sign);
//! - DSSE: exactly one signature, verified over `PAE(payloadType, payload)` with cairn-sign; the
//!   payload is an in-toto Statement with a subject whose SHA-256 or SHA-512 is the artifact's.

use cairn_sign::{KeyType, Verifier as _};
use sha2::Digest as _;

use crate::policy::PublicKey;
use crate::verify::{Artifact, CheckKind};

/// Largest artifact read into memory from a stream when the key's scheme cannot verify a digest
/// (Ed25519, RSA message signatures).
pub(crate) const MAX_BUFFERED_ARTIFACT: u64 = 256 << 20;

/// What the own path established, or the failed check.
pub(crate) type Outcome = std::result::Result<Vec<(CheckKind, String)>, Rejection>;

/// A failed check, or an artifact that could not be read.
pub(crate) enum Rejection {
    Check(CheckKind, String),
    Io(std::io::Error),
}

fn reject(kind: CheckKind, detail: impl Into<String>) -> Rejection {
    Rejection::Check(kind, detail.into())
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Alg {
    Sha256,
    Sha384,
    Sha512,
}

impl Alg {
    fn from_bundle(name: &str) -> Option<Alg> {
        match name {
            "SHA2_256" => Some(Alg::Sha256),
            "SHA2_384" => Some(Alg::Sha384),
            "SHA2_512" => Some(Alg::Sha512),
            _ => None,
        }
    }

    fn lib(self) -> sigstore_verify::types::HashAlgorithm {
        use sigstore_verify::types::HashAlgorithm as H;
        match self {
            Alg::Sha256 => H::Sha2256,
            Alg::Sha384 => H::Sha2384,
            Alg::Sha512 => H::Sha2512,
        }
    }
}

/// Streams the artifact once: the digests asked for, and the bytes when `keep` is set.
struct Hashed {
    sha256: Option<Vec<u8>>,
    sha384: Option<Vec<u8>>,
    sha512: Option<Vec<u8>>,
    bytes: Option<Vec<u8>>,
}

impl Hashed {
    fn get(&self, alg: Alg) -> Option<&[u8]> {
        match alg {
            Alg::Sha256 => self.sha256.as_deref(),
            Alg::Sha384 => self.sha384.as_deref(),
            Alg::Sha512 => self.sha512.as_deref(),
        }
    }
}

fn hash(artifact: Artifact<'_>, algs: &[Alg], keep: bool) -> Result<Hashed, Rejection> {
    let want = |a| algs.contains(&a);
    let mut out = Hashed {
        sha256: None,
        sha384: None,
        sha512: None,
        bytes: None,
    };
    let mut h256 = want(Alg::Sha256).then(sha2::Sha256::new);
    let mut h384 = want(Alg::Sha384).then(sha2::Sha384::new);
    let mut h512 = want(Alg::Sha512).then(sha2::Sha512::new);
    let mut feed = |chunk: &[u8]| {
        if let Some(h) = h256.as_mut() {
            h.update(chunk);
        }
        if let Some(h) = h384.as_mut() {
            h.update(chunk);
        }
        if let Some(h) = h512.as_mut() {
            h.update(chunk);
        }
    };
    match artifact {
        Artifact::Bytes(bytes) => {
            feed(bytes);
            if keep {
                out.bytes = Some(bytes.to_vec());
            }
        }
        Artifact::Reader(reader) => {
            let mut buf = vec![0u8; 1 << 16];
            let mut kept = Vec::new();
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(Rejection::Io(e)),
                };
                if n == 0 {
                    break;
                }
                feed(&buf[..n]);
                if keep {
                    if kept.len() as u64 + n as u64 > MAX_BUFFERED_ARTIFACT {
                        return Err(reject(
                            CheckKind::Signature,
                            format!(
                                "this key's signature covers the artifact's bytes, not a digest, and the \
                                 artifact is larger than {} MiB",
                                MAX_BUFFERED_ARTIFACT >> 20
                            ),
                        ));
                    }
                    kept.extend_from_slice(&buf[..n]);
                }
            }
            if keep {
                out.bytes = Some(kept);
            }
        }
        Artifact::Sha256(d) => {
            out.sha256 = Some(d.to_vec());
            return Ok(out);
        }
        Artifact::Sha512(d) => {
            out.sha512 = Some(d.to_vec());
            return Ok(out);
        }
    }
    out.sha256 = h256.map(|h| h.finalize().to_vec());
    out.sha384 = h384.map(|h| h.finalize().to_vec());
    out.sha512 = h512.map(|h| h.finalize().to_vec());
    Ok(out)
}

fn cairn_key(key: &PublicKey) -> Result<cairn_sign::PublicKey, Rejection> {
    cairn_sign::PublicKey::from_spki_der(key.as_der()).map_err(|e| {
        reject(
            CheckKind::PublicKey,
            format!("the given key is not usable: {e}"),
        )
    })
}

/// A message-signature bundle: digest binding, then the signature with the given key.
pub(crate) fn verify_message(
    message: &cairn_model::bundle::MessageSignature,
    artifact: Artifact<'_>,
    key: &PublicKey,
) -> Outcome {
    let pk = cairn_key(key)?;
    let alg = match &message.message_digest {
        Some(d) => Alg::from_bundle(&d.algorithm).ok_or_else(|| {
            reject(
                CheckKind::BundleFormat,
                format!("unsupported message digest algorithm {:?}", d.algorithm),
            )
        })?,
        None => Alg::Sha256,
    };
    let prehashed = matches!(pk.key_type(), KeyType::EcdsaP256 | KeyType::EcdsaP384);
    if !prehashed && matches!(artifact, Artifact::Sha256(_) | Artifact::Sha512(_)) {
        return Err(reject(
            CheckKind::Signature,
            format!(
                "a {} signature covers the artifact's bytes; a digest is not enough to verify it",
                pk.key_type().name()
            ),
        ));
    }
    let given = match artifact {
        Artifact::Sha256(_) => Some(Alg::Sha256),
        Artifact::Sha512(_) => Some(Alg::Sha512),
        _ => None,
    };
    if given.is_some_and(|g| g != alg) {
        return Err(reject(
            CheckKind::Artifact,
            format!(
                "the bundle's message digest is {alg:?}; the artifact was given by another digest"
            ),
        ));
    }
    let hashed = hash(artifact, &[alg], !prehashed)?;
    let digest = hashed.get(alg).expect("the bundle's algorithm was hashed");
    let mut checks = Vec::new();
    match &message.message_digest {
        Some(d) if d.digest != digest => {
            return Err(reject(
                CheckKind::Artifact,
                format!(
                    "the bundle's message digest {} is not the artifact's {}",
                    hex::encode(&d.digest),
                    hex::encode(digest)
                ),
            ));
        }
        Some(_) => checks.push((
            CheckKind::Artifact,
            format!(
                "artifact {alg:?} digest {} matches the bundle",
                hex::encode(digest)
            ),
        )),
        None => checks.push((
            CheckKind::Artifact,
            "the bundle names no digest; the signature covers the artifact".to_string(),
        )),
    }
    let verified = if prehashed {
        let der = sigstore_verify::types::DerPublicKey::new(key.as_der().to_vec());
        let scheme = sigstore_verify::crypto::KeyAlgorithm::from_spki(&der)
            .and_then(|a| a.resolve_signing_scheme(alg.lib()))
            .map_err(|e| {
                reject(
                    CheckKind::Signature,
                    format!("unsupported key/digest pair: {e}"),
                )
            })?;
        sigstore_verify::crypto::verify_signature_prehashed(
            &der,
            digest,
            &sigstore_verify::types::SignatureBytes::new(message.signature.clone()),
            scheme,
        )
        .map_err(|e| e.to_string())
    } else {
        let bytes = hashed
            .bytes
            .as_deref()
            .expect("bytes kept for this key type");
        pk.verify(bytes, &message.signature)
            .map_err(|e| e.to_string())
    };
    if let Err(e) = verified {
        return Err(reject(
            CheckKind::Signature,
            format!("signature does not verify with the given key: {e}"),
        ));
    }
    checks.push((
        CheckKind::Signature,
        "signature over the artifact verifies with the given key".into(),
    ));
    Ok(checks)
}

/// A DSSE bundle: the PAE signature with the given key, then the subject digest.
pub(crate) fn verify_dsse(
    envelope: &cairn_model::dsse::Envelope,
    artifact: Artifact<'_>,
    key: &PublicKey,
) -> Outcome {
    let pk = cairn_key(key)?;
    let [signature] = envelope.signatures.as_slice() else {
        return Err(reject(
            CheckKind::BundleFormat,
            format!(
                "a bundle's DSSE envelope must carry exactly one signature, not {}",
                envelope.signatures.len()
            ),
        ));
    };
    if let Err(e) = pk.verify(&envelope.pae(), &signature.sig) {
        return Err(reject(
            CheckKind::Signature,
            format!("DSSE signature does not verify with the given key: {e}"),
        ));
    }
    let mut checks = vec![(
        CheckKind::Signature,
        "DSSE signature (PAE) verifies with the given key".to_string(),
    )];
    if envelope.payload_type != cairn_model::dsse::IN_TOTO_PAYLOAD_TYPE {
        return Err(reject(
            CheckKind::Artifact,
            format!(
                "payloadType {:?} is not an in-toto statement; no subject to match",
                envelope.payload_type
            ),
        ));
    }
    let statement =
        cairn_model::Statement::from_slice_unvalidated(&envelope.payload).map_err(|e| {
            reject(
                CheckKind::Artifact,
                format!("payload is not an in-toto statement: {e}"),
            )
        })?;
    let digests = |name: &str| -> Vec<Vec<u8>> {
        statement
            .subject
            .iter()
            .filter_map(|s| s.digest.as_ref()?.get(name))
            .filter_map(|h| hex::decode(h).ok())
            .collect()
    };
    let (s256, s512) = (digests("sha256"), digests("sha512"));
    let mut algs = Vec::new();
    if !s256.is_empty() {
        algs.push(Alg::Sha256);
    }
    if !s512.is_empty() {
        algs.push(Alg::Sha512);
    }
    if algs.is_empty() {
        return Err(reject(
            CheckKind::Artifact,
            "no statement subject has a sha256 or sha512 digest",
        ));
    }
    let hashed = hash(artifact, &algs, false)?;
    let hit =
        |alg: Alg, list: &[Vec<u8>]| hashed.get(alg).is_some_and(|d| list.iter().any(|s| s == d));
    let found = if hit(Alg::Sha256, &s256) {
        Some("sha256")
    } else if hit(Alg::Sha512, &s512) {
        Some("sha512")
    } else {
        None
    };
    match found {
        Some(alg) => checks.push((
            CheckKind::Artifact,
            format!("a statement subject has the artifact's {alg} digest"),
        )),
        None => {
            return Err(reject(
                CheckKind::Artifact,
                "no statement subject has the artifact's digest",
            ));
        }
    }
    Ok(checks)
}
