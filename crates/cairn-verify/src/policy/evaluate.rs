//! Evaluating a policy: verify every bundle against the trusted signers, then check each
//! requirement over the attestations that are from a signer it accepts, about the subject,
//! and of its predicate type.

use std::collections::BTreeSet;

use cairn_model::statement::Statement;
use cairn_sigstore::{Artifact, SignerInfo, TrustedRoot, VerifyOptions, verify_bundle};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::error::Error;
use super::load::{Policy, Requirement, SignerKind};
use crate::verdict::{Check, Evidence, Outcome, Verdict};

/// What is being verified: a name and its SHA-256 (an OCI manifest digest, or a file's hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// How to name it in reports (an image reference, a file name).
    pub name: String,
    /// Its SHA-256.
    pub sha256: [u8; 32],
}

impl Subject {
    /// A subject by SHA-256.
    pub fn sha256(name: impl Into<String>, sha256: [u8; 32]) -> Self {
        Subject {
            name: name.into(),
            sha256,
        }
    }

    /// `sha256:<hex>`.
    pub fn digest(&self) -> String {
        format!("sha256:{}", hex::encode(self.sha256))
    }
}

/// One piece of evidence handed to the engine: a Sigstore bundle and where it came from.
#[derive(Debug, Clone)]
pub struct BundleInput {
    /// Where it came from (a file path, `referrer sha256:...`).
    pub source: String,
    /// The bundle JSON, exactly as received.
    pub bytes: Vec<u8>,
    /// For a message-signature bundle made from a cosign `.sig` layer: the simple-signing
    /// payload it signs. The signature is verified over these bytes, and the payload must be a
    /// cosign container image signature naming the subject digest.
    pub signed_payload: Option<Vec<u8>>,
}

impl BundleInput {
    /// A bundle with its origin.
    pub fn new(source: impl Into<String>, bytes: Vec<u8>) -> Self {
        BundleInput {
            source: source.into(),
            bytes,
            signed_payload: None,
        }
    }

    /// A message-signature bundle over a cosign simple-signing `payload` (a `.sig` layer).
    pub fn with_signed_payload(mut self, payload: Option<Vec<u8>>) -> Self {
        self.signed_payload = payload;
        self
    }
}

/// Appended to the reason of a key-signed bundle accepted without a log entry.
const UNLOGGED: &str = " (no transparency-log entry: signing time unproven)";

/// `critical.type` of a cosign simple-signing payload.
const SIMPLE_SIGNING_TYPE: &str = "cosign container image signature";

/// Evaluation settings.
#[derive(Debug, Clone, Copy)]
pub struct EvalOptions<'a> {
    /// The Sigstore trust root for keyless signers (and tlog entries of key signers).
    pub trusted_root: &'a TrustedRoot,
    /// The verification time.
    pub at: DateTime<Utc>,
}

impl<'a> EvalOptions<'a> {
    /// Options for `root` at `at`.
    pub fn new(trusted_root: &'a TrustedRoot, at: DateTime<Utc>) -> Self {
        EvalOptions { trusted_root, at }
    }
}

/// What the engine made of one bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AttestationReport {
    /// Where it came from.
    pub source: String,
    /// SHA-256 of the bundle bytes.
    pub bundle_digest: String,
    /// The statement's predicate type, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicate_type: Option<String>,
    /// The policy signer that verified it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// The verified identity (certificate SAN, or key fingerprint).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// Whether a trusted signer verified it over this subject.
    pub verified: bool,
    /// Why it was or was not accepted.
    pub reason: String,
}

/// The result of an evaluation.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Evaluation {
    /// Every requirement with its evidence.
    pub verdict: Verdict,
    /// Every bundle looked at.
    pub attestations: Vec<AttestationReport>,
    /// The SLSA build level established by passing provenance (highest), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slsa_level: Option<u8>,
}

/// A bundle that a trusted signer verified over the subject.
struct Verified {
    index: usize,
    signer: usize,
    identity: String,
    info: Option<SignerInfo>,
    statement: Value,
    predicate_type: String,
}

/// Evaluates `policy` for `subject` over `bundles`.
pub fn evaluate(
    policy: &Policy,
    subject: &Subject,
    bundles: &[BundleInput],
    opts: &EvalOptions<'_>,
) -> Result<Evaluation, Error> {
    let now = opts.at.timestamp();
    let mut reports = Vec::new();
    let mut verified: Vec<Verified> = Vec::new();
    let mut links = Vec::new();
    let mut att_checks = Vec::new();
    for (index, b) in bundles.iter().enumerate() {
        let (report, v, link) = verify_one(policy, subject, index, b, opts.trusted_root, now);
        let id = format!("attestations[{index}]");
        let what = match (&report.predicate_type, &b.signed_payload) {
            (Some(t), _) => t.as_str(),
            (None, Some(_)) => "cosign image signature",
            (None, None) => "unreadable",
        };
        let title = format!("{} ({what})", b.source);
        let mut c = if report.verified {
            Check::pass(id, title, report.reason.clone())
        } else {
            Check::skip(id, title, report.reason.clone())
        };
        if let Some(identity) = &report.identity {
            c = c.with_evidence(Evidence::signer(identity.clone(), "verified"));
        }
        att_checks.push(c);
        reports.push(report);
        if let Some(v) = v {
            verified.push(v);
        }
        if let Some(l) = link {
            links.push(l);
        }
    }

    let mut checks = vec![
        Check::pass(
            "policy",
            format!("policy {}", policy.name),
            format!(
                "{} signer(s), {} requirement(s){}",
                policy.signers.len(),
                policy.requirements.len(),
                if policy.has_layout() {
                    ", a layout"
                } else {
                    ""
                }
            ),
        )
        .with_evidence(Evidence::value(
            "policy digest",
            format!("sha256:{}", hex::encode(policy.digest)),
        )),
        Check::group(
            "attestations",
            format!("{} bundle(s) for {}", bundles.len(), subject.digest()),
            att_checks,
        )
        .with_reason(format!(
            "{} from a trusted signer",
            reports.iter().filter(|r| r.verified).count()
        )),
    ];
    // `group` of only skipped children is "skip"; that is informational, never a failure.
    let mut slsa_level = None;
    for req in &policy.requirements {
        let (check, level) = requirement(policy, req, subject, &verified, &reports);
        if let Some(l) = level {
            slsa_level = Some(slsa_level.map_or(l, |x: u8| x.max(l)));
        }
        checks.push(check);
    }
    if let Some(rule) = &policy.layout {
        checks.push(super::layout_req::check(rule, subject, &links, opts.at)?);
    }
    Ok(Evaluation {
        verdict: Verdict::new(subject.name.clone(), checks),
        attestations: reports,
        slsa_level,
    })
}

type LinkEnvelope = (String, cairn_model::dsse::Envelope);

fn verify_one(
    policy: &Policy,
    subject: &Subject,
    index: usize,
    b: &BundleInput,
    root: &TrustedRoot,
    now: i64,
) -> (AttestationReport, Option<Verified>, Option<LinkEnvelope>) {
    let mut report = AttestationReport {
        source: b.source.clone(),
        bundle_digest: format!("sha256:{}", hex::encode(Sha256::digest(&b.bytes))),
        predicate_type: None,
        signer: None,
        identity: None,
        verified: false,
        reason: String::new(),
    };
    let model: cairn_model::bundle::Bundle = match cairn_model::json::from_slice(&b.bytes) {
        Ok(m) => m,
        Err(e) => {
            report.reason = format!("not a Sigstore bundle: {e}");
            return (report, None, None);
        }
    };
    let Some(envelope) = model.dsse_envelope.clone() else {
        if let Some(payload) = &b.signed_payload {
            report.reason = simple_signature(policy, subject, b, payload, root, now, &mut report);
            return (report, None, None);
        }
        report.reason =
            "a message signature, not an attestation: no statement to evaluate".to_owned();
        return (report, None, None);
    };
    let statement = match cairn_model::json::value_from_slice(&envelope.payload) {
        Ok(v) => v,
        Err(e) => {
            report.reason = format!("DSSE payload is not JSON: {e}");
            return (report, None, None);
        }
    };
    let predicate_type = statement
        .get("predicateType")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    report.predicate_type = Some(predicate_type.clone());
    let link = (predicate_type == cairn_model::predicate::LINK_V0_3)
        .then(|| (b.source.clone(), envelope.clone()));
    let v01 = statement
        .get("_type")
        .and_then(Value::as_str)
        .is_some_and(|t| t == cairn_model::statement::STATEMENT_V0_1);
    if Statement::from_slice(&envelope.payload).is_err() && !v01 {
        report.reason = "DSSE payload is not an in-toto Statement".to_owned();
        return (report, None, link);
    }
    let is_key_bundle = model.verification_material.public_key.is_some();
    match first_signer(policy, &b.bytes, is_key_bundle, root, now, || {
        Artifact::Sha256(subject.sha256)
    }) {
        Ok(ok) => {
            let signer = &policy.signers[ok.signer];
            report.signer = Some(signer.name.clone());
            report.identity = Some(ok.identity.clone());
            report.verified = true;
            report.reason = format!("verified for signer {}", signer.name);
            if model.verification_material.tlog_entries.is_empty() && is_key_bundle {
                report.reason.push_str(UNLOGGED);
            }
            let verified = Verified {
                index,
                signer: ok.signer,
                identity: ok.identity,
                info: ok.info,
                statement,
                predicate_type,
            };
            (report, Some(verified), link)
        }
        Err(why) => {
            report.reason = why;
            (report, None, link)
        }
    }
}

/// The policy signer that verified a bundle.
struct SignerMatch {
    signer: usize,
    identity: String,
    info: Option<SignerInfo>,
}

/// Tries the policy's signers of the bundle's kind (key signers for key bundles, keyless for
/// certificates) in order; the first that verifies it wins. `Err` is the reason none did.
fn first_signer<'a>(
    policy: &Policy,
    bundle: &[u8],
    is_key_bundle: bool,
    root: &TrustedRoot,
    now: i64,
    artifact: impl Fn() -> Artifact<'a>,
) -> Result<SignerMatch, String> {
    let mut tried = Vec::new();
    for (si, signer) in policy.signers.iter().enumerate() {
        let allow_missing_tlog = match &signer.kind {
            SignerKind::Key {
                allow_missing_tlog, ..
            } if is_key_bundle => *allow_missing_tlog,
            SignerKind::Keyless(_) if !is_key_bundle => false,
            _ => continue,
        };
        let result = verify_bundle(
            bundle,
            artifact(),
            &signer.sigstore_policy(),
            root,
            VerifyOptions {
                now,
                allow_missing_tlog,
            },
        );
        match result {
            Ok(v) if v.verified => {
                let identity = match (&signer.kind, &v.signer) {
                    (SignerKind::Key { fingerprint, .. }, _) => format!("key {fingerprint}"),
                    (_, Some(info)) => info.identity.clone().unwrap_or_default(),
                    _ => String::new(),
                };
                return Ok(SignerMatch {
                    signer: si,
                    identity,
                    info: v.signer,
                });
            }
            Ok(v) => {
                let why = v
                    .first_failure()
                    .map(|c| c.detail.clone())
                    .unwrap_or_else(|| "not verified".to_owned());
                tried.push(format!("{}: {why}", signer.name));
            }
            Err(e) => tried.push(format!("{}: cannot verify: {e}", signer.name)),
        }
    }
    Err(if tried.is_empty() {
        format!(
            "no {} signer in the policy",
            if is_key_bundle { "key" } else { "keyless" }
        )
    } else {
        format!("not from a trusted signer ({})", tried.join("; "))
    })
}

/// A cosign image signature (`.sig`): the message signature must verify over the
/// simple-signing payload for a trusted signer, and the payload must name the subject. It then
/// counts as verified evidence that the signer signed the image, but it carries no statement,
/// so it satisfies no predicate requirement. Returns the reason; sets the report's signer.
fn simple_signature(
    policy: &Policy,
    subject: &Subject,
    b: &BundleInput,
    payload: &[u8],
    root: &TrustedRoot,
    now: i64,
    report: &mut AttestationReport,
) -> String {
    let claimed = cairn_model::json::value_from_slice(payload)
        .ok()
        .and_then(|v| {
            let critical = v.get("critical")?;
            (critical.get("type")?.as_str()? == SIMPLE_SIGNING_TYPE).then_some(())?;
            critical
                .pointer("/image/docker-manifest-digest")?
                .as_str()
                .map(str::to_owned)
        });
    let Some(claimed) = claimed else {
        return "not a cosign container image signature payload".to_owned();
    };
    if claimed != subject.digest() {
        return format!(
            "a cosign image signature for {claimed}, not {}",
            subject.digest()
        );
    }
    let (is_key_bundle, unlogged) =
        match cairn_model::json::from_slice::<cairn_model::bundle::Bundle>(&b.bytes) {
            Ok(m) => (
                m.verification_material.public_key.is_some(),
                m.verification_material.tlog_entries.is_empty(),
            ),
            Err(_) => (false, false),
        };
    match first_signer(policy, &b.bytes, is_key_bundle, root, now, || {
        Artifact::Bytes(payload)
    }) {
        Ok(ok) => {
            let name = policy.signers[ok.signer].name.clone();
            report.signer = Some(name.clone());
            report.identity = Some(ok.identity);
            report.verified = true;
            format!(
                "cosign image signature verified for signer {name} (a signature, not an attestation: it meets no predicate requirement){}",
                if unlogged && is_key_bundle {
                    UNLOGGED
                } else {
                    ""
                }
            )
        }
        Err(why) => why,
    }
}

fn slsa_signer(info: &SignerInfo) -> Option<cairn_slsa::verify::SignerIdentity> {
    Some(cairn_slsa::verify::SignerIdentity {
        san: info.identity.clone()?,
        issuer: info.issuer.clone().unwrap_or_default(),
        build_signer_uri: info.build_signer_uri.clone(),
        runner_environment: info.runner_environment.clone(),
        source_repository_uri: info.source_repository.clone(),
        source_repository_digest: info.source_digest.clone(),
        source_repository_ref: info.source_ref.clone(),
        build_trigger: None,
    })
}

fn requirement(
    policy: &Policy,
    req: &Requirement,
    subject: &Subject,
    verified: &[Verified],
    reports: &[AttestationReport],
) -> (Check, Option<u8>) {
    let base = format!("requirements.{}", req.name);
    let title = format!(
        "{}: {} from {}",
        req.name,
        req.predicate.describe(),
        req.signers
            .iter()
            .map(|i| policy.signers[*i].name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut children = Vec::new();
    let mut passing_identities = BTreeSet::new();
    let mut best_level = None;
    let candidates: Vec<&Verified> = verified
        .iter()
        .filter(|v| req.predicate.matches(&v.predicate_type) && req.signers.contains(&v.signer))
        .collect();
    for (ci, v) in candidates.iter().enumerate() {
        let id = format!("{base}.attestations[{ci}]");
        let signer = &policy.signers[v.signer];
        let mut sub = vec![
            Check::pass(
                format!("{id}.signer"),
                "signed by a trusted signer",
                format!("{} ({})", signer.name, v.identity),
            ),
            Check::pass(
                format!("{id}.subject"),
                "statement names the subject",
                subject.digest(),
            ),
        ];
        if let Some(slsa) = &req.slsa {
            let mut p = slsa.clone();
            p.subject_digest = Some(("sha256".to_owned(), hex::encode(subject.sha256)));
            let identity = v.info.as_ref().and_then(slsa_signer);
            let sv = cairn_slsa::verify::verify(&v.statement, identity.as_ref(), &p);
            let mut slsa_checks = Vec::new();
            for c in &sv.checks {
                let name = serde_json::to_value(c.check)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let outcome = match c.outcome {
                    cairn_slsa::verify::Outcome::Pass => Outcome::Pass,
                    cairn_slsa::verify::Outcome::Fail => Outcome::Fail,
                    _ => Outcome::Skip,
                };
                slsa_checks.push(Check::new(
                    format!("{id}.slsa.{name}"),
                    format!("slsa {name}"),
                    outcome,
                    c.reason.clone(),
                ));
            }
            if sv.passed {
                best_level = Some(best_level.map_or(sv.level, |x: u8| x.max(sv.level)));
            }
            let mut g = Check::group(format!("{id}.slsa"), "SLSA provenance", slsa_checks);
            if sv.passed {
                g = g.with_reason(format!("SLSA build level {}", sv.level));
            }
            sub.push(g);
        }
        if let Some(sbom) = &req.sbom {
            let predicate = v.statement.get("predicate").unwrap_or(&Value::Null);
            sub.push(Check::group(
                format!("{id}.sbom"),
                "SBOM",
                sbom.check(&format!("{id}.sbom"), &v.predicate_type, predicate),
            ));
        }
        let signer_value = json!({
            "name": signer.name,
            "identity": v.identity,
            "issuer": v.info.as_ref().and_then(|i| i.issuer.clone()),
        });
        for (k, rule) in req.cel.iter().enumerate() {
            sub.push(rule.check(&format!("{id}.cel[{k}]"), &v.statement, &signer_value));
        }
        let group = Check::group(
            id,
            format!("{} signed by {}", reports[v.index].source, v.identity),
            sub,
        )
        .with_evidence(Evidence::value(
            "bundle",
            reports[v.index].bundle_digest.clone(),
        ));
        if group.outcome != Outcome::Fail {
            passing_identities.insert(v.identity.clone());
        }
        children.push(group);
    }
    let n = passing_identities.len();
    let threshold_id = format!("{base}.threshold");
    let threshold_title = format!("at least {} distinct signer(s)", req.threshold);
    let threshold = if n >= req.threshold {
        Check::pass(
            threshold_id,
            threshold_title,
            format!(
                "{n} distinct signer(s) with passing attestations: {}",
                passing_identities
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    } else if candidates.is_empty() {
        let mut c = Check::fail(
            threshold_id,
            threshold_title,
            format!(
                "no {} attestation for {} from an accepted signer",
                req.predicate.describe(),
                subject.digest()
            ),
        );
        if reports.is_empty() {
            c = c.with_evidence(Evidence::value("attestations found", "none"));
        }
        for r in reports {
            let why = if !r.verified || r.predicate_type.is_none() {
                r.reason.clone()
            } else if !r
                .predicate_type
                .as_deref()
                .is_some_and(|t| req.predicate.matches(t))
            {
                format!(
                    "predicate type {} is not {}",
                    r.predicate_type.as_deref().unwrap_or("?"),
                    req.predicate.describe()
                )
            } else {
                format!(
                    "signer {} is not accepted by this requirement",
                    r.signer.as_deref().unwrap_or("?")
                )
            };
            c = c.with_evidence(Evidence::value(r.source.clone(), why));
        }
        c
    } else {
        Check::fail(
            threshold_id,
            threshold_title,
            format!(
                "{n} distinct signer(s) with passing attestations, {} required",
                req.threshold
            ),
        )
    };
    children.push(threshold);
    // The requirement is met when the threshold is: failing extra attestations from other
    // signers do not fail it, but they stay visible as warnings.
    let met = n >= req.threshold;
    if met {
        for c in children.iter_mut() {
            if c.outcome == Outcome::Fail {
                c.reason = format!("not counted: {}", c.reason);
                downgrade(c);
            }
        }
    }
    let mut group = Check::group(base, title, children);
    if met {
        group.outcome = Outcome::combine(group.children.iter().map(|c| c.outcome));
        group.reason = format!("met by {n} signer(s)");
    }
    (group, if met { best_level } else { None })
}

/// Turns every failure in a subtree into a warning (an attestation that did not count toward a
/// requirement already met).
fn downgrade(c: &mut Check) {
    if c.outcome == Outcome::Fail {
        c.outcome = Outcome::Warn;
    }
    for k in c.children.iter_mut() {
        downgrade(k);
    }
}
