//! `cairn sign FILE (--key KEY | --keyless) --bundle OUT`: a Sigstore bundle (v0.3) with a message
//! signature over FILE. Also home of the signing options `cairn attest` shares.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use cairn_sigstore::{
    IdentityToken, Instance, Payload, Retry, Services, SignOptions, SignedBundle, TokenEnv,
    TrustConfig, TrustedRoot, detect_token, sign_keyless, sign_with_key_checked,
};
use clap::Args;
use serde::Serialize;

use crate::output::{Ctx, Status};
use crate::report::with_hint;

/// `sign` arguments.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The file to sign.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Where to write the bundle.
    #[arg(long, value_name = "OUT", env = "CAIRN_BUNDLE")]
    pub bundle: PathBuf,
    #[command(flatten)]
    pub signing: SigningArgs,
}

/// How to sign: with a key, or keyless through Sigstore.
#[derive(Debug, Args)]
#[group(skip)]
#[command(group = clap::ArgGroup::new("signing_mode").required(true).multiple(false).args(["key", "keyless"]))]
pub struct SigningArgs {
    /// Sign with this private key (PEM PKCS#8/PKCS#1/SEC1, encrypted PKCS#8 or cosign key;
    /// password from CAIRN_PASSWORD).
    #[arg(long, value_name = "KEY", env = "CAIRN_KEY")]
    pub key: Option<PathBuf>,
    /// Sign keyless: OIDC identity -> Fulcio certificate -> Rekor entry.
    #[arg(long, env = "CAIRN_KEYLESS")]
    pub keyless: bool,
    /// The OIDC identity token to use (else: token file, GitHub Actions, GitLab CI, browser).
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
    /// Never open a browser: fail when no token is found. (The browser flow runs at a terminal,
    /// or wherever CAIRN_BROWSER names the command that opens its URL, e.g. `firefox`.)
    #[arg(long, env = "CAIRN_NO_INTERACTIVE")]
    pub no_interactive: bool,
    /// Key-based signing: also upload the signature to Rekor.
    #[arg(long, env = "CAIRN_TLOG_UPLOAD", requires = "key")]
    pub tlog_upload: bool,
    /// Ask this RFC 3161 timestamp authority for a timestamp over the signature.
    #[arg(long, value_name = "URL", env = "CAIRN_TIMESTAMP_SERVER")]
    pub timestamp_server: Option<String>,
    /// Ask the signing config's timestamp authority for a timestamp.
    #[arg(long, env = "CAIRN_TIMESTAMP")]
    pub timestamp: bool,
    /// A Sigstore ClientTrustConfig (trusted root + signing config) or signing config, for a
    /// private instance.
    #[arg(
        long,
        value_name = "F",
        env = "CAIRN_TRUST_CONFIG",
        conflicts_with = "staging"
    )]
    pub trust_config: Option<PathBuf>,
    /// Use the Sigstore staging instance.
    #[arg(long, env = "CAIRN_STAGING")]
    pub staging: bool,
    /// Override the Fulcio URL.
    #[arg(long, value_name = "URL", env = "CAIRN_FULCIO_URL")]
    pub fulcio_url: Option<String>,
    /// Override the Rekor (v1) URL.
    #[arg(long, value_name = "URL", env = "CAIRN_REKOR_URL")]
    pub rekor_url: Option<String>,
    /// Attempts per service request (transport errors, timeouts, 429 and 5xx are retried).
    #[arg(long, value_name = "N", default_value_t = 3, env = "CAIRN_RETRIES")]
    pub retries: u32,
    /// Timeout per service request, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30, env = "CAIRN_TIMEOUT")]
    pub timeout: u64,
}

#[derive(Serialize)]
pub(crate) struct SignReport {
    pub bundle: String,
    pub mode: &'static str,
    pub identity: Option<String>,
    pub issuer: Option<String>,
    pub log_index: Option<i64>,
}

impl SigningArgs {
    fn trust(&self) -> anyhow::Result<TrustConfig> {
        if let Some(path) = &self.trust_config {
            return TrustConfig::from_file(path, None)
                .with_context(|| format!("cannot load trust config {}", path.display()));
        }
        Ok(TrustConfig::embedded(if self.staging {
            Instance::Staging
        } else {
            Instance::PublicGood
        }))
    }

    fn services(&self, trust: &TrustConfig) -> Services {
        let mut services = trust
            .signing_config
            .as_ref()
            .map(Services::from_signing_config)
            .unwrap_or_default();
        if let Some(u) = &self.fulcio_url {
            services.fulcio = Some(u.clone());
        }
        if let Some(u) = &self.rekor_url {
            services.rekor = Some(u.clone());
        }
        if let Some(u) = &self.timestamp_server {
            services.tsa = Some(u.clone());
        }
        services
    }

    fn options(&self) -> anyhow::Result<SignOptions> {
        Ok(SignOptions {
            retry: Retry {
                attempts: self.retries.max(1),
                backoff: Duration::from_millis(500),
                timeout: Duration::from_secs(self.timeout.max(1)),
            },
            timestamp: self.timestamp || self.timestamp_server.is_some(),
            tlog_upload: self.tlog_upload,
            now: now()?,
        })
    }

    fn token(
        &self,
        ctx: &Ctx,
        services: &Services,
        retry: &Retry,
    ) -> anyhow::Result<IdentityToken> {
        let mut env = TokenEnv::from_process_env();
        env.explicit = self.identity_token.clone();
        env.file = self.identity_token_file.clone();
        if let Some(token) = detect_token(&env, retry)? {
            ctx.info(format!("using identity token from {:?}", token.origin));
            return Ok(token);
        }
        use std::io::IsTerminal;
        // CAIRN_BROWSER: the command that opens the sign-in URL (the URL is its last argument).
        let browser_cmd = std::env::var("CAIRN_BROWSER")
            .ok()
            .filter(|c| !c.trim().is_empty());
        let interactive =
            !self.no_interactive && (browser_cmd.is_some() || std::io::stdin().is_terminal());
        match (&services.oidc, interactive) {
            (Some(oidc), true) => {
                let browser = match &browser_cmd {
                    Some(cmd) => cairn_sigstore::Browser::Command(cmd),
                    None => cairn_sigstore::Browser::System,
                };
                let flow = cairn_sigstore::InteractiveFlow {
                    issuer: oidc,
                    client_id: "sigstore",
                    browser,
                    timeout: Duration::from_secs(300),
                    retry: *retry,
                };
                let token = cairn_sigstore::interactive_token(&flow, &mut |url| {
                    ctx.info(format!(
                        "no ambient identity token: sign in with {oidc} in the browser \
                         (if it does not open, visit the URL below)\n  {url}"
                    ))
                })?;
                ctx.info("signed in");
                Ok(token)
            }
            _ => Err(with_hint(
                anyhow::anyhow!("no OIDC identity token found"),
                "pass --identity-token / --identity-token-file, or run in GitHub Actions with \
                 `permissions: id-token: write`, or in GitLab CI with an `id_tokens: SIGSTORE_ID_TOKEN` \
                 (aud: sigstore), or sign in with a browser at a terminal (CAIRN_BROWSER names \
                 the command that opens the URL)",
            )),
        }
    }

    /// Signs `payload` as the flags say.
    pub(crate) fn sign(
        &self,
        ctx: &Ctx,
        payload: Payload<'_>,
    ) -> anyhow::Result<(SignedBundle, &'static str)> {
        let trust = self.trust()?;
        let services = self.services(&trust);
        let options = self.options()?;
        if let Some(path) = &self.key {
            let password = cairn_sign::Password::from_env()?;
            let key = match cairn_sign::load_key(path, password.as_ref())
                .with_context(|| format!("cannot load key {}", path.display()))?
            {
                cairn_sign::ParsedKey::Private(k) => k,
                cairn_sign::ParsedKey::Public(_) => {
                    anyhow::bail!(
                        "{} is a public key; signing needs the private key",
                        path.display()
                    )
                }
            };
            let signed =
                sign_with_key_checked(&services, &trust.trusted_root, &key, payload, &options)?;
            if signed.log_index.is_none() && !options.timestamp {
                ctx.warn(
                    "the bundle has no transparency-log entry and no timestamp, so nothing proves \
                     when it was signed: verifiers must accept that explicitly \
                     (`cairn verify artifact --insecure-ignore-tlog`, or `transparencyLog: \
                     optional` on the key's signer in a policy); add --tlog-upload or \
                     --timestamp-server URL to record the signing time",
                );
            }
            return Ok((signed, "key"));
        }
        let token = self.token(ctx, &services, &options.retry)?;
        let root: &TrustedRoot = &trust.trusted_root;
        let signed = sign_keyless(&services, root, &token, payload, &options)?;
        Ok((signed, "keyless"))
    }
}

pub(crate) fn now() -> anyhow::Result<i64> {
    Ok(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("system clock is before 1970")?
        .as_secs() as i64)
}

/// Writes `bytes` to `path` atomically (temp file in the same directory, then rename).
pub(crate) fn write_bundle(path: &Path, json: &[u8]) -> anyhow::Result<()> {
    let mut bytes = Vec::with_capacity(json.len() + 1);
    bytes.extend_from_slice(json);
    bytes.push(b'\n');
    crate::output::write_atomic(path, &bytes)
}

pub(crate) fn report(
    ctx: &Ctx,
    out: &Path,
    signed: &SignedBundle,
    mode: &'static str,
) -> anyhow::Result<()> {
    let report = SignReport {
        bundle: out.display().to_string(),
        mode,
        identity: signed.identity.clone(),
        issuer: signed.issuer.clone(),
        log_index: signed.log_index,
    };
    if ctx.json {
        return ctx.out_json(&report);
    }
    if let (Some(id), Some(iss)) = (&report.identity, &report.issuer) {
        ctx.info(format!("signed as {id} (issuer {iss})"));
    }
    match report.log_index {
        Some(i) => ctx.info(format!("transparency log entry at index {i}")),
        None => ctx.info("not uploaded to a transparency log"),
    }
    ctx.out(format!("wrote {}", report.bundle))?;
    Ok(())
}

impl SignArgs {
    pub fn run(self, ctx: &Ctx) -> anyhow::Result<Status> {
        let bytes = std::fs::read(&self.file)
            .with_context(|| format!("cannot read {}", self.file.display()))?;
        let (signed, mode) = self.signing.sign(ctx, Payload::Blob(&bytes))?;
        write_bundle(&self.bundle, &signed.json)?;
        report(ctx, &self.bundle, &signed, mode)?;
        Ok(Status::Success)
    }
}
