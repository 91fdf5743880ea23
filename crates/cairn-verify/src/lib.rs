#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod layout;
pub mod policy;
pub mod render;
pub mod verdict;

pub use verdict::{ArtifactRef, ArtifactRole, Check, Evidence, Outcome, Verdict};
