//! `cairn verify artifact FILE --policy P --bundle B...`: the policy engine over files.

use std::path::{Path, PathBuf};

use anyhow::Context;
use cairn_sigstore::TrustedRoot;
use cairn_verify::policy::{BundleInput, EvalOptions, Evaluation, Subject, evaluate};
use cairn_verify::render::{RenderOptions, render_text};
use serde::Serialize;
use sha2::Digest;

use super::image::load_policy;
use crate::output::{Ctx, Status};

#[derive(Serialize)]
struct Report<'a> {
    artifact: String,
    digest: String,
    policy: String,
    passed: bool,
    #[serde(flatten)]
    evaluation: &'a Evaluation,
}

/// Hashes FILE (or takes `sha256:<hex>`), evaluates the policy over the bundles.
pub fn run(
    ctx: &Ctx,
    file: &Path,
    bundles: &[PathBuf],
    policy_path: &Path,
    root: &TrustedRoot,
) -> anyhow::Result<Status> {
    let policy = load_policy(policy_path)?;
    let text = file.to_string_lossy().to_string();
    let sha256: [u8; 32] = if !file.exists() && text.starts_with("sha256:") {
        let h = &text["sha256:".len()..];
        anyhow::ensure!(
            h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()),
            "{text} is not sha256:<64 hex>"
        );
        let mut out = [0u8; 32];
        for (i, c) in h.as_bytes().chunks(2).enumerate() {
            out[i] = u8::from_str_radix(std::str::from_utf8(c)?, 16)?;
        }
        out
    } else {
        let mut f =
            std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
        let mut hasher = sha2::Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = std::io::Read::read(&mut f, &mut buf)
                .with_context(|| format!("cannot read {}", file.display()))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        hasher.finalize().into()
    };
    let mut inputs = Vec::new();
    for b in bundles {
        let bytes =
            std::fs::read(b).with_context(|| format!("cannot read bundle {}", b.display()))?;
        inputs.push(BundleInput::new(b.display().to_string(), bytes));
    }
    let subject = Subject::sha256(text.clone(), sha256);
    let evaluation = evaluate(
        &policy,
        &subject,
        &inputs,
        &EvalOptions::new(root, chrono::Utc::now()),
    )
    .with_context(|| format!("cannot evaluate policy {}", policy.source))?;
    let passed = evaluation.verdict.passed();
    if ctx.json {
        ctx.out_json(&Report {
            artifact: text,
            digest: subject.digest(),
            policy: policy.source.clone(),
            passed,
            evaluation: &evaluation,
        })?;
    } else {
        let out = render_text(
            &evaluation.verdict,
            RenderOptions {
                verbose: ctx.verbose > 0,
                color: ctx.color,
            },
        );
        ctx.out(out.trim_end())?;
    }
    Ok(if passed {
        Status::Success
    } else {
        Status::Failed
    })
}
