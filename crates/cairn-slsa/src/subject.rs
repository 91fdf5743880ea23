//! Subjects: the artifacts provenance is about, named and hashed.
//!
//! Three sources: a file, every regular file below a directory, and a checksums file in the
//! format `sha256sum`/`sha512sum` write (GNU text and binary mode, and the BSD `--tag` form).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use rayon::prelude::*;
use sha2::{Digest as _, Sha256, Sha512};

use crate::{Error, Warning};

/// A digest algorithm cairn can compute for subjects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-256 (always computed unless the caller asks otherwise).
    Sha256,
    /// SHA-512 (npm and PyPI identify packages by it).
    Sha512,
}

impl HashAlgorithm {
    /// The DigestSet key.
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "sha256",
            HashAlgorithm::Sha512 => "sha512",
        }
    }

    /// Parses a DigestSet key (`sha256`, `sha512`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "sha256" => Some(HashAlgorithm::Sha256),
            "sha512" => Some(HashAlgorithm::Sha512),
            _ => None,
        }
    }
}

/// One subject: a name and its digests (algorithm → lowercase hex).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Subject {
    /// The name (a relative path with `/` separators, or what the checksums file says).
    pub name: String,
    /// Digests by algorithm name.
    pub digest: BTreeMap<String, String>,
}

/// Hashes one file with every algorithm in `algorithms`, reading it once.
pub fn hash_file(
    path: &Path,
    algorithms: &[HashAlgorithm],
) -> Result<BTreeMap<String, String>, Error> {
    let io = |source| Error::Subject {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut sha256 = algorithms
        .contains(&HashAlgorithm::Sha256)
        .then(Sha256::new);
    let mut sha512 = algorithms
        .contains(&HashAlgorithm::Sha512)
        .then(Sha512::new);
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        };
        if let Some(h) = sha256.as_mut() {
            h.update(&buf[..n]);
        }
        if let Some(h) = sha512.as_mut() {
            h.update(&buf[..n]);
        }
    }
    let mut out = BTreeMap::new();
    if let Some(h) = sha256 {
        out.insert("sha256".to_owned(), hex::encode(h.finalize()));
    }
    if let Some(h) = sha512 {
        out.insert("sha512".to_owned(), hex::encode(h.finalize()));
    }
    Ok(out)
}

/// The subjects for a path: the file itself, or every regular file below a directory (sorted,
/// hashed in parallel). Symbolic links inside a directory are not followed (they are reported
/// as warnings), so a directory subject never reaches outside itself.
///
/// Names are the path as given, normalised (`./dist//a` → `dist/a`); an absolute path
/// contributes only its file name (or, for a directory, names relative to it), so the same
/// build names its artifacts the same on every machine.
pub fn from_path(
    path: &Path,
    algorithms: &[HashAlgorithm],
    warnings: &mut Vec<Warning>,
) -> Result<Vec<Subject>, Error> {
    let meta = std::fs::metadata(path).map_err(|source| Error::Subject {
        path: path.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        let name = if path.is_absolute() {
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        } else {
            normalise(path)
        };
        return Ok(vec![Subject {
            name,
            digest: hash_file(path, algorithms)?,
        }]);
    }
    let prefix = if path.is_absolute() {
        String::new()
    } else {
        normalise(path)
    };
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for entry in walkdir::WalkDir::new(path)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| Error::Subject {
            path: e
                .path()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| path.to_path_buf()),
            source: e
                .into_io_error()
                .unwrap_or_else(|| std::io::Error::other("directory loop")),
        })?;
        let ft = entry.file_type();
        if ft.is_symlink() {
            warnings.push(Warning::SkippedSymlink {
                path: entry.path().to_path_buf(),
            });
            continue;
        }
        if !ft.is_file() {
            continue;
        }
        let rel = entry.path().strip_prefix(path).unwrap_or(entry.path());
        let rel = normalise(rel);
        let name = match prefix.as_str() {
            "" | "." => rel,
            p => format!("{p}/{rel}"),
        };
        files.push((name, entry.path().to_path_buf()));
    }
    if files.is_empty() {
        return Err(Error::EmptyDirectory {
            path: path.to_path_buf(),
        });
    }
    files
        .par_iter()
        .map(|(name, file)| {
            Ok(Subject {
                name: name.clone(),
                digest: hash_file(file, algorithms)?,
            })
        })
        .collect()
}

/// Reads a checksums file (`sha256sum`/`sha512sum` output, text or binary mode, or BSD tags
/// `SHA256 (name) = hex`). Blank lines are skipped; anything else malformed is an error with
/// its line number. The algorithm follows from the digest length (64 hex: sha256, 128: sha512).
pub fn from_checksums(path: &Path) -> Result<Vec<Subject>, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Subject {
        path: path.to_path_buf(),
        source,
    })?;
    parse_checksums(path, &bytes)
}

/// [`from_checksums`] on bytes already read.
pub fn parse_checksums(path: &Path, bytes: &[u8]) -> Result<Vec<Subject>, Error> {
    let bad = |line: usize, reason: &'static str| Error::Checksums {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let text = std::str::from_utf8(bytes).map_err(|_| bad(0, "not UTF-8 text"))?;
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let lineno = i + 1;
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let (hex_digest, name, algorithm) = if let Some((tag, rest)) = line.split_once(" (") {
            // BSD: "SHA256 (name) = hex"
            let (name, hex_digest) = rest
                .rsplit_once(") = ")
                .ok_or_else(|| bad(lineno, "expected ALG (NAME) = DIGEST"))?;
            let alg = match tag {
                "SHA256" => "sha256",
                "SHA512" => "sha512",
                _ => return Err(bad(lineno, "unsupported algorithm (SHA256 and SHA512 are)")),
            };
            (hex_digest.to_owned(), name.to_owned(), Some(alg))
        } else {
            // GNU: "[\]HEX  NAME" (text) or "[\]HEX *NAME" (binary); a leading backslash means
            // the name has \\ and \n escapes.
            let (escaped, body) = match line.strip_prefix('\\') {
                Some(b) => (true, b),
                None => (false, line),
            };
            let (hex_digest, rest) = body
                .split_once(' ')
                .ok_or_else(|| bad(lineno, "expected DIGEST  NAME"))?;
            let name = rest
                .strip_prefix(' ')
                .or_else(|| rest.strip_prefix('*'))
                .ok_or_else(|| {
                    bad(
                        lineno,
                        "expected two spaces or ' *' between digest and name",
                    )
                })?;
            let name = if escaped {
                unescape(name).ok_or_else(|| bad(lineno, "bad escape in name"))?
            } else {
                name.to_owned()
            };
            (hex_digest.to_owned(), name, None)
        };
        let hex_digest = hex_digest.to_ascii_lowercase();
        if !hex_digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad(lineno, "digest is not hex"));
        }
        let algorithm = match (algorithm, hex_digest.len()) {
            (Some(a @ "sha256"), 64) | (Some(a @ "sha512"), 128) => a,
            (None, 64) => "sha256",
            (None, 128) => "sha512",
            _ => {
                return Err(bad(
                    lineno,
                    "digest length fits neither sha256 (64) nor sha512 (128)",
                ));
            }
        };
        if name.is_empty() {
            return Err(bad(lineno, "empty name"));
        }
        let mut digest = BTreeMap::new();
        digest.insert(algorithm.to_owned(), hex_digest);
        out.push(Subject { name, digest });
    }
    if out.is_empty() {
        return Err(bad(0, "no checksums"));
    }
    Ok(out)
}

/// Merges subjects: one entry per name, digests united, sorted by name. Two different digests
/// of the same algorithm for one name are an error.
pub fn merge(subjects: Vec<Subject>) -> Result<Vec<Subject>, Error> {
    let mut by_name: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for s in subjects {
        let entry = by_name.entry(s.name.clone()).or_default();
        for (alg, value) in s.digest {
            match entry.get(&alg) {
                Some(existing) if *existing != value => {
                    return Err(Error::ConflictingSubject { name: s.name });
                }
                _ => {
                    entry.insert(alg, value);
                }
            }
        }
    }
    Ok(by_name
        .into_iter()
        .map(|(name, digest)| Subject { name, digest })
        .collect())
}

fn unescape(name: &str) -> Option<String> {
    let mut out = String::with_capacity(name.len());
    let mut chars = name.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next()? {
                '\\' => out.push('\\'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// `./a//b/../c` → `a/c`-style normalisation without touching the file system (`..` that would
/// climb above the start is kept, so nothing is silently renamed).
fn normalise(path: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
            Component::ParentDir => {
                if parts.last().is_some_and(|p| p != "..") {
                    parts.pop();
                } else {
                    parts.push("..".to_owned());
                }
            }
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
        }
    }
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests;
