//! Recording artifacts: walk the named paths, name every file, hash them all in parallel.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::Error;
use crate::exclude::Excludes;
use crate::hash::{Digests, HashAlgorithm};
use crate::notice::Notice;
use crate::path::{check_prefixes, lexical_normalize};
use crate::walk::Walker;

/// How artifacts are found, named and hashed.
#[derive(Debug, Clone)]
pub struct ArtifactOptions {
    /// Directory that artifact paths are relative to (`None`: the current directory).
    pub base_path: Option<PathBuf>,
    /// Paths that are not recorded.
    pub excludes: Excludes,
    /// Prefixes removed from artifact names (in-toto's `--lstrip-paths`).
    pub lstrip: Vec<String>,
    /// Follow symlinks to directories (symlinks to files are always recorded).
    pub follow_symlinks: bool,
    /// Hash with CRLF and CR turned into LF.
    pub normalize_line_endings: bool,
    /// Digests to compute, in order (at least one).
    pub algorithms: Vec<HashAlgorithm>,
}

impl Default for ArtifactOptions {
    fn default() -> Self {
        ArtifactOptions {
            base_path: None,
            excludes: Excludes::defaults(),
            lstrip: Vec::new(),
            follow_symlinks: false,
            normalize_line_endings: false,
            algorithms: vec![HashAlgorithm::Sha256],
        }
    }
}

/// Progress reports from a recording (called from several threads, as the walk goes: the
/// walk and hashing overlap, so the total is not known up front).
pub trait Progress: Sync {
    /// The walk found `files` more files to hash.
    fn walked(&self, files: u64) {
        let _ = files;
    }
    /// One file of `bytes` bytes was hashed.
    fn hashed(&self, bytes: u64) {
        let _ = bytes;
    }
}

/// A [`Progress`] that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// The recorded artifacts: name to digests, plus what was left out and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Artifacts {
    /// Artifact name (relative, `/`-separated, lstripped) to its digests.
    pub map: BTreeMap<String, Digests>,
    /// Paths not recorded, or recorded under an encoded name, with the reason.
    pub notices: Vec<Notice>,
    /// Number of files hashed.
    pub files: u64,
    /// Number of bytes read.
    pub bytes: u64,
}

/// Records `paths` (files or directories, relative to the base path or absolute inside it).
///
/// Errors are what makes a truthful record impossible: an unreadable file or directory, a file
/// that keeps changing while it is hashed, two files with one name after `lstrip`, a path
/// outside the base path. Everything else is a [`Notice`]. Notices come sorted by path; when
/// several files fail at once, the error names one of them.
pub fn record_artifacts(
    paths: &[PathBuf],
    options: &ArtifactOptions,
    progress: &dyn Progress,
) -> Result<Artifacts, Error> {
    check_prefixes(&options.lstrip)?;
    if paths.is_empty() {
        return Ok(Artifacts::default());
    }
    let (base, base_real) = resolve_base(options.base_path.as_deref())?;
    let walker = Walker::new(&base, &base_real, options, progress);
    let mut notices = Vec::new();
    let mut roots = Vec::new();
    for path in paths {
        roots.extend(walker.root(path, &mut notices)?);
    }
    walker.run(roots);
    let collected = walker.into_collected();
    if let Some((_, err)) = collected.error {
        return Err(err);
    }
    notices.extend(collected.notices);
    let mut found = collected.files;

    // Sorted by name (then path, so the outcome does not depend on which thread finished
    // first): two files with one name are neighbours. The same file reached twice (named
    // twice, or inside two named directories) is one artifact.
    found.par_sort_unstable_by(|a, b| a.name.cmp(&b.name).then_with(|| a.rel.cmp(&b.rel)));
    found.dedup_by(|later, earlier| later.rel == earlier.rel);
    if let Some(pair) = found.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(Error::NameCollision {
            name: pair[0].name.clone(),
            first: pair[0].rel.clone(),
            second: pair[1].rel.clone(),
        });
    }
    // A notice can be reported twice for the same reason when named paths overlap.
    notices.sort_by(|a, b| a.path().cmp(b.path()));
    notices.dedup();

    let mut out = Artifacts {
        notices,
        ..Artifacts::default()
    };
    for f in &found {
        out.files += 1;
        out.bytes += f.bytes;
    }
    // From sorted input, BTreeMap builds in one pass (no per-key search).
    out.map = found.into_iter().map(|f| (f.name, f.digests)).collect();
    Ok(out)
}

/// The base path made absolute (lexically) and resolved (symlinks), checked to be a directory.
pub(crate) fn resolve_base(base: Option<&Path>) -> Result<(PathBuf, PathBuf), Error> {
    let given = base.unwrap_or(Path::new("."));
    let err = |source| Error::BasePath {
        path: given.to_path_buf(),
        source,
    };
    let cwd = std::env::current_dir().map_err(err)?;
    let abs = lexical_normalize(&cwd.join(given)).unwrap_or_else(|| cwd.join(given));
    let real = std::fs::canonicalize(&abs).map_err(err)?;
    if !real.is_dir() {
        return Err(err(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            "not a directory",
        )));
    }
    Ok((abs, real))
}
