//! `cairn attest PREDICATE_FILE --type ... --subject PATH... (--key | --keyless) [--bundle OUT]`:
//! an in-toto Statement v1 over the subjects, signed into a DSSE Sigstore bundle (v0.3).

use std::path::PathBuf;

use anyhow::Context;
use cairn_model::predicate;
use cairn_model::{DigestSet, ResourceDescriptor, Statement};
use cairn_sigstore::Payload;
use clap::Args;
use sha2::Digest;

use crate::commands::sign::{SigningArgs, report, write_atomic};
use crate::output::{Ctx, Status};

/// `attest` arguments.
#[derive(Debug, Args)]
pub struct AttestArgs {
    /// The predicate (JSON): SLSA provenance, an SBOM, a link, a VSA, or any predicate.
    #[arg(value_name = "PREDICATE_FILE")]
    pub predicate: PathBuf,
    /// The predicate type: slsa, spdx, cyclonedx, link, vsa, or a predicate type URI.
    #[arg(long = "type", value_name = "TYPE", env = "CAIRN_PREDICATE_TYPE")]
    pub predicate_type: String,
    /// A file the statement is about (repeatable); its SHA-256 goes into the subject.
    #[arg(long, value_name = "PATH", required = true, num_args = 1..)]
    pub subject: Vec<PathBuf>,
    /// Where to write the bundle (default: stdout).
    #[arg(long, value_name = "OUT", env = "CAIRN_BUNDLE")]
    pub bundle: Option<PathBuf>,
    #[command(flatten)]
    pub signing: SigningArgs,
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
        let mut subjects = Vec::new();
        let mut first = None;
        for path in &self.subject {
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
        match &self.bundle {
            Some(out) => {
                write_atomic(out, &signed.json)?;
                report(ctx, out, &signed, mode)?;
            }
            None => ctx.out(String::from_utf8_lossy(&signed.json))?,
        }
        Ok(Status::Success)
    }
}
