//! Directories and root filesystems: walk once, then read and catalog in parallel.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::catalog::{self, Files, Found, Kind};
use crate::package::{SourceInfo, SourceKind, Warning};
use crate::{Error, Sbom, ScanOptions};

/// Reads files under a root without following symlinks out of it.
pub(crate) struct DirFiles {
    root: PathBuf,
    max: u64,
}

impl DirFiles {
    /// The first `n` bytes of a file (for files only identified, never read whole).
    fn read_head(&self, rel: &str, n: u64) -> std::io::Result<Option<Vec<u8>>> {
        self.read_checked(rel, n, true)
    }

    fn read_bounded(&self, rel: &str, max: u64) -> std::io::Result<Option<Vec<u8>>> {
        self.read_checked(rel, max, false)
    }

    fn read_checked(
        &self,
        rel: &str,
        max: u64,
        truncate: bool,
    ) -> std::io::Result<Option<Vec<u8>>> {
        let path = self.root.join(rel);
        let meta = std::fs::symlink_metadata(&path)?;
        if !meta.file_type().is_file() {
            return Ok(None);
        }
        // A parent directory may be a symlink: only read what stays under the root.
        if let Some(parent) = path.parent() {
            let real = parent.canonicalize()?;
            if !real.starts_with(&self.root) {
                return Ok(None);
            }
        }
        if meta.len() > max && !truncate {
            return Err(std::io::Error::other(format!(
                "{} bytes is over the {max}-byte limit",
                meta.len()
            )));
        }
        let mut buf = Vec::with_capacity(meta.len().min(max) as usize);
        File::open(&path)?.take(max).read_to_end(&mut buf)?;
        Ok(Some(buf))
    }
}

impl Files for DirFiles {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        self.read_bounded(path, self.max).ok().flatten()
    }
}

/// Scans a directory.
pub(crate) fn scan(root: &Path, opts: &ScanOptions) -> Result<Sbom, Error> {
    let canon = root.canonicalize().map_err(|e| Error::io(root, e))?;
    let mut warnings = Vec::new();
    let mut candidates: Vec<(String, Kind, u64)> = Vec::new();
    let walker = walkdir::WalkDir::new(&canon)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            // Pseudo filesystems of a live root, and VCS metadata.
            !(e.depth() == 1 && e.file_type().is_dir() && matches!(&*name, "proc" | "sys" | "dev"))
                && name != ".git"
        });
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e
                    .path()
                    .and_then(|p| p.strip_prefix(&canon).ok())
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if e.depth() == 0 {
                    let io = e
                        .into_io_error()
                        .unwrap_or_else(|| std::io::Error::other("walk failed"));
                    return Err(Error::io(root, io));
                }
                warnings.push(Warning {
                    path,
                    message: "unreadable, skipped".into(),
                });
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(&canon) else {
            continue;
        };
        let Some(rel) = rel.to_str() else {
            continue; // not UTF-8: no manifest has such a name
        };
        let rel = rel.replace(std::path::MAIN_SEPARATOR, "/");
        let meta = entry.metadata().ok();
        let exec = meta.as_ref().is_some_and(is_exec);
        let size = meta.as_ref().map_or(0, |m| m.len());
        if let Some(kind) = catalog::classify(&rel, exec) {
            candidates.push((rel, kind, size));
        }
    }
    let files = DirFiles {
        root: canon.clone(),
        max: opts.limits.max_text_bytes,
    };
    let distro = candidates
        .iter()
        .filter(|c| c.1 == Kind::OsRelease)
        .find_map(|c| files.read(&c.0).and_then(|b| catalog::os::os_release(&b)));
    let limits = &opts.limits;
    let founds: Vec<Found> = candidates
        .par_iter()
        .filter(|c| !matches!(c.1, Kind::OsRelease | Kind::Sidecar))
        .map(|(rel, kind, size)| {
            let mut f = Found::default();
            if let Some(n) = kind.head_only() {
                return match files.read_head(rel, n) {
                    Ok(Some(head)) => catalog::run(*kind, rel, &head, &files, None, limits),
                    Ok(None) => f,
                    Err(e) => {
                        f.warn(rel, format!("cannot read: {e}"));
                        f
                    }
                };
            }
            let max = if kind.is_text() {
                limits.max_text_bytes
            } else {
                limits.max_file_bytes
            };
            if *size > max && *kind != Kind::Binary {
                f.warn(
                    rel,
                    format!("{size} bytes is over the {max}-byte limit; not read"),
                );
                return f;
            }
            if *kind == Kind::Binary {
                return catalog::binary::scan_file(rel, &canon.join(rel), limits.max_file_bytes)
                    .unwrap_or_else(|e| {
                        f.warn(rel, format!("cannot read: {e}"));
                        f
                    });
            }
            match files.read_bounded(rel, max) {
                Ok(Some(bytes)) => {
                    catalog::run(*kind, rel, &bytes, &files, distro.as_ref(), limits)
                }
                Ok(None) => f,
                Err(e) => {
                    f.warn(rel, format!("cannot read: {e}"));
                    f
                }
            }
        })
        .collect();
    let info = SourceInfo {
        kind: SourceKind::Directory,
        name: root.to_string_lossy().into_owned(),
        digest: None,
        config_digest: None,
    };
    Ok(crate::assemble::assemble(info, distro, founds, warnings))
}

#[cfg(unix)]
fn is_exec(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    m.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_exec(_m: &std::fs::Metadata) -> bool {
    true
}
