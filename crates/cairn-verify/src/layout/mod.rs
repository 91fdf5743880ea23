//! The in-toto layout engine (in-toto specification v1.0, section 5: verification).
//!
//! [`verify_file`] checks a layout and the links of its supply chain and returns a
//! [`crate::Verdict`]; see [`verify`] for the workflow. The building blocks are public for
//! reuse and testing: the artifact-rule queue engine ([`rules`]) over plain maps, Python
//! `fnmatch` patterns ([`glob`]), parameter substitution ([`params`]), inspection runs
//! ([`inspect`]) and the signed-document forms ([`document`]).

pub mod document;
mod explain;
pub mod glob;
pub mod inspect;
pub mod params;
pub mod rules;
mod steps;
pub mod verify;
mod x509;

pub use verify::{
    Error, MAX_SUBLAYOUT_DEPTH, Options, verify_bytes, verify_bytes_with_root, verify_file,
    verify_file_with_root,
};
