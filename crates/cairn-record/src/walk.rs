//! The directory walk: which files to hash, under which relative paths.
//!
//! Semantics follow in-toto's `FileResolver` (python 3.x): each named path is normalised; an
//! excluded path is skipped; a missing one is reported; a file is recorded; a directory is
//! walked, with excluded directories not entered. Symlinks to files are recorded under the
//! link's name with the target's content. Where cairn is stricter than in-toto: symlinked
//! directories are followed only with `--follow-symlinks`, never into a loop, and no symlink
//! is followed out of the base path; FIFOs, sockets and devices are never opened.

use std::collections::HashSet;
use std::fs::{self, FileType};
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::Error;
use crate::exclude::Excludes;
use crate::notice::{Notice, SpecialKind};
use crate::path::{is_within, normalize_arg};

/// A file to hash: its path relative to the base path.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) rel: PathBuf,
}

pub(crate) struct Walker<'a> {
    /// The base path as given, made absolute (for messages and absolute arguments).
    pub(crate) base: &'a Path,
    /// The base path with symlinks resolved: every file read lies below it.
    pub(crate) base_real: &'a Path,
    pub(crate) excludes: &'a Excludes,
    pub(crate) follow_symlinks: bool,
    pub(crate) jobs: Vec<Job>,
    pub(crate) notices: Vec<Notice>,
    seen: HashSet<PathBuf>,
    /// (device, inode) of the directories on the current walk path, for loop detection.
    ancestors: Vec<(u64, u64)>,
}

impl<'a> Walker<'a> {
    pub(crate) fn new(
        base: &'a Path,
        base_real: &'a Path,
        excludes: &'a Excludes,
        follow_symlinks: bool,
    ) -> Self {
        Walker {
            base,
            base_real,
            excludes,
            follow_symlinks,
            jobs: Vec::new(),
            notices: Vec::new(),
            seen: HashSet::new(),
            ancestors: Vec::new(),
        }
    }

    fn full(&self, rel: &Path) -> PathBuf {
        if rel.as_os_str().is_empty() {
            self.base_real.to_path_buf()
        } else {
            self.base_real.join(rel)
        }
    }

    fn push_file(&mut self, rel: PathBuf) {
        if self.seen.insert(rel.clone()) {
            self.jobs.push(Job { rel });
        }
    }

    /// Adds one path named by the user.
    pub(crate) fn add_root(&mut self, arg: &Path) -> Result<(), Error> {
        let rel = normalize_arg(arg, self.base, self.base_real)?;
        let full = self.full(&rel);
        let meta = match fs::metadata(&full) {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                if fs::symlink_metadata(&full).is_ok() {
                    self.notices.push(Notice::DanglingSymlink { path: rel });
                } else {
                    self.notices.push(Notice::Missing { path: rel });
                }
                return Ok(());
            }
            Err(e) if is_loop(&e) => {
                self.notices.push(Notice::SymlinkLoop { path: rel });
                return Ok(());
            }
            Err(source) => return Err(Error::Read { path: rel, source }),
        };
        if self.excludes.is_excluded_or_parent(&rel, meta.is_dir()) {
            return Ok(());
        }
        // The named path may itself be, or pass through, a symlink that leaves the base path.
        let real = fs::canonicalize(&full).map_err(|source| Error::Read {
            path: rel.clone(),
            source,
        })?;
        if !is_within(&real, self.base_real) {
            self.notices.push(Notice::SymlinkEscape {
                path: rel,
                target: real,
            });
            return Ok(());
        }
        if meta.is_file() {
            self.push_file(rel);
        } else if meta.is_dir() {
            self.ancestors.clear();
            self.ancestors.push((meta.dev(), meta.ino()));
            self.walk_dir(&rel)?;
            self.ancestors.clear();
        } else {
            self.notices.push(Notice::SpecialFile {
                path: rel,
                kind: SpecialKind::of(meta.file_type()),
            });
        }
        Ok(())
    }

    fn walk_dir(&mut self, rel: &Path) -> Result<(), Error> {
        let full = self.full(rel);
        let entries = match fs::read_dir(&full) {
            Ok(e) => e,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                self.notices.push(Notice::Vanished {
                    path: rel.to_path_buf(),
                });
                return Ok(());
            }
            Err(source) => {
                return Err(Error::ReadDir {
                    path: rel.to_path_buf(),
                    source,
                });
            }
        };
        // Sorted, so that notices and errors come out in a stable order.
        let mut children: Vec<(PathBuf, FileType)> = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| Error::ReadDir {
                path: rel.to_path_buf(),
                source,
            })?;
            let ft = match entry.file_type() {
                Ok(ft) => ft,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(source) => {
                    return Err(Error::Read {
                        path: rel.join(entry.file_name()),
                        source,
                    });
                }
            };
            children.push((rel.join(entry.file_name()), ft));
        }
        children.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (child, ft) in children {
            if ft.is_file() {
                if !self.excludes.is_excluded(&child, false) {
                    self.push_file(child);
                }
            } else if ft.is_dir() {
                if !self.excludes.is_excluded(&child, true) {
                    self.enter_dir(child)?;
                }
            } else if ft.is_symlink() {
                self.symlink(child)?;
            } else {
                self.notices.push(Notice::SpecialFile {
                    path: child,
                    kind: SpecialKind::of(ft),
                });
            }
        }
        Ok(())
    }

    /// Enters a directory, guarding against loops when symlinks are followed.
    fn enter_dir(&mut self, rel: PathBuf) -> Result<(), Error> {
        if !self.follow_symlinks {
            // Without following symlinks the tree has no cycles; skip the stat.
            return self.walk_dir(&rel);
        }
        let meta = match fs::metadata(self.full(&rel)) {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                self.notices.push(Notice::Vanished { path: rel });
                return Ok(());
            }
            Err(source) => return Err(Error::Read { path: rel, source }),
        };
        let id = (meta.dev(), meta.ino());
        if self.ancestors.contains(&id) {
            // Only symlinks make a directory its own descendant; report where the cycle closes.
            self.notices.push(Notice::SymlinkLoop { path: rel });
            return Ok(());
        }
        self.ancestors.push(id);
        let result = self.walk_dir(&rel);
        self.ancestors.pop();
        result
    }

    fn symlink(&mut self, rel: PathBuf) -> Result<(), Error> {
        let full = self.full(&rel);
        let meta = match fs::metadata(&full) {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                if !self.excludes.is_excluded(&rel, false) {
                    self.notices.push(Notice::DanglingSymlink { path: rel });
                }
                return Ok(());
            }
            Err(e) if is_loop(&e) => {
                if !self.excludes.is_excluded(&rel, false) {
                    self.notices.push(Notice::SymlinkLoop { path: rel });
                }
                return Ok(());
            }
            Err(source) => return Err(Error::Read { path: rel, source }),
        };
        if self.excludes.is_excluded(&rel, meta.is_dir()) {
            return Ok(());
        }
        if meta.is_dir() && !self.follow_symlinks {
            self.notices
                .push(Notice::SymlinkDirNotFollowed { path: rel });
            return Ok(());
        }
        let real = match fs::canonicalize(&full) {
            Ok(r) => r,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                self.notices.push(Notice::Vanished { path: rel });
                return Ok(());
            }
            Err(source) => return Err(Error::Read { path: rel, source }),
        };
        if !is_within(&real, self.base_real) {
            self.notices.push(Notice::SymlinkEscape {
                path: rel,
                target: real,
            });
            return Ok(());
        }
        if meta.is_file() {
            self.push_file(rel);
            Ok(())
        } else if meta.is_dir() {
            self.enter_dir(rel)
        } else {
            self.notices.push(Notice::SpecialFile {
                path: rel,
                kind: SpecialKind::of(meta.file_type()),
            });
            Ok(())
        }
    }
}

fn is_loop(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}
