//! `cairn verify <what>`: one module per kind of evidence (`artifact` here; `layout` and `image`
//! live in sibling modules).

pub mod artifact;
mod artifact_policy;
pub mod image;
pub mod layout;

use clap::Subcommand;

use crate::output::{Ctx, Status};

/// Verify artifacts, layouts and images.
#[derive(Debug, Subcommand)]
pub enum VerifyCommand {
    /// Verify a Sigstore bundle over a file, offline, against a trusted root.
    ///
    /// Example: cairn verify artifact app.tar.gz --bundle app.tar.gz.sigstore.json
    ///   --certificate-identity-regexp 'https://github.com/acme/app/\.github/workflows/release\.yml@refs/tags/v.*'
    ///   --certificate-oidc-issuer https://token.actions.githubusercontent.com
    Artifact(artifact::ArtifactArgs),
    /// Verify a supply chain against a signed in-toto layout and the links of its steps.
    ///
    /// Example: cairn verify layout root.layout --layout-key owner.pub --links ./links
    Layout(layout::LayoutArgs),
    /// Verify an image's attestations against a policy (signers, provenance, SBOM, layout, CEL).
    ///
    /// Example: cairn verify image ghcr.io/acme/app:1.2 --policy policy.yaml
    Image(image::ImageArgs),
}

impl VerifyCommand {
    pub fn run(self, ctx: &Ctx) -> anyhow::Result<Status> {
        match self {
            VerifyCommand::Artifact(args) => args.run(ctx),
            VerifyCommand::Layout(args) => args.run(ctx),
            VerifyCommand::Image(args) => args.run(ctx),
        }
    }
}
