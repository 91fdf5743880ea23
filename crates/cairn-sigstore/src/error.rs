//! The crate's error type: "could not check" or "could not sign", never "the evidence is bad"
//! (that is a [`crate::Verdict`]).

use std::path::PathBuf;

/// What went wrong while loading trust material, talking to a Sigstore service or signing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("cannot access {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A trusted root, trust config or signing config is not usable.
    #[error("invalid trust material ({what})")]
    TrustMaterial {
        /// Which document.
        what: &'static str,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A trust config names a media type cairn does not know.
    #[error("unsupported trust config media type {media_type:?}")]
    TrustConfigMediaType {
        /// The media type found.
        media_type: String,
    },
    /// An identity regular expression does not compile.
    #[error("invalid identity pattern {pattern:?}")]
    IdentityPattern {
        /// The pattern.
        pattern: String,
        /// The cause.
        #[source]
        source: regex::Error,
    },
    /// A public key could not be read.
    #[error("invalid public key")]
    PublicKey {
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A digest given as `ALG:HEX` is malformed or uses an unsupported algorithm.
    #[error("invalid artifact digest {digest:?} (expected sha256:<64 hex> or sha512:<128 hex>)")]
    Digest {
        /// The text given.
        digest: String,
    },
    /// No OIDC identity token could be found or obtained.
    #[error("no identity token: {reason}")]
    NoIdentityToken {
        /// Which sources were tried.
        reason: &'static str,
    },
    /// The identity token is unusable before it is even sent (malformed, expired, wrong audience).
    #[error("identity token rejected: {reason}")]
    IdentityToken {
        /// Why.
        reason: TokenProblem,
    },
    /// A Sigstore service answered with an error or could not be reached, after retries.
    #[error("{service} request failed after {attempts} attempt(s)")]
    Service {
        /// Which service.
        service: Service,
        /// How many attempts were made.
        attempts: u32,
        /// The last cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The material returned by the services does not verify against the trusted root.
    #[error("signing services returned material that does not verify: {reason}")]
    SignedBundleRejected {
        /// The failed check.
        reason: String,
    },
    /// A local signing operation failed (key generation, signature, bundle assembly).
    #[error("signing failed")]
    Signing {
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The interactive browser sign-in failed.
    #[error("interactive sign-in failed: {reason}")]
    Interactive {
        /// Why.
        reason: crate::interactive::OAuthProblem,
    },
    /// The configuration lacks a service needed for the operation.
    #[error("no {service} service configured")]
    MissingService {
        /// Which service.
        service: Service,
    },
}

/// A Sigstore service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Service {
    /// The OIDC identity provider.
    Oidc,
    /// The Fulcio certificate authority.
    Fulcio,
    /// The Rekor transparency log.
    Rekor,
    /// An RFC 3161 timestamp authority.
    Tsa,
    /// A TUF repository (trust material refresh).
    Tuf,
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Service::Oidc => "OIDC",
            Service::Fulcio => "Fulcio",
            Service::Rekor => "Rekor",
            Service::Tsa => "TSA",
            Service::Tuf => "TUF repository",
        })
    }
}

/// Why an identity token was refused locally.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenProblem {
    /// Not a JWT (three base64url parts with a JSON payload).
    #[error("not a JWT")]
    Malformed,
    /// `exp` is in the past.
    #[error("expired at {exp} (now {now})")]
    Expired {
        /// The token's `exp` (seconds since the epoch).
        exp: i64,
        /// The time used.
        now: i64,
    },
    /// `aud` does not contain the expected audience.
    #[error("audience {found:?} does not include {expected:?}")]
    Audience {
        /// The expected audience.
        expected: String,
        /// What the token carries.
        found: Vec<String>,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
