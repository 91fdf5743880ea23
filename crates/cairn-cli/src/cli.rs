//! The command-line grammar (clap derive). Names and flags here are a contract with users' CI
//! files: see `docs/cli.md`. Every subcommand lives in its own module under `commands/`.

use clap::{Args as ClapArgs, Parser, Subcommand, ValueEnum};

use crate::commands;

/// Record, sign, store and verify software supply-chain attestations.
///
/// Exit codes: 0 success or verified, 1 verification or policy failed, 2 usage, I/O, network or
/// internal error.
#[derive(Debug, Parser)]
#[command(
    name = "cairn",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Args {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command understands.
#[derive(Debug, Clone, ClapArgs)]
pub struct GlobalArgs {
    /// Print one JSON document on stdout instead of the human view.
    #[arg(long, global = true, env = "CAIRN_JSON")]
    pub json: bool,
    /// Print nothing but results and errors.
    #[arg(
        short,
        long,
        global = true,
        env = "CAIRN_QUIET",
        conflicts_with = "verbose"
    )]
    pub quiet: bool,
    /// Print more detail on stderr (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// When to use colour on stderr and stdout.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, env = "CAIRN_COLOR")]
    pub color: ColorChoice,
}

/// `--color` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal, honouring `NO_COLOR` and `CLICOLOR_FORCE`.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate keys, print public keys and key ids.
    #[command(subcommand)]
    Key(commands::key::KeyCommand),
    /// Sign a file into a Sigstore bundle, with a key or keyless.
    ///
    /// Example: cairn sign app.tar.gz --keyless --bundle app.tar.gz.sigstore.json
    Sign(commands::sign::SignArgs),
    /// Sign a predicate about files as an in-toto Statement in a DSSE Sigstore bundle.
    ///
    /// Example: cairn attest provenance.json --type slsa --subject app.tar.gz --keyless --bundle app.intoto.sigstore.json
    Attest(commands::attest::AttestArgs),
    /// Verify artifacts (Sigstore bundles), in-toto layouts and images.
    #[command(subcommand)]
    Verify(commands::verify::VerifyCommand),
    /// Sigstore trust material: refresh the trusted root and signing config through TUF.
    ///
    /// Example: cairn trust refresh --out trust_config.json
    #[command(subcommand)]
    Trust(commands::trust::TrustCommand),
    /// Author in-toto layouts: propose one from recorded links, sign it.
    #[command(subcommand)]
    Layout(commands::layout::LayoutCommand),
    /// Record a build step: hash materials, run the command, hash products, write a link.
    ///
    /// Example: cairn run --step build -m src -p target/app --key build-key -- make app
    Run(commands::run::RunArgs),
    /// Record a step made of several commands: `record start` before, `record stop` after.
    #[command(subcommand)]
    Record(commands::record::RecordCommand),
    /// Generate an SBOM (SPDX 2.3 or CycloneDX 1.6) of a directory, root filesystem or image.
    ///
    /// Example: cairn sbom oci:./layout:v1 --format cyclonedx-json --out sbom.cdx.json
    Sbom(commands::sbom::SbomArgs),
    /// Describe this build as SLSA provenance v1: an unsigned in-toto Statement (GitHub
    /// Actions, GitLab CI or local), for `cairn attest --type slsa` to sign.
    ///
    /// Example: cairn provenance --subject dist/ --links .cairn/links --out provenance.json
    Provenance(commands::provenance::ProvenanceArgs),
    /// Attach Sigstore bundles to an image in a registry or OCI layout (OCI 1.1 referrers).
    ///
    /// Example: cairn attach ghcr.io/acme/app:1.2 --bundle provenance.sigstore.json
    Attach(commands::attach::AttachArgs),
    /// List an image's attestations and signatures (unverified): predicate type, signer, time.
    ///
    /// Example: cairn attestations ghcr.io/acme/app:1.2 --download ./evidence
    Attestations(commands::attestations::AttestationsArgs),
    /// Promote an image that satisfies a policy: copy exactly the verified digest, tag last.
    ///
    /// Example: cairn promote staging.example/app:1.2 prod.example/app:1.2 --policy policy.yaml
    Promote(commands::promote::PromoteArgs),
    /// Check an attestation policy, or run it against recorded cases.
    ///
    /// Example: cairn policy test policy.yaml --fixtures ./cases
    #[command(subcommand)]
    Policy(commands::policy::PolicyCommand),
    /// Run the whole chain locally on a small bundled project (no network, no server).
    ///
    /// Example: cairn demo --keep
    Demo(commands::demo::DemoArgs),
    /// Print shell completions (bash, zsh, fish, elvish, powershell) to stdout.
    ///
    /// Example: cairn completions bash > /etc/bash_completion.d/cairn
    Completions(commands::completions::CompletionsArgs),
    /// Write man pages (cairn.1 and one page per subcommand) into a directory.
    ///
    /// Example: cairn man --out /usr/local/share/man/man1
    Man(commands::completions::ManArgs),
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Args::command().debug_assert();
    }
}
