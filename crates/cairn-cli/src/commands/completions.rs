//! `cairn completions SHELL` and `cairn man --out DIR`: shell completions and man pages generated
//! from the clap definition, plus the Markdown CLI reference (`docs/cli.md`) that a test keeps in
//! step with it.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, CommandFactory};

use crate::output::{Ctx, Status};

/// `completions` arguments.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

impl CompletionsArgs {
    pub fn run(self, _ctx: &Ctx) -> anyhow::Result<Status> {
        let mut cmd = crate::cli::Args::command();
        let mut out = std::io::stdout().lock();
        clap_complete::generate(self.shell, &mut cmd, "cairn", &mut out);
        out.flush()?;
        Ok(Status::Success)
    }
}

/// `man` arguments.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Directory to write `cairn.1` and one `cairn-<command>.1` per subcommand into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

impl ManArgs {
    pub fn run(self, ctx: &Ctx) -> anyhow::Result<Status> {
        std::fs::create_dir_all(&self.out)
            .with_context(|| format!("cannot create {}", self.out.display()))?;
        let mut cmd = crate::cli::Args::command();
        cmd.build();
        let mut written = 0;
        write_pages(&cmd, "cairn", &self.out, &mut written)?;
        ctx.info(format!(
            "wrote {written} man pages to {}",
            self.out.display()
        ));
        Ok(Status::Success)
    }
}

fn write_pages(
    cmd: &clap::Command,
    name: &str,
    dir: &Path,
    written: &mut usize,
) -> anyhow::Result<()> {
    let page = cmd.clone().bin_name(name.replace('-', " "));
    let mut buf = Vec::new();
    clap_mangen::Man::new(page)
        .title(name.to_string())
        .render(&mut buf)?;
    let path = dir.join(format!("{name}.1"));
    crate::output::write_atomic(&path, &buf)?;
    *written += 1;
    for sub in visible_subcommands(cmd) {
        write_pages(sub, &format!("{name}-{}", sub.get_name()), dir, written)?;
    }
    Ok(())
}

fn visible_subcommands(cmd: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    cmd.get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
}

/// The Markdown CLI reference: every command's long help, in tree order.
#[cfg(test)]
fn markdown_reference() -> String {
    let mut cmd = crate::cli::Args::command().term_width(100);
    cmd.build();
    let mut out = String::from(
        "# CLI reference\n\n\
         Generated from the clap definition by `cargo test -p cairn-cli cli_reference` \
         (`CAIRN_BLESS=1` rewrites it); do not edit by hand. Exit codes: 0 success or \
         verified, 1 verification or policy failed, 2 usage, I/O, network or internal error.\n\n",
    );
    let mut index = Vec::new();
    collect(&cmd, "cairn", &mut index);
    for (name, _) in &index {
        let anchor = name.replace(' ', "-");
        out.push_str(&format!("- [`{name}`](#{anchor})\n"));
    }
    for (name, help) in &index {
        out.push_str(&format!(
            "\n## {name}\n\n```text\n{}\n```\n",
            help.trim_end()
        ));
    }
    out
}

#[cfg(test)]
fn collect(cmd: &clap::Command, name: &str, out: &mut Vec<(String, String)>) {
    let mut c = cmd.clone().bin_name(name.to_string());
    let help = c.render_long_help().to_string();
    out.push((name.to_string(), help));
    for sub in visible_subcommands(cmd) {
        collect(sub, &format!("{name} {}", sub.get_name()), out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Leaves of the command tree, with their rendered long help.
    fn leaves() -> Vec<(String, String)> {
        let mut cmd = crate::cli::Args::command().term_width(100);
        cmd.build();
        let mut all = Vec::new();
        collect(&cmd, "cairn", &mut all);
        let mut leaves = Vec::new();
        fn walk(cmd: &clap::Command, name: &str, leaves: &mut Vec<String>) {
            let subs: Vec<_> = visible_subcommands(cmd).collect();
            if subs.is_empty() {
                leaves.push(name.to_string());
            }
            for s in subs {
                walk(s, &format!("{name} {}", s.get_name()), leaves);
            }
        }
        walk(&cmd, "cairn", &mut leaves);
        all.into_iter()
            .filter(|(n, _)| leaves.contains(n))
            .collect()
    }

    #[test]
    fn every_command_help_has_an_example() {
        let missing: Vec<String> = leaves()
            .into_iter()
            .filter(|(_, help)| !help.contains("Example"))
            .map(|(name, _)| name)
            .collect();
        assert!(
            missing.is_empty(),
            "commands whose --help has no example: {missing:?}"
        );
    }

    #[test]
    fn cli_reference_is_up_to_date() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/cli.md");
        let want = markdown_reference();
        if std::env::var_os("CAIRN_BLESS").is_some() {
            std::fs::write(&path, &want).expect("bless docs/cli.md");
            return;
        }
        let got = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            got == want,
            "docs/cli.md is out of date with the clap definition: run \
             `CAIRN_BLESS=1 cargo test -p cairn-cli cli_reference`"
        );
    }

    #[test]
    fn man_pages_and_completions_render() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut cmd = crate::cli::Args::command();
        cmd.build();
        let mut n = 0;
        write_pages(&cmd, "cairn", dir.path(), &mut n).expect("man pages");
        assert!(n > 20, "{n} pages");
        let page = std::fs::read_to_string(dir.path().join("cairn-verify-layout.1")).expect("page");
        assert!(
            page.contains(".TH cairn-verify-layout 1"),
            "{}",
            &page[..200.min(page.len())]
        );
        assert!(page.contains("layout\\-key"));
        for shell in [
            clap_complete::Shell::Bash,
            clap_complete::Shell::Zsh,
            clap_complete::Shell::Fish,
        ] {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut crate::cli::Args::command(), "cairn", &mut buf);
            let text = String::from_utf8(buf).expect("utf-8");
            assert!(text.contains("verify"), "{shell}");
            assert!(text.contains("layout-key"), "{shell}");
        }
    }
}
