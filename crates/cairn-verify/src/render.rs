//! The human view of a [`Verdict`]: root causes first (with the artifacts they caught and the
//! trail each one followed), then warnings, then the check tree. Returns text; printing is the
//! caller's business.

use std::fmt::Write as _;

use crate::verdict::{ArtifactRef, Check, Evidence, Outcome, Verdict};

/// Rendering options.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions {
    /// Show every check of the tree (default: down to the second level, plus everything that
    /// did not pass).
    pub verbose: bool,
    /// Use ANSI colours.
    pub color: bool,
}

fn paint(opts: RenderOptions, text: &str, sgr: &str) -> String {
    if opts.color {
        format!("\x1b[{sgr}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

fn label(opts: RenderOptions, o: Outcome) -> String {
    match o {
        Outcome::Pass => paint(opts, "pass", "32"),
        Outcome::Fail => paint(opts, "FAIL", "1;31"),
        Outcome::Warn => paint(opts, "warn", "33"),
        Outcome::Skip => paint(opts, "skip", "2"),
    }
}

fn artifact_line(a: &ArtifactRef) -> String {
    let digest = a
        .digests
        .iter()
        .map(|(alg, hex)| format!("{alg}:{}", hex.get(..16).unwrap_or(hex)))
        .collect::<Vec<_>>()
        .join(" ");
    format!("{} of '{}' {}", a.role.as_str(), a.step, digest)
}

fn evidence_lines(out: &mut String, e: &Evidence, indent: &str) {
    match e {
        Evidence::Artifact {
            artifact,
            trail,
            notes,
        } => {
            let _ = writeln!(
                out,
                "{indent}{}  ({})",
                artifact.path,
                artifact_line(artifact)
            );
            for n in notes {
                let _ = writeln!(out, "{indent}  - {n}");
            }
            for t in trail {
                let shown = if t.path == artifact.path {
                    artifact_line(t)
                } else {
                    format!("'{}': {}", t.path, artifact_line(t))
                };
                let _ = writeln!(out, "{indent}  also: {shown}");
            }
            if trail.is_empty() {
                let _ = writeln!(out, "{indent}  no other step reported this path");
            }
        }
        Evidence::Signer { keyid, status } => {
            let _ = writeln!(
                out,
                "{indent}key {}: {status}",
                keyid.get(..16).unwrap_or(keyid)
            );
        }
        Evidence::File { path, role } => {
            let _ = writeln!(out, "{indent}{role}: {path}");
        }
        Evidence::Value { label, value } => {
            if value.contains('\n') {
                let _ = writeln!(out, "{indent}{label}:");
                for line in value.lines() {
                    let _ = writeln!(out, "{indent}  | {line}");
                }
            } else {
                let _ = writeln!(out, "{indent}{label}: {value}");
            }
        }
    }
}

fn tree(out: &mut String, c: &Check, depth: usize, opts: RenderOptions) {
    let indent = "  ".repeat(depth + 1);
    let _ = writeln!(
        out,
        "{indent}{} {}  {}",
        label(opts, c.outcome),
        c.title,
        paint(opts, &c.reason, "2")
    );
    let expand = opts.verbose || depth < 1 || c.outcome != Outcome::Pass;
    if expand {
        for child in &c.children {
            if opts.verbose
                || depth < 1
                || child.outcome != Outcome::Pass
                || c.outcome != Outcome::Pass
            {
                tree(out, child, depth + 1, opts);
            }
        }
    }
}

/// Renders the verdict for a terminal.
pub fn render_text(v: &Verdict, opts: RenderOptions) -> String {
    let mut out = String::new();
    let headline = if v.passed() {
        paint(opts, "PASS", "1;32")
    } else {
        paint(opts, "FAIL", "1;31")
    };
    let _ = writeln!(out, "{headline} {}", v.subject);
    let failures: Vec<&Check> = v.failures().collect();
    if !failures.is_empty() {
        let _ = writeln!(out, "\n{}", paint(opts, "Failed:", "1"));
        for c in failures {
            let _ = writeln!(out, "  {} [{}]", c.title, c.id);
            let _ = writeln!(out, "    {}", c.reason);
            for e in &c.evidence {
                evidence_lines(&mut out, e, "      ");
            }
        }
    }
    let warnings: Vec<&Check> = v.warnings().collect();
    if !warnings.is_empty() {
        let _ = writeln!(out, "\n{}", paint(opts, "Warnings:", "1"));
        for c in warnings {
            let _ = writeln!(out, "  {} [{}]", c.title, c.id);
            let _ = writeln!(out, "    {}", c.reason);
            for e in &c.evidence {
                evidence_lines(&mut out, e, "      ");
            }
        }
    }
    let _ = writeln!(out, "\n{}", paint(opts, "Checks:", "1"));
    for c in &v.checks {
        tree(&mut out, c, 0, opts);
    }
    out
}
