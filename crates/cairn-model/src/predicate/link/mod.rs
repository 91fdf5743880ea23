//! The in-toto link predicate: [`v03`] (`https://in-toto.io/attestation/link/v0.3`).

pub mod v03;
