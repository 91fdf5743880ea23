#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod canonical;
pub mod dsse;
pub mod json;
pub mod metablock;

pub use dsse::{Envelope, pae};
pub use json::JsonError;
pub use metablock::Metablock;
