//! `cairn verify layout LAYOUT --layout-key PUB... [--links DIR] [--at RFC3339] [--param K=V]...`:
//! in-toto layout verification (specification v1.0), with a verdict that names the failing rule,
//! the artifacts it caught and where each came from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use cairn_verify::layout::inspect::InspectionSettings;
use cairn_verify::layout::{Options, verify_file, verify_file_with_root};
use cairn_verify::render::{RenderOptions, render_text};
use chrono::{DateTime, Utc};
use clap::Args;

use crate::output::{Ctx, Status};
use crate::render::Format;
use crate::report::with_hint;

/// `verify layout` arguments.
#[derive(Debug, Args)]
pub struct LayoutArgs {
    /// The signed layout (metablock or DSSE envelope).
    #[arg(value_name = "LAYOUT")]
    pub layout: PathBuf,
    /// Public key(s) of the layout owner(s); every one must have signed the layout.
    #[arg(long = "layout-key", value_name = "PUB", required = true, num_args = 1..,
          env = "CAIRN_LAYOUT_KEY", value_delimiter = ',')]
    pub layout_keys: Vec<PathBuf>,
    /// Directory holding the links (`<step>.<keyid[:8]>.link`); default: the layout's directory.
    #[arg(long, value_name = "DIR", env = "CAIRN_LINKS")]
    pub links: Option<PathBuf>,
    /// Verification time for the expiry check (RFC 3339); default: now.
    #[arg(long, value_name = "RFC3339", env = "CAIRN_AT")]
    pub at: Option<String>,
    /// Layout parameter for `{NAME}` substitution (repeatable).
    #[arg(long = "param", value_name = "K=V")]
    pub params: Vec<String>,
    /// Directory the inspections run in and whose files they record; default: the current
    /// directory (as in-toto-verify).
    #[arg(long, value_name = "DIR", env = "CAIRN_INSPECTION_DIR")]
    pub workdir: Option<PathBuf>,
    /// Seconds one inspection may run before it is killed (and fails).
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 60.0,
        env = "CAIRN_INSPECTION_TIMEOUT"
    )]
    pub inspection_timeout: f64,
    /// A Sigstore trusted_root.json that links in Sigstore bundles are verified against
    /// (Fulcio CAs, Rekor keys, CT logs, TSAs); default: the embedded public-good root.
    #[arg(long, value_name = "FILE", env = "CAIRN_TRUSTED_ROOT")]
    pub trusted_root: Option<PathBuf>,
    /// Do not write `<inspection>.link` files into the inspection directory.
    #[arg(long, env = "CAIRN_NO_INSPECTION_LINKS")]
    pub no_inspection_links: bool,
    /// Output format on stdout: text, json, sarif, junit or markdown.
    #[arg(long, value_enum, default_value_t = Format::Text, env = "CAIRN_FORMAT")]
    pub format: Format,
    /// Also write a self-contained HTML report (the supply chain as a graph) to FILE.
    #[arg(long, value_name = "FILE", env = "CAIRN_REPORT")]
    pub report: Option<PathBuf>,
}

fn parse_at(text: &str) -> anyhow::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            with_hint(
                anyhow::Error::new(e).context(format!("--at {text:?} is not an RFC 3339 time")),
                "example: --at 2026-01-31T12:00:00Z",
            )
        })
}

fn parse_params(items: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for item in items {
        let Some((k, v)) = item.split_once('=') else {
            bail!("--param {item:?} is not of the form NAME=VALUE");
        };
        if out.insert(k.to_owned(), v.to_owned()).is_some() {
            bail!("--param {k} given twice");
        }
    }
    cairn_verify::layout::params::check_names(&out)?;
    Ok(out)
}

fn load_public(path: &Path) -> anyhow::Result<cairn_sign::PublicKey> {
    let key = cairn_sign::load_key(path, None)
        .with_context(|| format!("cannot load layout key {}", path.display()))?;
    Ok(key.public_key().clone())
}

impl LayoutArgs {
    pub fn run(self, ctx: &Ctx) -> anyhow::Result<Status> {
        let at = match &self.at {
            Some(text) => parse_at(text)?,
            None => Utc::now(),
        };
        let params = parse_params(&self.params)?;
        let layout_keys = self
            .layout_keys
            .iter()
            .map(|p| load_public(p))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let link_dir = match &self.links {
            Some(d) => d.clone(),
            None => match self.layout.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            },
        };
        if !link_dir.is_dir() {
            bail!("link directory {} does not exist", link_dir.display());
        }
        let workdir = match &self.workdir {
            Some(d) => d.clone(),
            None => std::env::current_dir().context("cannot determine the current directory")?,
        };
        if !(self.inspection_timeout.is_finite() && self.inspection_timeout > 0.0) {
            bail!("--inspection-timeout must be a positive number of seconds");
        }
        let opts = Options {
            layout_keys,
            at,
            params,
            link_dir,
            inspections: InspectionSettings {
                link_dir: (!self.no_inspection_links).then(|| workdir.clone()),
                workdir,
                timeout: Duration::from_secs_f64(self.inspection_timeout),
            },
        };
        let verdict = match &self.trusted_root {
            Some(path) => {
                let root = cairn_sigstore::TrustedRoot::from_file(path)
                    .with_context(|| format!("cannot load trusted root {}", path.display()))?;
                verify_file_with_root(&self.layout, &opts, &root)?
            }
            None => verify_file(&self.layout, &opts)?,
        };
        if let Some(path) = &self.report {
            crate::render::write_report(&verdict, path, env!("CARGO_PKG_VERSION"))?;
            ctx.info(format!("wrote the HTML report to {}", path.display()));
        }
        if ctx.json {
            ctx.out_json(&verdict)?;
        } else if !crate::render::emit(&verdict, self.format, env!("CARGO_PKG_VERSION"))? {
            let text = render_text(
                &verdict,
                RenderOptions {
                    verbose: ctx.verbose > 0,
                    color: ctx.color,
                },
            );
            ctx.out(text.trim_end())?;
        }
        Ok(if verdict.passed() {
            Status::Success
        } else {
            Status::Failed
        })
    }
}
