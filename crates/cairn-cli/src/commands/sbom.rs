//! `cairn sbom SOURCE`: an SPDX 2.3 or CycloneDX 1.6/1.5 SBOM of a directory, root filesystem,
//! `docker save` archive or OCI image layout.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use cairn_sbom::{ScanOptions, Source, WriteOptions, cyclonedx::SpecVersion};
use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::output::{Ctx, Status};
use crate::report::with_hint;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// SPDX 2.3 JSON.
    SpdxJson,
    /// CycloneDX JSON (1.6 unless --spec-version 1.5).
    CyclonedxJson,
}

/// `cairn sbom` arguments.
///
/// Example: cairn sbom oci:./layout:v1.2 --format cyclonedx-json --out sbom.cdx.json
#[derive(Debug, Args)]
pub struct SbomArgs {
    /// What to scan: a directory or root filesystem, a `docker save` archive, or an OCI
    /// image layout as `oci:DIR[:TAG]` (directory or tar).
    pub source: String,
    /// Document format.
    #[arg(long, value_enum, default_value_t = Format::SpdxJson, env = "CAIRN_SBOM_FORMAT")]
    pub format: Format,
    /// Specification version: 2.3 for SPDX; 1.6 (default) or 1.5 for CycloneDX.
    #[arg(long, env = "CAIRN_SBOM_SPEC_VERSION")]
    pub spec_version: Option<String>,
    /// Write the document here (atomically) instead of stdout.
    #[arg(long, short, env = "CAIRN_SBOM_OUT")]
    pub out: Option<PathBuf>,
    /// Platform to pick from a multi-platform image index.
    #[arg(long, default_value = "linux/amd64", env = "CAIRN_PLATFORM")]
    pub platform: String,
}

#[derive(Serialize)]
struct Report<'a> {
    source: &'a str,
    format: &'static str,
    spec_version: &'static str,
    out: Option<&'a Path>,
    packages: usize,
    dependencies: usize,
    distro: Option<String>,
    warnings: Vec<WarningReport<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    document: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct WarningReport<'a> {
    path: &'a str,
    message: &'a str,
}

impl SbomArgs {
    pub fn run(self, ctx: &Ctx) -> anyhow::Result<Status> {
        let spec = match (self.format, self.spec_version.as_deref()) {
            (Format::SpdxJson, None | Some("2.3")) => "2.3",
            (Format::CyclonedxJson, None | Some("1.6")) => "1.6",
            (Format::CyclonedxJson, Some("1.5")) => "1.5",
            (f, Some(v)) => {
                let ok = if f == Format::SpdxJson {
                    "2.3"
                } else {
                    "1.6 or 1.5"
                };
                anyhow::bail!("unsupported --spec-version {v} for this format (supported: {ok})");
            }
        };
        let created = created_time()?;
        let source = Source::parse(&self.source).map_err(|e| {
            with_hint(
                anyhow::Error::new(e),
                "SOURCE is a directory, a docker-save tar, or oci:DIR[:TAG]",
            )
        })?;
        let opts = ScanOptions {
            platform: self.platform.clone(),
            ..ScanOptions::default()
        };
        let sbom = cairn_sbom::scan(&source, &opts)
            .with_context(|| format!("cannot scan {}", self.source))?;
        let wopts = WriteOptions::new(created, "cairn", env!("CARGO_PKG_VERSION"));
        let mut bytes = match self.format {
            Format::SpdxJson => {
                serde_json::to_vec_pretty(&cairn_sbom::spdx::document(&sbom, &wopts))?
            }
            Format::CyclonedxJson => {
                let v = if spec == "1.5" {
                    SpecVersion::V1_5
                } else {
                    SpecVersion::V1_6
                };
                serde_json::to_vec_pretty(&cairn_sbom::cyclonedx::bom(&sbom, &wopts, v))?
            }
        };
        bytes.push(b'\n');
        for w in &sbom.warnings {
            if !ctx.json {
                ctx.warn(format!("{}: {}", w.path, w.message));
            }
        }
        if let Some(out) = &self.out {
            crate::output::write_atomic(out, &bytes)?;
        }
        let format = match self.format {
            Format::SpdxJson => "spdx-json",
            Format::CyclonedxJson => "cyclonedx-json",
        };
        if ctx.json {
            let document = match &self.out {
                Some(_) => None,
                None => Some(serde_json::from_slice(&bytes)?),
            };
            ctx.out_json(&Report {
                source: &self.source,
                format,
                spec_version: spec,
                out: self.out.as_deref(),
                packages: sbom.packages.len(),
                dependencies: sbom.dependencies.len(),
                distro: sbom.distro.as_ref().map(|d| d.qualifier()),
                warnings: sbom
                    .warnings
                    .iter()
                    .map(|w| WarningReport {
                        path: &w.path,
                        message: &w.message,
                    })
                    .collect(),
                document,
            })?;
        } else if self.out.is_none() {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&bytes)?;
            stdout.flush()?;
        }
        if let Some(out) = &self.out {
            ctx.info(format!(
                "wrote {} ({} packages, {} dependency edges{}) to {}",
                format,
                sbom.packages.len(),
                sbom.dependencies.len(),
                sbom.distro
                    .as_ref()
                    .map(|d| format!(", distro {}", d.qualifier()))
                    .unwrap_or_default(),
                out.display()
            ));
        }
        Ok(Status::Success)
    }
}

/// `SOURCE_DATE_EPOCH` when set (reproducible builds), else now.
fn created_time() -> anyhow::Result<DateTime<Utc>> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if !v.trim().is_empty() => {
            let secs: i64 = v
                .trim()
                .parse()
                .with_context(|| format!("SOURCE_DATE_EPOCH={v:?} is not a number of seconds"))?;
            DateTime::from_timestamp(secs, 0)
                .with_context(|| format!("SOURCE_DATE_EPOCH={v:?} is out of range"))
        }
        _ => Ok(Utc::now()),
    }
}
