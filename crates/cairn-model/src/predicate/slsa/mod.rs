//! SLSA Build provenance: [`v1`] (`https://slsa.dev/provenance/v1`, written by cairn) and
//! [`v02`] (`https://slsa.dev/provenance/v0.2`, read: slsa-github-generator still writes it).

pub mod v02;
pub mod v1;
