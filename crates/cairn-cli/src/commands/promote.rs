//! `cairn promote SRC DST --policy FILE [--dry-run]`: resolve SRC to a digest once, verify that
//! digest against the policy, then copy exactly it (manifests, blobs, index, attestations) to
//! DST and move DST's tag last.
//!
//! The copy half lives in cairn-oci (`cairn_oci::promote`, which refuses any digest other than
//! the approved one). The policy engine is not wired in yet, so this command refuses to run
//! rather than promote anything unverified: there is no flag that skips verification.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use super::attach::{RegistryArgs, parse_ref};
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
    #[arg(long, env = "CAIRN_PLATFORM")]
    pub platform: Option<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

impl PromoteArgs {
    pub fn run(self, _ctx: &Ctx) -> anyhow::Result<Status> {
        // Validate everything that can be validated offline, so scripts fail early and clearly.
        parse_ref(&self.src)?;
        parse_ref(&self.dst)?;
        if let Some(p) = &self.platform {
            p.parse::<cairn_oci::PlatformSpec>()?;
        }
        std::fs::metadata(&self.policy)
            .with_context(|| format!("cannot read policy {}", self.policy.display()))?;
        Err(with_hint(
            anyhow::anyhow!(
                "policy engine not available yet: refusing to promote an unverified image"
            ),
            "cairn promote only copies a digest that passed `cairn verify image --policy`; until that engine ships, copy with skopeo or crane after your own checks",
        ))
    }
}
