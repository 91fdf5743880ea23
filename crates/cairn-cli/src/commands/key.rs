//! `cairn key generate|public|id`.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use crate::output::{Ctx, Status};

/// Key management.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate a key pair: writes KEY (PKCS#8 PEM) and KEY.pub (SPKI PEM).
    ///
    /// Example: cairn key generate --type ed25519 --out build-key
    Generate(GenerateArgs),
    /// Print the public key (SPKI PEM) of a private or public key file.
    ///
    /// Example: cairn key public build-key
    Public(PublicArgs),
    /// Print the in-toto key id of a key file.
    ///
    /// Example: cairn key id build-key.pub
    Id(IdArgs),
}

/// Key algorithms for `key generate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyType {
    /// Ed25519.
    Ed25519,
    /// ECDSA on NIST P-256 with SHA-256.
    EcdsaP256,
    /// ECDSA on NIST P-384 with SHA-384.
    EcdsaP384,
    /// RSA 3072 (in-toto signs RSASSA-PSS SHA-256).
    Rsa,
}

/// `key generate` arguments.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Key algorithm.
    #[arg(long = "type", value_enum, default_value_t = KeyType::Ed25519, env = "CAIRN_KEY_TYPE")]
    pub key_type: KeyType,
    /// Path of the private key to write; the public key goes to OUT.pub.
    #[arg(long, value_name = "KEY")]
    pub out: PathBuf,
}

/// `key public` arguments.
#[derive(Debug, Args)]
pub struct PublicArgs {
    /// Key file (private or public).
    pub key: PathBuf,
}

/// `key id` arguments.
#[derive(Debug, Args)]
pub struct IdArgs {
    /// Key file (private or public).
    pub key: PathBuf,
}

impl KeyCommand {
    pub fn run(self, _ctx: &Ctx) -> anyhow::Result<Status> {
        anyhow::bail!("key commands are being built (issue 2)")
    }
}
