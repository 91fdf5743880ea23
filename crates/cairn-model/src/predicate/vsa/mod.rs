//! SLSA Verification Summary Attestation: [`v1`] (`https://slsa.dev/verification_summary/v1`).

pub mod v1;
