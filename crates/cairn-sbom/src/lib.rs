#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod assemble;
mod catalog;
mod error;
pub mod license;
mod package;
pub mod purl;
mod source;
mod write;

use std::path::{Path, PathBuf};

pub use error::Error;
pub use package::{Distro, Ecosystem, Package, Sbom, SourceInfo, SourceKind, Supplier, Warning};
pub use source::image::{ImageSource, LayerDescriptor, scan_image};
pub use write::{WriteOptions, cyclonedx, spdx};

/// Size limits that keep a hostile source from exhausting memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest text manifest read (status files, lock files, METADATA): 64 MiB.
    pub max_text_bytes: u64,
    /// Largest binary or Java archive read (also per nested archive): 256 MiB.
    pub max_file_bytes: u64,
    /// Most bytes one layer may decompress to: 32 GiB.
    pub max_layer_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_text_bytes: 64 << 20,
            max_file_bytes: 256 << 20,
            max_layer_bytes: 32 << 30,
        }
    }
}

/// How to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanOptions {
    /// Size limits.
    pub limits: Limits,
    /// Image tag to pick from a layout or archive holding several (`oci:DIR:TAG`).
    pub tag: Option<String>,
    /// Platform to pick from a multi-platform index, `os/arch[/variant]`.
    pub platform: String,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            limits: Limits::default(),
            tag: None,
            platform: "linux/amd64".into(),
        }
    }
}

/// A source as the user names it on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// A directory or root filesystem.
    Directory(PathBuf),
    /// A tar archive: `docker save` output, or a tar of an OCI layout.
    Archive(PathBuf),
    /// `oci:DIR[:TAG]`: an OCI image layout (directory or tar).
    OciLayout {
        /// The layout.
        path: PathBuf,
        /// The tag (`org.opencontainers.image.ref.name`).
        tag: Option<String>,
    },
}

impl Source {
    /// Parses `oci:DIR[:TAG]`, a directory, or an archive path. Does not check that the
    /// path exists beyond telling a directory from a file.
    pub fn parse(s: &str) -> Result<Source, Error> {
        if let Some(rest) = s.strip_prefix("oci:") {
            let whole = Path::new(rest);
            if whole.exists() {
                return Ok(Source::OciLayout {
                    path: whole.to_path_buf(),
                    tag: None,
                });
            }
            return Ok(match rest.rsplit_once(':') {
                Some((dir, tag)) if !tag.contains('/') && !dir.is_empty() => Source::OciLayout {
                    path: PathBuf::from(dir),
                    tag: Some(tag.to_string()),
                },
                _ => Source::OciLayout {
                    path: whole.to_path_buf(),
                    tag: None,
                },
            });
        }
        let p = PathBuf::from(s.strip_prefix("dir:").unwrap_or(s));
        let p = match s.strip_prefix("docker-archive:") {
            Some(a) => return Ok(Source::Archive(PathBuf::from(a))),
            None => p,
        };
        match std::fs::metadata(&p) {
            Ok(m) if m.is_dir() => Ok(Source::Directory(p)),
            Ok(_) => Ok(Source::Archive(p)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(Error::SourceMissing { path: p })
            }
            Err(e) => Err(Error::Io { path: p, source: e }),
        }
    }
}

/// Scans a source.
pub fn scan(source: &Source, opts: &ScanOptions) -> Result<Sbom, Error> {
    match source {
        Source::Directory(p) => {
            if !p.exists() {
                return Err(Error::SourceMissing { path: p.clone() });
            }
            source::dir::scan(p, opts)
        }
        Source::Archive(p) => {
            if !p.exists() {
                return Err(Error::SourceMissing { path: p.clone() });
            }
            source::image::scan_archive(p, opts)
        }
        Source::OciLayout { path, tag } => {
            if !path.exists() {
                return Err(Error::SourceMissing { path: path.clone() });
            }
            let mut o = opts.clone();
            if tag.is_some() {
                o.tag = tag.clone();
            }
            source::image::scan_oci(path, &o)
        }
    }
}
