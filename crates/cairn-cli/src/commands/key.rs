//! `cairn key generate|public|id`, and the key loading every signing command shares
//! ([`load_key`], [`load_signer`]): password from `--password-file`, `CAIRN_PASSWORD` or a
//! terminal prompt, never from argv.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use cairn_sign::{
    KeyIdRule, KeyIds, ParsedKey, Password, PrivateKey, PublicKey, is_encrypted, read_key_file,
};
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

use crate::output::{Ctx, Status};
use crate::report::with_hint;

/// Key management.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate a key pair: writes KEY (PKCS#8 PEM) and KEY.pub (SPKI PEM).
    ///
    /// The private key is encrypted (PBES2: PBKDF2-SHA256 + AES-256-CBC) when a password is given
    /// with CAIRN_PASSWORD or --password-file, or asked for with --encrypt.
    ///
    /// Example: cairn key generate --type ed25519 --out build-key
    Generate(GenerateArgs),
    /// Print the public key (SPKI PEM) of a private or public key file.
    ///
    /// With --format in-toto, print it as the `keys` entry of an in-toto layout.
    ///
    /// Example: cairn key public build-key
    Public(PublicArgs),
    /// Print the in-toto key id of a key file.
    ///
    /// Prints the id under both rules: securesystemslib 1.x (in-toto python 3.x, cairn's
    /// default) and legacy (securesystemslib < 1.0, in-toto-golang, in-toto-rs).
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

impl From<KeyType> for cairn_sign::KeyType {
    fn from(t: KeyType) -> Self {
        match t {
            KeyType::Ed25519 => cairn_sign::KeyType::Ed25519,
            KeyType::EcdsaP256 => cairn_sign::KeyType::EcdsaP256,
            KeyType::EcdsaP384 => cairn_sign::KeyType::EcdsaP384,
            KeyType::Rsa => cairn_sign::KeyType::Rsa,
        }
    }
}

/// Private key file formats for `key generate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyFormat {
    /// PKCS#8 PEM ("PRIVATE KEY", or "ENCRYPTED PRIVATE KEY" with a password).
    Pkcs8,
    /// cosign's "ENCRYPTED SIGSTORE PRIVATE KEY" (always encrypted; an empty password is allowed).
    Cosign,
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
    /// Private key file format.
    #[arg(long, value_enum, default_value_t = KeyFormat::Pkcs8, env = "CAIRN_KEY_FORMAT")]
    pub format: KeyFormat,
    /// Read the password that encrypts the key from this file (first line). CAIRN_PASSWORD is
    /// the other non-interactive way; passwords are never taken from the command line.
    #[arg(long, value_name = "FILE", env = "CAIRN_PASSWORD_FILE")]
    pub password_file: Option<PathBuf>,
    /// Encrypt the key, asking for the password on the terminal when neither CAIRN_PASSWORD nor
    /// --password-file gives one.
    #[arg(long)]
    pub encrypt: bool,
    /// Overwrite KEY and KEY.pub if they exist.
    #[arg(long)]
    pub force: bool,
}

/// Output forms of `key public`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PublicFormat {
    /// SPKI PEM ("PUBLIC KEY").
    Pem,
    /// The securesystemslib JSON key object an in-toto layout embeds in `keys` (with `keyid`).
    InToto,
}

/// Key id rules, for `--keyid-rule`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RuleArg {
    /// securesystemslib 1.x / in-toto python 3.x.
    #[value(name = "securesystemslib-1")]
    Securesystemslib1,
    /// securesystemslib < 1.0, in-toto-golang, in-toto-rs.
    Legacy,
}

impl From<RuleArg> for KeyIdRule {
    fn from(r: RuleArg) -> Self {
        match r {
            RuleArg::Securesystemslib1 => KeyIdRule::Securesystemslib1,
            RuleArg::Legacy => KeyIdRule::Legacy,
        }
    }
}

/// `key public` arguments.
#[derive(Debug, Args)]
pub struct PublicArgs {
    /// Key file (private or public).
    pub key: PathBuf,
    /// Output form.
    #[arg(long, value_enum, default_value_t = PublicFormat::Pem)]
    pub format: PublicFormat,
    /// Key id rule for `--format in-toto`.
    #[arg(long, value_enum, default_value_t = RuleArg::Securesystemslib1)]
    pub keyid_rule: RuleArg,
    /// Password file for an encrypted private key (else CAIRN_PASSWORD, else a terminal prompt).
    #[arg(long, value_name = "FILE", env = "CAIRN_PASSWORD_FILE")]
    pub password_file: Option<PathBuf>,
}

/// `key id` arguments.
#[derive(Debug, Args)]
pub struct IdArgs {
    /// Key file (private or public).
    pub key: PathBuf,
    /// Password file for an encrypted private key (else CAIRN_PASSWORD, else a terminal prompt).
    #[arg(long, value_name = "FILE", env = "CAIRN_PASSWORD_FILE")]
    pub password_file: Option<PathBuf>,
}

impl KeyCommand {
    pub fn run(self, ctx: &Ctx) -> anyhow::Result<Status> {
        match self {
            KeyCommand::Generate(args) => generate(args, ctx),
            KeyCommand::Public(args) => public(args, ctx),
            KeyCommand::Id(args) => id(args, ctx),
        }
    }
}

/// The password given without a prompt: `--password-file`, then `CAIRN_PASSWORD`.
fn configured_password(password_file: Option<&Path>) -> anyhow::Result<Option<Password>> {
    if let Some(path) = password_file {
        return Ok(Some(Password::from_file(path)?));
    }
    Ok(Password::from_env()?)
}

fn prompt(message: &str) -> anyhow::Result<Password> {
    let pw = rpassword::prompt_password(message)
        .context("cannot read the password from the terminal")?;
    Ok(Password::new(pw))
}

/// Reads a key file (private or public), decrypting it when needed.
pub fn load_key(path: &Path, password_file: Option<&Path>) -> anyhow::Result<ParsedKey> {
    let context = || format!("cannot load key {}", path.display());
    let bytes = read_key_file(path).with_context(context)?;
    let password = if is_encrypted(&bytes) {
        match configured_password(password_file)? {
            Some(pw) => Some(pw),
            None if std::io::stdin().is_terminal() => {
                Some(prompt(&format!("Password for {}: ", path.display()))?)
            }
            None => {
                let err =
                    anyhow::Error::new(cairn_sign::KeyError::PasswordRequired).context(context());
                return Err(with_hint(
                    err,
                    "set CAIRN_PASSWORD or pass --password-file FILE (stdin is not a terminal, so cairn cannot ask)",
                ));
            }
        }
    } else {
        None
    };
    cairn_sign::parse_key(&bytes, password.as_ref()).with_context(context)
}

/// Reads a private key for signing (see [`load_key`]).
#[allow(dead_code)] // used by the signing commands
pub fn load_signer(path: &Path, password_file: Option<&Path>) -> anyhow::Result<PrivateKey> {
    match load_key(path, password_file)? {
        ParsedKey::Private(k) => Ok(k),
        ParsedKey::Public(_) => Err(anyhow::Error::new(cairn_sign::KeyError::NotAPrivateKey)
            .context(format!("cannot sign with {}", path.display()))),
    }
}

/// Reads a public key (or the public half of a private key) for verification.
#[allow(dead_code)] // used by the verifying commands
pub fn load_public_key(path: &Path, password_file: Option<&Path>) -> anyhow::Result<PublicKey> {
    Ok(load_key(path, password_file)?.public_key().clone())
}

#[derive(Serialize)]
struct KeyReport<'a> {
    key_type: &'static str,
    scheme: &'static str,
    bits: usize,
    keyid: &'a KeyIds,
    #[serde(skip_serializing_if = "Option::is_none")]
    private_key: Option<&'a Path>,
    #[serde(skip_serializing_if = "Option::is_none")]
    public_key: Option<&'a Path>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encrypted: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    public_key_pem: Option<String>,
}

fn report<'a>(key: &PublicKey, ids: &'a KeyIds) -> KeyReport<'a> {
    KeyReport {
        key_type: key.key_type().name(),
        scheme: key.scheme().name(),
        bits: key.bits(),
        keyid: ids,
        private_key: None,
        public_key: None,
        encrypted: None,
        public_key_pem: None,
    }
}

fn pub_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_os_string();
    name.push(".pub");
    PathBuf::from(name)
}

fn generate(args: GenerateArgs, ctx: &Ctx) -> anyhow::Result<Status> {
    let pub_out = pub_path(&args.out);
    if !args.force {
        for path in [&args.out, &pub_out] {
            if path.exists() {
                return Err(with_hint(
                    anyhow::anyhow!("{} already exists", path.display()),
                    "pass --force to overwrite it",
                ));
            }
        }
    }
    let mut password = configured_password(args.password_file.as_deref())?;
    if password.is_none() && (args.encrypt || args.format == KeyFormat::Cosign) {
        if !std::io::stdin().is_terminal() {
            return Err(with_hint(
                anyhow::anyhow!("a password is needed to encrypt the key"),
                "set CAIRN_PASSWORD or pass --password-file FILE (stdin is not a terminal, so cairn cannot ask)",
            ));
        }
        let first = prompt("Password for the new key: ")?;
        let again = prompt("Repeat the password: ")?;
        if first.as_bytes() != again.as_bytes() {
            anyhow::bail!("the passwords do not match");
        }
        password = Some(first);
    }
    let key_type: cairn_sign::KeyType = args.key_type.into();
    ctx.info(format!("generating {key_type} key"));
    let key = PrivateKey::generate(key_type).context("cannot generate the key")?;
    let private_pem = match (args.format, &password) {
        (KeyFormat::Cosign, Some(pw)) => key.to_cosign_pem(pw)?,
        (KeyFormat::Cosign, None) => unreachable!("cosign keys always get a password above"),
        (KeyFormat::Pkcs8, pw) => key.to_pkcs8_pem(pw.as_ref())?,
    };
    let public = key.public_key();
    write_atomic(&args.out, private_pem.as_bytes(), 0o600, args.force)?;
    write_atomic(&pub_out, public.to_spki_pem().as_bytes(), 0o644, args.force)?;
    let ids = public.key_ids();
    let encrypted = password.is_some();
    ctx.info(format!(
        "wrote {} ({}private key) and {}",
        args.out.display(),
        if encrypted { "encrypted " } else { "" },
        pub_out.display()
    ));
    if ctx.json {
        let mut r = report(public, &ids);
        r.private_key = Some(&args.out);
        r.public_key = Some(&pub_out);
        r.encrypted = Some(encrypted);
        ctx.out_json(&r)?;
    } else {
        print_ids(ctx, &ids)?;
    }
    Ok(Status::Success)
}

fn print_ids(ctx: &Ctx, ids: &KeyIds) -> anyhow::Result<()> {
    ctx.out(format!(
        "keyid ({}): {}",
        KeyIdRule::Securesystemslib1,
        ids.securesystemslib1
    ))?;
    ctx.out(format!("keyid ({}): {}", KeyIdRule::Legacy, ids.legacy))?;
    Ok(())
}

fn public(args: PublicArgs, ctx: &Ctx) -> anyhow::Result<Status> {
    let key = load_key(&args.key, args.password_file.as_deref())?;
    let public = key.public_key();
    if ctx.json {
        let ids = public.key_ids();
        let mut r = report(public, &ids);
        r.public_key_pem = Some(public.to_spki_pem());
        ctx.out_json(&r)?;
    } else if args.format == PublicFormat::InToto {
        let rule = KeyIdRule::from(args.keyid_rule);
        let mut obj = serde_json::Map::new();
        obj.insert(
            public.key_id(rule).to_string(),
            public.to_layout_key_json(rule),
        );
        ctx.out_json(&obj)?;
    } else {
        let mut out = std::io::stdout().lock();
        out.write_all(public.to_spki_pem().as_bytes())?;
    }
    Ok(Status::Success)
}

fn id(args: IdArgs, ctx: &Ctx) -> anyhow::Result<Status> {
    let key = load_key(&args.key, args.password_file.as_deref())?;
    let public = key.public_key();
    let ids = public.key_ids();
    if ctx.json {
        ctx.out_json(&report(public, &ids))?;
    } else {
        print_ids(ctx, &ids)?;
    }
    Ok(Status::Success)
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so a
/// reader never sees a half-written key. Without `overwrite`, an existing file is an error.
fn write_atomic(path: &Path, bytes: &[u8], mode: u32, overwrite: bool) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let context = || format!("cannot write {}", path.display());
    let mut tmp = tempfile::Builder::new()
        .prefix(".cairn-key-")
        .tempfile_in(dir)
        .with_context(context)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .with_context(context)?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    tmp.write_all(bytes).with_context(context)?;
    tmp.as_file().sync_all().with_context(context)?;
    if overwrite {
        tmp.persist(path)
            .map_err(|e| e.error)
            .with_context(context)?;
    } else {
        tmp.persist_noclobber(path)
            .map_err(|e| e.error)
            .with_context(context)?;
    }
    Ok(())
}
