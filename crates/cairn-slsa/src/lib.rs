#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod env;
mod error;
pub mod generate;
pub mod git;
pub mod links;
pub mod platform;
pub mod subject;
pub mod uri;
pub mod verify;

use std::fmt;
use std::path::PathBuf;

pub use env::{Environment, IdTokenClaims, Platform};
pub use error::Error;
pub use generate::{Generated, PROVENANCE_V1, Request, STATEMENT_V1, generate};
pub use git::{GitError, GitSource};
pub use subject::{HashAlgorithm, Subject};

/// Something the user should know about provenance that was nonetheless produced.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// The checkout's `HEAD` is not the commit the platform says the run is for; both are
    /// recorded in `resolvedDependencies`.
    CheckoutDiffers {
        /// The variable naming the platform's commit.
        variable: &'static str,
        /// The platform's commit.
        expected: String,
        /// The checkout's `HEAD`.
        actual: String,
    },
    /// The event is not one the buildType specification lists; GitHub's own action writes
    /// provenance for it all the same, and so does cairn.
    UnsupportedEvent {
        /// The buildType.
        build_type: &'static str,
        /// The event.
        event: String,
    },
    /// `HEAD` is detached and no single tag names it: the source is recorded without a ref.
    DetachedHead {
        /// The commit.
        commit: String,
    },
    /// The checkout has no remote: the source is recorded as a `file://` URL.
    NoRemote,
    /// The checkout is a shallow clone (the recorded commit id is exact all the same).
    ShallowClone,
    /// GitLab's runner environment (GitLab-hosted or self-managed) is only in the job's ID
    /// token, and none was given.
    RunnerEnvironmentUnknown,
    /// A symbolic link inside a subject directory was not followed.
    SkippedSymlink {
        /// The link.
        path: PathBuf,
    },
}

impl Warning {
    /// True for findings that are informational rather than a problem.
    pub fn is_note(&self) -> bool {
        matches!(
            self,
            Warning::ShallowClone | Warning::UnsupportedEvent { .. }
        )
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::CheckoutDiffers { variable, expected, actual } => write!(
                f,
                "the checkout is at {actual}, not at {variable}={expected}; both are recorded as dependencies"
            ),
            Warning::UnsupportedEvent { build_type, event } => write!(
                f,
                "event {event:?} is not among those {build_type} lists; provenance is written as GitHub's action writes it"
            ),
            Warning::DetachedHead { commit } => write!(
                f,
                "HEAD is detached at {commit} and no single tag names it: the source is recorded without a ref"
            ),
            Warning::NoRemote => f.write_str("the checkout has no remote: the source is recorded as a file:// url"),
            Warning::ShallowClone => f.write_str("the checkout is a shallow clone (the recorded commit is exact)"),
            Warning::RunnerEnvironmentUnknown => f.write_str(
                "runner environment (GitLab-hosted or self-managed) unknown: pass the job's ID token (CAIRN_ID_TOKEN or SIGSTORE_ID_TOKEN) to record it",
            ),
            Warning::SkippedSymlink { path } => {
                write!(f, "symbolic link {} skipped (links in subject directories are not followed)", path.display())
            }
        }
    }
}
