//! `cairn verify image REF --policy FILE`: resolve REF to a digest once, fetch the attestations
//! stored with that digest (referrers API, referrers tag schema, cosign tags), verify each
//! Sigstore bundle against the policy's signers and evaluate the policy. Multi-platform images:
//! `--platform` verifies one platform's manifest, `--all-platforms` each of them; otherwise the
//! index digest itself is the subject.
//!
//! The evaluation helpers here are shared with `cairn promote`, which verifies the same way.

use std::path::{Path, PathBuf};

use anyhow::Context;
use cairn_oci::discover::{EvidenceFormat, Origin};
use cairn_oci::manifest::Manifest;
use cairn_oci::{Digest, PlatformSelection, Repository, Resolved, discover, resolve};
use cairn_sigstore::{Instance, Payload, TrustConfig, TrustedRoot};
use cairn_verify::policy::{
    BundleInput, EvalOptions, Evaluation, Policy, Subject, VsaOptions, evaluate, vsa_statement,
};
use cairn_verify::render::{RenderOptions, render_text};
use clap::Args;
use serde::Serialize;

use super::super::attach::{RegistryArgs, open_repo, parse_ref};
use crate::commands::sign::{SigningArgs, write_bundle};
use crate::output::{Ctx, Status};
use crate::report::with_hint;

/// Which Sigstore trust root verifies keyless signers.
#[derive(Debug, Clone, Args)]
pub struct TrustRootArgs {
    /// A Sigstore trusted_root.json to trust instead of the embedded public-good root.
    #[arg(long, value_name = "F", env = "CAIRN_TRUSTED_ROOT", conflicts_with_all = ["trust_config", "staging"])]
    pub trusted_root: Option<PathBuf>,
    /// A Sigstore ClientTrustConfig (trusted root + signing config) for a private instance.
    #[arg(
        long,
        value_name = "F",
        env = "CAIRN_TRUST_CONFIG",
        conflicts_with = "staging"
    )]
    pub trust_config: Option<PathBuf>,
    /// Trust the embedded Sigstore staging root instead of public-good.
    #[arg(long, env = "CAIRN_STAGING")]
    pub staging: bool,
}

impl TrustRootArgs {
    /// Loads the root these options name.
    pub fn load(&self) -> anyhow::Result<TrustedRoot> {
        if let Some(path) = &self.trusted_root {
            return TrustedRoot::from_file(path)
                .with_context(|| format!("cannot load trusted root {}", path.display()));
        }
        if let Some(path) = &self.trust_config {
            return Ok(TrustConfig::from_file(path, None)
                .with_context(|| format!("cannot load trust config {}", path.display()))?
                .trusted_root);
        }
        Ok(TrustedRoot::embedded(if self.staging {
            Instance::Staging
        } else {
            Instance::PublicGood
        }))
    }
}

/// How to sign the VSA (`--vsa-out`).
#[derive(Debug, Clone, Args)]
pub struct VsaArgs {
    /// On success, write a signed SLSA Verification Summary Attestation (Sigstore bundle) here.
    #[arg(long, value_name = "F", env = "CAIRN_VSA_OUT")]
    pub vsa_out: Option<PathBuf>,
    /// Sign the VSA with this private key.
    #[arg(
        long,
        value_name = "KEY",
        env = "CAIRN_KEY",
        requires = "vsa_out",
        conflicts_with = "keyless"
    )]
    pub key: Option<PathBuf>,
    /// Sign the VSA keyless (OIDC identity -> Fulcio -> Rekor).
    #[arg(long, env = "CAIRN_KEYLESS", requires = "vsa_out")]
    pub keyless: bool,
    /// The OIDC identity token for keyless signing.
    #[arg(
        long,
        value_name = "JWT",
        env = "CAIRN_IDENTITY_TOKEN",
        hide_env_values = true
    )]
    pub identity_token: Option<String>,
    /// Read the OIDC identity token from this file.
    #[arg(long, value_name = "FILE", env = "CAIRN_IDENTITY_TOKEN_FILE")]
    pub identity_token_file: Option<PathBuf>,
    /// Override the Fulcio URL (keyless VSA signing).
    #[arg(long, value_name = "URL", env = "CAIRN_FULCIO_URL")]
    pub fulcio_url: Option<String>,
    /// Override the Rekor URL (keyless VSA signing, or --vsa-tlog-upload).
    #[arg(long, value_name = "URL", env = "CAIRN_REKOR_URL")]
    pub rekor_url: Option<String>,
    /// Key-signed VSA: also upload it to Rekor.
    #[arg(long, requires = "key")]
    pub vsa_tlog_upload: bool,
    /// The VSA's `verifier.id`.
    #[arg(
        long,
        value_name = "URI",
        env = "CAIRN_VSA_VERIFIER_ID",
        default_value = "https://github.com/cairn-dev/cairn/verifier"
    )]
    pub vsa_verifier_id: String,
}

impl VsaArgs {
    fn signing(&self, trust: &TrustRootArgs) -> anyhow::Result<SigningArgs> {
        if self.key.is_none() && !self.keyless {
            return Err(with_hint(
                anyhow::anyhow!("--vsa-out needs --key KEY or --keyless to sign the VSA"),
                "an unsigned VSA proves nothing to the next gate",
            ));
        }
        Ok(SigningArgs {
            key: self.key.clone(),
            keyless: self.keyless,
            identity_token: self.identity_token.clone(),
            identity_token_file: self.identity_token_file.clone(),
            no_interactive: true,
            tlog_upload: self.vsa_tlog_upload,
            timestamp_server: None,
            timestamp: false,
            trust_config: trust.trust_config.clone(),
            staging: trust.staging,
            fulcio_url: self.fulcio_url.clone(),
            rekor_url: self.rekor_url.clone(),
            retries: 3,
            timeout: 30,
        })
    }

    /// Signs and writes a VSA for passing evaluations (all subjects in one statement).
    pub fn write(
        &self,
        ctx: &Ctx,
        trust: &TrustRootArgs,
        policy: &Policy,
        resource_uri: &str,
        results: &[(Subject, Evaluation)],
    ) -> anyhow::Result<Option<PathBuf>> {
        let Some(out) = &self.vsa_out else {
            return Ok(None);
        };
        let signing = self.signing(trust)?;
        let Some((first_subject, first_eval)) = results.first() else {
            return Ok(None);
        };
        let opts = VsaOptions {
            verifier_id: self.vsa_verifier_id.clone(),
            verifier_version: vec![("cairn".into(), env!("CARGO_PKG_VERSION").into())],
            resource_uri: resource_uri.to_owned(),
            policy_uri: policy.source.clone(),
            time: chrono::Utc::now(),
        };
        // Several platforms: one VSA naming every verified digest, at the lowest level any of
        // them reached, listing every input attestation.
        let mut merged = first_eval.clone();
        for (_, eval) in &results[1..] {
            merged.slsa_level = match (merged.slsa_level, eval.slsa_level) {
                (Some(a), Some(b)) => Some(a.min(b)),
                _ => None,
            };
            merged
                .attestations
                .extend(eval.attestations.iter().cloned());
        }
        let mut statement = vsa_statement(policy, first_subject, &merged, &opts);
        for (subject, _) in &results[1..] {
            statement
                .subject
                .push(cairn_model::ResourceDescriptor::subject(
                    subject.name.clone(),
                    cairn_model::DigestSet::sha256(&subject.sha256),
                ));
        }
        let payload = statement.to_vec();
        let (signed, _mode) = signing.sign(
            ctx,
            Payload::Dsse {
                payload_type: cairn_model::dsse::IN_TOTO_PAYLOAD_TYPE,
                payload: &payload,
                subject_sha256: first_subject.sha256,
            },
        )?;
        write_bundle(out, &signed.json)?;
        ctx.info(format!("wrote VSA {}", out.display()));
        Ok(Some(out.clone()))
    }
}

/// `verify image` arguments.
///
/// Example: cairn verify image ghcr.io/acme/app:1.2 --policy policy.yaml --vsa-out app.vsa.json --key vsa.key
#[derive(Debug, Args)]
pub struct ImageArgs {
    /// The image: registry/repo:tag, registry/repo@sha256:..., or oci:DIR[:TAG].
    pub image: String,
    /// The policy the image must satisfy (YAML; see docs/policy.md).
    #[arg(long, value_name = "FILE", env = "CAIRN_POLICY")]
    pub policy: PathBuf,
    /// Verify only this platform's manifest of a multi-platform index (os/arch[/variant]).
    #[arg(long, env = "CAIRN_PLATFORM", conflicts_with = "all_platforms")]
    pub platform: Option<String>,
    /// Verify every platform manifest of a multi-platform index (each must pass).
    #[arg(long, env = "CAIRN_ALL_PLATFORMS")]
    pub all_platforms: bool,
    /// Output format on stdout: text, json, sarif, junit or markdown.
    #[arg(long, value_enum, default_value_t = crate::render::Format::Text, env = "CAIRN_FORMAT")]
    pub format: crate::render::Format,
    /// Also write a self-contained HTML report (requirements, signers, checks) to FILE.
    #[arg(long, value_name = "FILE", env = "CAIRN_REPORT")]
    pub report: Option<PathBuf>,
    /// Show every check, not only the failing ones and the top level.
    #[arg(long)]
    pub verbose_checks: bool,
    #[command(flatten)]
    pub trust: TrustRootArgs,
    #[command(flatten)]
    pub vsa: VsaArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// One verified subject in the JSON report.
#[derive(Serialize)]
pub struct SubjectReport {
    /// The digest.
    pub digest: String,
    /// The platform, for an index's child.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Attestations that could not be handed to the engine (not Sigstore bundles).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_evaluated: Vec<String>,
    /// The evaluation.
    #[serde(flatten)]
    pub evaluation: Evaluation,
}

#[derive(Serialize)]
struct Report {
    image: String,
    digest: String,
    policy: String,
    passed: bool,
    subjects: Vec<SubjectReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vsa: Option<PathBuf>,
}

/// The subjects to verify for a resolved reference.
pub fn subjects_of(
    resolved: &Resolved,
    all_platforms: bool,
) -> anyhow::Result<Vec<(Option<String>, Digest)>> {
    let root = resolved.digest().clone();
    if all_platforms && let Manifest::Index(index) = resolved.manifest.parse()? {
        let children: Vec<_> = index
            .manifests
            .iter()
            .filter(|d| d.is_manifest())
            .map(|d| (d.platform.as_ref().map(|p| p.to_string()), d.digest.clone()))
            .collect();
        anyhow::ensure!(!children.is_empty(), "the index {root} lists no manifests");
        return Ok(children);
    }
    Ok(vec![(None, root)])
}

/// Fetches the attestations of `digest` and evaluates `policy` over them.
pub fn verify_digest(
    ctx: &Ctx,
    repo: &dyn Repository,
    name: &str,
    digest: &Digest,
    platform: Option<String>,
    policy: &Policy,
    root: &TrustedRoot,
) -> anyhow::Result<(Subject, SubjectReport)> {
    let found =
        discover(repo, digest).with_context(|| format!("cannot list attestations of {digest}"))?;
    let mut bundles = Vec::new();
    let mut not_evaluated = Vec::new();
    for f in &found.attestations {
        // Name where the evidence came from, so a verdict says referrer or cosign tag.
        let where_ = match &f.origin {
            Origin::Referrer { via } => format!(
                "referrer {} ({}) layer {}",
                f.manifest,
                match via {
                    cairn_oci::store::ReferrersSource::Api => "referrers API",
                    cairn_oci::store::ReferrersSource::TagSchema => "referrers tag schema",
                },
                f.layer.digest
            ),
            Origin::CosignAttestationTag { tag } | Origin::CosignSignatureTag { tag } => {
                format!("cosign tag {tag} layer {}", f.layer.digest)
            }
        };
        match (f.format, &f.problem) {
            (_, Some(problem)) => not_evaluated.push(format!("{where_}: {problem}")),
            (EvidenceFormat::SigstoreBundle, None) => {
                bundles.push(BundleInput::new(where_, f.content.clone()));
            }
            // cosign v2 `.att` envelopes and `.sig` simple signatures: rebuilt as Sigstore
            // bundles from their layer annotations, then verified like any other bundle.
            (_, None) => match cairn_oci::cosign::to_bundle(f) {
                Ok(c) => bundles
                    .push(BundleInput::new(where_, c.bundle).with_signed_payload(c.signed_payload)),
                Err(e) => not_evaluated.push(format!("{where_}: {:#}", anyhow::Error::new(e))),
            },
        }
    }
    for n in &not_evaluated {
        ctx.warn(format!("not evaluated: {n}"));
    }
    let bytes = sha256_bytes(digest)?;
    let subject = Subject::sha256(format!("{name}@{digest}"), bytes);
    let evaluation = evaluate(
        policy,
        &subject,
        &bundles,
        &EvalOptions::new(root, chrono::Utc::now()),
    )
    .with_context(|| format!("cannot evaluate policy {}", policy.source))?;
    Ok((
        subject,
        SubjectReport {
            digest: digest.to_string(),
            platform,
            not_evaluated,
            evaluation,
        },
    ))
}

/// Loads a policy with a hint on failure.
pub fn load_policy(path: &Path) -> anyhow::Result<Policy> {
    Policy::from_file(path).map_err(|e| {
        with_hint(
            anyhow::Error::new(e).context(format!("cannot load policy {}", path.display())),
            "see docs/policy.md for the format; `cairn policy test` runs it against fixtures",
        )
    })
}

/// Prints the human view of one subject's verdict.
pub fn render(ctx: &Ctx, s: &SubjectReport, verbose: bool) -> anyhow::Result<()> {
    let text = render_text(
        &s.evaluation.verdict,
        RenderOptions {
            verbose,
            color: ctx.color,
        },
    );
    if let Some(p) = &s.platform {
        ctx.out(format!("platform {p}:"))?;
    }
    ctx.out(text.trim_end())?;
    Ok(())
}

impl ImageArgs {
    pub fn run(self, ctx: &Ctx) -> anyhow::Result<Status> {
        let policy = load_policy(&self.policy)?;
        let root = self.trust.load()?;
        if self.vsa.vsa_out.is_some() && self.vsa.key.is_none() && !self.vsa.keyless {
            self.vsa.signing(&self.trust)?;
        }
        let reference = parse_ref(&self.image)?;
        let client = self.registry.client(ctx)?;
        let repo = open_repo(&reference, &client, false)?;
        let selection = match &self.platform {
            Some(p) => PlatformSelection::One(p.parse()?),
            None => PlatformSelection::All,
        };
        // Resolve exactly once: every later step uses this digest.
        let resolved = resolve(repo.as_ref(), &reference.reference(), &selection)
            .with_context(|| format!("cannot resolve {reference}"))?;
        if reference.digest().is_none() {
            ctx.info(format!("{reference} resolved to {}", resolved.digest()));
        }
        let mut reports = Vec::new();
        let mut results = Vec::new();
        for (platform, digest) in subjects_of(&resolved, self.all_platforms)? {
            let (subject, report) = verify_digest(
                ctx,
                repo.as_ref(),
                &reference.name(),
                &digest,
                platform,
                &policy,
                &root,
            )?;
            results.push((subject, report.evaluation.clone()));
            reports.push(report);
        }
        let passed = reports.iter().all(|r| r.evaluation.verdict.passed());
        let vsa = if passed {
            self.vsa
                .write(ctx, &self.trust, &policy, &reference.to_string(), &results)?
        } else {
            if self.vsa.vsa_out.is_some() {
                ctx.warn("verification failed: no VSA written");
            }
            None
        };
        let combined = if let [one] = reports.as_slice() {
            one.evaluation.verdict.clone()
        } else {
            cairn_verify::Verdict::new(
                reference.to_string(),
                reports
                    .iter()
                    .map(|r| {
                        let name = r.platform.clone().unwrap_or_else(|| r.digest.clone());
                        cairn_verify::Check::group(
                            format!("platform.{name}"),
                            format!("{name} ({})", r.digest),
                            r.evaluation.verdict.checks.clone(),
                        )
                    })
                    .collect(),
            )
        };
        if let Some(path) = &self.report {
            crate::render::write_report(&combined, path, env!("CARGO_PKG_VERSION"))?;
            ctx.info(format!("wrote the HTML report to {}", path.display()));
        }
        if ctx.json {
            ctx.out_json(&Report {
                image: reference.to_string(),
                digest: resolved.digest().to_string(),
                policy: policy.source.clone(),
                passed,
                subjects: reports,
                vsa,
            })?;
        } else if !crate::render::emit(&combined, self.format, env!("CARGO_PKG_VERSION"))? {
            for r in &reports {
                render(ctx, r, self.verbose_checks)?;
            }
        }
        Ok(if passed {
            Status::Success
        } else {
            Status::Failed
        })
    }
}

/// The 32 bytes of a `sha256:` digest.
pub fn sha256_bytes(digest: &Digest) -> anyhow::Result<[u8; 32]> {
    let text = digest.to_string();
    let hex_part = text
        .strip_prefix("sha256:")
        .filter(|h| h.len() == 64)
        .ok_or_else(|| anyhow::anyhow!("{digest} is not a SHA-256 digest"))?;
    let mut out = [0u8; 32];
    for (i, chunk) in hex_part.as_bytes().chunks(2).enumerate() {
        let s = std::str::from_utf8(chunk)?;
        out[i] = u8::from_str_radix(s, 16)
            .map_err(|_| anyhow::anyhow!("{digest} is not a SHA-256 digest"))?;
    }
    Ok(out)
}
