#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod error;
pub mod policy;
pub mod trust;
pub mod verify;

pub use error::{Error, Result, Service, TokenProblem};
pub use policy::{CertificatePolicy, GithubClaims, Identity, PublicKey, SignerPolicy};
pub use trust::{Instance, SigningConfig, TrustConfig, TrustedRoot};
pub use verify::{Artifact, Check, CheckKind, SignerInfo, Verdict, VerifyOptions, verify_bundle};
