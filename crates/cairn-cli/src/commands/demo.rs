//! `cairn demo`: the whole chain on a small bundled project, locally.

use clap::Args;

use crate::output::{Ctx, Status};

/// `demo` arguments.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the demo's working directory instead of deleting it.
    #[arg(long)]
    pub keep: bool,
}

impl DemoArgs {
    pub fn run(self, _ctx: &Ctx) -> anyhow::Result<Status> {
        anyhow::bail!("the demo is being built")
    }
}
