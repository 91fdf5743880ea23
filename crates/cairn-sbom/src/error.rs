//! The crate's error type.

use std::path::PathBuf;

/// Why an SBOM could not be made.
///
/// Problems inside one manifest (a broken stanza, an unknown lock file version) are not errors:
/// they become [`crate::Warning`]s on the result, and scanning goes on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The source does not exist.
    #[error("source {path} does not exist")]
    SourceMissing {
        /// The path given.
        path: PathBuf,
    },
    /// The source could not be read.
    #[error("cannot read {path}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The source is a file, but not an image archive cairn understands.
    #[error("{path} is neither a directory nor a docker-save or OCI image archive")]
    UnknownSource {
        /// The path given.
        path: PathBuf,
    },
    /// An image archive or layout is malformed (bad index, manifest or tar).
    #[error("malformed image {what}")]
    Image {
        /// What was being read (`manifest.json`, `layer 2 (sha256:...)`, ...).
        what: String,
        /// Why it failed.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An image layout has no image matching the tag or platform asked for.
    #[error("no image {wanted} in {path}")]
    ImageNotFound {
        /// Tag or platform asked for.
        wanted: String,
        /// The layout.
        path: PathBuf,
    },
    /// A layer blob could not be opened or read to the end (a network or storage failure, or
    /// the blob store's own digest or size check failing while streaming).
    #[error("cannot read layer {layer}")]
    LayerRead {
        /// Layer index from the bottom (0-based).
        layer: usize,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A layer blob's digest differs from its descriptor.
    #[error("layer blob digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// From the manifest.
        expected: String,
        /// Computed.
        actual: String,
    },
    /// A layer decompresses to more than the configured limit (a decompression bomb).
    #[error("layer {layer} expands beyond the limit of {limit} bytes")]
    DecompressionLimit {
        /// Layer index from the bottom (0-based).
        layer: usize,
        /// The limit.
        limit: u64,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn image(
        what: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error::Image {
            what: what.into(),
            source: source.into(),
        }
    }
}
