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
    /// Colour on stdout (results, verdicts): [`Ctx::paint`], renderers' `color` option.
    pub color: bool,
    /// Colour on stderr (warnings, errors, hints): [`Ctx::paint_err`].
    pub color_err: bool,
}

/// The environment variables that decide colour in `auto` mode.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColorEnv {
    /// `NO_COLOR` (no-color.org): set and non-empty turns colour off.
    pub no_color: Option<String>,
    /// `CLICOLOR_FORCE`: set and not `0` turns colour on even when not a terminal.
    pub clicolor_force: Option<String>,
    /// `CLICOLOR=0` turns colour off on terminals.
    pub clicolor: Option<String>,
    /// `TERM=dumb` turns colour off on terminals.
    pub term: Option<String>,
}

impl ColorEnv {
    /// Reads the process environment.
    pub fn from_process() -> ColorEnv {
        let get = |k: &str| std::env::var_os(k).map(|v| v.to_string_lossy().into_owned());
        ColorEnv {
            no_color: get("NO_COLOR"),
            clicolor_force: get("CLICOLOR_FORCE"),
            clicolor: get("CLICOLOR"),
            term: get("TERM"),
        }
    }
}

/// Whether to colour one stream. `--color always|never` (or `CAIRN_COLOR`) wins; in `auto`,
/// `NO_COLOR` turns colour off, then `CLICOLOR_FORCE` turns it on, and otherwise the stream
/// gets colour only when it is a terminal (and not `TERM=dumb` or `CLICOLOR=0`).
pub fn color_for(choice: ColorChoice, is_terminal: bool, env: &ColorEnv) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            if env.no_color.as_deref().is_some_and(|v| !v.is_empty()) {
                false
            } else if env.clicolor_force.as_deref().is_some_and(|v| v != "0") {
                true
            } else {
                is_terminal
                    && env.term.as_deref() != Some("dumb")
                    && env.clicolor.as_deref() != Some("0")
            }
        }
    }
}

impl Ctx {
    pub fn new(global: &GlobalArgs) -> Self {
        let env = ColorEnv::from_process();
        Ctx {
            json: global.json,
            quiet: global.quiet,
            verbose: global.verbose,
            color: color_for(global.color, std::io::stdout().is_terminal(), &env),
            color_err: color_for(global.color, std::io::stderr().is_terminal(), &env),
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
        let label = self.paint_err("warning:", "33");
        eprintln!("{label} {}", line.as_ref());
    }

    /// Wraps `text` in an ANSI style when stdout gets colour (for text written to stdout).
    pub fn paint(&self, text: &str, sgr: &str) -> String {
        sgr_wrap(self.color, text, sgr)
    }

    /// Wraps `text` in an ANSI style when stderr gets colour (for text written to stderr).
    pub fn paint_err(&self, text: &str, sgr: &str) -> String {
        sgr_wrap(self.color_err, text, sgr)
    }
}

fn sgr_wrap(on: bool, text: &str, sgr: &str) -> String {
    if on {
        format!("\x1b[{sgr}m{text}\x1b[0m")
    } else {
        text.to_string()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> ColorEnv {
        let get = |k: &str| pairs.iter().find(|p| p.0 == k).map(|p| p.1.to_string());
        ColorEnv {
            no_color: get("NO_COLOR"),
            clicolor_force: get("CLICOLOR_FORCE"),
            clicolor: get("CLICOLOR"),
            term: get("TERM"),
        }
    }

    #[test]
    fn colour_decision_per_stream() {
        use ColorChoice::{Always, Auto, Never};
        let none = env(&[]);
        // auto: a terminal gets colour, a pipe or file does not.
        assert!(color_for(Auto, true, &none));
        assert!(!color_for(Auto, false, &none));
        // NO_COLOR (non-empty) wins over a terminal and over CLICOLOR_FORCE; empty is unset.
        assert!(!color_for(Auto, true, &env(&[("NO_COLOR", "1")])));
        assert!(!color_for(
            Auto,
            false,
            &env(&[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")])
        ));
        assert!(color_for(Auto, true, &env(&[("NO_COLOR", "")])));
        // CLICOLOR_FORCE forces colour into pipes; "0" does not.
        assert!(color_for(Auto, false, &env(&[("CLICOLOR_FORCE", "1")])));
        assert!(!color_for(Auto, false, &env(&[("CLICOLOR_FORCE", "0")])));
        // Terminals that cannot or should not colour.
        assert!(!color_for(Auto, true, &env(&[("TERM", "dumb")])));
        assert!(!color_for(Auto, true, &env(&[("CLICOLOR", "0")])));
        assert!(color_for(Auto, true, &env(&[("CLICOLOR", "1")])));
        // The flag wins over everything.
        assert!(color_for(Always, false, &env(&[("NO_COLOR", "1")])));
        assert!(!color_for(Never, true, &env(&[("CLICOLOR_FORCE", "1")])));
    }

    #[test]
    fn paint_follows_its_stream() {
        let ctx = Ctx {
            json: false,
            quiet: false,
            verbose: 0,
            color: true,
            color_err: false,
        };
        assert_eq!(ctx.paint("PASS", "32"), "\x1b[32mPASS\x1b[0m");
        assert_eq!(ctx.paint_err("warning:", "33"), "warning:");
    }
}
