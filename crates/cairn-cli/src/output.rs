//! Where results (stdout) and diagnostics (stderr) go, and how a command reports its outcome.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use crate::cli::{ColorChoice, GlobalArgs};

/// The outcome of a command that ran to completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Success, or "verified".
    Success,
    /// Verification or policy failed (a negative verdict, not an error).
    Failed,
    /// Exit with this code: `cairn run` passes the recorded command's own exit code through.
    Code(u8),
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> Self {
        match status {
            Status::Success => ExitCode::SUCCESS,
            Status::Failed => ExitCode::from(1),
            Status::Code(code) => ExitCode::from(code),
        }
    }
}

/// What every command gets: output settings from the global flags.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub json: bool,
    pub quiet: bool,
    pub verbose: u8,
    pub color: bool,
}

impl Ctx {
    pub fn new(global: &GlobalArgs) -> Self {
        let color = match global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
                    false
                } else if std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
                    true
                } else {
                    std::io::stderr().is_terminal()
                }
            }
        };
        Ctx {
            json: global.json,
            quiet: global.quiet,
            verbose: global.verbose,
            color,
        }
    }

    /// Writes a result line to stdout.
    pub fn out(&self, line: impl AsRef<str>) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", line.as_ref())
    }

    /// Writes a JSON document to stdout.
    pub fn out_json<T: serde::Serialize>(&self, value: &T) -> anyhow::Result<()> {
        // Serialised first, so that a closed pipe is an io::Error (serde_json hides it).
        let mut bytes = serde_json::to_vec_pretty(value)?;
        bytes.push(b'\n');
        let mut out = std::io::stdout().lock();
        out.write_all(&bytes)?;
        out.flush()?;
        Ok(())
    }

    /// Writes a progress or information line to stderr unless `-q`.
    pub fn info(&self, line: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", line.as_ref());
        }
    }

    /// Writes a warning to stderr (even with `-q`: warnings matter in CI logs).
    pub fn warn(&self, line: impl AsRef<str>) {
        let label = self.paint("warning:", "33");
        eprintln!("{label} {}", line.as_ref());
    }

    /// Wraps `text` in an ANSI style when colour is on.
    pub fn paint(&self, text: &str, sgr: &str) -> String {
        if self.color {
            format!("\x1b[{sgr}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, synced, then
/// renamed over `path`. On any failure (a full disk, say) the temporary file is removed and
/// `path` keeps its old content.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
