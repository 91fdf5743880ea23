//! `cairn attest PREDICATE_FILE --type ... --subject PATH... (--key | --keyless) [--bundle OUT]`:
//! an in-toto Statement v1 over the subjects, signed into a DSSE Sigstore bundle (v0.3).
//! With `--attach`, the bundle is then stored next to each image subject as an OCI 1.1
//! referrer (the same artifact `cairn attach` writes), on the digest the subject resolved to.

use std::path::PathBuf;

use anyhow::Context;
use cairn_model::predicate;
use cairn_model::{DigestSet, ResourceDescriptor, Statement};
use cairn_sigstore::Payload;
use clap::Args;
use serde::Serialize;
use sha2::Digest;

use crate::commands::attach::{RegistryArgs, created_now, open_repo, parse_ref};
use crate::commands::sign::{SigningArgs, report, write_bundle};
use crate::output::{Ctx, Status};
use crate::report::with_hint;

/// An image subject, resolved once: where to attach and to which manifest.
struct ImageSubject {
    reference: cairn_oci::OciRef,
    repo: Box<dyn cairn_oci::Repository>,
    descriptor: cairn_oci::Descriptor,
}

#[derive(Serialize)]
struct AttachedReport {
    image: String,
    subject: String,
    manifest: String,
}

/// `--attach --json`: the signing report plus where the bundle went.
#[derive(Serialize)]
struct AttestReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    bundle: Option<String>,
    mode: &'static str,
    identity: Option<String>,
    issuer: Option<String>,
    log_index: Option<i64>,
    attached: Vec<AttachedReport>,
}

/// `attest` arguments.
#[derive(Debug, Args)]
pub struct AttestArgs {
    /// The predicate (JSON): SLSA provenance, an SBOM, a link, a VSA, or any predicate.
    #[arg(value_name = "PREDICATE_FILE")]
    pub predicate: PathBuf,
    /// The predicate type: slsa, spdx, cyclonedx, link, vsa, or a predicate type URI.
    #[arg(long = "type", value_name = "TYPE", env = "CAIRN_PREDICATE_TYPE")]
    pub predicate_type: String,
    /// What the statement is about (repeatable): a file (its SHA-256 goes into the subject) or
    /// an image (`oci:DIR[:TAG]`, `registry/repo:tag`, `registry/repo@sha256:…`, resolved to
    /// its manifest digest, so the bundle can be attached to it).
    #[arg(long, value_name = "PATH|IMAGE", required = true, num_args = 1..)]
    pub subject: Vec<PathBuf>,
    /// Where to write the bundle (default: stdout).
    #[arg(long, value_name = "OUT", env = "CAIRN_BUNDLE")]
    pub bundle: Option<PathBuf>,
    /// After signing, attach the bundle to every image subject (an OCI 1.1 referrer on the
    /// digest the subject resolved to; the referrers tag schema where the registry has no
    /// referrers API). Needs at least one image subject.
    #[arg(long, env = "CAIRN_ATTACH")]
    pub attach: bool,
    #[command(flatten)]
    pub signing: SigningArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// `--type` shorthand to predicate type URI.
fn predicate_type(arg: &str) -> anyhow::Result<String> {
    Ok(match arg {
        "slsa" | "slsaprovenance" | "slsaprovenance1" => predicate::SLSA_PROVENANCE_V1.into(),
        "spdx" | "spdxjson" => predicate::SPDX.into(),
        "cyclonedx" => predicate::CYCLONEDX.into(),
        "link" => predicate::LINK_V0_3.into(),
        "vsa" => predicate::VSA_V1.into(),
        uri if uri.contains(':') => uri.into(),
        other => anyhow::bail!(
            "unknown predicate type {other:?}: use slsa, spdx, cyclonedx, link, vsa or a URI"
        ),
    })
}

impl AttestArgs {
    pub fn run(self, ctx: &Ctx) -> anyhow::Result<Status> {
        let predicate_type = predicate_type(&self.predicate_type)?;
        let bytes = std::fs::read(&self.predicate)
            .with_context(|| format!("cannot read {}", self.predicate.display()))?;
        let predicate = cairn_model::json::value_from_slice(&bytes)
            .with_context(|| format!("{} is not valid JSON", self.predicate.display()))?;
        anyhow::ensure!(predicate.is_object(), "the predicate must be a JSON object");
        // An unsigned Statement (what `cairn provenance` writes): sign its predicate.
        let predicate = match predicate.get("_type").and_then(|t| t.as_str()) {
            Some(cairn_model::statement::STATEMENT_V1) => {
                let declared = predicate.get("predicateType").and_then(|t| t.as_str());
                anyhow::ensure!(
                    declared == Some(predicate_type.as_str()),
                    "{} is a Statement of predicate type {:?}, not {predicate_type}",
                    self.predicate.display(),
                    declared.unwrap_or("(none)")
                );
                predicate
                    .get("predicate")
                    .cloned()
                    .filter(|p| p.is_object())
                    .context("the Statement has no predicate object")?
            }
            _ => predicate,
        };
        let mut subjects = Vec::new();
        let mut images = Vec::new();
        let mut first = None;
        for path in &self.subject {
            if let Some(spec) = path
                .to_str()
                .filter(|s| crate::commands::provenance::looks_like_image(s) && !path.exists())
            {
                let reference = parse_ref(spec)?;
                let client = self.registry.client(ctx)?;
                let repo = open_repo(&reference, &client, false)?;
                let resolved = cairn_oci::resolve(
                    repo.as_ref(),
                    &reference.reference(),
                    &cairn_oci::PlatformSelection::All,
                )
                .with_context(|| format!("cannot resolve image {reference}"))?;
                let descriptor = resolved.manifest.descriptor.clone();
                let digest = descriptor.digest.to_string();
                let hex_digest = digest
                    .strip_prefix("sha256:")
                    .context("image subjects need a sha256 manifest digest")?;
                let bytes: [u8; 32] = hex::decode(hex_digest)
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .context("malformed image digest")?;
                ctx.info(format!("{reference} resolved to {digest}"));
                first.get_or_insert(bytes);
                subjects.push(ResourceDescriptor::subject(
                    reference.name(),
                    DigestSet::sha256(&bytes),
                ));
                if self.attach {
                    images.push(ImageSubject {
                        reference,
                        repo,
                        descriptor,
                    });
                }
                continue;
            }
            let mut file = std::fs::File::open(path)
                .with_context(|| format!("cannot read subject {}", path.display()))?;
            let mut hasher = sha2::Sha256::new();
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = std::io::Read::read(&mut file, &mut buf)
                    .with_context(|| format!("cannot read subject {}", path.display()))?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
            }
            let digest: [u8; 32] = hasher.finalize().into();
            first.get_or_insert(digest);
            let name = path.to_string_lossy().replace('\\', "/");
            subjects.push(ResourceDescriptor::subject(
                name,
                DigestSet::sha256(&digest),
            ));
        }
        // Refuse before signing (a keyless signature costs a log entry and a browser trip).
        if self.attach && images.is_empty() {
            return Err(with_hint(
                anyhow::anyhow!("--attach needs an image subject, but every --subject is a file"),
                "name the image as registry/repo:tag, registry/repo@sha256:<hex> or oci:DIR[:TAG]",
            ));
        }
        let statement = Statement::new(subjects, predicate_type, predicate);
        let payload = statement.to_vec();
        let (signed, mode) = self.signing.sign(
            ctx,
            Payload::Dsse {
                payload_type: cairn_model::dsse::IN_TOTO_PAYLOAD_TYPE,
                payload: &payload,
                subject_sha256: first.expect("clap requires at least one subject"),
            },
        )?;
        if !self.attach {
            match &self.bundle {
                Some(out) => {
                    write_bundle(out, &signed.json)?;
                    report(ctx, out, &signed, mode)?;
                }
                None => ctx.out(String::from_utf8_lossy(&signed.json))?,
            }
            return Ok(Status::Success);
        }
        // The bundle file first: if attaching fails, the signature is not lost.
        if let Some(out) = &self.bundle {
            write_bundle(out, &signed.json)?;
            ctx.info(format!("wrote {}", out.display()));
        }
        // Attach the bytes of the bundle file (with its final newline), so the stored layer's
        // digest is the file's SHA-256 and `cairn attestations --download` gives the file back.
        let mut file_bytes = signed.json.clone();
        file_bytes.push(b'\n');
        let created = created_now();
        let mut attached = Vec::new();
        for image in &images {
            let a = cairn_oci::attach_bundle(
                image.repo.as_ref(),
                &image.descriptor,
                &file_bytes,
                Some(&created),
            )
            .with_context(|| {
                format!(
                    "cannot attach the bundle to {}@{}",
                    image.reference.name(),
                    image.descriptor.digest
                )
            })?;
            if !ctx.json {
                ctx.out(format!(
                    "attached {} to {}@{}",
                    a.manifest.digest,
                    image.reference.name(),
                    image.descriptor.digest
                ))?;
            }
            attached.push(AttachedReport {
                image: image.reference.to_string(),
                subject: image.descriptor.digest.to_string(),
                manifest: a.manifest.digest.to_string(),
            });
        }
        if ctx.json {
            ctx.out_json(&AttestReport {
                bundle: self.bundle.as_ref().map(|p| p.display().to_string()),
                mode,
                identity: signed.identity.clone(),
                issuer: signed.issuer.clone(),
                log_index: signed.log_index,
                attached,
            })?;
        } else {
            if let (Some(id), Some(iss)) = (&signed.identity, &signed.issuer) {
                ctx.info(format!("signed as {id} (issuer {iss})"));
            }
            match signed.log_index {
                Some(i) => ctx.info(format!("transparency log entry at index {i}")),
                None => ctx.info("not uploaded to a transparency log"),
            }
        }
        Ok(Status::Success)
    }
}
