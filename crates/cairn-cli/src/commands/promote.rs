//! `cairn promote SRC DST --policy FILE [--dry-run]`: resolve SRC to a digest once, verify that
//! digest against the policy, then copy exactly it (manifests, blobs, index, attestations) to
//! DST and move DST's tag last.
//!
//! The digest verified is the digest copied: the copy half (`cairn_oci::promote`) refuses any
//! digest other than the one the [`cairn_oci::Approval`] names, and the approval is only made
//! from a passing verdict. A tag moved on SRC after resolution changes nothing. When
//! verification fails nothing is written, so DST's tag stays as it was; when the copy fails,
//! the tag (written last) stays as it was too. Re-running a finished promotion copies nothing
//! and sets the same tag.

use std::path::PathBuf;

use anyhow::Context;
use cairn_oci::{Approval, CopyOptions, CopyReport, PlatformSelection, resolve};
use clap::Args;
use serde::Serialize;

use super::attach::{RegistryArgs, open_repo, parse_ref};
use super::verify::image::{
    SubjectReport, TrustRootArgs, load_policy, render, subjects_of, verify_digest,
};
use crate::output::{Ctx, Status};
use crate::report::with_hint;

/// `cairn promote` arguments.
///
/// Example: cairn promote staging.example/app:1.2 prod.example/app:1.2 --policy policy.yaml
#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// The image to promote (a tag is resolved to a digest exactly once).
    pub src: String,
    /// Where to: registry/repo[:tag] or oci:DIR[:TAG]; the tag moves last.
    pub dst: String,
    /// The verification policy the image must satisfy (required).
    #[arg(long, required = true, value_name = "FILE", env = "CAIRN_POLICY")]
    pub policy: PathBuf,
    /// Resolve, verify and list what would be copied; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Promote only this platform's manifest of a multi-platform index (os/arch[/variant]).
    #[arg(long, env = "CAIRN_PLATFORM", conflicts_with = "all_platforms")]
    pub platform: Option<String>,
    /// For an index: require every platform manifest to pass the policy too (by default the
    /// index digest itself is verified).
    #[arg(long, env = "CAIRN_ALL_PLATFORMS")]
    pub all_platforms: bool,
    /// Show every check, not only the failing ones and the top level.
    #[arg(long)]
    pub verbose_checks: bool,
    #[command(flatten)]
    pub trust: TrustRootArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Serialize)]
struct Report {
    src: String,
    dst: String,
    digest: String,
    passed: bool,
    promoted: bool,
    subjects: Vec<SubjectReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    copy: Option<CopyReport>,
}

impl PromoteArgs {
    pub fn run(self, ctx: &Ctx) -> anyhow::Result<Status> {
        let src_ref = parse_ref(&self.src)?;
        let dst_ref = parse_ref(&self.dst)?;
        if dst_ref.digest().is_some() {
            return Err(with_hint(
                anyhow::anyhow!("the destination `{}` names a digest", self.dst),
                "give DST as registry/repo[:tag] or oci:DIR[:TAG]; the digest is SRC's verified digest",
            ));
        }
        let selection = match &self.platform {
            Some(p) => PlatformSelection::One(p.parse::<cairn_oci::PlatformSpec>()?),
            None => PlatformSelection::All,
        };
        let policy = load_policy(&self.policy)?;
        let root = self.trust.load()?;
        let client = self.registry.client(ctx)?;
        let src = open_repo(&src_ref, &client, false)?;

        // Resolve once. Everything below uses `resolved`; SRC's tag is never read again.
        let resolved = resolve(src.as_ref(), &src_ref.reference(), &selection)
            .with_context(|| format!("cannot resolve {src_ref}"))?;
        let digest = resolved.digest().clone();
        ctx.info(format!("{src_ref} resolved to {digest}"));

        let mut subjects = Vec::new();
        let mut targets = vec![(None, digest.clone())];
        if self.all_platforms {
            for t in subjects_of(&resolved, true)? {
                if t.1 != digest {
                    targets.push(t);
                }
            }
        }
        for (platform, d) in targets {
            let (_, report) = verify_digest(
                ctx,
                src.as_ref(),
                &src_ref.name(),
                &d,
                platform,
                &policy,
                &root,
            )?;
            subjects.push(report);
        }
        let passed = subjects.iter().all(|s| s.evaluation.verdict.passed());
        let dst_tag = dst_ref.tag().map(str::to_owned);
        let mut report = Report {
            src: src_ref.to_string(),
            dst: dst_ref.to_string(),
            digest: digest.to_string(),
            passed,
            promoted: false,
            subjects,
            copy: None,
        };
        if !passed {
            if ctx.json {
                ctx.out_json(&report)?;
            } else {
                for s in &report.subjects {
                    render(ctx, s, self.verbose_checks)?;
                }
                ctx.out(format!(
                    "refused: {digest} does not satisfy {}; {} left unchanged",
                    policy.source, dst_ref
                ))?;
            }
            return Ok(Status::Failed);
        }

        let approval = Approval::new(
            digest.clone(),
            format!("policy {} passed for {digest}", policy.source),
        );
        // A dry run writes nothing, not even a new layout directory: plan against an empty
        // stand-in when the destination layout does not exist yet.
        let _standin;
        let dst = match open_repo(&dst_ref, &client, !self.dry_run) {
            Ok(d) => d,
            Err(_) if self.dry_run && self.dst.starts_with("oci:") => {
                let tmp = tempfile::tempdir().context("cannot create a temporary directory")?;
                let layout: Box<dyn cairn_oci::Repository> =
                    Box::new(cairn_oci::Layout::open_or_create(tmp.path())?);
                _standin = tmp;
                layout
            }
            Err(e) => return Err(e),
        };
        let options = CopyOptions {
            dry_run: self.dry_run,
            ..CopyOptions::default()
        };
        let copied = cairn_oci::promote(
            src.as_ref(),
            &resolved,
            &approval,
            dst.as_ref(),
            dst_tag.as_deref(),
            &options,
        )
        .with_context(|| {
            format!(
                "cannot copy {digest} to {dst_ref}; its tag was not moved{}",
                dst_tag
                    .as_deref()
                    .map(|t| format!(" (still where it was: {t})"))
                    .unwrap_or_default()
            )
        })?;
        report.promoted = !self.dry_run;
        if ctx.json {
            report.copy = Some(copied);
            ctx.out_json(&report)?;
        } else {
            for s in &report.subjects {
                render(ctx, s, self.verbose_checks)?;
            }
            let verb = if self.dry_run { "would copy" } else { "copied" };
            ctx.out(format!(
                "{verb} {digest} -> {dst_ref}: {} manifest(s) ({} present), {} blob(s) ({} mounted, {} present), {} referrer(s), {} cosign tag(s){}",
                copied.manifests_copied,
                copied.manifests_present,
                copied.blobs_copied,
                copied.blobs_mounted,
                copied.blobs_present,
                copied.referrers.len(),
                copied.cosign_tags.len(),
                match (&copied.tag, self.dry_run) {
                    (Some(t), false) => format!("; tag {t} -> {digest}"),
                    (Some(t), true) => format!("; would tag {t}"),
                    (None, _) => String::new(),
                }
            ))?;
        }
        Ok(Status::Success)
    }
}
