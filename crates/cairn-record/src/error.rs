//! The one error type of cairn-record: things that stop a recording.
//!
//! Conditions that only make an artifact absent (a FIFO in the tree, a dangling symlink, a file
//! deleted during the walk) are not errors: they are [`Notice`](crate::Notice)s returned next to
//! the result, so the caller decides how loudly to report them.

use std::path::PathBuf;
use std::time::Duration;

/// Why recording (hashing, running the command, or keeping the start/stop state) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The base path cannot be resolved (missing, not a directory, unreadable).
    #[error("cannot use base path {path}")]
    BasePath {
        /// The base path as given.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },
    /// An artifact path given by the user lies outside the base path.
    #[error("artifact path {path} is outside the base path {base}")]
    OutsideBase {
        /// The artifact path as given.
        path: PathBuf,
        /// The base path.
        base: PathBuf,
    },
    /// A file could not be opened or read (permissions, I/O error).
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },
    /// A directory could not be listed.
    #[error("cannot list directory {path}")]
    ReadDir {
        /// The directory.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },
    /// A file kept changing while it was hashed (size, modification or change time moved).
    #[error("{path} changed while it was being hashed ({attempts} attempts)")]
    Changed {
        /// The file.
        path: PathBuf,
        /// How many times it was hashed.
        attempts: u32,
    },
    /// Two different files got the same artifact name after `--lstrip` (in-toto's PrefixError),
    /// or a lossless non-UTF-8 encoding equals another file's literal name.
    #[error("two artifacts have the name {name:?}: {first} and {second}")]
    NameCollision {
        /// The artifact name.
        name: String,
        /// The first file with that name (in path order).
        first: PathBuf,
        /// The second one.
        second: PathBuf,
    },
    /// Two `--lstrip` prefixes overlap (one starts with the other), which in-toto rejects
    /// because the result would depend on their order.
    #[error("lstrip prefixes {first:?} and {second:?} overlap")]
    OverlappingPrefixes {
        /// One prefix.
        first: String,
        /// The other.
        second: String,
    },
    /// An exclude pattern is not valid gitignore syntax.
    #[error("invalid exclude pattern {pattern:?}")]
    Pattern {
        /// The pattern.
        pattern: String,
        /// Why it was rejected.
        #[source]
        source: PatternError,
    },
    /// An exclude file (`--exclude-from`) could not be read.
    #[error("cannot read exclude file {path}")]
    ExcludeFile {
        /// The file.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },
    /// A hash algorithm name is not one cairn records.
    #[error("unknown hash algorithm {name:?} (known: sha256, sha384, sha512)")]
    UnknownAlgorithm {
        /// The name given.
        name: String,
    },
    /// The command line to run is empty.
    #[error("no command given")]
    EmptyCommand,
    /// The command could not be started (not found, not executable).
    #[error("cannot start {program:?}")]
    Spawn {
        /// The program.
        program: String,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// Waiting for the command failed.
    #[error("lost track of the command")]
    Wait {
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The command ran longer than `--timeout` and was killed.
    #[error("command timed out after {} s and was killed", after.as_secs_f64())]
    Timeout {
        /// The time limit.
        after: Duration,
    },
    /// There is no unfinished recording for the step in the state directory.
    #[error("no unfinished recording for step {step:?} in {dir} (run `cairn record start` first)")]
    NoRecording {
        /// The step asked for.
        step: String,
        /// Where the state was looked for.
        dir: PathBuf,
        /// Unfinished recordings found there for other steps.
        others: Vec<String>,
    },
    /// There already is an unfinished recording for the step.
    #[error("a recording for step {step:?} is already in progress ({path})")]
    RecordingInProgress {
        /// The step.
        step: String,
        /// The state file.
        path: PathBuf,
    },
    /// The unfinished-recording state file is unreadable or malformed.
    #[error("state file {path} is not a cairn recording")]
    BadState {
        /// The state file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// `record stop` was given options that change digests differently from `record start`.
    #[error("record stop uses different recording options than record start ({option})")]
    OptionsDiffer {
        /// The option that differs.
        option: &'static str,
    },
    /// Writing an output file failed (nothing was left behind).
    #[error("cannot write {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },
}

/// An exclude pattern's syntax error (from the gitignore matcher).
#[derive(Debug)]
pub struct PatternError(pub(crate) ignore::Error);

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for PatternError {}
