//! Container images: `docker save` archives, OCI image layouts (directory or tar), and any
//! image given as a manifest plus layer blob readers (registry pulls, via [`ImageSource`]).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Deserialize;

use super::layers::{Squash, normalize};
use crate::catalog::{self, Files, Found, Kind};
use crate::package::{SourceInfo, SourceKind};
use crate::{Error, Sbom, ScanOptions};

/// One layer of an image, bottom first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerDescriptor {
    /// Media type from the manifest (empty for docker archives; content is sniffed anyway).
    pub media_type: String,
    /// `sha256:...` of the blob as stored, checked while reading when present.
    pub digest: Option<String>,
    /// Blob size, when known.
    pub size: Option<u64>,
}

/// An image as layers that can be opened one at a time, bottom first. Implement this to scan
/// images from elsewhere (a registry client hands out blob readers).
pub trait ImageSource {
    /// What to call the image in the SBOM.
    fn info(&self) -> SourceInfo;
    /// The layers, bottom first.
    fn layers(&self) -> &[LayerDescriptor];
    /// Opens the blob of layer `index` (0 = bottom).
    fn open_layer(&self, index: usize) -> io::Result<Box<dyn Read + '_>>;
}

/// Scans any [`ImageSource`].
pub fn scan_image(image: &dyn ImageSource, opts: &ScanOptions) -> Result<Sbom, Error> {
    let mut squash = Squash::default();
    let layers = image.layers();
    for (i, layer) in layers.iter().enumerate().rev() {
        let reader = image
            .open_layer(i)
            .map_err(|source| Error::LayerRead { layer: i, source })?;
        squash.apply(reader, i, layer.digest.as_deref(), &opts.limits)?;
    }
    let Squash {
        captured,
        mut founds,
        warnings,
        ..
    } = squash;
    let files = MapFiles(&captured);
    let mut release: Vec<&String> = captured
        .iter()
        .filter(|(_, (k, _))| *k == Kind::OsRelease)
        .map(|(p, _)| p)
        .collect();
    release.sort(); // etc/ before usr/lib/
    let distro = release
        .iter()
        .find_map(|p| catalog::os::os_release(&captured[*p].1));
    let mut todo: Vec<(&String, &(Kind, Vec<u8>))> = captured
        .iter()
        .filter(|(_, (k, _))| !matches!(k, Kind::OsRelease | Kind::Sidecar))
        .collect();
    todo.sort_by(|a, b| a.0.cmp(b.0));
    let more: Vec<Found> = todo
        .par_iter()
        .map(|(p, (k, b))| catalog::run(*k, p, b, &files, distro.as_ref(), &opts.limits))
        .collect();
    founds.extend(more);
    Ok(crate::assemble::assemble(
        image.info(),
        distro,
        founds,
        warnings,
    ))
}

struct MapFiles<'a>(&'a HashMap<String, (Kind, Vec<u8>)>);

impl Files for MapFiles<'_> {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        self.0.get(path).map(|(_, b)| b.clone())
    }
}

/// Where an image's files live: a directory or the members of a tar archive.
enum Store {
    Dir(PathBuf),
    Tar {
        path: PathBuf,
        members: HashMap<String, (u64, u64)>,
    },
}

/// Small JSON files (manifests, indexes, configs) are read whole, up to this size.
const MAX_JSON: u64 = 16 << 20;

impl Store {
    fn open_tar(path: &Path) -> Result<Store, Error> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let mut archive = tar::Archive::new(file);
        let mut members = HashMap::new();
        let entries = archive
            .entries_with_seek()
            .map_err(|e| Error::image(path.display().to_string(), e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::image(path.display().to_string(), e))?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            if let Some(name) = normalize(&name) {
                members.insert(name, (entry.raw_file_position(), entry.size()));
            }
        }
        Ok(Store::Tar {
            path: path.to_path_buf(),
            members,
        })
    }

    fn has(&self, rel: &str) -> bool {
        match self {
            Store::Dir(d) => d.join(rel).is_file(),
            Store::Tar { members, .. } => members.contains_key(rel),
        }
    }

    fn open(&self, rel: &str) -> io::Result<Box<dyn Read + '_>> {
        let rel = normalize(rel).ok_or_else(|| io::Error::other("path leaves the image"))?;
        match self {
            Store::Dir(d) => {
                let p = d.join(&rel);
                let meta = std::fs::symlink_metadata(&p)?;
                if !meta.is_file() {
                    return Err(io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("{rel} is not a regular file"),
                    ));
                }
                Ok(Box::new(File::open(p)?))
            }
            Store::Tar { path, members } => {
                let &(off, size) = members.get(&rel).ok_or_else(|| {
                    io::Error::new(io::ErrorKind::NotFound, format!("{rel} not in archive"))
                })?;
                let mut f = File::open(path)?;
                f.seek(SeekFrom::Start(off))?;
                Ok(Box::new(f.take(size)))
            }
        }
    }

    fn json<T: for<'de> Deserialize<'de>>(&self, rel: &str) -> Result<T, Error> {
        let mut buf = Vec::new();
        self.open(rel)
            .and_then(|r| r.take(MAX_JSON).read_to_end(&mut buf))
            .map_err(|e| Error::image(rel.to_string(), e))?;
        serde_json::from_slice(&buf).map_err(|e| Error::image(rel.to_string(), e))
    }
}

/// A blob path `blobs/ALG/HEX` from a digest, refusing anything that is not a digest.
fn blob_path(digest: &str) -> Result<String, Error> {
    let (alg, hex) = digest
        .split_once(':')
        .ok_or_else(|| Error::image(digest.to_string(), "not a digest"))?;
    let ok = !alg.is_empty()
        && alg.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'+' | b'.' | b'_' | b'-')
        })
        && !hex.is_empty()
        && hex.bytes().all(|b| b.is_ascii_hexdigit());
    if !ok {
        return Err(Error::image(digest.to_string(), "not a digest"));
    }
    Ok(format!("blobs/{alg}/{hex}"))
}

/// An image found in a store: its layers as member paths.
struct StoredImage {
    store: Store,
    info: SourceInfo,
    layers: Vec<LayerDescriptor>,
    paths: Vec<String>,
}

impl ImageSource for StoredImage {
    fn info(&self) -> SourceInfo {
        self.info.clone()
    }
    fn layers(&self) -> &[LayerDescriptor] {
        &self.layers
    }
    fn open_layer(&self, index: usize) -> io::Result<Box<dyn Read + '_>> {
        let p = self
            .paths
            .get(index)
            .ok_or_else(|| io::Error::other("no such layer"))?;
        self.store.open(p)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerManifest {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    #[serde(default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    annotations: HashMap<String, String>,
    #[serde(default)]
    platform: Option<Platform>,
}

#[derive(Deserialize)]
struct Platform {
    architecture: String,
    os: String,
    #[serde(default)]
    variant: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndexOrManifest {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
}

/// Scans a `docker save` archive or a tar of an OCI layout.
pub(crate) fn scan_archive(path: &Path, opts: &ScanOptions) -> Result<Sbom, Error> {
    let store = Store::open_tar(path)?;
    let name = path.display().to_string();
    let image = if store.has("manifest.json") {
        docker(store, name, opts.tag.as_deref())?
    } else if store.has("index.json") {
        oci(store, name, path, opts)?
    } else {
        return Err(Error::UnknownSource {
            path: path.to_path_buf(),
        });
    };
    scan_image(&image, opts)
}

/// Scans an OCI layout: a directory, or a tar holding one.
pub(crate) fn scan_oci(path: &Path, opts: &ScanOptions) -> Result<Sbom, Error> {
    let store = if path.is_dir() {
        Store::Dir(path.to_path_buf())
    } else if path.is_file() {
        Store::open_tar(path)?
    } else {
        return Err(Error::SourceMissing {
            path: path.to_path_buf(),
        });
    };
    let image = oci(store, format!("oci:{}", path.display()), path, opts)?;
    scan_image(&image, opts)
}

fn docker(store: Store, name: String, tag: Option<&str>) -> Result<StoredImage, Error> {
    let manifests: Vec<DockerManifest> = store.json("manifest.json")?;
    let m = match tag {
        Some(t) => manifests.into_iter().find(|m| {
            m.repo_tags.as_ref().is_some_and(|tags| {
                tags.iter()
                    .any(|x| x == t || x.rsplit_once(':').is_some_and(|(_, tt)| tt == t))
            })
        }),
        None => manifests.into_iter().next(),
    }
    .ok_or_else(|| Error::ImageNotFound {
        wanted: tag.unwrap_or("(any)").to_string(),
        path: PathBuf::from(&name),
    })?;
    let config_digest = m
        .config
        .strip_prefix("blobs/sha256/")
        .map(|h| format!("sha256:{h}"))
        .or_else(|| {
            m.config
                .strip_suffix(".json")
                .map(|h| format!("sha256:{h}"))
        });
    let layers = m
        .layers
        .iter()
        .map(|p| LayerDescriptor {
            media_type: String::new(),
            // Docker 25+ stores layers by digest; the path then is the digest.
            digest: p
                .strip_prefix("blobs/sha256/")
                .map(|h| format!("sha256:{h}")),
            size: None,
        })
        .collect();
    let display = m
        .repo_tags
        .as_ref()
        .and_then(|t| t.first().cloned())
        .unwrap_or(name);
    Ok(StoredImage {
        store,
        info: SourceInfo {
            kind: SourceKind::DockerArchive,
            name: display,
            digest: None,
            config_digest,
        },
        layers,
        paths: m.layers,
    })
}

const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

fn oci(store: Store, name: String, path: &Path, opts: &ScanOptions) -> Result<StoredImage, Error> {
    let index: IndexOrManifest = store.json("index.json")?;
    let candidates = index.manifests.unwrap_or_default();
    let not_found = |wanted: String| Error::ImageNotFound {
        wanted,
        path: path.to_path_buf(),
    };
    let chosen = match opts.tag.as_deref() {
        Some(tag) => candidates
            .into_iter()
            .find(|d| {
                d.annotations
                    .get("org.opencontainers.image.ref.name")
                    .is_some_and(|r| r == tag || r.rsplit_once(':').is_some_and(|(_, t)| t == tag))
                    || d.annotations
                        .get("io.containerd.image.name")
                        .is_some_and(|r| r == tag)
                    || d.digest == tag
            })
            .ok_or_else(|| not_found(format!("tagged {tag}")))?,
        None => {
            let mut c = candidates;
            if c.len() > 1
                && !c
                    .iter()
                    .all(|d| INDEX_TYPES.contains(&d.media_type.as_str()))
            {
                return Err(not_found(
                    "without a tag: the layout holds several images, name one as oci:DIR:TAG"
                        .to_string(),
                ));
            }
            c.drain(..)
                .next()
                .ok_or_else(|| not_found("(empty index)".to_string()))?
        }
    };
    let mut desc = chosen;
    // Follow nested indexes down to a manifest for the wanted platform.
    for _ in 0..4 {
        if !INDEX_TYPES.contains(&desc.media_type.as_str()) {
            break;
        }
        let inner: IndexOrManifest = store.json(&blob_path(&desc.digest)?)?;
        let list = inner.manifests.unwrap_or_default();
        let (os, arch, variant) = parse_platform(&opts.platform);
        let available: Vec<String> = list
            .iter()
            .filter_map(|d| d.platform.as_ref())
            .map(|p| match &p.variant {
                Some(v) => format!("{}/{}/{v}", p.os, p.architecture),
                None => format!("{}/{}", p.os, p.architecture),
            })
            .collect();
        desc = list
            .into_iter()
            .find(|d| {
                d.platform.as_ref().is_some_and(|p| {
                    // arm64 without a variant is arm64/v8 (as the OCI image spec says).
                    let have = p
                        .variant
                        .as_deref()
                        .or((p.architecture == "arm64").then_some("v8"));
                    p.os == os && p.architecture == arch && variant.is_none_or(|v| have == Some(v))
                })
            })
            .ok_or_else(|| {
                not_found(format!(
                    "for platform {} (the index has: {})",
                    opts.platform,
                    if available.is_empty() {
                        "no platform entries".to_string()
                    } else {
                        available.join(", ")
                    }
                ))
            })?;
    }
    let manifest: IndexOrManifest = store.json(&blob_path(&desc.digest)?)?;
    if manifest
        .media_type
        .as_deref()
        .is_some_and(|m| INDEX_TYPES.contains(&m))
    {
        return Err(Error::image(desc.digest.clone(), "index nested too deeply"));
    }
    let layers_d = manifest
        .layers
        .ok_or_else(|| Error::image(desc.digest.clone(), "manifest has no layers"))?;
    let mut layers = Vec::new();
    let mut paths = Vec::new();
    for l in layers_d {
        paths.push(blob_path(&l.digest)?);
        layers.push(LayerDescriptor {
            media_type: l.media_type,
            digest: Some(l.digest),
            size: l.size,
        });
    }
    Ok(StoredImage {
        store,
        info: SourceInfo {
            kind: SourceKind::OciLayout,
            name: match &opts.tag {
                Some(t) => format!("{name}:{t}"),
                None => name,
            },
            digest: Some(desc.digest),
            config_digest: manifest.config.map(|c| c.digest),
        },
        layers,
        paths,
    })
}

fn parse_platform(p: &str) -> (&str, &str, Option<&str>) {
    let mut it = p.split('/');
    let os = it.next().unwrap_or("linux");
    let arch = it.next().unwrap_or("amd64");
    (os, arch, it.next())
}
