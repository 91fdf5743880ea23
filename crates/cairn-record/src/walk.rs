//! The directory walk, fused with hashing: which files to record, under which names, and their
//! digests.
//!
//! Semantics follow in-toto's `FileResolver` (python 3.x): each named path is normalised; an
//! excluded path is skipped; a missing one is reported; a file is recorded; a directory is
//! walked, with excluded directories not entered. Symlinks to files are recorded under the
//! link's name with the target's content. Where cairn is stricter than in-toto: symlinked
//! directories are followed only with `--follow-symlinks`, never into a loop, and no symlink
//! is followed out of the base path; FIFOs, sockets and devices are never opened.
//!
//! Speed: every directory is a rayon task that lists its entries, spawns a task per
//! subdirectory and hashes its own files (split across threads when there are many), so the
//! walk overlaps with hashing on all cores instead of preceding it. Results are gathered once
//! per directory; the caller sorts them, so the outcome does not depend on scheduling.

use std::fs::{self, FileType};
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::Error;
use crate::artifacts::{ArtifactOptions, Progress};
use crate::hash::{self, Digests, FileOutcome};
use crate::notice::{Notice, SpecialKind};
use crate::path::{is_within, lstrip, name_of, normalize_arg};

/// One hashed file.
pub(crate) struct Found {
    /// Its name in the link (encoded if not UTF-8, lstripped).
    pub(crate) name: String,
    /// Its path relative to the base path.
    pub(crate) rel: PathBuf,
    pub(crate) digests: Digests,
    pub(crate) bytes: u64,
}

/// What a walk found, in no particular order.
#[derive(Default)]
pub(crate) struct Collected {
    pub(crate) files: Vec<Found>,
    pub(crate) notices: Vec<Notice>,
    /// The error with the smallest path among those met (several threads can fail at once;
    /// taking the smallest keeps the message independent of scheduling in the common case).
    pub(crate) error: Option<(PathBuf, Error)>,
}

/// A path named by the user, classified.
pub(crate) enum Root {
    File(PathBuf),
    /// A directory and its (device, inode).
    Dir(PathBuf, (u64, u64)),
}

/// Where a symlink found in the walk leads.
enum Target {
    File,
    Dir,
}

/// (device, inode) of the directories on one walk path, for loop detection (kept only when
/// symlinks are followed: without them the tree has no cycles).
type Ancestors = Vec<(u64, u64)>;

pub(crate) struct Walker<'a> {
    /// The base path as given, made absolute (for messages and absolute arguments).
    base: &'a Path,
    /// The base path with symlinks resolved: every file read lies below it.
    base_real: &'a Path,
    options: &'a ArtifactOptions,
    progress: &'a dyn Progress,
    /// Set on the first error: the remaining tasks return without doing work.
    stop: AtomicBool,
    out: Mutex<Collected>,
}

impl<'a> Walker<'a> {
    pub(crate) fn new(
        base: &'a Path,
        base_real: &'a Path,
        options: &'a ArtifactOptions,
        progress: &'a dyn Progress,
    ) -> Self {
        Walker {
            base,
            base_real,
            options,
            progress,
            stop: AtomicBool::new(false),
            out: Mutex::new(Collected::default()),
        }
    }

    fn full(&self, rel: &Path) -> PathBuf {
        if rel.as_os_str().is_empty() {
            self.base_real.to_path_buf()
        } else {
            self.base_real.join(rel)
        }
    }

    fn excluded(&self, rel: &Path, is_dir: bool) -> bool {
        self.options.excludes.is_excluded(rel, is_dir)
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn collected(&self) -> std::sync::MutexGuard<'_, Collected> {
        // A panic while holding the lock would already have failed the recording.
        self.out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn fail(&self, path: &Path, err: Error) {
        self.stop.store(true, Ordering::Relaxed);
        let mut out = self.collected();
        if out.error.as_ref().is_none_or(|(p, _)| path < p.as_path()) {
            out.error = Some((path.to_path_buf(), err));
        }
    }

    pub(crate) fn into_collected(self) -> Collected {
        self.out
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Classifies one path named by the user. Errors here (outside the base, unreadable) come
    /// before any hashing.
    pub(crate) fn root(
        &self,
        arg: &Path,
        notices: &mut Vec<Notice>,
    ) -> Result<Option<Root>, Error> {
        let rel = normalize_arg(arg, self.base, self.base_real)?;
        let full = self.full(&rel);
        let meta = match fs::metadata(&full) {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                if fs::symlink_metadata(&full).is_ok() {
                    notices.push(Notice::DanglingSymlink { path: rel });
                } else {
                    notices.push(Notice::Missing { path: rel });
                }
                return Ok(None);
            }
            Err(e) if is_loop(&e) => {
                notices.push(Notice::SymlinkLoop { path: rel });
                return Ok(None);
            }
            Err(source) => return Err(Error::Read { path: rel, source }),
        };
        if self
            .options
            .excludes
            .is_excluded_or_parent(&rel, meta.is_dir())
        {
            return Ok(None);
        }
        // The named path may itself be, or pass through, a symlink that leaves the base path.
        let real = fs::canonicalize(&full).map_err(|source| Error::Read {
            path: rel.clone(),
            source,
        })?;
        if !is_within(&real, self.base_real) {
            notices.push(Notice::SymlinkEscape {
                path: rel,
                target: real,
            });
            return Ok(None);
        }
        if meta.is_file() {
            Ok(Some(Root::File(rel)))
        } else if meta.is_dir() {
            Ok(Some(Root::Dir(rel, (meta.dev(), meta.ino()))))
        } else {
            notices.push(Notice::SpecialFile {
                path: rel,
                kind: SpecialKind::of(meta.file_type()),
            });
            Ok(None)
        }
    }

    /// Walks and hashes the classified roots on all cores.
    pub(crate) fn run(&self, roots: Vec<Root>) {
        rayon::scope(|s| {
            let mut files = Vec::new();
            for root in roots {
                match root {
                    Root::File(rel) => files.push(rel),
                    Root::Dir(rel, id) => {
                        let ancestors = if self.options.follow_symlinks {
                            vec![id]
                        } else {
                            Vec::new()
                        };
                        s.spawn(move |s| self.walk_dir(s, rel, ancestors));
                    }
                }
            }
            self.hash_files(files, Vec::new());
        });
    }

    fn walk_dir<'s>(&'s self, scope: &rayon::Scope<'s>, rel: PathBuf, ancestors: Ancestors) {
        if self.stopped() {
            return;
        }
        let entries = match fs::read_dir(self.full(&rel)) {
            Ok(e) => e,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                self.collected()
                    .notices
                    .push(Notice::Vanished { path: rel });
                return;
            }
            Err(source) => {
                let err = Error::ReadDir {
                    path: rel.clone(),
                    source,
                };
                return self.fail(&rel, err);
            }
        };
        let mut files = Vec::new();
        let mut notices = Vec::new();
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(source) => {
                    let err = Error::ReadDir {
                        path: rel.clone(),
                        source,
                    };
                    return self.fail(&rel, err);
                }
            };
            let child = rel.join(entry.file_name());
            let ft: FileType = match entry.file_type() {
                Ok(ft) => ft,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(source) => {
                    let err = Error::Read {
                        path: child.clone(),
                        source,
                    };
                    return self.fail(&child, err);
                }
            };
            if ft.is_file() {
                if !self.excluded(&child, false) {
                    files.push(child);
                }
            } else if ft.is_dir() {
                if !self.excluded(&child, true) {
                    self.enter_dir(scope, child, &ancestors, &mut notices);
                }
            } else if ft.is_symlink() {
                match self.symlink(&child, &mut notices) {
                    Ok(Some(Target::File)) => files.push(child),
                    Ok(Some(Target::Dir)) => self.enter_dir(scope, child, &ancestors, &mut notices),
                    Ok(None) => {}
                    Err(err) => return self.fail(&child, err),
                }
            } else {
                notices.push(Notice::SpecialFile {
                    path: child,
                    kind: SpecialKind::of(ft),
                });
            }
        }
        self.hash_files(files, notices);
    }

    /// Schedules a directory, guarding against loops when symlinks are followed.
    fn enter_dir<'s>(
        &'s self,
        scope: &rayon::Scope<'s>,
        rel: PathBuf,
        ancestors: &[(u64, u64)],
        notices: &mut Vec<Notice>,
    ) {
        if !self.options.follow_symlinks {
            // Without following symlinks the tree has no cycles; skip the stat.
            scope.spawn(move |s| self.walk_dir(s, rel, Vec::new()));
            return;
        }
        let meta = match fs::metadata(self.full(&rel)) {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                notices.push(Notice::Vanished { path: rel });
                return;
            }
            Err(source) => {
                let err = Error::Read {
                    path: rel.clone(),
                    source,
                };
                return self.fail(&rel, err);
            }
        };
        let id = (meta.dev(), meta.ino());
        if ancestors.contains(&id) {
            // Only symlinks make a directory its own descendant; report where the cycle closes.
            notices.push(Notice::SymlinkLoop { path: rel });
            return;
        }
        let mut path = ancestors.to_vec();
        path.push(id);
        scope.spawn(move |s| self.walk_dir(s, rel, path));
    }

    /// Resolves a symlink met in the walk: `None` when it is not recorded (with the reason in
    /// `notices`, unless it is excluded).
    fn symlink(&self, rel: &Path, notices: &mut Vec<Notice>) -> Result<Option<Target>, Error> {
        let full = self.full(rel);
        let path = || rel.to_path_buf();
        let meta = match fs::metadata(&full) {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                if !self.excluded(rel, false) {
                    notices.push(Notice::DanglingSymlink { path: path() });
                }
                return Ok(None);
            }
            Err(e) if is_loop(&e) => {
                if !self.excluded(rel, false) {
                    notices.push(Notice::SymlinkLoop { path: path() });
                }
                return Ok(None);
            }
            Err(source) => {
                return Err(Error::Read {
                    path: path(),
                    source,
                });
            }
        };
        if self.excluded(rel, meta.is_dir()) {
            return Ok(None);
        }
        if meta.is_dir() && !self.options.follow_symlinks {
            notices.push(Notice::SymlinkDirNotFollowed { path: path() });
            return Ok(None);
        }
        let real = match fs::canonicalize(&full) {
            Ok(r) => r,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                notices.push(Notice::Vanished { path: path() });
                return Ok(None);
            }
            Err(source) => {
                return Err(Error::Read {
                    path: path(),
                    source,
                });
            }
        };
        if !is_within(&real, self.base_real) {
            notices.push(Notice::SymlinkEscape {
                path: path(),
                target: real,
            });
            return Ok(None);
        }
        if meta.is_file() {
            Ok(Some(Target::File))
        } else if meta.is_dir() {
            Ok(Some(Target::Dir))
        } else {
            notices.push(Notice::SpecialFile {
                path: path(),
                kind: SpecialKind::of(meta.file_type()),
            });
            Ok(None)
        }
    }

    /// Hashes one directory's files (on several threads when there are many) and hands the
    /// results over under one lock.
    fn hash_files(&self, mut files: Vec<PathBuf>, mut notices: Vec<Notice>) {
        // In name order, so that one thread reads a directory's files in a predictable order.
        files.sort_unstable();
        if !files.is_empty() {
            self.progress.walked(files.len() as u64);
        }
        let results: Vec<One> = files
            .into_par_iter()
            .with_min_len(1)
            .map(|rel| self.hash_one(rel))
            .collect();
        let mut found = Vec::with_capacity(results.len());
        let mut first_err: Option<(PathBuf, Error)> = None;
        for one in results {
            match one {
                One::File(f, notice) => {
                    notices.extend(notice);
                    found.push(f);
                }
                One::Notice(n) => notices.push(n),
                One::Failed(rel, err) => {
                    if first_err.as_ref().is_none_or(|(p, _)| rel < *p) {
                        first_err = Some((rel, err));
                    }
                }
                One::Skipped => {}
            }
        }
        if let Some((rel, err)) = first_err {
            return self.fail(&rel, err);
        }
        if found.is_empty() && notices.is_empty() {
            return;
        }
        let mut out = self.collected();
        out.files.append(&mut found);
        out.notices.append(&mut notices);
    }

    fn hash_one(&self, rel: PathBuf) -> One {
        if self.stopped() {
            return One::Skipped;
        }
        let path = self.full(&rel);
        let outcome = hash::with_scratch(|scratch| {
            hash::hash_file(
                &path,
                &self.options.algorithms,
                self.options.normalize_line_endings,
                scratch,
            )
        });
        match outcome {
            Ok(FileOutcome::Hashed(digests, bytes)) => {
                self.progress.hashed(bytes);
                let (name, encoded) = name_of(&rel);
                let notice = encoded.then(|| Notice::NonUtf8Name {
                    path: rel.clone(),
                    name: name.clone(),
                });
                let name = match lstrip(&name, &self.options.lstrip) {
                    stripped if stripped.len() == name.len() => name,
                    stripped => stripped.to_owned(),
                };
                One::File(
                    Found {
                        name,
                        rel,
                        digests,
                        bytes,
                    },
                    notice,
                )
            }
            Ok(FileOutcome::Vanished) => One::Notice(Notice::Vanished { path: rel }),
            Ok(FileOutcome::NotRegular(ft)) if ft.is_dir() => {
                One::Notice(Notice::Vanished { path: rel })
            }
            Ok(FileOutcome::NotRegular(ft)) => One::Notice(Notice::SpecialFile {
                path: rel,
                kind: SpecialKind::of(ft),
            }),
            Err(err) => {
                let err = relative_error(err, self.base_real, &rel);
                One::Failed(rel, err)
            }
        }
    }
}

/// The outcome for one file.
enum One {
    File(Found, Option<Notice>),
    Notice(Notice),
    Failed(PathBuf, Error),
    Skipped,
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

fn is_loop(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}
