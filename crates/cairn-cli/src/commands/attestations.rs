//! `cairn attestations REF [--download DIR]`: list the attestations and signatures stored with
//! an image (referrers API or tag schema, cosign `.att`/`.sig` tags), unverified.

use std::path::PathBuf;

use anyhow::Context;
use cairn_oci::discover::{Discovery, EvidenceFormat, Origin};
use cairn_oci::manifest::Manifest;
use cairn_oci::{Digest, discover, resolve};
use clap::Args;
use serde::Serialize;

use super::attach::{RegistryArgs, open_repo, parse_ref, platform_selection};
use crate::output::{Ctx, Status};

/// `cairn attestations` arguments.
///
/// Example: cairn attestations ghcr.io/acme/app:1.2 --download ./evidence
#[derive(Debug, Args)]
pub struct AttestationsArgs {
    /// The image: registry/repo:tag, registry/repo@sha256:..., or oci:DIR[:TAG].
    pub image: String,
    /// Write each attestation (bundle, DSSE envelope or payload) into this directory.
    #[arg(long, value_name = "DIR")]
    pub download: Option<PathBuf>,
    /// Only this platform's manifest of a multi-platform index (os/arch[/variant]).
    #[arg(long, env = "CAIRN_PLATFORM", conflicts_with = "index_only")]
    pub platform: Option<String>,
    /// For an index, list only the index's own attestations, not each platform's.
    #[arg(long)]
    pub index_only: bool,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Serialize)]
struct Report {
    image: String,
    digest: Digest,
    verified: bool,
    subjects: Vec<SubjectReport>,
}

#[derive(Serialize)]
struct SubjectReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    platform: Option<String>,
    #[serde(flatten)]
    discovery: Discovery,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    downloaded: Vec<PathBuf>,
}

impl AttestationsArgs {
    pub fn run(self, ctx: &Ctx) -> anyhow::Result<Status> {
        let reference = parse_ref(&self.image)?;
        let client = self.registry.client(ctx)?;
        let repo = open_repo(&reference, &client, false)?;
        let platform = platform_selection(self.platform.as_deref())?;
        let resolved = resolve(repo.as_ref(), &reference.reference(), &platform)
            .with_context(|| format!("cannot resolve {reference}"))?;
        let root = resolved.digest().clone();
        let mut subjects = vec![(None, root.clone())];
        if !self.index_only
            && self.platform.is_none()
            && let Manifest::Index(index) = resolved.manifest.parse()?
        {
            for child in index.manifests.iter().filter(|d| d.is_manifest()) {
                subjects.push((
                    child.platform.as_ref().map(|p| p.to_string()),
                    child.digest.clone(),
                ));
            }
        }
        if let Some(dir) = &self.download {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let mut report = Report {
            image: reference.to_string(),
            digest: root.clone(),
            verified: false,
            subjects: Vec::new(),
        };
        for (platform, digest) in subjects {
            let discovery = discover(repo.as_ref(), &digest)
                .with_context(|| format!("cannot list attestations of {digest}"))?;
            let mut downloaded = Vec::new();
            if let Some(dir) = &self.download {
                for f in &discovery.attestations {
                    if f.content.is_empty() {
                        continue;
                    }
                    let ext = match f.format {
                        EvidenceFormat::SigstoreBundle => "sigstore.json",
                        EvidenceFormat::DsseEnvelope => "dsse.json",
                        EvidenceFormat::CosignSimpleSigning => "payload.json",
                    };
                    let path = dir.join(format!("{}.{ext}", f.layer.digest.to_fallback_tag()));
                    crate::output::write_atomic(&path, &f.content)?;
                    downloaded.push(path);
                }
            }
            report.subjects.push(SubjectReport {
                platform,
                discovery,
                downloaded,
            });
        }
        if ctx.json {
            ctx.out_json(&report)?;
            return Ok(Status::Success);
        }
        let total: usize = report
            .subjects
            .iter()
            .map(|s| s.discovery.attestations.len())
            .sum();
        for s in &report.subjects {
            let label = match &s.platform {
                Some(p) => format!("{} ({p})", s.discovery.subject),
                None => s.discovery.subject.to_string(),
            };
            ctx.out(format!("{label}: {} found", s.discovery.attestations.len()))?;
            for f in &s.discovery.attestations {
                let origin = match &f.origin {
                    Origin::Referrer { via } => format!(
                        "referrer ({})",
                        serde_json::to_value(via)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default()
                    ),
                    Origin::CosignAttestationTag { tag } | Origin::CosignSignatureTag { tag } => {
                        format!("cosign tag {tag}")
                    }
                };
                let signer = match (&f.signer.identity, &f.signer.issuer, &f.signer.key_hint) {
                    (Some(id), Some(iss), _) => format!("{id} (issuer {iss})"),
                    (Some(id), None, _) => id.clone(),
                    (None, _, Some(hint)) => format!("key hint {hint}"),
                    _ => "unknown signer".to_string(),
                };
                ctx.out(format!(
                    "  {}\n    signer: {signer} [unverified]\n    time:   {}\n    from:   {origin}, manifest {}{}",
                    f.predicate_type.as_deref().unwrap_or(match f.format {
                        EvidenceFormat::CosignSimpleSigning => "cosign signature (simple signing)",
                        EvidenceFormat::SigstoreBundle
                            if f.bundle.as_ref().is_some_and(|b| b.content == cairn_oci::bundle::BundleContent::MessageSignature) =>
                        {
                            "message signature"
                        }
                        _ => "(no predicate type)",
                    }),
                    f.signer.time.as_deref().unwrap_or("unknown"),
                    f.manifest,
                    f.problem.as_deref().map(|p| format!("\n    problem: {p}")).unwrap_or_default()
                ))?;
            }
            for p in &s.downloaded {
                ctx.info(format!("wrote {}", p.display()));
            }
        }
        ctx.info(format!(
            "{total} attestation(s) listed; signatures and signers are NOT verified here (use `cairn verify image`)"
        ));
        Ok(Status::Success)
    }
}
