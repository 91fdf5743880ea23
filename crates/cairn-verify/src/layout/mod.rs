//! The in-toto layout engine (in-toto specification v1.0, section 5: verification).

pub mod glob;
pub mod rules;
