//! Recording artifacts: walk the named paths, name every file, hash them all in parallel.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::Error;
use crate::exclude::Excludes;
use crate::hash::{self, Digests, FileOutcome, HashAlgorithm};
use crate::notice::{Notice, SpecialKind};
use crate::path::{check_prefixes, lexical_normalize, lstrip, name_of};
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

/// Progress reports from a recording (called from several threads).
pub trait Progress: Sync {
    /// The walk found `files` files to hash.
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
/// outside the base path. Everything else is a [`Notice`].
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
    let mut walker = Walker::new(
        &base,
        &base_real,
        &options.excludes,
        options.follow_symlinks,
    );
    for path in paths {
        walker.add_root(path)?;
    }
    let mut notices = std::mem::take(&mut walker.notices);
    let jobs = std::mem::take(&mut walker.jobs);

    // Names, and in-toto's collision check, before any hashing: sorted by name, so that two
    // files with one name are neighbours.
    let mut named: Vec<(String, PathBuf)> = Vec::with_capacity(jobs.len());
    for job in jobs {
        let (name, encoded) = name_of(&job.rel);
        if encoded {
            notices.push(Notice::NonUtf8Name {
                path: job.rel.clone(),
                name: name.clone(),
            });
        }
        let name = match lstrip(&name, &options.lstrip) {
            stripped if stripped.len() == name.len() => name,
            stripped => stripped.to_owned(),
        };
        named.push((name, job.rel));
    }
    // Stable: of two files with one name, the one the walk met first is named first.
    named.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(pair) = named.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(Error::NameCollision {
            name: pair[0].0.clone(),
            first: pair[0].1.clone(),
            second: pair[1].1.clone(),
        });
    }
    progress.walked(named.len() as u64);

    let results: Vec<Result<FileOutcome, Error>> = named
        .par_iter()
        .with_min_len(16)
        .map(|(_, rel)| {
            let path = base_real.join(rel);
            let outcome = hash::with_scratch(|scratch| {
                hash::hash_file(
                    &path,
                    &options.algorithms,
                    options.normalize_line_endings,
                    scratch,
                )
            })
            .map_err(|e| relative_error(e, &base_real, rel));
            if let Ok(FileOutcome::Hashed(_, bytes)) = &outcome {
                progress.hashed(*bytes);
            }
            outcome
        })
        .collect();

    let mut out = Artifacts::default();
    for ((name, rel), outcome) in named.into_iter().zip(results) {
        match outcome? {
            FileOutcome::Hashed(digests, bytes) => {
                out.files += 1;
                out.bytes += bytes;
                out.map.insert(name, digests);
            }
            FileOutcome::Vanished => notices.push(Notice::Vanished { path: rel }),
            FileOutcome::NotRegular(ft) => {
                if ft.is_dir() {
                    notices.push(Notice::Vanished { path: rel });
                } else {
                    notices.push(Notice::SpecialFile {
                        path: rel,
                        kind: SpecialKind::of(ft),
                    });
                }
            }
        }
    }
    out.notices = notices;
    Ok(out)
}

/// Errors name the path as the user knows it (relative to the base path).
fn relative_error(err: Error, base_real: &Path, rel: &Path) -> Error {
    match err {
        Error::Read { path, source } if path.starts_with(base_real) => Error::Read {
            path: rel.to_path_buf(),
            source,
        },
        Error::Changed { path, attempts } if path.starts_with(base_real) => Error::Changed {
            path: rel.to_path_buf(),
            attempts,
        },
        other => other,
    }
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
