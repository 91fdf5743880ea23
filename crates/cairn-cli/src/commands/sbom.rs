//! `cairn sbom SOURCE`: an SPDX 2.3 or CycloneDX 1.6/1.5 SBOM of a directory, root filesystem,
//! `docker save` archive, OCI image layout, or registry image (pulled through cairn-oci, one
//! layer at a time, each blob checked against its digest while it streams).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use cairn_oci::{Location, Manifest, OciRef, PlatformSelection, PlatformSpec, Repository};
use cairn_sbom::{
    ImageSource, LayerDescriptor, Sbom, ScanOptions, Source, SourceInfo, SourceKind, WriteOptions,
    cyclonedx::SpecVersion,
};
use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use serde::Serialize;

use super::attach::{RegistryArgs, open_repo};
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
///
/// Example: cairn sbom ghcr.io/acme/app:1.2 --platform linux/arm64 --out sbom.spdx.json
#[derive(Debug, Args)]
pub struct SbomArgs {
    /// What to scan: a directory or root filesystem, a `docker save` archive, an OCI image
    /// layout as `oci:DIR[:TAG]` (directory or tar), or a registry image (`registry/repo:tag`,
    /// `registry/repo@sha256:...`; `registry:REF` or `docker://REF` to force it when a local
    /// path has the same name).
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
    /// For a `docker save` archive holding several images: the one whose RepoTags include this
    /// (`name:tag` or just `tag`); default the first. For OCI layouts use `oci:DIR:TAG`.
    #[arg(long)]
    pub tag: Option<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// What `SOURCE` names.
enum Target {
    Local(Source),
    Registry(OciRef),
}

/// Decides what `SOURCE` is: explicit prefixes first, then an existing local path, then a
/// registry reference.
fn target(s: &str) -> anyhow::Result<Target> {
    let forced = s.strip_prefix("registry:").or_else(|| {
        s.starts_with("docker://").then_some(s) // OciRef::parse accepts docker://
    });
    if let Some(r) = forced {
        return Ok(Target::Registry(registry_ref(r)?));
    }
    let local_prefix = ["oci:", "dir:", "docker-archive:"]
        .iter()
        .any(|p| s.starts_with(p));
    let path_like = s.starts_with(['/', '.', '~'])
        || s.ends_with('/')
        || [".tar", ".tar.gz", ".tgz"].iter().any(|e| s.ends_with(e));
    if !local_prefix
        && !path_like
        && std::fs::symlink_metadata(s).is_err()
        && let Ok(r) = OciRef::parse(s)
        && matches!(r.location(), Location::Registry { .. })
    {
        return Ok(Target::Registry(r));
    }
    Source::parse(s).map(Target::Local).map_err(|e| {
        with_hint(
            anyhow::Error::new(e),
            "SOURCE is a directory, a docker-save tar, oci:DIR[:TAG], or a registry image (registry/repo:tag)",
        )
    })
}

fn registry_ref(s: &str) -> anyhow::Result<OciRef> {
    let r = super::attach::parse_ref(s)?;
    if !matches!(r.location(), Location::Registry { .. }) {
        anyhow::bail!("`{s}` is not a registry reference");
    }
    Ok(r)
}

/// A registry image as cairn-sbom sees it: the layers of the selected manifest, each opened as
/// a blob stream that fails at its end unless size and digest match the manifest.
struct RegistryImage {
    repo: Box<dyn Repository>,
    info: SourceInfo,
    descriptors: Vec<cairn_oci::Descriptor>,
    layers: Vec<LayerDescriptor>,
}

impl ImageSource for RegistryImage {
    fn info(&self) -> SourceInfo {
        self.info.clone()
    }
    fn layers(&self) -> &[LayerDescriptor] {
        &self.layers
    }
    fn open_layer(&self, index: usize) -> std::io::Result<Box<dyn Read + '_>> {
        let desc = self
            .descriptors
            .get(index)
            .ok_or_else(|| std::io::Error::other("no such layer"))?;
        let stream = self.repo.open_blob(desc).map_err(std::io::Error::other)?;
        Ok(stream.reader)
    }
}

fn scan_registry(
    reference: &OciRef,
    args: &SbomArgs,
    opts: &ScanOptions,
    ctx: &Ctx,
) -> anyhow::Result<Sbom> {
    let spec: PlatformSpec = args.platform.parse().context("cannot use --platform")?;
    let client = args.registry.client(ctx)?;
    let repo = open_repo(reference, &client, false)?;
    let resolved = cairn_oci::resolve(
        repo.as_ref(),
        &reference.reference(),
        &PlatformSelection::One(spec.clone()),
    )
    .map_err(|e| {
        let hint = matches!(e, cairn_oci::Error::PlatformNotFound { .. })
            .then_some("pick one of the index's platforms with --platform os/arch[/variant]");
        let e = anyhow::Error::new(e).context(format!("cannot resolve {reference}"));
        match hint {
            Some(h) => with_hint(e, h),
            None => e,
        }
    })?;
    let digest = resolved.digest().clone();
    let manifest = match resolved.manifest.parse()? {
        Manifest::Image(m) => m,
        Manifest::Index(_) => anyhow::bail!(
            "{reference}: the index entry for {spec} is itself an index (nested indexes are not followed)"
        ),
    };
    if manifest.artifact_type.is_some() || manifest.layers.is_empty() {
        anyhow::bail!(
            "{reference}@{digest} is not a container image (artifact type {}, {} layer(s))",
            manifest
                .artifact_type
                .as_deref()
                .unwrap_or(&manifest.config.media_type),
            manifest.layers.len()
        );
    }
    if resolved.index.is_none() {
        warn_on_platform_mismatch(repo.as_ref(), &manifest.config, &spec, reference, ctx);
    }
    let bytes: u64 = manifest.layers.iter().map(|l| l.size).sum();
    ctx.info(format!(
        "{reference} resolved to {digest}{}: {} layer(s), {}",
        if resolved.index.is_some() {
            format!(" ({spec})")
        } else {
            String::new()
        },
        manifest.layers.len(),
        human_size(bytes)
    ));
    let image = RegistryImage {
        layers: manifest
            .layers
            .iter()
            .map(|l| LayerDescriptor {
                media_type: l.media_type.clone(),
                digest: Some(l.digest.to_string()),
                size: Some(l.size),
            })
            .collect(),
        descriptors: manifest.layers,
        info: SourceInfo {
            kind: SourceKind::Image,
            name: reference.to_string(),
            digest: Some(digest.to_string()),
            config_digest: Some(manifest.config.digest.to_string()),
        },
        repo,
    };
    Ok(cairn_sbom::scan_image(&image, opts)?)
}

/// A single-platform image is scanned as it is (as docker and skopeo pull it), but when its
/// config names another platform than `--platform`, say so.
fn warn_on_platform_mismatch(
    repo: &dyn Repository,
    config: &cairn_oci::Descriptor,
    spec: &PlatformSpec,
    reference: &OciRef,
    ctx: &Ctx,
) {
    #[derive(serde::Deserialize)]
    struct ConfigPlatform {
        os: Option<String>,
        architecture: Option<String>,
        variant: Option<String>,
    }
    const MAX_CONFIG: u64 = 4 << 20;
    if config.size > MAX_CONFIG {
        return;
    }
    let Ok(blob) = repo.fetch_blob(config) else {
        return;
    };
    let Ok(bytes) = blob.to_vec() else { return };
    let Ok(c) = serde_json::from_slice::<ConfigPlatform>(&bytes) else {
        return;
    };
    let (Some(os), Some(architecture)) = (c.os, c.architecture) else {
        return;
    };
    let have = cairn_oci::manifest::Platform {
        architecture,
        os,
        variant: c.variant,
        os_version: None,
        extra: Default::default(),
    };
    if !spec.matches(&have) {
        ctx.warn(format!(
            "{reference} is a single-platform {have} image, not {spec}; scanning it as it is"
        ));
    }
}

fn human_size(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64)
    } else if n >= 1 << 10 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} B")
    }
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
        let opts = ScanOptions {
            platform: self.platform.clone(),
            tag: self.tag.clone(),
            ..ScanOptions::default()
        };
        let sbom = match target(&self.source)? {
            Target::Local(source) => cairn_sbom::scan(&source, &opts).map_err(anyhow::Error::new),
            Target::Registry(reference) => {
                scan_registry(&reference, &self, &opts, ctx).map_err(|e| {
                    // A name without a registry host went to Docker Hub: maybe a mistyped
                    // local path. One with a host is plainly a registry reference.
                    let first = self.source.split('/').next().unwrap_or("");
                    let explicit_host = self.source.contains('/')
                        && (first.contains(['.', ':']) || first == "localhost");
                    if self.source.starts_with("registry:")
                        || self.source.starts_with("docker://")
                        || explicit_host
                        || crate::report::has_hint(&e)
                    {
                        e
                    } else {
                        with_hint(
                            e,
                            format!(
                                "no local path `{}` exists, so it was read as a registry image",
                                self.source
                            ),
                        )
                    }
                })
            }
        }
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
