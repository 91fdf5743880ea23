//! `cairn attach REF --bundle B...`: store Sigstore bundles next to an image as OCI 1.1
//! artifacts (referrers API, or the referrers tag schema where the registry has none).
//! Also the registry options shared by `attach`, `attestations` and `promote`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use cairn_oci::auth::{CredentialProvider, DockerConfig};
use cairn_oci::{
    Client, ClientConfig, OciRef, PlatformSelection, PlatformSpec, Repository, resolve,
};
use clap::Args;
use serde::Serialize;

use crate::output::{Ctx, Status};
use crate::report::with_hint;

/// Registry connection options.
#[derive(Debug, Clone, Args)]
pub struct RegistryArgs {
    /// Allow plain HTTP (no TLS) to this registry host[:port]. Loopback registries always may.
    /// DANGEROUS: credentials and content travel unprotected.
    #[arg(
        long = "allow-insecure-registry",
        value_name = "HOST",
        env = "CAIRN_ALLOW_INSECURE_REGISTRY",
        value_delimiter = ','
    )]
    pub insecure: Vec<String>,
    /// Docker config file with registry credentials (default: $DOCKER_CONFIG/config.json or
    /// ~/.docker/config.json; `auths`, `credHelpers` and `credsStore` are honoured).
    #[arg(long, value_name = "FILE", env = "CAIRN_REGISTRY_CONFIG")]
    pub registry_config: Option<PathBuf>,
    /// Attempts per registry request before giving up (backoff doubles from 250 ms).
    #[arg(
        long,
        default_value_t = 4,
        value_name = "N",
        env = "CAIRN_REGISTRY_ATTEMPTS"
    )]
    pub registry_attempts: u32,
    /// Seconds without progress before a registry request counts as stalled.
    #[arg(
        long,
        default_value_t = 60,
        value_name = "SECS",
        env = "CAIRN_REGISTRY_TIMEOUT"
    )]
    pub registry_timeout: u64,
}

impl RegistryArgs {
    /// A client for these options.
    pub fn client(&self, ctx: &Ctx) -> anyhow::Result<Arc<Client>> {
        for host in &self.insecure {
            ctx.warn(format!(
                "plain HTTP allowed to {host} (--allow-insecure-registry): traffic is not protected"
            ));
        }
        let creds: Arc<dyn CredentialProvider> = Arc::new(match &self.registry_config {
            Some(p) => DockerConfig::load(p)?,
            None => DockerConfig::load_default()?,
        });
        let config = ClientConfig {
            insecure_registries: self.insecure.clone(),
            max_attempts: self.registry_attempts.max(1),
            read_timeout: Duration::from_secs(self.registry_timeout.max(1)),
            ..ClientConfig::default()
        };
        Ok(Client::new(config, creds)?)
    }
}

/// Parses an image reference with a hint on failure.
pub fn parse_ref(s: &str) -> anyhow::Result<OciRef> {
    OciRef::parse(s).map_err(|e| {
        with_hint(
            anyhow::Error::new(e).context(format!("cannot parse `{s}`")),
            "references look like registry/repo:tag, registry/repo@sha256:<hex> or oci:DIR[:TAG]",
        )
    })
}

/// Parses `--platform`.
pub fn platform_selection(platform: Option<&str>) -> anyhow::Result<PlatformSelection> {
    Ok(match platform {
        None => PlatformSelection::All,
        Some(p) => PlatformSelection::One(p.parse::<PlatformSpec>()?),
    })
}

/// `cairn attach` arguments.
///
/// Example: cairn attach ghcr.io/acme/app:1.2 --bundle provenance.sigstore.json --bundle sbom.sigstore.json
#[derive(Debug, Args)]
pub struct AttachArgs {
    /// The image: registry/repo:tag, registry/repo@sha256:..., or oci:DIR[:TAG].
    pub image: String,
    /// A Sigstore bundle to attach (repeatable).
    #[arg(long, required = true, value_name = "FILE")]
    pub bundle: Vec<PathBuf>,
    /// Attach to this platform's manifest of a multi-platform index (os/arch[/variant])
    /// instead of the index.
    #[arg(long, env = "CAIRN_PLATFORM")]
    pub platform: Option<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Serialize)]
struct AttachedReport {
    bundle: PathBuf,
    manifest: String,
    #[serde(rename = "predicateType", skip_serializing_if = "Option::is_none")]
    predicate_type: Option<String>,
}

#[derive(Serialize)]
struct Report {
    image: String,
    subject: String,
    attached: Vec<AttachedReport>,
}

impl AttachArgs {
    pub fn run(self, ctx: &Ctx) -> anyhow::Result<Status> {
        let reference = parse_ref(&self.image)?;
        let bundles: Vec<(PathBuf, Vec<u8>)> = self
            .bundle
            .iter()
            .map(|p| {
                std::fs::read(p)
                    .with_context(|| format!("cannot read bundle {}", p.display()))
                    .map(|b| (p.clone(), b))
            })
            .collect::<anyhow::Result<_>>()?;
        let client = self.registry.client(ctx)?;
        let repo = cairn_oci::open(&reference, &client, false)?;
        let platform = platform_selection(self.platform.as_deref())?;
        let resolved = resolve(repo.as_ref(), &reference.reference(), &platform)
            .with_context(|| format!("cannot resolve {reference}"))?;
        let subject = resolved.manifest.descriptor.clone();
        if reference.digest().is_none() {
            ctx.info(format!("{reference} resolved to {}", subject.digest));
        }
        let created = created_now();
        let mut attached = Vec::new();
        for (path, bytes) in &bundles {
            let a = cairn_oci::attach_bundle(repo.as_ref(), &subject, bytes, Some(&created))
                .with_context(|| format!("cannot attach {}", path.display()))?;
            if !ctx.json {
                ctx.out(format!(
                    "{}  {}  {}",
                    a.manifest.digest,
                    a.summary
                        .predicate_type
                        .as_deref()
                        .unwrap_or(a.summary.content.as_str()),
                    path.display()
                ))?;
            }
            attached.push(AttachedReport {
                bundle: path.clone(),
                manifest: a.manifest.digest.to_string(),
                predicate_type: a.summary.predicate_type,
            });
        }
        if ctx.json {
            ctx.out_json(&Report {
                image: reference.to_string(),
                subject: subject.digest.to_string(),
                attached,
            })?;
        } else {
            ctx.info(format!(
                "attached {} bundle(s) to {}@{}",
                bundles.len(),
                reference.name(),
                subject.digest
            ));
        }
        Ok(Status::Success)
    }
}

/// The creation time annotation: `SOURCE_DATE_EPOCH` when set (reproducible), else now.
pub fn created_now() -> String {
    let t = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .unwrap_or_else(chrono::Utc::now);
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Opens a repository (helper for the other OCI commands).
pub fn open_repo(
    reference: &OciRef,
    client: &Arc<Client>,
    create: bool,
) -> anyhow::Result<Box<dyn Repository>> {
    Ok(cairn_oci::open(reference, client, create)?)
}
