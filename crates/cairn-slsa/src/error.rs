//! The crate's error type: "could not produce or check provenance". A verification that ran and
//! found the evidence wanting is a [`crate::verify::Verdict`], not an error.

use std::path::PathBuf;

use crate::env::Platform;
use crate::git::GitError;
use crate::uri::UrlError;

/// Why provenance could not be generated (or a policy could not be built).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The platform was detected but variables it documents as always set are missing.
    #[error("{platform} variables missing: {}", names.join(", "), platform = platform.name())]
    MissingVariables {
        /// The platform detected.
        platform: Platform,
        /// The variables missing, in the order the platform documents them.
        names: Vec<&'static str>,
    },
    /// A CI variable has a value that breaks the platform's documented format.
    #[error("{name}={value:?}: {reason}")]
    InvalidVariable {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `SOURCE_DATE_EPOCH` is not a non-negative integer number of seconds.
    #[error("SOURCE_DATE_EPOCH={value:?} is not a non-negative integer number of seconds")]
    SourceDateEpoch {
        /// The value found.
        value: String,
    },
    /// The OIDC ID token given could not be decoded.
    #[error("cannot read the ID token claims: {reason}")]
    IdToken {
        /// What is wrong.
        reason: &'static str,
    },
    /// The ID token given belongs to another job than the environment describes.
    #[error("the ID token's {claim} is {token:?} but the environment says {env:?}")]
    ClaimsMismatch {
        /// The claim.
        claim: &'static str,
        /// The token's value.
        token: String,
        /// The environment's value.
        env: String,
    },
    /// The source checkout could not be read.
    #[error(transparent)]
    Git(#[from] GitError),
    /// A builder id was given for a CI platform, whose buildType defines the builder id.
    #[error("a builder id can only be given for local builds; {} defines its own", platform.name())]
    BuilderIdOverride {
        /// The platform detected.
        platform: Platform,
    },
    /// A local build has no source repository to describe.
    #[error("a local build needs a git checkout to describe its source")]
    NoSource,
    /// A repository URL from the environment could not be normalised.
    #[error("{name} is not a usable repository url")]
    RepositoryUrl {
        /// The variable it came from.
        name: &'static str,
        /// Why.
        #[source]
        source: UrlError,
    },
    /// No subject was given.
    #[error("no subjects: provenance must describe at least one artifact")]
    NoSubjects,
    /// A subject was given without any digest.
    #[error("subject {name:?} has no digest")]
    SubjectWithoutDigest {
        /// The subject name.
        name: String,
    },
    /// A subject could not be read.
    #[error("cannot read subject {}", path.display())]
    Subject {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A subject directory holds no regular files.
    #[error("subject directory {} holds no files", path.display())]
    EmptyDirectory {
        /// The directory.
        path: PathBuf,
    },
    /// A checksums file line is malformed.
    #[error("{}:{line}: {reason}", path.display())]
    Checksums {
        /// The checksums file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// Two subjects share a name but not a digest.
    #[error("subject {name:?} is given twice with different digests")]
    ConflictingSubject {
        /// The subject name.
        name: String,
    },
    /// A links directory entry could not be read.
    #[error("cannot read link {}", path.display())]
    LinkIo {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A links directory entry is not JSON cairn can read.
    #[error("{} is not valid JSON", path.display())]
    LinkJson {
        /// The file.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: cairn_model::JsonError,
    },
    /// A links directory entry is not an in-toto link.
    #[error("{} is not an in-toto link: {reason}", path.display())]
    Link {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: &'static str,
    },
    /// A policy pattern is not a valid regular expression.
    #[error("invalid pattern {pattern:?}")]
    Pattern {
        /// The pattern as given.
        pattern: String,
        /// The regex error.
        #[source]
        source: regex::Error,
    },
}
