#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod bundle;
pub mod canonical;
pub mod cyclonedx;
pub mod descriptor;
pub mod digest;
pub mod dsse;
pub mod json;
pub mod key;
pub mod layout;
pub mod link;
pub mod link_reader;
pub mod metablock;
pub mod predicate;
pub mod rule;
pub mod spdx;
pub mod statement;
pub mod time;

pub use descriptor::{DescriptorError, ResourceDescriptor};
pub use digest::{DigestError, DigestSet};
pub use dsse::{Envelope, pae};
pub use json::JsonError;
pub use key::{KeyId, LayoutKey, PublicKey};
pub use layout::{Inspection, Layout, Step};
pub use link::Link;
pub use metablock::{Metablock, MetadataError};
pub use predicate::{Predicate, PredicateError};
pub use rule::{ArtifactRule, DestinationType, RuleError};
pub use statement::{Statement, StatementError, StatementType};
pub use time::Timestamp;
