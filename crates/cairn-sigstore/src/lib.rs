#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod error;
pub mod interactive;
mod keyed;
pub mod oidc;
pub mod policy;
pub mod retry;
pub mod sign;
pub mod trust;
pub mod verify;

pub use error::{Error, Result, Service, TokenProblem};
pub use interactive::{Browser, InteractiveFlow, OAuthProblem, interactive_token};
pub use oidc::{IdentityToken, TokenEnv, TokenOrigin, detect_token};
pub use policy::{CertificatePolicy, GithubClaims, Identity, PublicKey, SignerPolicy};
pub use retry::Retry;
pub use sign::{
    Payload, Services, SignOptions, SignedBundle, sign_keyless, sign_with_key,
    sign_with_key_checked,
};
pub use trust::{
    Instance, SigningConfig, TrustConfig, TrustedRoot, TufSource, refresh_through_tuf,
};
pub use verify::{Artifact, Check, CheckKind, SignerInfo, Verdict, VerifyOptions, verify_bundle};
