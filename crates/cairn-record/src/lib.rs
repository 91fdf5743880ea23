#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod artifacts;
pub mod command;
mod error;
pub mod exclude;
pub mod hash;
mod notice;
pub mod path;
mod walk;

pub use artifacts::{ArtifactOptions, Artifacts, NoProgress, Progress, record_artifacts};
pub use command::{CommandOutcome, CommandSpec, Exit, run_command};
pub use error::{Error, PatternError};
pub use exclude::{DEFAULT_EXCLUDES, Excludes};
pub use hash::{Digests, HashAlgorithm};
pub use notice::{Notice, Severity, SpecialKind};
