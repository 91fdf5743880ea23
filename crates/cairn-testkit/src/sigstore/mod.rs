//! Sigstore test services: the in-process stack ([`Stack`]: OIDC issuer, Fulcio with a CT log,
//! Rekor with a real Merkle tree, signed checkpoints and SETs, an RFC 3161 TSA, the OIDC
//! provider's browser endpoints (authorization code with PKCE), all with real
//! cryptography, plus fault injection) and a harness for the @sigstore/mock peer ([`JsMockStack`]).

mod merkle;
mod mock_js;
mod oidc;
mod stack;
mod tsa;
mod tuf;
mod x509;

pub use mock_js::JsMockStack;
pub use oidc::OidcFault;
pub use stack::{Faults, RekorTamper, Stack, TSA_PATH};
pub use tsa::TsaTamper;
