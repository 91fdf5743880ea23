//! Sigstore test services: the in-process stack ([`Stack`]: Fulcio, CT log, Rekor with a real
//! Merkle tree, TSA, OIDC issuer, all with real cryptography) and a harness for the @sigstore/mock
//! peer ([`JsMockStack`]).

mod mock_js;

pub use mock_js::JsMockStack;
