//! OCI image layout directories (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`) as a
//! [`Repository`]: the embedded default store, no server needed.
//!
//! Tags are `index.json` entries annotated with `org.opencontainers.image.ref.name`. There is no
//! referrers API in a layout, so referrers use the tag schema (`sha256-<hex>` entries), as
//! `oras` and cosign do for layouts. Writes are atomic (temporary file and rename); concurrent
//! writers in one process are serialised, across processes they are not.
//!
//! `index.json` is parsed once and kept with a tag map and a digest map, so resolving a tag or
//! a referrers tag costs a hash lookup however many tags the layout holds (every verification
//! looks up several). The parsed copy is reused while the file is the same one (same inode,
//! size and modification time, checked with one `stat` per lookup); any write, by this
//! process or another, makes the next lookup read the file again.

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde_json::Value;

use crate::blob::{Blob, BlobStream, BlobWriter, ReadError};
use crate::digest::Digest;
use crate::error::Error;
use crate::manifest::{Descriptor, ImageIndex, MAX_MANIFEST_SIZE, Manifest, annotations, media};
use crate::reference::Reference;
use crate::store::{FetchedManifest, PushedManifest, Repository};

const LAYOUT_FILE: &str = "oci-layout";
const INDEX_FILE: &str = "index.json";

/// An OCI image layout directory.
#[derive(Debug)]
pub struct Layout {
    root: PathBuf,
    lock: Mutex<()>,
    index: Mutex<Option<Arc<IndexCache>>>,
    /// How many times `index.json` was read and parsed (see [`Layout::index_loads`]).
    index_loads: std::sync::atomic::AtomicU64,
}

/// Identifies one version of `index.json`: writers replace the file by renaming a new one over
/// it, so a new version has a new inode (and usually another size and time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    inode: (u64, u64),
}

impl Stamp {
    fn of(meta: &fs::Metadata) -> Stamp {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt;
        Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            #[cfg(unix)]
            inode: (meta.dev(), meta.ino()),
        }
    }
}

/// `index.json`, parsed, with its lookups.
#[derive(Debug)]
struct IndexCache {
    /// `None`: there is no `index.json` (an empty index).
    stamp: Option<Stamp>,
    index: ImageIndex,
    /// Tag -> entry; the last entry with a tag wins, as when scanning from the end.
    tags: HashMap<String, usize>,
    /// Digest -> the first entry with it.
    digests: HashMap<Digest, usize>,
}

impl IndexCache {
    fn new(stamp: Option<Stamp>, index: ImageIndex) -> IndexCache {
        let mut tags = HashMap::new();
        let mut digests = HashMap::new();
        for (i, d) in index.manifests.iter().enumerate() {
            if let Some(tag) = d.annotations.get(annotations::REF_NAME) {
                tags.insert(tag.clone(), i);
            }
            digests.entry(d.digest.clone()).or_insert(i);
        }
        IndexCache {
            stamp,
            index,
            tags,
            digests,
        }
    }

    fn tagged(&self, tag: &str) -> Option<&Descriptor> {
        self.tags.get(tag).map(|&i| &self.index.manifests[i])
    }

    fn by_digest(&self, digest: &Digest) -> Option<&Descriptor> {
        self.digests.get(digest).map(|&i| &self.index.manifests[i])
    }
}

impl Layout {
    /// Opens an existing layout.
    pub fn open(root: impl Into<PathBuf>) -> Result<Layout, Error> {
        let root = root.into();
        let marker = root.join(LAYOUT_FILE);
        let text = fs::read(&marker).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::NotALayout {
                path: root.clone(),
                reason: "no oci-layout file".to_string(),
            },
            _ => Error::io(&marker, e),
        })?;
        let v: Value =
            cairn_model::json::value_from_slice(&text).map_err(|e| Error::NotALayout {
                path: root.clone(),
                reason: format!("oci-layout is not JSON: {e}"),
            })?;
        match v.get("imageLayoutVersion").and_then(Value::as_str) {
            Some(ver) if ver.starts_with("1.") => {}
            other => {
                return Err(Error::NotALayout {
                    path: root,
                    reason: format!("unsupported imageLayoutVersion {other:?}"),
                });
            }
        }
        Ok(Layout {
            root,
            lock: Mutex::new(()),
            index: Mutex::new(None),
            index_loads: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Opens a layout, creating an empty one when the directory has none.
    pub fn open_or_create(root: impl Into<PathBuf>) -> Result<Layout, Error> {
        let root = root.into();
        if !root.join(LAYOUT_FILE).exists() {
            fs::create_dir_all(root.join("blobs")).map_err(|e| Error::io(&root, e))?;
            write_atomic(
                &root.join(LAYOUT_FILE),
                br#"{"imageLayoutVersion":"1.0.0"}"#,
            )?;
            if !root.join(INDEX_FILE).exists() {
                let idx = serde_json::to_vec(&ImageIndex::new()).expect("index serialises");
                write_atomic(&root.join(INDEX_FILE), &idx)?;
            }
        }
        Layout::open(root)
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root
            .join("blobs")
            .join(digest.algorithm().as_str())
            .join(digest.hex())
    }

    /// How many times this handle has read and parsed `index.json` (once per version of the
    /// file it has seen): lets callers and tests check that lookups reuse the parsed index.
    pub fn index_loads(&self) -> u64 {
        self.index_loads.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The current `index.json`, parsed: the cached copy while the file is unchanged.
    fn index(&self) -> Result<Arc<IndexCache>, Error> {
        let path = self.root.join(INDEX_FILE);
        let current = match fs::metadata(&path) {
            Ok(m) => Some(Stamp::of(&m)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io(&path, e)),
        };
        let mut cached = self.index.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = cached.as_ref().filter(|c| c.stamp == current) {
            return Ok(c.clone());
        }
        let fresh = Arc::new(self.load_index()?);
        self.index_loads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        *cached = Some(fresh.clone());
        Ok(fresh)
    }

    /// Reads and parses `index.json`; the stamp comes from the open file, so it describes
    /// exactly the bytes read even if the file is replaced meanwhile.
    fn load_index(&self) -> Result<IndexCache, Error> {
        let path = self.root.join(INDEX_FILE);
        let mut file = match fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(IndexCache::new(None, ImageIndex::new()));
            }
            Err(e) => return Err(Error::io(&path, e)),
        };
        let meta = file.metadata().map_err(|e| Error::io(&path, e))?;
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        file.read_to_end(&mut bytes)
            .map_err(|e| Error::io(&path, e))?;
        let index = match Manifest::parse(media::OCI_INDEX, &bytes) {
            Ok(Manifest::Index(i)) => i,
            Ok(Manifest::Image(_)) => {
                return Err(Error::NotALayout {
                    path: self.root.clone(),
                    reason: "index.json is not an index".to_string(),
                });
            }
            Err(e) => {
                return Err(Error::NotALayout {
                    path: self.root.clone(),
                    reason: format!("index.json: {e}"),
                });
            }
        };
        Ok(IndexCache::new(Some(Stamp::of(&meta)), index))
    }

    /// A copy of `index.json` to modify (callers hold `self.lock`).
    fn read_index(&self) -> Result<ImageIndex, Error> {
        Ok(self.index()?.index.clone())
    }

    fn write_index(&self, index: &ImageIndex) -> Result<(), Error> {
        let bytes = serde_json::to_vec(index).expect("index serialises");
        let written = write_atomic(&self.root.join(INDEX_FILE), &bytes);
        // Whatever happened, the next lookup reads the file again.
        *self.index.lock().unwrap_or_else(|p| p.into_inner()) = None;
        written
    }

    fn read_manifest_blob(
        &self,
        digest: &Digest,
        media_type_hint: Option<&str>,
    ) -> Result<FetchedManifest, Error> {
        let path = self.blob_path(digest);
        let meta = match fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NotFound {
                    what: format!("manifest {digest}"),
                    repository: self.display_name(),
                });
            }
            Err(e) => return Err(Error::io(&path, e)),
        };
        if meta.len() > MAX_MANIFEST_SIZE {
            return Err(Error::ManifestTooLarge {
                what: digest.to_string(),
                limit: MAX_MANIFEST_SIZE,
            });
        }
        let bytes = fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let actual = Digest::of(digest.algorithm(), &bytes);
        if &actual != digest {
            return Err(Error::DigestMismatch {
                what: format!("manifest in {}", self.display_name()),
                expected: digest.clone(),
                actual,
            });
        }
        let media_type = match media_type_hint {
            Some(m) => m.to_string(),
            None => declared_media_type(&bytes).unwrap_or_else(|| media::OCI_MANIFEST.to_string()),
        };
        let mut descriptor = Descriptor::for_bytes(&media_type, &bytes);
        descriptor.digest = digest.clone();
        let fetched = FetchedManifest { descriptor, bytes };
        fetched.parse()?;
        Ok(fetched)
    }
}

fn declared_media_type(bytes: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    if let Some(mt) = v.get("mediaType").and_then(Value::as_str) {
        return Some(mt.to_string());
    }
    if v.get("manifests").is_some() {
        return Some(media::OCI_INDEX.to_string());
    }
    None
}

impl Repository for Layout {
    fn display_name(&self) -> String {
        format!("oci:{}", self.root.display())
    }

    fn fetch_manifest(&self, reference: &Reference) -> Result<FetchedManifest, Error> {
        let index = self.index()?;
        match reference {
            Reference::Tag(tag) => {
                let entry = index.tagged(tag).ok_or_else(|| Error::NotFound {
                    what: format!("tag {tag}"),
                    repository: self.display_name(),
                })?;
                let m = self.read_manifest_blob(&entry.digest, Some(&entry.media_type))?;
                if m.descriptor.size != entry.size {
                    return Err(Error::SizeMismatch {
                        digest: entry.digest.clone(),
                        expected: entry.size,
                        actual: m.descriptor.size,
                    });
                }
                Ok(m)
            }
            Reference::Digest(d) => {
                let hint = index.by_digest(d).map(|e| e.media_type.clone());
                self.read_manifest_blob(d, hint.as_deref())
            }
        }
    }

    fn manifest_exists(&self, digest: &Digest) -> Result<bool, Error> {
        Ok(self.blob_path(digest).is_file())
    }

    fn fetch_blob(&self, desc: &Descriptor) -> Result<Blob, Error> {
        let path = self.blob_path(&desc.digest);
        let mut file = match fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NotFound {
                    what: format!("blob {}", desc.digest),
                    repository: self.display_name(),
                });
            }
            Err(e) => return Err(Error::io(&path, e)),
        };
        let mut w = BlobWriter::new(desc)?;
        match w.read_from(&mut file) {
            Ok(()) => {}
            Err(ReadError::Read(e)) => return Err(Error::io(&path, e)),
            Err(ReadError::Content(e)) => return Err(e),
        }
        w.finish(&format!("blob in {}", self.display_name()))
    }

    fn open_blob(&self, desc: &Descriptor) -> Result<BlobStream, Error> {
        let path = self.blob_path(&desc.digest);
        let file = match fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NotFound {
                    what: format!("blob {}", desc.digest),
                    repository: self.display_name(),
                });
            }
            Err(e) => return Err(Error::io(&path, e)),
        };
        Ok(BlobStream::verifying(
            Box::new(std::io::BufReader::with_capacity(256 * 1024, file)),
            desc,
            format!("blob in {}", self.display_name()),
        ))
    }

    fn push_blob_stream(&self, desc: &Descriptor, mut stream: BlobStream) -> Result<(), Error> {
        if self.blob_exists(desc)? {
            return Ok(());
        }
        let path = self.blob_path(&desc.digest);
        let dir = path.parent().expect("blob paths have a parent");
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
        // The stream verifies itself; the temporary file is only renamed into place when it
        // ended cleanly.
        if let Err(e) = std::io::copy(&mut stream.reader, tmp.as_file_mut()) {
            return Err(stream.content_error().unwrap_or(Error::Transport {
                method: "READ".to_string(),
                url: format!("blob {}", desc.digest),
                source: Box::new(e),
            }));
        }
        tmp.as_file_mut()
            .sync_all()
            .map_err(|e| Error::io(&path, e))?;
        tmp.persist(&path).map_err(|e| Error::io(&path, e.error))?;
        Ok(())
    }

    fn blob_exists(&self, desc: &Descriptor) -> Result<bool, Error> {
        match fs::metadata(self.blob_path(&desc.digest)) {
            Ok(m) => Ok(m.is_file() && m.len() == desc.size),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::io(self.blob_path(&desc.digest), e)),
        }
    }

    fn push_blob(&self, desc: &Descriptor, blob: &Blob) -> Result<(), Error> {
        if blob.digest() != &desc.digest || blob.len() != desc.size {
            return Err(Error::DigestMismatch {
                what: "blob to store".to_string(),
                expected: desc.digest.clone(),
                actual: blob.digest().clone(),
            });
        }
        let path = self.blob_path(&desc.digest);
        if self.blob_exists(desc)? {
            return Ok(());
        }
        let dir = path.parent().expect("blob paths have a parent");
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
        blob.write_to(tmp.as_file_mut())
            .map_err(|e| Error::io(tmp.path().to_path_buf(), e))?;
        tmp.as_file_mut()
            .sync_all()
            .map_err(|e| Error::io(&path, e))?;
        tmp.persist(&path).map_err(|e| Error::io(&path, e.error))?;
        Ok(())
    }

    fn push_manifest(
        &self,
        media_type: &str,
        bytes: &[u8],
        tag: Option<&str>,
    ) -> Result<PushedManifest, Error> {
        if bytes.len() as u64 > MAX_MANIFEST_SIZE {
            return Err(Error::ManifestTooLarge {
                what: "to push".to_string(),
                limit: MAX_MANIFEST_SIZE,
            });
        }
        let blob = Blob::from_vec(bytes.to_vec());
        let mut desc = Descriptor::for_bytes(media_type, bytes);
        self.push_blob(&desc, &blob)?;
        if let Some(tag) = tag {
            crate::reference::check_tag(tag)?;
            let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
            let mut index = self.read_index()?;
            index.manifests.retain(|d| {
                d.annotations.get(annotations::REF_NAME).map(String::as_str) != Some(tag)
            });
            desc.artifact_type = match Manifest::parse(media_type, bytes) {
                Ok(Manifest::Image(m)) => m.artifact_type,
                Ok(Manifest::Index(m)) => m.artifact_type,
                Err(_) => None,
            };
            desc.annotations
                .insert(annotations::REF_NAME.to_string(), tag.to_string());
            index.manifests.push(desc.clone());
            self.write_index(&index)?;
        }
        Ok(PushedManifest {
            digest: desc.digest,
            subject_indexed: false,
        })
    }

    fn retain_root(&self, desc: &Descriptor) -> Result<(), Error> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let current = self.index()?;
        if current.by_digest(&desc.digest).is_some() {
            return Ok(());
        }
        let mut index = current.index.clone();
        let mut entry = desc.clone();
        entry.annotations.remove(annotations::REF_NAME);
        index.manifests.push(entry);
        self.write_index(&index)
    }

    fn referrers_api(
        &self,
        _subject: &Digest,
        _artifact_type: Option<&str>,
    ) -> Result<Option<Vec<Descriptor>>, Error> {
        Ok(None)
    }

    fn list_tags(&self) -> Result<Vec<String>, Error> {
        let mut tags: Vec<String> = self.index()?.tags.keys().cloned().collect();
        tags.sort();
        Ok(tags)
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
    tmp.write_all(bytes).map_err(|e| Error::io(path, e))?;
    tmp.as_file_mut()
        .sync_all()
        .map_err(|e| Error::io(path, e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}
