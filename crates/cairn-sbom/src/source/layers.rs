//! Applying image layers: the squashed view computed top-down in one pass per layer, so
//! each layer is decompressed once and only the files catalogers want are kept in memory.
//!
//! Layers are read from the top (last) to the bottom (first). An entry of a lower layer is
//! visible only when no upper layer has replaced it, whited it out (`.wh.NAME`), whited out or
//! replaced one of its parent directories, or made a parent directory opaque
//! (`.wh..wh..opq`). Nothing is written to disk and no link is followed: paths are
//! normalised lexically and any entry that would leave the root is dropped with a warning.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

use sha2::{Digest, Sha256};

use crate::catalog::{self, Found, Kind};
use crate::package::Warning;
use crate::{Error, Limits};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Dir,
    Opaque,
    NonDir,
    Whiteout,
}

/// What the layers above the current one have decided.
#[derive(Default)]
pub(crate) struct Squash {
    upper: HashMap<String, Mark>,
    /// Kept files: path -> (kind, bytes).
    pub(crate) captured: HashMap<String, (Kind, Vec<u8>)>,
    /// Results of catalogers run while streaming (archives and binaries).
    pub(crate) founds: Vec<Found>,
    pub(crate) warnings: Vec<Warning>,
}

/// Lexical normalisation: strips `./` and leading `/`, resolves `..`; `None` when the path
/// would leave the root or is empty.
pub(crate) fn normalize(p: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

impl Squash {
    fn hidden(&self, path: &str, is_dir: bool) -> bool {
        if let Some(m) = self.upper.get(path) {
            match m {
                Mark::NonDir | Mark::Whiteout => return true,
                Mark::Dir | Mark::Opaque if !is_dir => return true,
                _ => {}
            }
        }
        ancestors(path).any(|a| {
            matches!(
                self.upper.get(a),
                Some(Mark::NonDir | Mark::Whiteout | Mark::Opaque)
            )
        })
    }

    fn merge(&mut self, layer: HashMap<String, Mark>) {
        for (p, m) in layer {
            match self.upper.get_mut(&p) {
                None => {
                    self.upper.insert(p, m);
                }
                // A lower layer's opaque marker still hides what is below it.
                Some(existing @ Mark::Dir) if m == Mark::Opaque => *existing = Mark::Opaque,
                Some(_) => {}
            }
        }
    }

    /// Applies one layer (uncompressed or compressed tar) that lies below all layers applied
    /// so far. `index` is the layer's position from the bottom, for messages.
    ///
    /// A failure of `raw` itself (network, storage, the store's own digest check) is reported
    /// as [`Error::LayerRead`], whatever the tar or decompression layer made of it.
    pub(crate) fn apply(
        &mut self,
        raw: Box<dyn Read + '_>,
        index: usize,
        expected_digest: Option<&str>,
        limits: &Limits,
    ) -> Result<(), Error> {
        let failed: Rc<RefCell<Option<io::Error>>> = Rc::default();
        let result = self.apply_inner(raw, failed.clone(), index, expected_digest, limits);
        match (result, failed.borrow_mut().take()) {
            (Err(_), Some(source)) => Err(Error::LayerRead {
                layer: index,
                source,
            }),
            (r, _) => r,
        }
    }

    fn apply_inner(
        &mut self,
        raw: Box<dyn Read + '_>,
        failed: Rc<RefCell<Option<io::Error>>>,
        index: usize,
        expected_digest: Option<&str>,
        limits: &Limits,
    ) -> Result<(), Error> {
        let hashing = Rc::new(RefCell::new(HashingReader {
            inner: raw,
            hasher: Sha256::new(),
            failed,
        }));
        let hit = Rc::new(Cell::new(false));
        let what = || format!("layer {index}");
        {
            let mut buffered = BufReader::with_capacity(64 * 1024, SharedReader(hashing.clone()));
            let head = buffered
                .fill_buf()
                .map_err(|e| Error::image(what(), e))?
                .to_vec();
            let decoded: Box<dyn Read + '_> = if head.starts_with(&[0x1f, 0x8b]) {
                Box::new(flate2::read::MultiGzDecoder::new(buffered))
            } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
                let dec = ruzstd::decoding::StreamingDecoder::new(buffered)
                    .map_err(|e| Error::image(what(), e.to_string()))?;
                Box::new(dec)
            } else {
                Box::new(buffered)
            };
            let mut bounded = Bounded {
                inner: decoded,
                remaining: limits.max_layer_bytes,
                hit: hit.clone(),
            };
            let result = self.read_tar(&mut bounded, index, limits);
            if hit.get() {
                return Err(Error::DecompressionLimit {
                    layer: index,
                    limit: limits.max_layer_bytes,
                });
            }
            result?;
            // Drain what the tar reader left (padding, end blocks) so the digest covers all.
            io::copy(&mut bounded, &mut io::sink()).map_err(|e| {
                if hit.get() {
                    Error::DecompressionLimit {
                        layer: index,
                        limit: limits.max_layer_bytes,
                    }
                } else {
                    Error::image(what(), e)
                }
            })?;
        }
        // Whatever follows the compressed stream is part of the blob, and of its digest (and a
        // blob store that checks the digest itself does so at the end of the stream).
        io::copy(&mut SharedReader(hashing.clone()), &mut io::sink())
            .map_err(|e| Error::image(what(), e))?;
        if let Some(expected) = expected_digest.and_then(|d| d.strip_prefix("sha256:")) {
            let mut h = hashing.borrow_mut();
            let actual = hex::encode(std::mem::take(&mut h.hasher).finalize());
            if actual != expected {
                return Err(Error::DigestMismatch {
                    expected: format!("sha256:{expected}"),
                    actual: format!("sha256:{actual}"),
                });
            }
        }
        Ok(())
    }

    fn read_tar(&mut self, r: &mut dyn Read, index: usize, limits: &Limits) -> Result<(), Error> {
        let what = || format!("layer {index}");
        let mut layer: HashMap<String, Mark> = HashMap::new();
        // Files this layer kept, for hard links that point at them.
        let mut archive = tar::Archive::new(r);
        let entries = archive.entries().map_err(|e| Error::image(what(), e))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| Error::image(what(), e))?;
            let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let Some(path) = normalize(&raw_path) else {
                if raw_path.trim_matches(['/', '.']).is_empty() {
                    continue; // the root itself
                }
                self.warnings.push(Warning {
                    path: raw_path.clone(),
                    message: format!("layer {index}: entry leaves the root; ignored"),
                });
                continue;
            };
            let (dir, name) = match path.rsplit_once('/') {
                Some((d, n)) => (d, n),
                None => ("", path.as_str()),
            };
            if name == ".wh..wh..opq" {
                if !dir.is_empty() {
                    layer.insert(dir.to_string(), Mark::Opaque);
                } else {
                    // Opaque root: everything below is hidden.
                    self.upper.insert(String::new(), Mark::Opaque);
                }
                continue;
            }
            if let Some(target) = name.strip_prefix(".wh.") {
                let p = if dir.is_empty() {
                    target.to_string()
                } else {
                    format!("{dir}/{target}")
                };
                layer.insert(p, Mark::Whiteout);
                continue;
            }
            let kind = entry.header().entry_type();
            let is_dir = kind.is_dir();
            let root_opaque = self.upper.get("") == Some(&Mark::Opaque);
            let hidden = root_opaque || self.hidden(&path, is_dir);
            if !hidden {
                layer
                    .entry(path.clone())
                    .or_insert(if is_dir { Mark::Dir } else { Mark::NonDir });
            }
            if hidden
                || !(kind.is_file() || kind == tar::EntryType::Continuous || kind.is_hard_link())
            {
                continue;
            }
            let exec = entry.header().mode().is_ok_and(|m| m & 0o111 != 0);
            let Some(ck) = catalog::classify(&path, exec) else {
                continue;
            };
            if kind.is_hard_link() {
                let target = entry
                    .link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .and_then(|t| normalize(&t));
                if let Some(bytes) = target.and_then(|t| self.captured.get(&t).map(|c| c.1.clone()))
                {
                    self.captured.insert(path, (ck, bytes));
                }
                continue;
            }
            if let Some(head) = ck.head_only() {
                let mut bytes = Vec::new();
                (&mut entry)
                    .take(head)
                    .read_to_end(&mut bytes)
                    .map_err(|e| Error::image(format!("{} in layer {index}", path), e))?;
                self.founds
                    .push(catalog::run(ck, &path, &bytes, &NoFiles, None, limits));
                continue;
            }
            let size = entry.size();
            let max = if ck.is_text() {
                limits.max_text_bytes
            } else {
                limits.max_file_bytes
            };
            if size > max {
                self.warnings.push(Warning {
                    path: path.clone(),
                    message: format!("{size} bytes is over the {max}-byte limit; not read"),
                });
                continue;
            }
            let mut bytes = Vec::with_capacity(size as usize);
            if ck == Kind::Binary {
                let mut head = [0u8; 4];
                if entry.read_exact(&mut head).is_err()
                    || !catalog::binary::is_executable_format(&head)
                {
                    continue;
                }
                bytes.extend_from_slice(&head);
            }
            (&mut entry)
                .take(max)
                .read_to_end(&mut bytes)
                .map_err(|e| Error::image(format!("{} in layer {index}", path), e))?;
            match ck {
                Kind::Binary | Kind::JavaArchive => {
                    self.founds
                        .push(catalog::run(ck, &path, &bytes, &NoFiles, None, limits));
                }
                _ => {
                    self.captured.insert(path, (ck, bytes));
                }
            }
        }
        self.merge(layer);
        Ok(())
    }
}

/// Catalogers run while streaming see no other file.
struct NoFiles;

impl catalog::Files for NoFiles {
    fn read(&self, _: &str) -> Option<Vec<u8>> {
        None
    }
}

struct HashingReader<'a> {
    inner: Box<dyn Read + 'a>,
    hasher: Sha256,
    /// The first error of `inner`, kept whole; readers above get a copy of its message.
    failed: Rc<RefCell<Option<io::Error>>>,
}

impl HashingReader<'_> {
    fn read_raw(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                let copy = io::Error::new(e.kind(), e.to_string());
                self.failed.borrow_mut().get_or_insert(e);
                Err(copy)
            }
        }
    }
}

struct SharedReader<'a>(Rc<RefCell<HashingReader<'a>>>);

impl Read for SharedReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut h = self.0.borrow_mut();
        let n = h.read_raw(buf)?;
        h.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Fails reads once more than `remaining` bytes came through, and says so in `hit`.
struct Bounded<'a> {
    inner: Box<dyn Read + 'a>,
    remaining: u64,
    hit: Rc<Cell<bool>>,
}

impl Read for Bounded<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.remaining {
            self.hit.set(true);
            return Err(io::Error::other("decompression limit reached"));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_paths() {
        assert_eq!(normalize("./usr/bin/x").as_deref(), Some("usr/bin/x"));
        assert_eq!(
            normalize("/etc/os-release").as_deref(),
            Some("etc/os-release")
        );
        assert_eq!(normalize("a/../b").as_deref(), Some("b"));
        assert_eq!(normalize("../etc/passwd"), None);
        assert_eq!(normalize("a/../../etc"), None);
        assert_eq!(normalize("./"), None);
    }

    proptest::proptest! {
        #[test]
        fn normalised_paths_never_leave_the_root(segs in proptest::collection::vec("(\\.\\.|\\.|[a-z]{1,3}|)", 0..12), abs in proptest::bool::ANY) {
            let p = format!("{}{}", if abs { "/" } else { "" }, segs.join("/"));
            if let Some(n) = normalize(&p) {
                proptest::prop_assert!(!n.starts_with('/'));
                proptest::prop_assert!(n.split('/').all(|c| !c.is_empty() && c != "." && c != ".."));
                // Normalising is idempotent.
                proptest::prop_assert_eq!(normalize(&n), Some(n.clone()));
            }
        }
    }
}
