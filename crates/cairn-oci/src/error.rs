//! The crate's error type.

use std::path::PathBuf;

use crate::digest::{Digest, DigestError};
use crate::manifest::ManifestError;
use crate::reference::RefError;

/// A boxed transport error (kept opaque so no HTTP crate type is part of the public API).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong talking to a registry or a layout directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A reference did not parse.
    #[error("invalid image reference")]
    Reference(#[from] RefError),
    /// A digest did not parse.
    #[error("invalid digest")]
    Digest(#[from] DigestError),
    /// Local file I/O failed.
    #[error("cannot access {}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The request could not be sent or its response not read (connection refused, reset, TLS,
    /// timeout).
    #[error("{method} {url} failed")]
    Transport {
        /// HTTP method.
        method: String,
        /// URL.
        url: String,
        /// The cause.
        #[source]
        source: BoxError,
    },
    /// The registry answered with an unexpected status.
    #[error("{method} {url}: registry answered {status}{}", detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Status {
        /// HTTP method.
        method: String,
        /// URL.
        url: String,
        /// HTTP status code.
        status: u16,
        /// The registry's error code and message, when it sent one.
        detail: Option<String>,
    },
    /// A request kept failing with retryable errors.
    #[error("giving up after {attempts} attempts")]
    RetriesExhausted {
        /// How many attempts were made.
        attempts: u32,
        /// The last failure.
        #[source]
        last: Box<Error>,
    },
    /// The registry refused the credentials (or there were none and it wants some).
    #[error("not authorized to {action} {repository} on {registry}")]
    Unauthorized {
        /// Registry host.
        registry: String,
        /// Repository.
        repository: String,
        /// `pull` or `push`.
        action: String,
        /// The registry's own words, when any.
        detail: Option<String>,
    },
    /// A manifest, tag or blob does not exist.
    #[error("{what} not found in {repository}")]
    NotFound {
        /// What was looked for (`tag v1`, `manifest sha256:...`, `blob sha256:...`).
        what: String,
        /// Where.
        repository: String,
    },
    /// Content did not hash to the digest it was fetched by (or that the registry announced).
    #[error("{what}: content digest is {actual}, expected {expected}")]
    DigestMismatch {
        /// What was fetched.
        what: String,
        /// The digest asked for.
        expected: Digest,
        /// The digest of the bytes received.
        actual: Digest,
    },
    /// Content size differs from its descriptor.
    #[error("{digest}: received {actual} bytes, descriptor says {expected}")]
    SizeMismatch {
        /// The content.
        digest: Digest,
        /// Descriptor size.
        expected: u64,
        /// Received (at least) this many bytes.
        actual: u64,
    },
    /// A manifest is larger than [`crate::manifest::MAX_MANIFEST_SIZE`].
    #[error("manifest {what} is larger than {limit} bytes")]
    ManifestTooLarge {
        /// Which one.
        what: String,
        /// The limit.
        limit: u64,
    },
    /// A manifest could not be read.
    #[error("cannot read manifest {what}")]
    Manifest {
        /// Which one.
        what: String,
        /// Why.
        #[source]
        source: ManifestError,
    },
    /// A plain-HTTP registry that is neither loopback nor explicitly allowed.
    #[error(
        "refusing plain HTTP to {registry}: only loopback registries and hosts given with --allow-insecure-registry may use it"
    )]
    InsecureRegistry {
        /// The host.
        registry: String,
    },
    /// A credential helper failed or returned garbage.
    #[error("credential helper docker-credential-{helper} failed for {registry}")]
    CredentialHelper {
        /// Helper name.
        helper: String,
        /// Registry.
        registry: String,
        /// The cause.
        #[source]
        source: BoxError,
    },
    /// The docker config file is not valid.
    #[error("invalid docker config {}", path.display())]
    DockerConfig {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: BoxError,
    },
    /// The token endpoint answered with something unusable.
    #[error("token request to {realm} failed")]
    Token {
        /// The realm URL.
        realm: String,
        /// Why.
        #[source]
        source: BoxError,
    },
    /// A directory is not an OCI image layout (no `oci-layout` file, or a bad `index.json`).
    #[error("{} is not an OCI image layout: {reason}", path.display())]
    NotALayout {
        /// The directory.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The registry's response broke the distribution protocol.
    #[error("{url}: {reason}")]
    Protocol {
        /// The request URL.
        url: String,
        /// What was wrong.
        reason: String,
    },
    /// No entry of an index matches the requested platform.
    #[error("no manifest for platform {platform} in index {digest} (available: {})", available.join(", "))]
    PlatformNotFound {
        /// The requested platform.
        platform: String,
        /// The index.
        digest: Digest,
        /// The platforms it lists.
        available: Vec<String>,
    },
    /// An attached or listed Sigstore bundle is not a bundle.
    #[error("invalid Sigstore bundle {what}")]
    Bundle {
        /// Which bundle (file or digest).
        what: String,
        /// Why.
        #[source]
        source: BoxError,
    },
    /// A promotion was approved for another digest than the one resolved.
    #[error("approval is for {approved}, but the resolved digest is {resolved}")]
    ApprovalMismatch {
        /// What the gate approved.
        approved: Digest,
        /// What was resolved.
        resolved: Digest,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// True when the error is a missing manifest/tag/blob.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }
}
