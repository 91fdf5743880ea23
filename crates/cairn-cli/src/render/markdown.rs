//! Markdown for job summaries and merge request comments: the outcome, why it failed (with the
//! artifacts caught), then a table of the top two levels of checks.

use std::fmt::Write as _;

use cairn_verify::{Evidence, Outcome, Verdict};

fn icon(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "✅",
        Outcome::Fail => "❌",
        Outcome::Warn => "⚠️",
        Outcome::Skip => "⏭️",
    }
}

/// Escapes table cell text.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('*', "\\*")
        .replace('_', "\\_")
        .replace('\n', " ")
}

/// The Markdown view of `verdict`.
pub fn markdown(verdict: &Verdict) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### {} cairn verification {}: `{}`\n",
        icon(verdict.outcome),
        if verdict.passed() { "passed" } else { "failed" },
        verdict.subject
    );
    let failures: Vec<_> = super::leaves(verdict)
        .into_iter()
        .filter(|(_, c)| c.outcome == Outcome::Fail)
        .collect();
    if !failures.is_empty() {
        out.push_str("**Why it failed**\n\n");
        for (path, c) in failures {
            let _ = writeln!(
                out,
                "- **{}** ({}): {} `{}`",
                cell(&c.title),
                cell(&path.join(" › ")),
                cell(&c.reason),
                c.id
            );
            for e in &c.evidence {
                if let Evidence::Artifact {
                    artifact, notes, ..
                } = e
                {
                    let _ = writeln!(
                        out,
                        "  - `{}` ({} of {})",
                        artifact.path,
                        artifact.role.as_str(),
                        artifact.step
                    );
                    for n in notes {
                        let _ = writeln!(out, "    - {}", cell(n));
                    }
                }
            }
        }
        out.push('\n');
    }
    out.push_str("| | check | result |\n|---|---|---|\n");
    for top in &verdict.checks {
        let _ = writeln!(
            out,
            "| {} | **{}** | {} |",
            icon(top.outcome),
            cell(&top.title),
            cell(&top.reason)
        );
        for c in &top.children {
            let _ = writeln!(
                out,
                "| {} | &nbsp;&nbsp;{} | {} |",
                icon(c.outcome),
                cell(&c.title),
                cell(&c.reason)
            );
        }
    }
    out
}
