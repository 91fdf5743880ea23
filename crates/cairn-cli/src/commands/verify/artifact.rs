//! `cairn verify artifact FILE --bundle B ...`: offline Sigstore bundle verification.
//!
//! This path builds no HTTP client: the trusted root is embedded, or read from `--trusted-root`
//! or `--trust-config`, and the bundle carries the rest.

use std::path::PathBuf;

use anyhow::Context;
use cairn_sigstore::{
    Artifact, CertificatePolicy, GithubClaims, Identity, Instance, PublicKey, SignerPolicy,
    TrustConfig, TrustedRoot, Verdict, VerifyOptions, verify_bundle,
};
use clap::Args;
use serde::Serialize;

use crate::output::{Ctx, Status};
use crate::report::with_hint;

/// `verify artifact` arguments.
#[derive(Debug, Args)]
pub struct ArtifactArgs {
    /// The signed file (for a DSSE bundle: a subject of the statement), or `sha256:<hex>` / `sha512:<hex>`.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The Sigstore bundle (v0.1-v0.3). With --policy, repeat it for every attestation.
    #[arg(long, value_name = "B", env = "CAIRN_BUNDLE", required = true)]
    pub bundle: Vec<PathBuf>,
    /// Evaluate an attestation policy (signers, provenance, SBOM, CEL; see docs/policy.md)
    /// over the bundles instead of checking one signer.
    #[arg(long, value_name = "FILE", env = "CAIRN_POLICY",
          conflicts_with_all = ["key", "certificate_identity", "certificate_identity_regexp", "certificate_oidc_issuer", "insecure_ignore_tlog"])]
    pub policy: Option<PathBuf>,
    /// Verify a key-based bundle with this public key (PEM) instead of a certificate identity.
    #[arg(long, value_name = "PUB", env = "CAIRN_VERIFY_KEY",
          conflicts_with_all = ["certificate_identity", "certificate_identity_regexp", "certificate_oidc_issuer"])]
    pub key: Option<PathBuf>,
    /// The exact certificate identity (SAN: URI or email) to accept.
    #[arg(long, value_name = "ID", env = "CAIRN_CERTIFICATE_IDENTITY",
          conflicts_with = "certificate_identity_regexp", required_unless_present_any = ["key", "certificate_identity_regexp", "policy"])]
    pub certificate_identity: Option<String>,
    /// A regular expression the whole certificate identity must match (always anchored).
    #[arg(long, value_name = "RE", env = "CAIRN_CERTIFICATE_IDENTITY_REGEXP")]
    pub certificate_identity_regexp: Option<String>,
    /// The OIDC issuer that must have vouched for the identity (exact).
    #[arg(
        long,
        value_name = "ISS",
        env = "CAIRN_CERTIFICATE_OIDC_ISSUER",
        required_unless_present_any = ["key", "policy"]
    )]
    pub certificate_oidc_issuer: Option<String>,
    /// Require this GitHub source repository (`owner/repo`).
    #[arg(long, value_name = "OWNER/REPO", env = "CAIRN_GITHUB_REPOSITORY")]
    pub github_repository: Option<String>,
    /// Require this signing workflow (`owner/repo/.github/workflows/f.yml@refs/...`).
    #[arg(long, value_name = "REF", env = "CAIRN_GITHUB_WORKFLOW_REF")]
    pub github_workflow_ref: Option<String>,
    /// Require this source commit.
    #[arg(long, value_name = "SHA", env = "CAIRN_GITHUB_SHA")]
    pub github_sha: Option<String>,
    /// Require this source ref (e.g. `refs/tags/v1.2.0`).
    #[arg(long, value_name = "REF", env = "CAIRN_GITHUB_REF")]
    pub github_ref: Option<String>,
    /// Require this runner environment (`github-hosted` or `self-hosted`).
    #[arg(long, value_name = "ENV", env = "CAIRN_GITHUB_RUNNER_ENVIRONMENT")]
    pub github_runner_environment: Option<String>,
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
    /// Key-based bundles: accept one with no transparency-log entry (signed without
    /// --tlog-upload). Nothing then proves when it was signed or that it was published.
    #[arg(long, env = "CAIRN_INSECURE_IGNORE_TLOG", requires = "key")]
    pub insecure_ignore_tlog: bool,
    /// Guarantee no network access. (Verification never fetches anything; this flag makes that a
    /// promise that future options such as a TUF refresh cannot break.)
    #[arg(long, env = "CAIRN_OFFLINE")]
    pub offline: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    artifact: String,
    bundle: String,
    #[serde(flatten)]
    verdict: &'a Verdict,
}

impl ArtifactArgs {
    pub fn run(self, ctx: &Ctx) -> anyhow::Result<Status> {
        let root = self.trusted_root()?;
        if let Some(policy) = &self.policy {
            return super::artifact_policy::run(ctx, &self.file, &self.bundle, policy, &root);
        }
        let [bundle_path] = self.bundle.as_slice() else {
            anyhow::bail!("give exactly one --bundle (several bundles need --policy)");
        };
        let signer = self.signer()?;
        let bundle = std::fs::read(bundle_path)
            .with_context(|| format!("cannot read bundle {}", bundle_path.display()))?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .context("system clock is before 1970")?
            .as_secs() as i64;
        if self.insecure_ignore_tlog {
            ctx.warn("--insecure-ignore-tlog: a bundle without a transparency-log entry will be accepted");
        }
        let options = VerifyOptions {
            now,
            allow_missing_tlog: self.insecure_ignore_tlog,
        };
        let file_text = self.file.to_string_lossy().to_string();
        let verdict = if !self.file.exists()
            && (file_text.starts_with("sha256:") || file_text.starts_with("sha512:"))
        {
            let artifact = Artifact::parse_digest(&file_text)?;
            verify_bundle(&bundle, artifact, &signer, &root, options)?
        } else {
            let mut file = std::fs::File::open(&self.file)
                .with_context(|| format!("cannot read {}", self.file.display()))?;
            verify_bundle(
                &bundle,
                Artifact::Reader(&mut file),
                &signer,
                &root,
                options,
            )
            .with_context(|| format!("cannot verify {}", self.file.display()))?
        };
        if ctx.json {
            ctx.out_json(&Report {
                artifact: file_text.clone(),
                bundle: bundle_path.display().to_string(),
                verdict: &verdict,
            })?;
        } else {
            for check in &verdict.checks {
                let mark = if check.passed {
                    ctx.paint("ok  ", "32")
                } else {
                    ctx.paint("FAIL", "31")
                };
                let name = serde_json::to_value(check.check)?;
                ctx.out(format!(
                    "{mark} {:<17} {}",
                    name.as_str().unwrap_or_default(),
                    check.detail
                ))?;
            }
            if verdict.verified {
                ctx.out(format!("verified: {file_text}"))?;
            } else {
                ctx.out(format!("verification failed: {file_text}"))?;
            }
        }
        if !verdict.verified
            && self.key.is_some()
            && !self.insecure_ignore_tlog
            && verdict
                .first_failure()
                .is_some_and(|c| c.check == cairn_sigstore::CheckKind::TransparencyLog)
            && without_log_entries(&bundle)
        {
            ctx.info(
                "hint: this key-based bundle was signed without a transparency-log upload; if you \
                 accept that nothing proves when it was signed or that it was published, pass \
                 --insecure-ignore-tlog (or re-sign with --tlog-upload / --timestamp-server)",
            );
        }
        Ok(if verdict.verified {
            Status::Success
        } else {
            Status::Failed
        })
    }

    fn trusted_root(&self) -> anyhow::Result<TrustedRoot> {
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

    fn signer(&self) -> anyhow::Result<SignerPolicy> {
        if let Some(path) = &self.key {
            let key = cairn_sign::load_key(path, None)
                .with_context(|| format!("cannot load public key {}", path.display()))?;
            let der = key.public_key().to_spki_der().to_vec();
            return Ok(SignerPolicy::Key(PublicKey::from_der(der)));
        }
        let identity = match (
            &self.certificate_identity,
            &self.certificate_identity_regexp,
        ) {
            (Some(id), None) => Identity::exact(id.clone()),
            (None, Some(re)) => Identity::pattern(re)?,
            _ => anyhow::bail!("give --certificate-identity or --certificate-identity-regexp"),
        };
        let Some(issuer) = &self.certificate_oidc_issuer else {
            return Err(with_hint(
                anyhow::anyhow!("--certificate-oidc-issuer is required for keyless verification"),
                "GitHub Actions: https://token.actions.githubusercontent.com",
            ));
        };
        let github = GithubClaims {
            repository: self.github_repository.clone(),
            workflow_ref: self.github_workflow_ref.clone(),
            sha: self.github_sha.clone(),
            git_ref: self.github_ref.clone(),
            runner_environment: self.github_runner_environment.clone(),
        };
        Ok(SignerPolicy::Certificate(
            CertificatePolicy::new(identity, issuer.clone()).with_github(github),
        ))
    }
}

/// Whether the bundle (already verified to parse) has no transparency-log entry.
fn without_log_entries(bundle: &[u8]) -> bool {
    cairn_model::json::value_from_slice(bundle).is_ok_and(|v| {
        v.pointer("/verificationMaterial/tlogEntries")
            .and_then(|e| e.as_array())
            .is_none_or(|e| e.is_empty())
    })
}
