//! `cairn run`: record one build step as an in-toto link (materials, command, products).
//!
//! The options shared with `cairn record start|stop` (artifact selection, signing, output) live
//! here too.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use cairn_model::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE};
use cairn_record::link::{link_file_name, options_record};
use cairn_record::{
    ArtifactOptions, Artifacts, ArtifactsRef, CommandSpec, DEFAULT_EXCLUDES, Excludes,
    HashAlgorithm, LinkDocument, Notice, Severity, SignatureRef, StepInfo,
};
use cairn_sign::Signer;
use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::commands::sign::SigningArgs;
use crate::output::{Ctx, Status};
use crate::report::with_hint;

/// `cairn run` arguments.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    cairn run --step build -m src -p dist --key build-key -- make dist\n  \
    cairn run --step test -m . --no-command --format legacy --key k\n  \
    cairn run --step pkg -p out.tar --shell --timeout 600 -- 'tar cf out.tar src && gzip -k out.tar'\n\n\
    Exit code: the command's own (128 + signal number if a signal killed it) once the link is\n\
    written; 2 if the command could not start, timed out, or the link could not be written\n\
    (then no link is written).")]
pub struct RunArgs {
    /// Step name (the layout's step this link is evidence for).
    #[arg(long, short = 'n', value_name = "NAME", env = "CAIRN_STEP")]
    pub step: String,
    #[command(flatten)]
    pub materials: MaterialArgs,
    #[command(flatten)]
    pub products: ProductArgs,
    #[command(flatten)]
    pub artifacts: ArtifactArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Record materials and products only; run nothing.
    #[arg(long, conflicts_with_all = ["shell", "timeout"])]
    pub no_command: bool,
    /// Run the command through `sh -c` (the words after `--` are joined with spaces).
    #[arg(long)]
    pub shell: bool,
    /// Kill the command after SECS seconds (no default); cairn then exits 2 and writes no link.
    #[arg(long, value_name = "SECS", env = "CAIRN_TIMEOUT", value_parser = parse_secs)]
    pub timeout: Option<Duration>,
    /// Bytes of stdout and of stderr kept in the link's byproducts (output beyond is still
    /// shown); 0 records none.
    #[arg(long, value_name = "BYTES", default_value_t = cairn_record::command::DEFAULT_CAPTURE_LIMIT, env = "CAIRN_CAPTURE_LIMIT")]
    pub capture_limit: usize,
    /// The command to run, after `--`.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// `-m`.
#[derive(Debug, Clone, Args)]
pub struct MaterialArgs {
    /// Materials: files or directories hashed before the command runs (repeatable).
    #[arg(short = 'm', long = "materials", value_name = "PATH", num_args = 1..)]
    pub materials: Vec<PathBuf>,
}

/// `-p`.
#[derive(Debug, Clone, Args)]
pub struct ProductArgs {
    /// Products: files or directories hashed after the command ran (repeatable).
    #[arg(short = 'p', long = "products", value_name = "PATH", num_args = 1..)]
    pub products: Vec<PathBuf>,
}

/// How artifacts are found, named and hashed (shared by `run` and `record`).
#[derive(Debug, Clone, Args)]
pub struct ArtifactArgs {
    /// Directory that artifact paths are relative to (default: the current directory).
    #[arg(long, value_name = "DIR", env = "CAIRN_BASE_PATH")]
    pub base_path: Option<PathBuf>,
    /// Remove this prefix from artifact names, as in-toto's --lstrip-paths (repeatable;
    /// a string prefix; two files ending up with one name is an error).
    #[arg(long, visible_alias = "lstrip-paths", value_name = "PREFIX")]
    pub lstrip: Vec<String>,
    /// Exclude paths matching this gitignore-style pattern, in addition to the defaults
    /// `*.link*`, `.git`, `*.pyc`, `*~` (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Read more exclude patterns from FILE (gitignore format).
    #[arg(long, value_name = "FILE")]
    pub exclude_from: Vec<PathBuf>,
    /// Do not apply the default exclude patterns.
    #[arg(long)]
    pub no_default_excludes: bool,
    /// Follow symlinks to directories (never out of the base path, never into a loop).
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Hash text with CRLF and CR line endings turned into LF (as in-toto).
    #[arg(long)]
    pub normalize_line_endings: bool,
    /// Digest algorithms, comma-separated: sha256, sha384, sha512.
    #[arg(
        long,
        value_name = "LIST",
        default_value = "sha256",
        env = "CAIRN_HASH"
    )]
    pub hash: String,
    /// Record this environment variable in the link (repeatable). Variables that look like
    /// secrets (tokens, keys, passwords) are never recorded.
    #[arg(long = "env", value_name = "VAR")]
    pub env: Vec<String>,
}

/// Link format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkFormat {
    /// An in-toto Statement v1 with the link v0.3 predicate, in a DSSE envelope.
    Statement,
    /// An in-toto v1.0 link metablock (what in-toto-run writes; `cairn verify layout` and
    /// in-toto-verify read it).
    Legacy,
}

/// Signing and output (shared by `run` and `record stop`).
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Private key to sign the link with (PEM; encrypted keys read CAIRN_PASSWORD). Without a
    /// key (and without --keyless) the link is written unsigned as STEP.link.
    #[arg(long, value_name = "KEY", env = "CAIRN_KEY")]
    pub key: Option<PathBuf>,
    #[command(flatten)]
    pub keyless: KeylessArgs,
    /// Link format.
    #[arg(long, value_enum, default_value_t = LinkFormat::Statement, env = "CAIRN_LINK_FORMAT")]
    pub format: LinkFormat,
    /// Directory to write the link to.
    #[arg(long, value_name = "DIR", default_value = ".", env = "CAIRN_OUT")]
    pub out: PathBuf,
}

/// Keyless (Sigstore) signing of links.
#[derive(Debug, Clone, Args)]
pub struct KeylessArgs {
    /// Sign keyless: an OIDC identity, a Fulcio certificate for an ephemeral key, a Rekor
    /// entry. The link is a Sigstore bundle (v0.3) of the DSSE-signed Statement, written as
    /// STEP.<keyid 8>.link (key id of the ephemeral key). Statement format only.
    #[arg(long = "keyless", env = "CAIRN_KEYLESS", conflicts_with = "key")]
    pub enabled: bool,
    /// The OIDC identity token to use (else: token file, GitHub Actions, GitLab CI, browser).
    #[arg(
        long,
        value_name = "JWT",
        env = "CAIRN_IDENTITY_TOKEN",
        hide_env_values = true
    )]
    pub identity_token: Option<String>,
    /// Read the OIDC identity token from this file.
    #[arg(long, value_name = "FILE", env = "CAIRN_IDENTITY_TOKEN_FILE")]
    pub identity_token_file: Option<PathBuf>,
    /// Never open a browser for --keyless: fail when no token is found.
    #[arg(long, env = "CAIRN_NO_INTERACTIVE")]
    pub no_interactive: bool,
    /// A Sigstore ClientTrustConfig (trusted root + signing config) or signing config, for a
    /// private instance.
    #[arg(
        long,
        value_name = "F",
        env = "CAIRN_TRUST_CONFIG",
        conflicts_with = "staging"
    )]
    pub trust_config: Option<PathBuf>,
    /// Use the Sigstore staging instance.
    #[arg(long, env = "CAIRN_STAGING")]
    pub staging: bool,
    /// Override the Fulcio URL.
    #[arg(long, value_name = "URL", env = "CAIRN_FULCIO_URL")]
    pub fulcio_url: Option<String>,
    /// Override the Rekor (v1) URL.
    #[arg(long, value_name = "URL", env = "CAIRN_REKOR_URL")]
    pub rekor_url: Option<String>,
    /// Ask this RFC 3161 timestamp authority for a timestamp over the signature.
    #[arg(long, value_name = "URL", env = "CAIRN_TIMESTAMP_SERVER")]
    pub timestamp_server: Option<String>,
}

impl KeylessArgs {
    /// The same signing path as `cairn attest --keyless` (token discovery, Fulcio, Rekor, the
    /// check of the returned bundle), configured from these flags.
    fn signing_args(&self) -> SigningArgs {
        SigningArgs {
            key: None,
            keyless: true,
            identity_token: self.identity_token.clone(),
            identity_token_file: self.identity_token_file.clone(),
            no_interactive: self.no_interactive,
            tlog_upload: false,
            timestamp_server: self.timestamp_server.clone(),
            timestamp: false,
            trust_config: self.trust_config.clone(),
            staging: self.staging,
            fulcio_url: self.fulcio_url.clone(),
            rekor_url: self.rekor_url.clone(),
            retries: 3,
            timeout: 30,
        }
    }
}

impl OutputArgs {
    /// Refuses combinations that cannot work, before anything is recorded or run.
    pub fn check(&self, has_products: bool) -> anyhow::Result<()> {
        if !self.keyless.enabled {
            return Ok(());
        }
        if self.format == LinkFormat::Legacy {
            return Err(with_hint(
                anyhow::anyhow!("--keyless writes a Sigstore bundle, which holds a Statement"),
                "drop --format legacy (in-toto v1.0 metablocks have no keyless form), or sign with --key",
            ));
        }
        if !has_products {
            return Err(with_hint(
                anyhow::anyhow!("--keyless needs at least one product (-p)"),
                "a Sigstore bundle is checked against one of the Statement's subjects, which are the products",
            ));
        }
        Ok(())
    }

    /// How the link is signed.
    pub fn signer<'a>(&'a self, key: Option<&'a cairn_sign::PrivateKey>) -> LinkSigner<'a> {
        match key {
            Some(k) => LinkSigner::Key(k),
            None if self.keyless.enabled => LinkSigner::Keyless(&self.keyless),
            None => LinkSigner::Unsigned,
        }
    }
}

fn parse_secs(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !secs.is_finite() || secs <= 0.0 || secs > 1e9 {
        return Err(format!("{s:?} is not a positive number of seconds"));
    }
    Ok(Duration::from_secs_f64(secs))
}

impl ArtifactArgs {
    /// The library options.
    pub fn options(&self) -> anyhow::Result<ArtifactOptions> {
        let mut patterns: Vec<String> = Vec::new();
        if !self.no_default_excludes {
            patterns.extend(DEFAULT_EXCLUDES.iter().map(|s| (*s).to_owned()));
        }
        patterns.extend(self.exclude.iter().cloned());
        for file in &self.exclude_from {
            patterns.extend(Excludes::read_file(file)?);
        }
        Ok(ArtifactOptions {
            base_path: self.base_path.clone(),
            excludes: Excludes::new(&patterns)?,
            lstrip: self.lstrip.clone(),
            follow_symlinks: self.follow_symlinks,
            normalize_line_endings: self.normalize_line_endings,
            algorithms: HashAlgorithm::parse_list(&self.hash)?,
        })
    }

    /// The `--env` variables to record; warns about the ones withheld.
    pub fn variables(&self, ctx: &Ctx) -> BTreeMap<String, String> {
        let (kept, withheld) =
            cairn_record::env::select_variables(self.env.iter().map(String::as_str), |n| {
                std::env::var(n).ok()
            });
        for name in withheld {
            ctx.warn(format!("not recording {name}: it looks like a secret"));
        }
        kept
    }
}

/// A signing key, loaded before any work so a bad key fails fast.
pub fn load_signer(key: Option<&Path>) -> anyhow::Result<Option<cairn_sign::PrivateKey>> {
    let Some(path) = key else { return Ok(None) };
    let password = cairn_sign::Password::from_env()?;
    let parsed = cairn_sign::load_key(path, password.as_ref())
        .with_context(|| format!("cannot load signing key {}", path.display()))?;
    match parsed {
        cairn_sign::ParsedKey::Private(k) => Ok(Some(k)),
        cairn_sign::ParsedKey::Public(_) => Err(with_hint(
            anyhow::anyhow!(
                "{} is a public key; signing needs the private key",
                path.display()
            ),
            "pass the private key file (cairn key generate writes KEY and KEY.pub)",
        )),
    }
}

/// Checks that the output directory exists before recording anything.
pub fn check_out_dir(out: &Path) -> anyhow::Result<()> {
    let meta = std::fs::metadata(out)
        .with_context(|| format!("cannot use output directory {}", out.display()))?;
    anyhow::ensure!(
        meta.is_dir(),
        "output path {} is not a directory",
        out.display()
    );
    Ok(())
}

/// Records artifacts with a progress bar and reports notices.
pub fn record(
    ctx: &Ctx,
    what: &str,
    paths: &[PathBuf],
    options: &ArtifactOptions,
) -> anyhow::Result<Artifacts> {
    let bar = Bar::new(ctx, what);
    let artifacts = cairn_record::record_artifacts(paths, options, &bar)
        .with_context(|| format!("cannot record {what}"))?;
    bar.finish();
    report_notices(ctx, &artifacts.notices);
    if !paths.is_empty() {
        ctx.info(format!(
            "recorded {} {what} ({} files, {})",
            artifacts.map.len(),
            artifacts.files,
            human_bytes(artifacts.bytes)
        ));
    }
    Ok(artifacts)
}

fn report_notices(ctx: &Ctx, notices: &[Notice]) {
    for n in notices {
        match n.severity() {
            Severity::Warning => ctx.warn(n.to_string()),
            Severity::Info if ctx.verbose > 0 => ctx.info(n.to_string()),
            Severity::Info => {}
        }
    }
}

fn human_bytes(n: u64) -> String {
    indicatif::BinaryBytes(n).to_string()
}

/// An indicatif bar on stderr for long walks; hidden unless stderr is a terminal, and with
/// `-q`, `-v` or `--json`.
struct Bar {
    bar: std::sync::OnceLock<indicatif::ProgressBar>,
    bytes: std::sync::atomic::AtomicU64,
    found: std::sync::atomic::AtomicU64,
    what: String,
    enabled: bool,
}

impl Bar {
    fn new(ctx: &Ctx, what: &str) -> Self {
        let enabled =
            std::io::stderr().is_terminal() && !ctx.quiet && ctx.verbose == 0 && !ctx.json;
        Bar {
            bar: std::sync::OnceLock::new(),
            bytes: std::sync::atomic::AtomicU64::new(0),
            found: std::sync::atomic::AtomicU64::new(0),
            what: what.to_owned(),
            enabled,
        }
    }

    fn finish(&self) {
        if let Some(b) = self.bar.get() {
            b.finish_and_clear();
        }
    }
}

impl cairn_record::Progress for Bar {
    fn walked(&self, files: u64) {
        // The walk and hashing overlap: the total grows as directories are listed. Only large
        // walks get a bar; small ones finish before it would draw.
        let found = self
            .found
            .fetch_add(files, std::sync::atomic::Ordering::Relaxed)
            + files;
        if !self.enabled || found < 1000 {
            return;
        }
        let bar = self.bar.get_or_init(|| {
            let bar = indicatif::ProgressBar::new(found);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{prefix} [{wide_bar}] {pos}/{len} files, {msg}",
                )
                .expect("the template is valid")
                .progress_chars("=> "),
            );
            bar.set_prefix(self.what.clone());
            bar
        });
        bar.set_length(bar.length().unwrap_or(0).max(found));
    }

    fn hashed(&self, bytes: u64) {
        if let Some(bar) = self.bar.get() {
            let total = self
                .bytes
                .fetch_add(bytes, std::sync::atomic::Ordering::Relaxed)
                + bytes;
            bar.inc(1);
            if bar.position() % 128 == 0 {
                bar.set_message(human_bytes(total));
            }
        }
    }
}

/// How a link is signed.
#[derive(Clone, Copy)]
pub enum LinkSigner<'a> {
    /// Not signed (`STEP.link`).
    Unsigned,
    /// With a private key.
    Key(&'a cairn_sign::PrivateKey),
    /// Keyless, into a Sigstore bundle.
    Keyless(&'a KeylessArgs),
}

/// A finished link, serialised and named.
pub struct WrittenLink {
    /// Where it was written.
    pub path: PathBuf,
    /// The signing key id, if signed.
    pub keyid: Option<String>,
    /// Keyless: the certificate identity and issuer, and the Rekor log index.
    pub keyless: Option<KeylessReport>,
}

/// What a keyless signature recorded.
#[derive(Debug, Clone, Serialize)]
pub struct KeylessReport {
    /// The certificate's subject (SAN).
    pub identity: Option<String>,
    /// The certificate's OIDC issuer.
    pub issuer: Option<String>,
    /// The transparency-log index.
    pub log_index: Option<i64>,
}

/// Serialises, signs and atomically writes a link in the chosen format, straight from the
/// recorded artifacts (no JSON tree: a link over 50,000 files stays small in memory).
/// `products` are the recorded products (keyless signing checks the bundle against one).
pub fn write_link(
    ctx: &Ctx,
    doc: &LinkDocument<'_>,
    format: LinkFormat,
    signer: LinkSigner<'_>,
    products: &Artifacts,
    out: &Path,
) -> anyhow::Result<WrittenLink> {
    let key = match signer {
        LinkSigner::Key(k) => Some(k),
        LinkSigner::Unsigned => None,
        LinkSigner::Keyless(args) => return write_keyless_link(ctx, doc, args, products, out),
    };
    let keyid = key.map(|s| s.key_id().as_str().to_owned());
    let bytes = match format {
        LinkFormat::Legacy => match key {
            Some(s) => {
                let canonical = doc.canonical_signed()?;
                let sig = hex::encode(s.sign(&canonical).context("cannot sign the link")?);
                doc.metablock_json(&[SignatureRef {
                    keyid: s.key_id().as_str(),
                    sig: &sig,
                }])
            }
            None => doc.metablock_json(&[]),
        },
        LinkFormat::Statement => {
            let payload = doc.statement_json();
            let env = match key {
                Some(s) => cairn_sign::dsse::sign(IN_TOTO_PAYLOAD_TYPE, payload, s)
                    .context("cannot sign the link")?,
                None => Envelope {
                    payload,
                    payload_type: IN_TOTO_PAYLOAD_TYPE.to_owned(),
                    signatures: Vec::new(),
                },
            };
            let mut v = serde_json::to_vec_pretty(&env)?;
            v.push(b'\n');
            v
        }
    };
    let path = out.join(link_file_name(doc.name, keyid.as_deref()));
    cairn_record::write_atomic(&path, &bytes)?;
    Ok(WrittenLink {
        path,
        keyid,
        keyless: None,
    })
}

/// `--keyless`: the Statement signed through `cairn_sigstore`'s keyless path into a bundle,
/// written as `<step>.<keyid 8>.link` (key id of the ephemeral key, as cairn computes key ids).
fn write_keyless_link(
    ctx: &Ctx,
    doc: &LinkDocument<'_>,
    args: &KeylessArgs,
    products: &Artifacts,
    out: &Path,
) -> anyhow::Result<WrittenLink> {
    let subject_sha256: [u8; 32] = products
        .map
        .values()
        .find_map(|d| d.iter().find(|(a, _)| *a == HashAlgorithm::Sha256))
        .and_then(|(_, hex_digest)| hex::decode(hex_digest).ok()?.try_into().ok())
        .ok_or_else(|| {
            with_hint(
                anyhow::anyhow!("--keyless needs a product with a sha256 digest; none was recorded"),
                "check the -p paths (and keep sha256 in --hash): the bundle is checked against a subject",
            )
        })?;
    let payload = doc.statement_json();
    let (signed, _) = args.signing_args().sign(
        ctx,
        cairn_sigstore::Payload::Dsse {
            payload_type: IN_TOTO_PAYLOAD_TYPE,
            payload: &payload,
            subject_sha256,
        },
    )?;
    let keyid = bundle_key_id(&signed.json).context("cannot read the signed bundle")?;
    let path = out.join(link_file_name(doc.name, Some(keyid.as_str())));
    let mut bytes = signed.json;
    bytes.push(b'\n');
    cairn_record::write_atomic(&path, &bytes)?;
    Ok(WrittenLink {
        path,
        keyid: Some(keyid.as_str().to_owned()),
        keyless: Some(KeylessReport {
            identity: signed.identity,
            issuer: signed.issuer,
            log_index: signed.log_index,
        }),
    })
}

/// cairn's key id (the rule `cairn key id` uses) of the key certified by a bundle's leaf
/// certificate: the ephemeral keyless signing key.
pub fn bundle_key_id(bundle: &[u8]) -> anyhow::Result<cairn_sign::KeyId> {
    use base64::Engine;
    use x509_cert::der::{Decode, Encode};
    let v: serde_json::Value = serde_json::from_slice(bundle)?;
    let material = &v["verificationMaterial"];
    let raw = material["certificate"]["rawBytes"]
        .as_str()
        .or_else(|| material["x509CertificateChain"]["certificates"][0]["rawBytes"].as_str())
        .context("the bundle has no certificate")?;
    let der = base64::engine::general_purpose::STANDARD
        .decode(raw)
        .context("the certificate is not base64")?;
    let cert = x509_cert::Certificate::from_der(&der).context("unreadable certificate")?;
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .context("unreadable certificate key")?;
    let key = cairn_sign::PublicKey::from_spki_der(&spki).context("unsupported certificate key")?;
    Ok(key.key_id(cairn_sign::KeyIdRule::Securesystemslib1))
}

/// The `--json` report of `run` and `record stop`.
#[derive(Debug, Serialize)]
pub struct LinkReport {
    /// Step name.
    pub step: String,
    /// The link file.
    pub link: PathBuf,
    /// Its format.
    pub format: LinkFormat,
    /// Signing key id, if signed.
    pub keyid: Option<String>,
    /// Number of materials.
    pub materials: usize,
    /// Number of products.
    pub products: usize,
    /// The command's return value (`None` without a command).
    #[serde(rename = "return-value")]
    pub return_value: Option<i32>,
    /// Warnings about artifacts not recorded.
    pub notices: Vec<String>,
    /// Keyless signing details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyless: Option<KeylessReport>,
}

impl RunArgs {
    pub fn run(self, ctx: &Ctx) -> anyhow::Result<Status> {
        if !self.no_command && self.command.is_empty() {
            return Err(with_hint(
                anyhow::anyhow!("no command given"),
                "put the command after `--` (cairn run --step NAME -- make), or pass --no-command",
            ));
        }
        if self.no_command && !self.command.is_empty() {
            anyhow::bail!("--no-command given together with a command");
        }
        let options = self.artifacts.options()?;
        self.output.check(!self.products.products.is_empty())?;
        let key = load_signer(self.output.key.as_deref())?;
        check_out_dir(&self.output.out)?;
        let variables = self.artifacts.variables(ctx);

        let materials = record(ctx, "materials", &self.materials.materials, &options)?;

        let mut info = StepInfo {
            name: self.step.clone(),
            variables,
            options: options_record(&options),
            ..StepInfo::default()
        };
        if !self.no_command {
            let mut spec = CommandSpec::new(self.command.clone());
            spec.shell = self.shell;
            spec.timeout = self.timeout;
            spec.capture_limit = self.capture_limit;
            info.command = spec.recorded_command();
            ctx.info(format!("running {}", shell_words(&info.command)));
            // With --json, stdout carries only cairn's report: the command's stdout goes to
            // stderr.
            let out: Box<dyn std::io::Write + Send> = if ctx.json {
                Box::new(std::io::stderr())
            } else {
                Box::new(std::io::stdout())
            };
            let outcome = cairn_record::run_command(&spec, out, Box::new(std::io::stderr()))
                .map_err(|e| anyhow::Error::new(e).context("no link written"))?;
            for (name, c) in [("stdout", &outcome.stdout), ("stderr", &outcome.stderr)] {
                if c.truncated() && self.capture_limit > 0 {
                    ctx.warn(format!(
                        "{name} was {} long; the link keeps the first {}",
                        human_bytes(c.total),
                        human_bytes(c.bytes.len() as u64)
                    ));
                }
                if c.left_open {
                    ctx.warn(format!(
                        "a background process still holds the command's {name}; recorded what arrived"
                    ));
                }
            }
            info.outcome = Some(outcome);
        }

        let products = record(ctx, "products", &self.products.products, &options)?;
        let byproducts = cairn_record::link::byproducts(&info);
        let environment = cairn_record::link::environment(&info);
        let doc = LinkDocument {
            name: &info.name,
            command: &info.command,
            byproducts: &byproducts,
            environment: &environment,
            materials: ArtifactsRef::Recorded(&materials),
            products: ArtifactsRef::Recorded(&products),
        };
        let written = write_link(
            ctx,
            &doc,
            self.output.format,
            self.output.signer(key.as_ref()),
            &products,
            &self.output.out,
        )?;
        let exit = info.outcome.as_ref().map(|o| o.exit);
        if ctx.json {
            let mut notices: Vec<String> =
                materials.notices.iter().map(ToString::to_string).collect();
            notices.extend(products.notices.iter().map(ToString::to_string));
            ctx.out_json(&LinkReport {
                step: self.step.clone(),
                link: written.path.clone(),
                format: self.output.format,
                keyid: written.keyid.clone(),
                materials: materials.map.len(),
                products: products.map.len(),
                return_value: exit.map(|e| e.return_value()),
                notices,
                keyless: written.keyless.clone(),
            })?;
        }
        let signed = match (&written.keyid, &written.keyless) {
            (_, Some(k)) => format!(
                "signed keyless as {} (issuer {}){}",
                k.identity.as_deref().unwrap_or("?"),
                k.issuer.as_deref().unwrap_or("?"),
                k.log_index
                    .map(|i| format!(", transparency log index {i}"))
                    .unwrap_or_default()
            ),
            (Some(id), None) => format!("signed by {}", &id[..id.len().min(8)]),
            (None, None) => "unsigned".to_owned(),
        };
        ctx.info(format!("wrote {} ({signed})", written.path.display()));
        match exit {
            Some(e) if !e.success() => {
                ctx.warn(format!(
                    "the command failed (return value {}); the link records it",
                    e.return_value()
                ));
                let code = e.shell_code().clamp(1, 255);
                Ok(Status::Code(u8::try_from(code).unwrap_or(255)))
            }
            _ => Ok(Status::Success),
        }
    }
}

/// A command line for display, quoting words with spaces or shell metacharacters.
fn shell_words(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            if !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
            {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
