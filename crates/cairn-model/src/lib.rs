#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod bundle;
pub mod canonical;
pub mod cyclonedx;
pub mod digest;
pub mod dsse;
pub mod json;
pub mod key;
pub mod layout;
pub mod link;
pub mod metablock;
pub mod rule;
pub mod spdx;
pub mod time;

pub use dsse::{Envelope, pae};
pub use json::JsonError;
pub use metablock::{MetadataError, Metablock};
pub use digest::{DigestError, DigestSet};
pub use key::{KeyId, LayoutKey, PublicKey};
pub use layout::{Inspection, Layout, Step};
pub use link::Link;
pub use rule::{ArtifactRule, DestinationType, RuleError};
pub use time::Timestamp;
