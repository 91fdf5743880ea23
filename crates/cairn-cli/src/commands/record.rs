//! `cairn record start|stop`: one link for a step made of several commands.
//!
//! `start` records the materials into an unfinished link next to the output,
//! `.<step>.<keyid 8>.link-unfinished` (signed) or `.<step>.link-unfinished` (unsigned), as
//! in-toto-record names it. `stop` checks that state (same step, same key, same recording
//! options, signature intact), records the products, writes the link and removes the state.

use std::path::{Path, PathBuf};

use anyhow::Context;
use cairn_model::{Link, Metablock};
use cairn_record::link::{OPTIONS_KEY, options_record, unfinished_file_name};
use cairn_record::{ArtifactsRef, Error as RecordError, LinkDocument, SignatureRef, StepInfo};
use cairn_sign::Signer;
use clap::{Args, Subcommand};
use serde_json::Value;

use super::run::{
    ArtifactArgs, LinkReport, MaterialArgs, OutputArgs, ProductArgs, check_out_dir, load_signer,
    record, write_link,
};
use crate::output::{Ctx, Status};
use crate::report::with_hint;

/// `record` subcommands.
#[derive(Debug, Subcommand)]
pub enum RecordCommand {
    /// Record the materials of a step and keep them until `record stop`.
    ///
    /// Example: cairn record start --step build -m src --key build-key
    Start(StartArgs),
    /// Record the products of the step begun with `record start` and write its link.
    ///
    /// Example: cairn record stop --step build -p dist --key build-key
    Stop(StopArgs),
}

/// `record start` arguments.
#[derive(Debug, Args)]
pub struct StartArgs {
    /// Step name.
    #[arg(long, short = 'n', value_name = "NAME", env = "CAIRN_STEP")]
    pub step: String,
    #[command(flatten)]
    pub materials: MaterialArgs,
    #[command(flatten)]
    pub artifacts: ArtifactArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Replace an unfinished recording of the same step.
    #[arg(long)]
    pub force: bool,
}

/// `record stop` arguments.
#[derive(Debug, Args)]
pub struct StopArgs {
    /// Step name (must match `record start`).
    #[arg(long, short = 'n', value_name = "NAME", env = "CAIRN_STEP")]
    pub step: String,
    #[command(flatten)]
    pub products: ProductArgs,
    #[command(flatten)]
    pub artifacts: ArtifactArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

impl RecordCommand {
    pub fn run(self, ctx: &Ctx) -> anyhow::Result<Status> {
        match self {
            RecordCommand::Start(a) => a.run(ctx),
            RecordCommand::Stop(a) => a.run(ctx),
        }
    }
}

fn state_path(out: &Path, step: &str, signer: Option<&cairn_sign::PrivateKey>) -> PathBuf {
    out.join(unfinished_file_name(
        step,
        signer.map(|s| s.key_id().as_str()),
    ))
}

/// Steps with an unfinished recording in `dir` (for error hints).
fn unfinished_steps(dir: &Path) -> Vec<String> {
    let mut steps: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let inner = name.strip_prefix('.')?.strip_suffix(".link-unfinished")?;
            // `.<step>.<keyid8>` or `.<step>`.
            Some(match inner.rsplit_once('.') {
                Some((step, id)) if id.len() == 8 && id.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    step.to_owned()
                }
                _ => inner.to_owned(),
            })
        })
        .collect();
    steps.sort();
    steps.dedup();
    steps
}

impl StartArgs {
    fn run(self, ctx: &Ctx) -> anyhow::Result<Status> {
        let options = self.artifacts.options()?;
        // With --keyless the state is unsigned (an ephemeral key exists only for the final
        // signature); `record stop --keyless` signs the link.
        self.output.check(true)?;
        let signer = load_signer(self.output.key.as_deref())?;
        check_out_dir(&self.output.out)?;
        let path = state_path(&self.output.out, &self.step, signer.as_ref());
        if path.exists() && !self.force {
            return Err(with_hint(
                RecordError::RecordingInProgress {
                    step: self.step.clone(),
                    path,
                }
                .into(),
                "finish it with `cairn record stop`, or pass --force to start over",
            ));
        }
        let materials = record(ctx, "materials", &self.materials.materials, &options)?;
        let info = StepInfo {
            name: self.step.clone(),
            variables: self.artifacts.variables(ctx),
            options: options_record(&options),
            ..StepInfo::default()
        };
        let empty = cairn_record::Artifacts::default();
        let byproducts = cairn_record::link::byproducts(&info);
        let environment = cairn_record::link::environment(&info);
        let doc = LinkDocument {
            name: &info.name,
            command: &info.command,
            byproducts: &byproducts,
            environment: &environment,
            materials: ArtifactsRef::Recorded(&materials),
            products: ArtifactsRef::Recorded(&empty),
        };
        // The state is always a legacy metablock, signed like in-toto-record's.
        let sig = match &signer {
            Some(s) => Some(hex::encode(
                s.sign(&doc.canonical_signed()?)
                    .context("cannot sign the recording state")?,
            )),
            None => None,
        };
        let sigs: Vec<SignatureRef<'_>> = match (&signer, &sig) {
            (Some(s), Some(sig)) => vec![SignatureRef {
                keyid: s.key_id().as_str(),
                sig,
            }],
            _ => Vec::new(),
        };
        cairn_record::write_atomic(&path, &doc.metablock_json(&sigs))?;
        if ctx.json {
            ctx.out_json(&serde_json::json!({
                "step": self.step,
                "state": path,
                "materials": materials.map.len(),
            }))?;
        }
        ctx.info(format!(
            "started step {:?}; state in {}",
            self.step,
            path.display()
        ));
        Ok(Status::Success)
    }
}

impl StopArgs {
    fn run(self, ctx: &Ctx) -> anyhow::Result<Status> {
        let options = self.artifacts.options()?;
        self.output.check(!self.products.products.is_empty())?;
        let signer = load_signer(self.output.key.as_deref())?;
        check_out_dir(&self.output.out)?;
        let path = state_path(&self.output.out, &self.step, signer.as_ref());
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let others = unfinished_steps(&self.output.out);
                let hint = if others.contains(&self.step) {
                    "a recording of this step exists under another key (or unsigned): use the same --key as record start".to_owned()
                } else if others.is_empty() {
                    "run `cairn record start` first (with the same --out)".to_owned()
                } else {
                    format!("unfinished recordings here are for: {}", others.join(", "))
                };
                return Err(with_hint(
                    RecordError::NoRecording {
                        step: self.step.clone(),
                        dir: self.output.out.clone(),
                        others,
                    }
                    .into(),
                    hint,
                ));
            }
            Err(e) => {
                return Err(
                    anyhow::Error::new(e).context(format!("cannot read {}", path.display()))
                );
            }
        };
        let bad = |source: Box<dyn std::error::Error + Send + Sync>| RecordError::BadState {
            path: path.clone(),
            source,
        };
        let block = Metablock::from_slice(&bytes).map_err(|e| bad(Box::new(e)))?;
        let started = Link::from_signed(&block.signed).map_err(|e| bad(Box::new(e)))?;
        anyhow::ensure!(
            started.name == self.step,
            bad(format!("it records step {:?}, not {:?}", started.name, self.step).into())
        );
        if let Some(s) = &signer {
            let verdict = cairn_sign::metablock::verify(&block, s.public_key())
                .context("cannot check the recording state's signature")?;
            if !matches!(verdict, cairn_sign::Verdict::Verified(_)) {
                return Err(bad(
                    "its signature by the given key does not verify (was it modified?)".into(),
                )
                .into());
            }
        } else if !block.signatures.is_empty() {
            return Err(bad("it is signed; pass the same --key as record start".into()).into());
        }
        let now = options_record(&options);
        if started.environment.get(OPTIONS_KEY) != now.as_ref() {
            return Err(with_hint(
                RecordError::OptionsDiffer {
                    option: "--hash, --lstrip, --exclude, --follow-symlinks or --normalize-line-endings",
                }
                .into(),
                format!(
                    "record start used {}",
                    started
                        .environment
                        .get(OPTIONS_KEY)
                        .map_or("the defaults".to_owned(), Value::to_string)
                ),
            ));
        }
        let products = record(ctx, "products", &self.products.products, &options)?;
        let doc = LinkDocument {
            name: &started.name,
            command: &started.command,
            byproducts: &started.byproducts,
            environment: &started.environment,
            materials: ArtifactsRef::Map(&started.materials),
            products: ArtifactsRef::Recorded(&products),
        };
        let written = write_link(
            ctx,
            &doc,
            self.output.format,
            self.output.signer(signer.as_ref()),
            &products,
            &self.output.out,
        )?;
        std::fs::remove_file(&path).with_context(|| {
            format!(
                "wrote {} but cannot remove {}",
                written.path.display(),
                path.display()
            )
        })?;
        if ctx.json {
            ctx.out_json(&LinkReport {
                step: self.step.clone(),
                link: written.path.clone(),
                format: self.output.format,
                keyid: written.keyid.clone(),
                materials: started.materials.len(),
                products: products.map.len(),
                return_value: None,
                notices: products.notices.iter().map(ToString::to_string).collect(),
                keyless: written.keyless.clone(),
            })?;
        }
        ctx.info(format!("wrote {}", written.path.display()));
        Ok(Status::Success)
    }
}
