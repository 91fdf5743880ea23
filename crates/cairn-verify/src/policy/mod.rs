//! The attestation policy engine: a YAML policy (see `docs/policy.md`) that says who may sign,
//! which attestations must exist for a subject, and what they must show; evaluated over a set
//! of Sigstore bundles into a [`crate::Verdict`] that lists every requirement with the evidence
//! that met it or why nothing did.
//!
//! ```no_run
//! use cairn_verify::policy::{BundleInput, EvalOptions, Policy, Subject, evaluate};
//!
//! let policy = Policy::from_file("policy.yaml".as_ref())?;
//! let subject = Subject::sha256("app.tar.gz", [0u8; 32]);
//! let bundles = vec![BundleInput::new("app.intoto.json", std::fs::read("app.intoto.json")?)];
//! let root = cairn_sigstore::TrustedRoot::embedded(cairn_sigstore::Instance::PublicGood);
//! let eval = evaluate(&policy, &subject, &bundles, &EvalOptions::new(&root, chrono::Utc::now()))?;
//! println!("{}", cairn_verify::render::render_text(&eval.verdict, Default::default()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Principles: there is no default signer (an empty list is an error); identity patterns are
//! anchored; the certificate identity outranks any claim in a predicate; absence of evidence
//! fails with a reason; a failing verdict is a value, `Err` means "could not check".

pub mod document;
mod error;
mod evaluate;
mod layout_req;
mod load;
mod rules;
mod sbom;
#[cfg(test)]
mod tests;
mod vsa;

pub use error::Error;
pub use evaluate::{AttestationReport, BundleInput, EvalOptions, Evaluation, Subject, evaluate};
pub use load::{MAX_POLICY_SIZE, Policy, PredicateMatch, Requirement, Signer, SignerKind};
pub use vsa::{VsaOptions, vsa_statement};
