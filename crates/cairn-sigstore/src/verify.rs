//! Offline bundle verification: a [`Verdict`] listing each check, never a network request.
//!
//! The cryptographic checks (certificate chain to a Fulcio root at the signing time, SCT against
//! the CT log keys, Rekor inclusion proof against a checkpoint signed by the log, SET, RFC 3161
//! timestamps, artifact or DSSE subject digest, signature) are done by `sigstore-verify` 0.15.1.
//! The trust decisions are made here, explicitly: which signer (identity matched exactly or by an
//! anchored pattern, issuer always required, GitHub claims), which bundle versions, which time.
//! No HTTP client exists on this path: this module only reads memory.

use std::io::Read;

use serde::Serialize;
use sigstore_verify::{
    CertificateError, PublicKeyVerificationPolicy, TimestampError, TransparencyLogError,
    VerificationPolicy, Verifier,
};

use crate::error::{Error, Result};
use crate::policy::{SignerPolicy, github_repository_uri};
use crate::trust::TrustedRoot;

/// What was signed, as the verifier gets it.
pub enum Artifact<'a> {
    /// The artifact's bytes.
    Bytes(&'a [u8]),
    /// The artifact read to its end (constant memory).
    Reader(&'a mut dyn Read),
    /// Only the artifact's SHA-256 (e.g. an OCI digest).
    Sha256([u8; 32]),
    /// Only the artifact's SHA-512 (DSSE subjects only, e.g. npm provenance).
    Sha512([u8; 64]),
}

impl Artifact<'_> {
    /// Parses `sha256:<64 hex>` or `sha512:<128 hex>`.
    pub fn parse_digest<'x>(text: &str) -> Result<Artifact<'x>> {
        let bad = || Error::Digest {
            digest: text.to_string(),
        };
        let (alg, hex_part) = text.split_once(':').ok_or_else(bad)?;
        let bytes = hex::decode(hex_part).map_err(|_| bad())?;
        match alg {
            "sha256" => Ok(Artifact::Sha256(bytes.try_into().map_err(|_| bad())?)),
            "sha512" => Ok(Artifact::Sha512(bytes.try_into().map_err(|_| bad())?)),
            _ => Err(bad()),
        }
    }
}

/// One verification check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was checked.
    pub check: CheckKind,
    /// Whether it passed.
    pub passed: bool,
    /// What was found (on success) or why it failed.
    pub detail: String,
}

/// The kinds of checks a verdict reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CheckKind {
    /// The bundle parses, has a known media type and one kind of content.
    BundleFormat,
    /// The trusted root is usable.
    TrustedRoot,
    /// The signing certificate chains to a trusted Fulcio CA at the signing time, with the
    /// code-signing EKU, and carries a valid SCT.
    Certificate,
    /// Rekor inclusion proof, signed checkpoint, SET and entry-bundle consistency.
    TransparencyLog,
    /// RFC 3161 timestamps and the signing time.
    Timestamp,
    /// The artifact (or DSSE subject) digest matches.
    Artifact,
    /// The signature verifies with the certificate's or the given key.
    Signature,
    /// The certificate SAN matches the expected identity.
    Identity,
    /// The certificate's OIDC issuer matches.
    Issuer,
    /// A GitHub Actions claim in the certificate matches.
    GithubClaim,
    /// The bundle is key-based and the given key verified it.
    PublicKey,
}

/// Who signed, as the verified certificate says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct SignerInfo {
    /// The SAN (URI or email).
    pub identity: Option<String>,
    /// The OIDC issuer.
    pub issuer: Option<String>,
    /// Source repository URI (.1.12).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_repository: Option<String>,
    /// Source commit (.1.13).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_digest: Option<String>,
    /// Source ref (.1.14).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_ref: Option<String>,
    /// Build signer URI (.1.9).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_signer_uri: Option<String>,
    /// Runner environment (.1.11).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runner_environment: Option<String>,
}

/// The result of verifying a bundle: every check made, in order. Verified only if there is at
/// least one check and all passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Whether every check passed.
    pub verified: bool,
    /// The checks, in the order they were made.
    pub checks: Vec<Check>,
    /// The bundle's media type, when it parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The signer, when a certificate was verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<SignerInfo>,
    /// Verified signing times (seconds since the epoch) from the log and TSAs.
    pub signing_times: Vec<i64>,
}

impl Verdict {
    fn new() -> Self {
        Self {
            verified: false,
            checks: Vec::new(),
            media_type: None,
            signer: None,
            signing_times: Vec::new(),
        }
    }

    fn pass(&mut self, check: CheckKind, detail: impl Into<String>) {
        self.checks.push(Check {
            check,
            passed: true,
            detail: detail.into(),
        });
    }

    fn fail(mut self, check: CheckKind, detail: impl Into<String>) -> Self {
        self.checks.push(Check {
            check,
            passed: false,
            detail: detail.into(),
        });
        self.verified = false;
        self
    }

    /// The failed checks.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.passed)
    }

    /// The first failed check, if any.
    pub fn first_failure(&self) -> Option<&Check> {
        self.failures().next()
    }
}

/// Options for [`verify_bundle`].
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions {
    /// "Now", in seconds since the epoch: log and TSA times after it are rejected. (The
    /// underlying library also refuses integrated times in the future by its own clock.)
    pub now: i64,
    /// Key-based bundles only: accept a bundle with no transparency-log entry (signed with
    /// `--tlog-upload` off). Keyless bundles always need log or TSA evidence.
    pub allow_missing_tlog: bool,
}

/// Verifies `bundle_json` over `artifact` for `signer`, offline, against `root`.
///
/// Returns a verdict for any evidence, good or bad; `Err` only when the artifact cannot be read
/// or the trusted root is unusable.
pub fn verify_bundle(
    bundle_json: &[u8],
    artifact: Artifact<'_>,
    signer: &SignerPolicy,
    root: &TrustedRoot,
    options: VerifyOptions,
) -> Result<Verdict> {
    let mut verdict = Verdict::new();

    // Format first, with our strict parser: duplicate keys and unknown versions never reach crypto.
    let model: cairn_model::bundle::Bundle = match cairn_model::json::from_slice(bundle_json) {
        Ok(m) => m,
        Err(e) => return Ok(verdict.fail(CheckKind::BundleFormat, format!("not a bundle: {e}"))),
    };
    verdict.media_type = Some(model.media_type.clone());
    let Some(version) = model.version() else {
        return Ok(verdict.fail(
            CheckKind::BundleFormat,
            format!("unsupported bundle media type {:?}", model.media_type),
        ));
    };
    let content = match (&model.message_signature, &model.dsse_envelope) {
        (Some(_), None) => "message signature",
        (None, Some(_)) => "DSSE envelope",
        _ => {
            return Ok(verdict.fail(
                CheckKind::BundleFormat,
                "bundle must hold exactly one of messageSignature and dsseEnvelope",
            ));
        }
    };
    for entry in &model.verification_material.tlog_entries {
        if entry.log_index < 0 {
            return Ok(verdict.fail(CheckKind::BundleFormat, "negative log index"));
        }
        if entry.integrated_time > options.now {
            return Ok(verdict.fail(
                CheckKind::TransparencyLog,
                format!(
                    "integrated time {} is after the verification time {}",
                    entry.integrated_time, options.now
                ),
            ));
        }
    }
    let text = std::str::from_utf8(bundle_json).expect("strict JSON parse implies UTF-8");
    let bundle = match sigstore_verify::types::Bundle::from_json(text) {
        Ok(b) => b,
        Err(e) => return Ok(verdict.fail(CheckKind::BundleFormat, format!("invalid bundle: {e}"))),
    };
    verdict.pass(
        CheckKind::BundleFormat,
        format!("bundle {version:?} with a {content}"),
    );

    let verifier = Verifier::new(&root.inner).map_err(|e| Error::TrustMaterial {
        what: "trusted root",
        source: Box::new(e),
    })?;
    verdict.pass(CheckKind::TrustedRoot, "trusted root loaded");

    let outcome = match signer {
        SignerPolicy::Certificate(policy) => {
            let lib_policy = match &policy.identity {
                crate::policy::Identity::Exact(id) => {
                    VerificationPolicy::new(id.as_str(), policy.issuer.as_str())
                }
                crate::policy::Identity::Pattern { .. } => {
                    VerificationPolicy::any_identity().require_issuer(policy.issuer.as_str())
                }
            };
            run(&verifier, artifact, &bundle, &lib_policy)
        }
        SignerPolicy::Key(key) => {
            let der = sigstore_verify::types::DerPublicKey::new(key.as_der().to_vec());
            let mut policy = PublicKeyVerificationPolicy::new(der);
            let material = &model.verification_material;
            if material.tlog_entries.is_empty() {
                if !options.allow_missing_tlog {
                    return Ok(verdict.fail(
                        CheckKind::TransparencyLog,
                        "key-based bundle has no transparency-log entry (signed without a Rekor \
                         upload): nothing proves when it was signed or that it was published; \
                         accepting it needs an explicit opt-in (allow_missing_tlog)",
                    ));
                }
                if material.public_key.is_none()
                    || material.certificate.is_some()
                    || material.x509_certificate_chain.is_some()
                {
                    return Ok(verdict.fail(
                        CheckKind::PublicKey,
                        "bundle is not key-based (it carries a certificate); a certificate \
                         bundle always needs a transparency-log entry",
                    ));
                }
                let timestamps = material
                    .timestamp_verification_data
                    .as_ref()
                    .is_some_and(|t| !t.rfc3161_timestamps.is_empty());
                if !timestamps {
                    return without_log_or_timestamp(verdict, &model, artifact, key);
                }
                policy = policy.skip_tlog_unsafe();
            }
            run(&verifier, artifact, &bundle, &policy)
        }
    };
    let result = match outcome {
        Ok(r) => r,
        Err(Failure::Io(e)) => {
            return Err(Error::Io {
                path: "<artifact>".into(),
                source: e,
            });
        }
        Err(Failure::Rejected(kind, reason)) => return Ok(verdict.fail(kind, reason)),
    };

    verdict.signing_times = result
        .verified_timestamps()
        .iter()
        .map(|t| t.as_second())
        .collect();
    if let Some(t) = verdict
        .signing_times
        .iter()
        .copied()
        .find(|t| *t > options.now)
    {
        return Ok(verdict.fail(
            CheckKind::Timestamp,
            format!(
                "signing time {t} is after the verification time {}",
                options.now
            ),
        ));
    }
    // Fail closed: whatever the library did, these must hold.
    if !result.tlog_verified() && !model.verification_material.tlog_entries.is_empty() {
        return Ok(verdict.fail(CheckKind::TransparencyLog, "log entry was not verified"));
    }
    match signer {
        SignerPolicy::Key(_) => {
            verdict.pass(CheckKind::TransparencyLog, tlog_detail(&model));
            verdict.pass(
                CheckKind::Signature,
                "signature verifies with the given key",
            );
            verdict.pass(CheckKind::Artifact, "artifact digest matches");
            verdict.pass(
                CheckKind::PublicKey,
                "bundle is key-based; the given key signed it",
            );
            verdict.verified = true;
            Ok(verdict)
        }
        SignerPolicy::Certificate(policy) => {
            if !result.certificate_verified() || !result.sct_verified() {
                return Ok(verdict.fail(
                    CheckKind::Certificate,
                    "certificate chain or SCT not verified",
                ));
            }
            verdict.pass(
                CheckKind::Certificate,
                "chains to a trusted Fulcio CA at the signing time; SCT valid",
            );
            verdict.pass(CheckKind::TransparencyLog, tlog_detail(&model));
            if !verdict.signing_times.is_empty() {
                verdict.pass(
                    CheckKind::Timestamp,
                    format!("verified signing times {:?}", verdict.signing_times),
                );
            }
            verdict.pass(
                CheckKind::Signature,
                "signature verifies with the certificate key",
            );
            verdict.pass(CheckKind::Artifact, "artifact digest matches");
            let Some(info) = result.certificate() else {
                return Ok(verdict.fail(CheckKind::Certificate, "no certificate in the result"));
            };
            let claims = &info.ci_claims;
            let gh = &claims.deprecated_github;
            let signer_info = SignerInfo {
                identity: info.identity.as_ref().map(|s| s.as_str().to_string()),
                issuer: info.issuer.clone(),
                source_repository: claims.source_repository_uri.clone().or_else(|| {
                    gh.workflow_repository
                        .as_ref()
                        .map(|r| github_repository_uri(r))
                }),
                source_digest: claims
                    .source_repository_digest
                    .clone()
                    .or_else(|| gh.workflow_sha.clone()),
                source_ref: claims
                    .source_repository_ref
                    .clone()
                    .or_else(|| gh.workflow_ref.clone()),
                build_signer_uri: claims.build_signer_uri.clone(),
                runner_environment: claims.runner_environment.clone(),
            };
            verdict.signer = Some(signer_info.clone());
            check_identity(verdict, policy, &signer_info)
        }
    }
}

/// A key-based bundle with neither a log entry nor a timestamp, accepted by the caller: cairn
/// checks the signature and the artifact binding itself ([`crate::keyed`]); the verdict says
/// what was not checked.
fn without_log_or_timestamp(
    mut verdict: Verdict,
    model: &cairn_model::bundle::Bundle,
    artifact: Artifact<'_>,
    key: &crate::policy::PublicKey,
) -> Result<Verdict> {
    let outcome = match (&model.message_signature, &model.dsse_envelope) {
        (Some(message), None) => crate::keyed::verify_message(message, artifact, key),
        (None, Some(envelope)) => crate::keyed::verify_dsse(envelope, artifact, key),
        _ => unreachable!("exactly one content kind was checked above"),
    };
    let checks = match outcome {
        Ok(checks) => checks,
        Err(crate::keyed::Rejection::Check(kind, detail)) => return Ok(verdict.fail(kind, detail)),
        Err(crate::keyed::Rejection::Io(source)) => {
            return Err(Error::Io {
                path: "<artifact>".into(),
                source,
            });
        }
    };
    verdict.pass(
        CheckKind::TransparencyLog,
        "no transparency-log entry checked (allowed for this key-based bundle): nothing proves \
         the signature was published",
    );
    verdict.pass(
        CheckKind::Timestamp,
        "signing time unverified: the bundle has no log entry and no RFC 3161 timestamp",
    );
    for (kind, detail) in checks {
        verdict.pass(kind, detail);
    }
    verdict.pass(
        CheckKind::PublicKey,
        "bundle is key-based; the given key signed it",
    );
    verdict.verified = true;
    Ok(verdict)
}

fn tlog_detail(model: &cairn_model::bundle::Bundle) -> String {
    let entries = &model.verification_material.tlog_entries;
    if entries.is_empty() {
        return "no transparency-log entry checked (allowed for this key-based bundle); \
                signing time from RFC 3161 timestamps only"
            .into();
    }
    let kinds: Vec<String> = entries
        .iter()
        .map(|e| {
            format!(
                "{} {} at index {}",
                e.kind_version.kind, e.kind_version.version, e.log_index
            )
        })
        .collect();
    format!("inclusion verified: {}", kinds.join(", "))
}

fn check_identity(
    mut verdict: Verdict,
    policy: &crate::policy::CertificatePolicy,
    signer: &SignerInfo,
) -> Result<Verdict> {
    let san = signer.identity.as_deref().unwrap_or_default();
    if signer.identity.is_none() || !policy.identity.matches(san) {
        return Ok(verdict.fail(
            CheckKind::Identity,
            format!(
                "certificate identity {san:?} does not match {}",
                policy.identity
            ),
        ));
    }
    verdict.pass(
        CheckKind::Identity,
        format!("{san:?} matches {}", policy.identity),
    );
    let issuer = signer.issuer.as_deref().unwrap_or_default();
    if issuer != policy.issuer {
        return Ok(verdict.fail(
            CheckKind::Issuer,
            format!("certificate issuer {issuer:?} is not {:?}", policy.issuer),
        ));
    }
    verdict.pass(CheckKind::Issuer, format!("{issuer:?}"));
    let gh = &policy.github;
    let wanted: [(&str, Option<String>, Option<&String>); 5] = [
        (
            "repository",
            gh.repository.as_deref().map(github_repository_uri),
            signer.source_repository.as_ref(),
        ),
        (
            "workflow ref",
            gh.workflow_ref.as_deref().map(github_repository_uri),
            signer.build_signer_uri.as_ref(),
        ),
        ("sha", gh.sha.clone(), signer.source_digest.as_ref()),
        ("ref", gh.git_ref.clone(), signer.source_ref.as_ref()),
        (
            "runner environment",
            gh.runner_environment.clone(),
            signer.runner_environment.as_ref(),
        ),
    ];
    for (name, expected, actual) in wanted {
        let Some(expected) = expected else { continue };
        if actual != Some(&expected) {
            return Ok(verdict.fail(
                CheckKind::GithubClaim,
                format!("GitHub {name} is {actual:?}, expected {expected:?}"),
            ));
        }
        verdict.pass(
            CheckKind::GithubClaim,
            format!("GitHub {name} {expected:?}"),
        );
    }
    verdict.verified = verdict.checks.iter().all(|c| c.passed);
    Ok(verdict)
}

enum Failure {
    Io(std::io::Error),
    Rejected(CheckKind, String),
}

fn run<P: sigstore_verify::Policy>(
    verifier: &Verifier,
    artifact: Artifact<'_>,
    bundle: &sigstore_verify::types::Bundle,
    policy: &P,
) -> std::result::Result<sigstore_verify::VerificationResult, Failure> {
    let result = match artifact {
        Artifact::Bytes(bytes) => verifier.verify(bytes, bundle, policy),
        Artifact::Reader(reader) => verifier.verify_reader(reader, bundle, policy),
        Artifact::Sha256(digest) => {
            let hash = sigstore_verify::types::Sha256Hash::new(digest);
            verifier.verify(hash, bundle, policy)
        }
        Artifact::Sha512(digest) => {
            match sigstore_verify::types::ArtifactDigest::new(
                sigstore_verify::types::HashAlgorithm::Sha2512,
                digest.to_vec(),
            ) {
                Ok(d) => verifier.verify(
                    sigstore_verify::types::Artifact::from_digest(d),
                    bundle,
                    policy,
                ),
                Err(e) => Err(sigstore_verify::Error::Types(e)),
            }
        }
    };
    result.map_err(classify)
}

/// Maps the library's error to the check it belongs to, keeping its reason.
fn classify(e: sigstore_verify::Error) -> Failure {
    use sigstore_verify::Error as E;
    let kind = match &e {
        E::ArtifactRead(_) => {
            return match e {
                E::ArtifactRead(io) => Failure::Io(io),
                _ => unreachable!("matched above"),
            };
        }
        E::IdentityMismatch { .. } => CheckKind::Identity,
        E::IssuerMismatch { .. } => CheckKind::Issuer,
        E::SignatureInvalid(_) => CheckKind::Signature,
        E::ArtifactMismatch(_) | E::UnsupportedArtifact(_) => CheckKind::Artifact,
        E::Certificate(CertificateError::Sct(_)) => CheckKind::Certificate,
        E::Certificate(_) | E::TrustedCertificate(_) => CheckKind::Certificate,
        E::TransparencyLog(TransparencyLogError::IntegratedTime(_)) => CheckKind::TransparencyLog,
        E::TransparencyLog(_) => CheckKind::TransparencyLog,
        E::Timestamp(TimestampError::NoVerifiedTimestamp(_)) => CheckKind::Timestamp,
        E::Timestamp(_) => CheckKind::Timestamp,
        E::InvalidTrustRoot(_) | E::TrustRoot(_) => CheckKind::TrustedRoot,
        _ => CheckKind::BundleFormat,
    };
    Failure::Rejected(kind, lower_first(&e.to_string()))
}

/// Lowercases the first letter of a message, unless it starts an acronym ("RFC 3161 ...").
fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match (chars.next(), s.chars().nth(1)) {
        (Some(_), Some(second)) if second.is_uppercase() => s.to_string(),
        (Some(c), _) => c.to_lowercase().chain(chars).collect(),
        (None, _) => String::new(),
    }
}
