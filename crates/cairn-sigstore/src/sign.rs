//! Making Sigstore bundles (v0.3): keyless (ephemeral P-256 key, Fulcio certificate, Rekor entry,
//! optional RFC 3161 timestamp) or with a key of the user's (public-key hint, Rekor only when
//! asked).
//!
//! Keyless bundles are verified against the trusted root before they are returned, so a bad
//! answer from a service (a certificate for another key, a bad SCT, an entry that is not in the
//! log) is an error here, not a surprise for the verifier.

use sha2::Digest;
use sigstore_sign::bundle::{BundleV03, VerificationMaterialV03};
use sigstore_sign::crypto::KeyPair;
use sigstore_sign::fulcio::FulcioClient;
use sigstore_sign::rekor::{DsseEntry, HashedRekord, RekorClient};
use sigstore_sign::tsa::TimestampClient;
use sigstore_sign::types::bundle::{MessageDigest, MessageSignature, SignatureContent};
use sigstore_sign::types::{
    DerCertificate, DsseEnvelope, DsseSignature, HashAlgorithm, KeyId, KindVersion, PayloadBytes,
    Sha256Hash, SignatureBytes, TransparencyLogEntry,
};

use crate::error::{Error, Result, Service};
use crate::oidc::{IdentityToken, SIGSTORE_AUDIENCE};
use crate::policy::{CertificatePolicy, Identity, SignerPolicy};
use crate::retry::{Attempt, Retry, block_on, http_client, with_retries};
use crate::trust::{SigningConfig, TrustedRoot};
use crate::verify::{Artifact, VerifyOptions, verify_bundle};

/// Where to sign.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Services {
    /// Fulcio base URL.
    pub fulcio: Option<String>,
    /// Rekor v1 base URL.
    pub rekor: Option<String>,
    /// RFC 3161 TSA URL (the full timestamp endpoint).
    pub tsa: Option<String>,
    /// OIDC issuer for the interactive flow.
    pub oidc: Option<String>,
}

impl Services {
    /// The services a signing config names (Rekor v1, the first TSA).
    pub fn from_signing_config(config: &SigningConfig) -> Self {
        Self {
            fulcio: config.fulcio_url().map(str::to_string),
            rekor: config.rekor_v1_url().map(str::to_string),
            tsa: config.tsa_url().map(str::to_string),
            oidc: config.oidc_url().map(str::to_string),
        }
    }
}

/// What to sign.
#[derive(Debug, Clone, Copy)]
pub enum Payload<'a> {
    /// A file's bytes: a message-signature bundle and a Rekor `hashedrekord` entry.
    Blob(&'a [u8]),
    /// A DSSE payload (an in-toto Statement): a DSSE bundle and a Rekor `dsse` entry.
    Dsse {
        /// e.g. `application/vnd.in-toto+json`.
        payload_type: &'a str,
        /// The exact bytes to sign.
        payload: &'a [u8],
        /// SHA-256 of one subject, used to verify the result.
        subject_sha256: [u8; 32],
    },
}

/// Signing options.
#[derive(Debug, Clone, Copy)]
pub struct SignOptions {
    /// Retries and timeouts.
    pub retry: Retry,
    /// Ask the TSA (if one is configured) for an RFC 3161 timestamp.
    pub timestamp: bool,
    /// Key-based signing only: upload to Rekor (keyless always uploads).
    pub tlog_upload: bool,
    /// "Now" in seconds since the epoch (token expiry, checking the result).
    pub now: i64,
}

/// A signed bundle.
#[derive(Debug, Clone)]
pub struct SignedBundle {
    /// The bundle JSON, ready to write.
    pub json: Vec<u8>,
    /// The log index, when uploaded.
    pub log_index: Option<i64>,
    /// The certificate identity (keyless).
    pub identity: Option<String>,
    /// The certificate's OIDC issuer (keyless).
    pub issuer: Option<String>,
}

fn service_err(service: Service, source: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Service {
        service,
        attempts: 1,
        source: Box::new(source),
    }
}

fn signing_err(source: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Signing {
        source: Box::new(source),
    }
}

fn classify_fulcio(e: sigstore_sign::fulcio::Error) -> Attempt {
    use sigstore_sign::fulcio::Error as E;
    match e {
        E::Status { status, .. } => Attempt::from_status(status, e),
        E::Http(_) => Attempt::Transient(Box::new(e)),
        _ => Attempt::Fatal(Box::new(e)),
    }
}

fn classify_rekor(e: sigstore_sign::rekor::Error) -> Attempt {
    use sigstore_sign::rekor::Error as E;
    match e {
        E::Status { status, .. } => Attempt::from_status(status, e),
        E::Http(_) => Attempt::Transient(Box::new(e)),
        _ => Attempt::Fatal(Box::new(e)),
    }
}

fn classify_tsa(e: sigstore_sign::tsa::Error) -> Attempt {
    // The TSA client reports both transport errors and HTTP statuses as `Http`; retrying a
    // timestamp request is harmless. A response that does not parse or verify will not improve.
    match e {
        sigstore_sign::tsa::Error::Http(_) => Attempt::Transient(Box::new(e)),
        _ => Attempt::Fatal(Box::new(e)),
    }
}

struct Clients {
    http: sigstore_sign::reqwest::Client,
    retry: Retry,
}

impl Clients {
    fn new(retry: Retry) -> Result<Self> {
        Ok(Self {
            http: http_client(&retry)?,
            retry,
        })
    }

    async fn certificate(
        &self,
        url: &str,
        token: &IdentityToken,
        key: &KeyPair,
    ) -> Result<DerCertificate> {
        let fulcio = FulcioClient::builder(url)
            .with_http_client(self.http.clone())
            .build()
            .map_err(|e| service_err(Service::Fulcio, e))?;
        let token = sigstore_sign::oidc::IdentityToken::from_jwt(token.jwt())
            .map_err(|e| service_err(Service::Oidc, e))?;
        let cert = with_retries(&self.retry, Service::Fulcio, || async {
            fulcio
                .create_signing_certificate(&token, key)
                .await
                .map_err(classify_fulcio)
        })
        .await?;
        Ok(cert.leaf_certificate().clone())
    }

    fn rekor(&self, url: &str) -> Result<RekorClient> {
        RekorClient::builder(url)
            .with_http_client(self.http.clone())
            .build()
            .map_err(|e| service_err(Service::Rekor, e))
    }

    async fn upload_hashedrekord(
        &self,
        url: &str,
        entry: HashedRekord,
    ) -> Result<TransparencyLogEntry> {
        let rekor = self.rekor(url)?;
        let logged = with_retries(&self.retry, Service::Rekor, || async {
            rekor
                .create_entry(entry.clone())
                .await
                .map_err(classify_rekor)
        })
        .await?;
        logged
            .to_bundle_entry(KindVersion::HashedRekordV001)
            .map_err(|e| service_err(Service::Rekor, e))
    }

    async fn upload_dsse(&self, url: &str, entry: DsseEntry) -> Result<TransparencyLogEntry> {
        let rekor = self.rekor(url)?;
        let logged = with_retries(&self.retry, Service::Rekor, || async {
            rekor
                .create_dsse_entry(entry.clone())
                .await
                .map_err(classify_rekor)
        })
        .await?;
        logged
            .to_bundle_entry(KindVersion::DsseV001)
            .map_err(|e| service_err(Service::Rekor, e))
    }

    async fn timestamp(
        &self,
        url: &str,
        signature: &SignatureBytes,
    ) -> Result<sigstore_sign::types::TimestampToken> {
        let tsa = TimestampClient::builder(url)
            .with_http_client(self.http.clone())
            .build()
            .map_err(|e| service_err(Service::Tsa, e))?;
        with_retries(&self.retry, Service::Tsa, || async {
            tsa.timestamp_signature(signature)
                .await
                .map_err(classify_tsa)
        })
        .await
    }
}

/// Keyless signing: checks the token, gets a Fulcio certificate for a fresh P-256 key (proof of
/// possession), signs, uploads to Rekor, optionally timestamps, assembles a v0.3 bundle, and
/// verifies it offline against `root` (chain, SCT, inclusion proof, checkpoint, SET, signature).
pub fn sign_keyless(
    services: &Services,
    root: &TrustedRoot,
    token: &IdentityToken,
    payload: Payload<'_>,
    options: &SignOptions,
) -> Result<SignedBundle> {
    token.check(options.now, SIGSTORE_AUDIENCE)?;
    let fulcio_url = services.fulcio.as_deref().ok_or(Error::MissingService {
        service: Service::Fulcio,
    })?;
    let rekor_url = services.rekor.as_deref().ok_or(Error::MissingService {
        service: Service::Rekor,
    })?;
    if options.timestamp && services.tsa.is_none() {
        return Err(Error::MissingService {
            service: Service::Tsa,
        });
    }
    let clients = Clients::new(options.retry)?;
    let key = KeyPair::generate_ecdsa_p256().map_err(signing_err)?;

    let bundle = block_on(async {
        let cert = clients.certificate(fulcio_url, token, &key).await?;
        let info = sigstore_sign::crypto::parse_certificate_info(&cert).map_err(|e| {
            Error::SignedBundleRejected {
                reason: format!("Fulcio returned an unreadable certificate: {e}"),
            }
        })?;
        let ours = key.public_key_der().map_err(signing_err)?;
        if info.public_key.as_bytes() != ours.as_bytes() {
            return Err(Error::SignedBundleRejected {
                reason: "Fulcio certified a different public key than the one that signs".into(),
            });
        }
        let (bundle, signature) = match payload {
            Payload::Blob(bytes) => {
                let digest = Sha256Hash::new(sha2::Sha256::digest(bytes).into());
                let signature = key.sign_digest(&digest).map_err(signing_err)?;
                let entry = hashedrekord_request(
                    digest.as_bytes(),
                    signature.as_bytes(),
                    &pem_lf("CERTIFICATE", cert.as_bytes()),
                )?;
                let entry = clients.upload_hashedrekord(rekor_url, entry).await?;
                let b = BundleV03::with_certificate_and_signature(
                    cert.clone(),
                    signature.clone(),
                    digest,
                )
                .with_tlog_entry(entry);
                (b, signature)
            }
            Payload::Dsse {
                payload_type,
                payload,
                ..
            } => {
                let pae = cairn_model::dsse::pae(payload_type, payload);
                let signature = key.sign(&pae).map_err(signing_err)?;
                let envelope = DsseEnvelope::new(
                    payload_type.to_string(),
                    PayloadBytes::new(payload.to_vec()),
                    DsseSignature::new(signature.clone(), KeyId::default()),
                );
                let entry = dsse_request(&envelope, &pem_lf("CERTIFICATE", cert.as_bytes()))?;
                let entry = clients.upload_dsse(rekor_url, entry).await?;
                (
                    BundleV03::with_certificate_and_dsse(cert.clone(), envelope)
                        .with_tlog_entry(entry),
                    signature,
                )
            }
        };
        let bundle = match (&services.tsa, options.timestamp) {
            (Some(url), true) => {
                bundle.with_rfc3161_timestamp(clients.timestamp(url, &signature).await?)
            }
            _ => bundle,
        };
        Ok::<_, Error>((bundle, info))
    })?;
    let (bundle, info) = bundle;
    let bundle = bundle.into_bundle();
    let json = bundle.to_json_pretty().map_err(signing_err)?.into_bytes();
    let identity = info.identity.as_ref().map(|s| s.as_str().to_string());
    let issuer = info.issuer.clone();

    // Check what the services returned before anyone relies on it.
    let policy = SignerPolicy::Certificate(CertificatePolicy::new(
        Identity::exact(identity.clone().unwrap_or_default()),
        issuer.clone().unwrap_or_default(),
    ));
    let artifact = match payload {
        Payload::Blob(bytes) => Artifact::Bytes(bytes),
        Payload::Dsse { subject_sha256, .. } => Artifact::Sha256(subject_sha256),
    };
    let verdict = verify_bundle(
        &json,
        artifact,
        &policy,
        root,
        VerifyOptions {
            now: options.now + 300,
            allow_missing_tlog: false,
        },
    )?;
    if let Some(failure) = verdict.first_failure() {
        return Err(Error::SignedBundleRejected {
            reason: failure.detail.clone(),
        });
    }
    Ok(SignedBundle {
        log_index: bundle
            .verification_material
            .tlog_entries
            .first()
            .map(|e| u64::from(e.log_index) as i64),
        json,
        identity,
        issuer,
    })
}

/// Key-based signing: a v0.3 bundle with a public-key hint; uploaded to Rekor only when
/// `options.tlog_upload` is set (then `services.rekor` is required), timestamped when
/// `options.timestamp` is set and a TSA is configured. With neither, the bundle carries no
/// signing-time evidence and verifies only with `VerifyOptions::allow_missing_tlog`.
pub fn sign_with_key(
    services: &Services,
    signer: &dyn cairn_sign::Signer,
    payload: Payload<'_>,
    options: &SignOptions,
) -> Result<SignedBundle> {
    let public = signer.public_key();
    let pem = pem_lf("PUBLIC KEY", public.to_spki_der());
    let hint = signer.key_id().as_str().to_string();
    let rekor_url = if options.tlog_upload {
        Some(services.rekor.as_deref().ok_or(Error::MissingService {
            service: Service::Rekor,
        })?)
    } else {
        None
    };
    // Neither a log entry nor a timestamp is allowed (cosign's `--tlog-upload=false`): the bundle
    // then proves no signing time, and verifiers accept it only when told to
    // (`VerifyOptions::allow_missing_tlog`).
    if options.timestamp && services.tsa.is_none() {
        return Err(Error::MissingService {
            service: Service::Tsa,
        });
    }
    let tsa_url = services.tsa.as_deref().filter(|_| options.timestamp);
    let clients = if rekor_url.is_some() || tsa_url.is_some() {
        Some(Clients::new(options.retry)?)
    } else {
        None
    };

    let (content, signature, entry) = match payload {
        Payload::Blob(bytes) => {
            let digest: [u8; 32] = sha2::Sha256::digest(bytes).into();
            let sig = signer.sign(bytes).map_err(signing_err)?;
            let entry = match (rekor_url, &clients) {
                (Some(url), Some(c)) => {
                    let entry = hashedrekord_request(&digest, &sig, &pem)?;
                    Some(block_on(c.upload_hashedrekord(url, entry))?)
                }
                _ => None,
            };
            let content = SignatureContent::MessageSignature(
                MessageSignature::new(SignatureBytes::new(sig.clone())).with_message_digest(
                    MessageDigest::new(HashAlgorithm::Sha2256, digest.to_vec().into()),
                ),
            );
            (content, sig, entry)
        }
        Payload::Dsse {
            payload_type,
            payload,
            ..
        } => {
            let pae = cairn_model::dsse::pae(payload_type, payload);
            let sig = signer.sign(&pae).map_err(signing_err)?;
            let envelope = DsseEnvelope::new(
                payload_type.to_string(),
                PayloadBytes::new(payload.to_vec()),
                DsseSignature::new(SignatureBytes::new(sig.clone()), KeyId::new(hint.clone())),
            );
            let entry = match (rekor_url, &clients) {
                (Some(url), Some(c)) => {
                    let entry = dsse_request(&envelope, &pem)?;
                    Some(block_on(c.upload_dsse(url, entry))?)
                }
                _ => None,
            };
            (SignatureContent::DsseEnvelope(envelope), sig, entry)
        }
    };
    let mut bundle = BundleV03::new(VerificationMaterialV03::PublicKey { hint }, content);
    let log_index = entry.as_ref().map(|e| u64::from(e.log_index) as i64);
    if let Some(entry) = entry {
        bundle = bundle.with_tlog_entry(entry);
    }
    if let (Some(url), Some(c)) = (tsa_url, &clients) {
        let ts = block_on(c.timestamp(url, &SignatureBytes::new(signature)))?;
        bundle = bundle.with_rfc3161_timestamp(ts);
    }
    let json = bundle
        .into_bundle()
        .to_json_pretty()
        .map_err(signing_err)?
        .into_bytes();
    Ok(SignedBundle {
        json,
        log_index,
        identity: None,
        issuer: None,
    })
}

/// [`sign_with_key`], then the bundle is verified offline against `root` before it is returned
/// (as keyless bundles always are): a Rekor entry that is not in the log, or a timestamp the
/// trusted root's TSAs did not sign (a corrupted or forged answer: the TSA client itself only
/// checks the imprint and nonce), is an error here instead of a bad bundle on disk.
pub fn sign_with_key_checked(
    services: &Services,
    root: &TrustedRoot,
    signer: &dyn cairn_sign::Signer,
    payload: Payload<'_>,
    options: &SignOptions,
) -> Result<SignedBundle> {
    let signed = sign_with_key(services, signer, payload, options)?;
    let policy = SignerPolicy::Key(crate::policy::PublicKey::from_der(
        signer.public_key().to_spki_der().to_vec(),
    ));
    let artifact = match payload {
        Payload::Blob(bytes) => Artifact::Bytes(bytes),
        Payload::Dsse { subject_sha256, .. } => Artifact::Sha256(subject_sha256),
    };
    let verdict = verify_bundle(
        &signed.json,
        artifact,
        &policy,
        root,
        VerifyOptions {
            now: options.now + 300,
            // This signer chose whether to upload; what is there must verify.
            allow_missing_tlog: true,
        },
    )?;
    if let Some(failure) = verdict.first_failure() {
        return Err(Error::SignedBundleRejected {
            reason: failure.detail.clone(),
        });
    }
    Ok(signed)
}

fn b64(bytes: &[u8]) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes)
}

/// PEM with LF line endings and 64-column lines. Verifiers (sigstore-python, sigstore-go) rebuild
/// the Rekor entry body from the bundle with exactly this encoding and compare it with the logged
/// body; sigstore-rust 0.15.1's request builders use CRLF, which they reject as "inconsistent".
fn pem_lf(label: &str, der: &[u8]) -> String {
    let body = b64(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// A Rekor v1 `hashedrekord` 0.0.1 proposed entry.
fn hashedrekord_request(
    sha256: &[u8],
    signature: &[u8],
    verifier_pem: &str,
) -> Result<HashedRekord> {
    let body = serde_json::json!({
        "apiVersion": "0.0.1", "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": hex::encode(sha256)}},
            "signature": {"content": b64(signature), "publicKey": {"content": b64(verifier_pem.as_bytes())}}
        }
    });
    serde_json::from_value(body).map_err(signing_err)
}

/// A Rekor v1 `dsse` 0.0.1 proposed entry.
fn dsse_request(envelope: &DsseEnvelope, verifier_pem: &str) -> Result<DsseEntry> {
    let env_json = serde_json::to_string(envelope).map_err(signing_err)?;
    let body = serde_json::json!({
        "apiVersion": "0.0.1", "kind": "dsse",
        "spec": {"proposedContent": {"envelope": env_json, "verifiers": [b64(verifier_pem.as_bytes())]}}
    });
    serde_json::from_value(body).map_err(signing_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_is_lf_and_wrapped() {
        let pem = pem_lf("CERTIFICATE", &[7u8; 100]);
        assert!(!pem.contains('\r'));
        assert!(pem.lines().all(|l| l.len() <= 64));
        assert!(pem.ends_with("-----END CERTIFICATE-----\n"));
    }

    #[test]
    fn rekor_requests_have_the_v1_shape() {
        let req = hashedrekord_request(&[1; 32], b"sig", "PEM").expect("builds");
        let v = serde_json::to_value(&req).expect("serializes");
        assert_eq!(v["kind"], "hashedrekord");
        assert_eq!(v["spec"]["data"]["hash"]["value"], hex::encode([1u8; 32]));
        assert_eq!(v["spec"]["signature"]["publicKey"]["content"], b64(b"PEM"));
    }
}
