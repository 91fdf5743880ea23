//! `cairn trust refresh`: fetch a Sigstore instance's trusted root and signing config through TUF
//! into a ClientTrustConfig file that `--trust-config` reads. The only command that fetches trust
//! material; verification never does.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use cairn_sigstore::{Instance, Retry, TufSource, refresh_through_tuf};
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::output::{Ctx, Status};

/// Sigstore trust material.
#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Fetch the trusted root and signing config through TUF (signed, unexpired metadata; targets
    /// checked by hash) and write them as a ClientTrustConfig for --trust-config.
    ///
    /// Default: Sigstore public-good, bootstrapped from its TUF root embedded in cairn. A private
    /// instance: --tuf-url with the initial root.json you trust (--tuf-root).
    ///
    /// Example: cairn trust refresh --out trust_config.json && cairn verify artifact app.tar.gz --bundle b.json --trust-config trust_config.json ...
    Refresh(RefreshArgs),
}

/// `trust refresh` arguments.
#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// Where to write the ClientTrustConfig (atomically).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The Sigstore staging instance's TUF repository.
    #[arg(long, conflicts_with_all = ["tuf_url", "tuf_root"])]
    pub staging: bool,
    /// A TUF repository's base URL (a private instance); needs --tuf-root.
    #[arg(long, value_name = "URL", requires = "tuf_root")]
    pub tuf_url: Option<String>,
    /// The initial root.json to trust for --tuf-url.
    #[arg(long, value_name = "FILE", requires = "tuf_url")]
    pub tuf_root: Option<PathBuf>,
    /// Timeout per request, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub timeout: u64,
}

#[derive(Serialize)]
struct Report {
    out: String,
    source: String,
    certificate_authorities: usize,
    tlogs: usize,
    ctlogs: usize,
    timestamp_authorities: usize,
}

impl TrustCommand {
    pub fn run(self, ctx: &Ctx) -> anyhow::Result<Status> {
        match self {
            TrustCommand::Refresh(args) => args.run(ctx),
        }
    }
}

impl RefreshArgs {
    fn run(self, ctx: &Ctx) -> anyhow::Result<Status> {
        let root_bytes = match &self.tuf_root {
            Some(p) => Some(
                std::fs::read(p)
                    .with_context(|| format!("cannot read TUF root {}", p.display()))?,
            ),
            None => None,
        };
        let (source, label) = match (&self.tuf_url, &root_bytes) {
            (Some(url), Some(root)) => (TufSource::Custom { url, root }, url.clone()),
            _ if self.staging => (TufSource::Instance(Instance::Staging), "staging".into()),
            _ => (
                TufSource::Instance(Instance::PublicGood),
                "public-good".into(),
            ),
        };
        let retry = Retry {
            attempts: 1,
            backoff: Duration::from_millis(500),
            timeout: Duration::from_secs(self.timeout.max(1)),
        };
        ctx.info(format!(
            "refreshing Sigstore trust material from {label} through TUF"
        ));
        let (trust, json) = refresh_through_tuf(source, &retry, crate::commands::sign::now()?)
            .with_context(|| format!("cannot refresh trust material from {label}"))?;
        let mut bytes = json;
        bytes.push(b'\n');
        crate::output::write_atomic(&self.out, &bytes)?;
        let [cas, tlogs, ctlogs, tsas] = trust.trusted_root.counts();
        let report = Report {
            out: self.out.display().to_string(),
            source: label,
            certificate_authorities: cas,
            tlogs,
            ctlogs,
            timestamp_authorities: tsas,
        };
        if ctx.json {
            ctx.out_json(&report)?;
        } else {
            ctx.out(format!(
                "wrote {} ({cas} CA(s), {tlogs} log(s), {ctlogs} CT log(s), {tsas} TSA(s)); use it with --trust-config",
                report.out
            ))?;
        }
        Ok(Status::Success)
    }
}
