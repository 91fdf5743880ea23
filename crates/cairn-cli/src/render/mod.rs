//! Renderers of cairn-verify [`Verdict`]s for people and CI systems: a self-contained HTML page
//! that draws the supply chain as a graph (`--report FILE`), and SARIF 2.1.0, JUnit XML and
//! Markdown on stdout (`--format`). All of them read only the verdict: the same value that feeds
//! the text view and `--json`, so no view can claim more than the verifier found.

pub mod graph;
pub mod html;
pub mod junit;
pub mod markdown;
pub mod sarif;

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use cairn_verify::{Check, Verdict};
use clap::ValueEnum;

/// `--format` values of the verify commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The human view (default).
    Text,
    /// The verdict as one JSON document (same as --json).
    Json,
    /// SARIF 2.1.0 (GitHub code scanning, GitLab, IDEs): one result per failed or warning check.
    Sarif,
    /// JUnit XML (CI test views, GitLab `reports: junit`): one test case per check.
    Junit,
    /// Markdown (job summaries, merge request comments).
    Markdown,
}

/// Writes the verdict in `format` to stdout; returns false when the caller should print its
/// own text view instead.
pub fn emit(verdict: &Verdict, format: Format, tool_version: &str) -> anyhow::Result<bool> {
    let text = match format {
        Format::Text => return Ok(false),
        Format::Json => serde_json::to_string_pretty(verdict)? + "\n",
        Format::Sarif => serde_json::to_string_pretty(&sarif::sarif(verdict, tool_version))? + "\n",
        Format::Junit => junit::junit(verdict),
        Format::Markdown => markdown::markdown(verdict),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(true)
}

/// Writes the HTML report to `path` atomically.
pub fn write_report(verdict: &Verdict, path: &Path, tool_version: &str) -> anyhow::Result<()> {
    let html = html::html(verdict, tool_version);
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.write_all(html.as_bytes())?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Every leaf check (no children), depth first, with its ancestors' titles.
pub(crate) fn leaves(verdict: &Verdict) -> Vec<(Vec<&str>, &Check)> {
    fn walk<'a>(c: &'a Check, path: &mut Vec<&'a str>, out: &mut Vec<(Vec<&'a str>, &'a Check)>) {
        if c.children.is_empty() {
            out.push((path.clone(), c));
            return;
        }
        path.push(&c.title);
        for ch in &c.children {
            walk(ch, path, out);
        }
        path.pop();
    }
    let mut out = Vec::new();
    for c in &verdict.checks {
        walk(c, &mut Vec::new(), &mut out);
    }
    out
}

/// Escapes text for HTML and XML.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // XML 1.0 forbids most control characters even as references.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
