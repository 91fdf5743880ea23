#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod artifacts;
pub mod command;
pub mod document;
pub mod env;
mod error;
pub mod exclude;
pub mod hash;
pub mod link;
mod notice;
pub mod output;
pub mod path;
mod walk;

pub use artifacts::{ArtifactOptions, Artifacts, NoProgress, Progress, record_artifacts};
pub use command::{CommandOutcome, CommandSpec, Exit, run_command};
pub use document::{ArtifactsRef, LinkDocument, SignatureRef};
pub use error::{Error, PatternError};
pub use exclude::{DEFAULT_EXCLUDES, Excludes};
pub use hash::{Digests, HashAlgorithm};
pub use link::{StepInfo, build_link, link_statement};
pub use notice::{Notice, Severity, SpecialKind};
pub use output::write_atomic;
