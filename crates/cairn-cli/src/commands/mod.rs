//! One module per subcommand; each has an `Args` struct and `run(self, ctx) -> Result<Status>`.

pub mod attach;
pub mod attest;
pub mod attestations;
pub mod completions;
pub mod demo;
pub mod key;
pub mod layout;
pub mod policy;
pub mod promote;
pub mod provenance;
pub mod record;
pub mod run;
pub mod sbom;
pub mod sign;
pub mod trust;
pub mod verify;
