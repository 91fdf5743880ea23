//! `cairn policy check POLICY` and `cairn policy test POLICY --fixtures DIR`: load a policy and
//! report what it requires; run it against recorded cases.
//!
//! A fixtures directory holds one subdirectory per case. Each case has a `case.json`:
//!
//! ```json
//! { "subject": "sha256:<hex>", "expect": "pass", "failing": ["requirements.sbom.threshold"],
//!   "at": "2026-01-01T00:00:00Z", "bundles": ["provenance.sigstore.json"] }
//! ```
//!
//! `subject` may instead be `{"file": "artifact.bin"}` (hashed). `bundles` defaults to every
//! other `*.json` file of the case directory. `failing` (optional) lists check ids that must be
//! among the verdict's root failures. `at` (optional) is the verification time.

use std::path::{Path, PathBuf};

use anyhow::Context;
use cairn_verify::policy::{BundleInput, EvalOptions, Subject, evaluate};
use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};
use sha2::Digest;

use super::verify::image::{TrustRootArgs, load_policy};
use crate::output::{Ctx, Status};

/// Work with attestation policies.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Load a policy, check every rule, and summarise what it requires.
    ///
    /// Example: cairn policy check policy.yaml
    Check(CheckArgs),
    /// Run a policy against recorded cases (subject + bundles + expected outcome).
    ///
    /// Example: cairn policy test policy.yaml --fixtures testdata/policy/cases
    Test(TestArgs),
}

impl PolicyCommand {
    pub fn run(self, ctx: &Ctx) -> anyhow::Result<Status> {
        match self {
            PolicyCommand::Check(a) => a.run(ctx),
            PolicyCommand::Test(a) => a.run(ctx),
        }
    }
}

/// `policy check` arguments.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The policy file.
    pub policy: PathBuf,
}

#[derive(Serialize)]
struct CheckReport {
    policy: String,
    name: String,
    digest: String,
    signers: Vec<String>,
    requirements: Vec<String>,
    layout: bool,
    warnings: Vec<String>,
}

impl CheckArgs {
    fn run(self, ctx: &Ctx) -> anyhow::Result<Status> {
        let policy = load_policy(&self.policy)?;
        let report = CheckReport {
            policy: policy.source.clone(),
            name: policy.name.clone(),
            digest: format!("sha256:{}", hex_encode(&policy.digest)),
            signers: policy
                .signers
                .iter()
                .map(|s| format!("{}: {}", s.name, s.describe()))
                .collect(),
            requirements: policy
                .requirements
                .iter()
                .map(|r| {
                    format!(
                        "{}: {} from {} signer(s), threshold {}",
                        r.name,
                        r.predicate.describe(),
                        r.signers.len(),
                        r.threshold
                    )
                })
                .collect(),
            layout: policy.has_layout(),
            warnings: policy.lint(),
        };
        if ctx.json {
            ctx.out_json(&report)?;
        } else {
            ctx.out(format!(
                "policy {} ({}) is valid",
                report.name, report.digest
            ))?;
            ctx.out("signers:")?;
            for s in &report.signers {
                ctx.out(format!("  {s}"))?;
            }
            ctx.out("requirements:")?;
            for r in &report.requirements {
                ctx.out(format!("  {r}"))?;
            }
            if report.layout {
                ctx.out("  in-toto layout over link attestations")?;
            }
            for w in &report.warnings {
                ctx.warn(w);
            }
        }
        Ok(Status::Success)
    }
}

/// `policy test` arguments.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// The policy file.
    pub policy: PathBuf,
    /// Directory of cases (one subdirectory with a case.json per case).
    #[arg(long, value_name = "DIR", env = "CAIRN_POLICY_FIXTURES")]
    pub fixtures: PathBuf,
    #[command(flatten)]
    pub trust: TrustRootArgs,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    subject: CaseSubject,
    expect: Expect,
    #[serde(default)]
    failing: Vec<String>,
    #[serde(default)]
    at: Option<String>,
    #[serde(default)]
    bundles: Option<Vec<String>>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum CaseSubject {
    Digest(String),
    File { file: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
enum Expect {
    Pass,
    Fail,
}

#[derive(Serialize)]
struct CaseReport {
    case: String,
    expected: Expect,
    got: Expect,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    failures: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    missing_failures: Vec<String>,
}

#[derive(Serialize)]
struct TestReport {
    policy: String,
    passed: usize,
    total: usize,
    cases: Vec<CaseReport>,
}

fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn parse_sha256(s: &str) -> anyhow::Result<[u8; 32]> {
    let h = s
        .strip_prefix("sha256:")
        .filter(|h| h.len() == 64)
        .ok_or_else(|| anyhow::anyhow!("subject {s:?} is not sha256:<64 hex>"))?;
    let mut out = [0u8; 32];
    for (i, c) in h.as_bytes().chunks(2).enumerate() {
        out[i] = u8::from_str_radix(std::str::from_utf8(c)?, 16)
            .map_err(|_| anyhow::anyhow!("subject {s:?} is not hex"))?;
    }
    Ok(out)
}

fn run_case(
    dir: &Path,
    policy: &cairn_verify::policy::Policy,
    root: &cairn_sigstore::TrustedRoot,
) -> anyhow::Result<CaseReport> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let case_path = dir.join("case.json");
    let bytes = std::fs::read(&case_path)
        .with_context(|| format!("cannot read {}", case_path.display()))?;
    let case: Case = cairn_model::json::from_slice(&bytes)
        .with_context(|| format!("{} is not a valid case", case_path.display()))?;
    let (subject_name, sha) = match &case.subject {
        CaseSubject::Digest(d) => (d.clone(), parse_sha256(d)?),
        CaseSubject::File { file } => {
            let data = std::fs::read(dir.join(file))
                .with_context(|| format!("cannot read subject {file}"))?;
            (file.clone(), sha2::Sha256::digest(&data).into())
        }
    };
    let bundle_names: Vec<String> = match &case.bundles {
        Some(b) => b.clone(),
        None => {
            let mut names = Vec::new();
            for e in
                std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?
            {
                let n = e?.file_name().to_string_lossy().into_owned();
                if n.ends_with(".json") && n != "case.json" {
                    names.push(n);
                }
            }
            names.sort();
            names
        }
    };
    let mut bundles = Vec::new();
    for b in &bundle_names {
        let p = dir.join(b);
        let data = std::fs::read(&p).with_context(|| format!("cannot read {}", p.display()))?;
        bundles.push(BundleInput::new(b.clone(), data));
    }
    let at = match &case.at {
        Some(t) => chrono::DateTime::parse_from_rfc3339(t)
            .with_context(|| format!("case {name}: bad `at` {t:?}"))?
            .with_timezone(&chrono::Utc),
        None => chrono::Utc::now(),
    };
    let eval = evaluate(
        policy,
        &Subject::sha256(subject_name, sha),
        &bundles,
        &EvalOptions::new(root, at),
    )
    .with_context(|| format!("case {name}: cannot evaluate"))?;
    let got = if eval.verdict.passed() {
        Expect::Pass
    } else {
        Expect::Fail
    };
    let failures: Vec<String> = eval
        .verdict
        .failures()
        .map(|c| format!("{}: {}", c.id, c.reason))
        .collect();
    let missing_failures: Vec<String> = case
        .failing
        .iter()
        .filter(|id| !eval.verdict.failures().any(|c| &c.id == *id))
        .cloned()
        .collect();
    Ok(CaseReport {
        ok: got == case.expect && missing_failures.is_empty(),
        case: name,
        expected: case.expect,
        got,
        description: case.description,
        failures,
        missing_failures,
    })
}

impl TestArgs {
    fn run(self, ctx: &Ctx) -> anyhow::Result<Status> {
        let policy = load_policy(&self.policy)?;
        let root = self.trust.load()?;
        let mut dirs = Vec::new();
        for e in std::fs::read_dir(&self.fixtures)
            .with_context(|| format!("cannot list fixtures {}", self.fixtures.display()))?
        {
            let p = e?.path();
            if p.is_dir() && p.join("case.json").is_file() {
                dirs.push(p);
            }
        }
        dirs.sort();
        anyhow::ensure!(
            !dirs.is_empty(),
            "no cases in {} (each case is a directory with a case.json)",
            self.fixtures.display()
        );
        let mut cases = Vec::new();
        for d in &dirs {
            cases.push(run_case(d, &policy, &root)?);
        }
        let passed = cases.iter().filter(|c| c.ok).count();
        let report = TestReport {
            policy: policy.source.clone(),
            passed,
            total: cases.len(),
            cases,
        };
        if ctx.json {
            ctx.out_json(&report)?;
        } else {
            for c in &report.cases {
                let mark = if c.ok {
                    ctx.paint("ok  ", "32")
                } else {
                    ctx.paint("FAIL", "31")
                };
                let got = serde_json::to_value(c.got)?;
                let exp = serde_json::to_value(c.expected)?;
                ctx.out(format!(
                    "{mark} {}  expected {}, got {}",
                    c.case,
                    exp.as_str().unwrap_or_default(),
                    got.as_str().unwrap_or_default()
                ))?;
                if !c.ok {
                    for f in &c.failures {
                        ctx.out(format!("       failed: {f}"))?;
                    }
                    for m in &c.missing_failures {
                        ctx.out(format!("       expected failure not seen: {m}"))?;
                    }
                }
            }
            ctx.out(format!("{passed} of {} case(s) as expected", report.total))?;
        }
        Ok(if passed == report.total {
            Status::Success
        } else {
            Status::Failed
        })
    }
}
