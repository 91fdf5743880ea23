//! The in-toto test-result predicate: [`v01`] (`https://in-toto.io/attestation/test-result/v0.1`).

pub mod v01;
