//! The `cairn` binary: parses the command line, runs one command and maps its outcome onto the
//! exit-code contract (0 success or verified, 1 verification or policy failed, 2 anything else).
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod output;
mod render;
mod report;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Args, Command};
use crate::output::Ctx;

/// musl's allocator is slow for allocation-heavy work; the static release builds use mimalloc.
#[cfg(target_env = "musl")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(err) => {
            // clap prints help and version to stdout with exit 0, and usage errors to stderr.
            let code = if err.use_stderr() { 2 } else { 0 };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    let ctx = Ctx::new(&args.global);
    let outcome = match args.command {
        Command::Key(cmd) => cmd.run(&ctx),
        Command::Demo(cmd) => cmd.run(&ctx),
        Command::Completions(cmd) => cmd.run(&ctx),
        Command::Man(cmd) => cmd.run(&ctx),
        Command::Attach(cmd) => cmd.run(&ctx),
        Command::Attestations(cmd) => cmd.run(&ctx),
        Command::Promote(cmd) => cmd.run(&ctx),
        Command::Policy(cmd) => cmd.run(&ctx),
        Command::Sbom(cmd) => cmd.run(&ctx),
        Command::Provenance(cmd) => cmd.run(&ctx),
        Command::Run(cmd) => cmd.run(&ctx),
        Command::Record(cmd) => cmd.run(&ctx),
        Command::Verify(cmd) => cmd.run(&ctx),
        Command::Trust(cmd) => cmd.run(&ctx),
        Command::Sign(cmd) => cmd.run(&ctx),
        Command::Attest(cmd) => cmd.run(&ctx),
        Command::Layout(cmd) => cmd.run(&ctx),
    };
    match outcome {
        Ok(status) => status.into(),
        Err(err) => {
            if report::is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            report::render_error(&ctx, &err);
            ExitCode::from(2)
        }
    }
}
