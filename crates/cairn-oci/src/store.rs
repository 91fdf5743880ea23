//! The one interface over registries and layout directories, and what is built on it alone:
//! resolution (with platform selection) and referrers (API or tag schema).

use crate::blob::{Blob, BlobStream, BlobWriter, ReadError};
use crate::digest::Digest;
use crate::error::Error;
use crate::manifest::{Descriptor, ImageIndex, Manifest, PlatformSpec, media};
use crate::reference::Reference;

/// A manifest as fetched: its descriptor (digest computed from the bytes) and the exact bytes.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    /// Media type, digest (of the bytes) and size.
    pub descriptor: Descriptor,
    /// The bytes, verbatim.
    pub bytes: Vec<u8>,
}

impl FetchedManifest {
    /// Parses the bytes.
    pub fn parse(&self) -> Result<Manifest, Error> {
        Manifest::parse(&self.descriptor.media_type, &self.bytes).map_err(|source| {
            Error::Manifest {
                what: self.descriptor.digest.to_string(),
                source,
            }
        })
    }
}

/// What pushing a manifest did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedManifest {
    /// The digest of the pushed bytes (checked against the registry's answer).
    pub digest: Digest,
    /// True when the registry said it indexed the manifest's `subject` itself (`OCI-Subject`
    /// header): no referrers tag needs maintaining.
    pub subject_indexed: bool,
}

/// One repository: a repository on a registry, or an OCI image layout directory.
///
/// Every method that returns content has verified it against its digest.
pub trait Repository: Send + Sync {
    /// A name for messages (`127.0.0.1:5000/app`, `oci:/path`).
    fn display_name(&self) -> String;

    /// `(registry, repository)` for registry repositories (used for cross-repository mounts).
    fn registry_location(&self) -> Option<(String, String)> {
        None
    }

    /// Fetches a manifest by tag or digest. By digest, the bytes must hash to it; by tag, the
    /// digest is computed from the bytes (and must match what the registry announced).
    fn fetch_manifest(&self, reference: &Reference) -> Result<FetchedManifest, Error>;

    /// True when a manifest with this digest exists.
    fn manifest_exists(&self, digest: &Digest) -> Result<bool, Error>;

    /// Fetches a blob and verifies size and digest.
    fn fetch_blob(&self, desc: &Descriptor) -> Result<Blob, Error>;

    /// True when the blob exists.
    fn blob_exists(&self, desc: &Descriptor) -> Result<bool, Error>;

    /// Stores a blob (verified content).
    fn push_blob(&self, desc: &Descriptor, blob: &Blob) -> Result<(), Error>;

    /// Opens a blob as a stream checked against `desc` while it is read (see [`BlobStream`]).
    fn open_blob(&self, desc: &Descriptor) -> Result<BlobStream, Error>;

    /// Stores a blob from a stream. The store must not make the blob visible unless the stream
    /// ends cleanly (registries check the `digest` of the upload themselves; layouts rename
    /// only after checking). The default spools the stream, then calls `push_blob`.
    fn push_blob_stream(&self, desc: &Descriptor, mut stream: BlobStream) -> Result<(), Error> {
        let mut w = BlobWriter::new(desc)?;
        match w.read_from(&mut stream.reader) {
            Ok(()) => {}
            Err(ReadError::Content(e)) => return Err(e),
            Err(ReadError::Read(e)) => {
                return Err(stream.content_error().unwrap_or(Error::Transport {
                    method: "READ".to_string(),
                    url: self.display_name(),
                    source: Box::new(e),
                }));
            }
        }
        let blob = w.finish("streamed blob")?;
        self.push_blob(desc, &blob)
    }

    /// Tries to mount the blob from another repository of the same registry; false when the
    /// registry declined (then push it).
    fn mount_blob(&self, _desc: &Descriptor, _from_repository: &str) -> Result<bool, Error> {
        Ok(false)
    }

    /// Stores a manifest under its digest, or under `tag` (which then points at it).
    fn push_manifest(
        &self,
        media_type: &str,
        bytes: &[u8],
        tag: Option<&str>,
    ) -> Result<PushedManifest, Error>;

    /// Keeps an untagged root manifest reachable (layouts add an `index.json` entry; registries
    /// need nothing).
    fn retain_root(&self, _desc: &Descriptor) -> Result<(), Error> {
        Ok(())
    }

    /// The referrers API: `Ok(None)` when the store has none (then use the tag schema).
    fn referrers_api(
        &self,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Option<Vec<Descriptor>>, Error>;

    /// All tags.
    fn list_tags(&self) -> Result<Vec<String>, Error>;
}

/// How to pick from an index.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PlatformSelection {
    /// Keep the index itself (all platforms).
    #[default]
    All,
    /// Pick the entry for this platform.
    One(PlatformSpec),
}

/// A resolved reference: the digest everything afterwards uses.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The manifest that was selected (after platform selection).
    pub manifest: FetchedManifest,
    /// The index it was selected from, when a platform was picked out of one.
    pub index: Option<Descriptor>,
}

impl Resolved {
    /// The selected digest.
    pub fn digest(&self) -> &Digest {
        &self.manifest.descriptor.digest
    }
}

/// Resolves a tag or digest once, selecting a platform from an index when asked.
pub fn resolve(
    repo: &dyn Repository,
    reference: &Reference,
    platform: &PlatformSelection,
) -> Result<Resolved, Error> {
    let top = repo.fetch_manifest(reference)?;
    let spec = match platform {
        PlatformSelection::All => {
            return Ok(Resolved {
                manifest: top,
                index: None,
            });
        }
        PlatformSelection::One(spec) => spec,
    };
    let index = match top.parse()? {
        Manifest::Index(i) => i,
        // A single-platform image: accept it only when its config says it is that platform
        // would need the config blob; cairn takes it as is, like docker and skopeo do.
        Manifest::Image(_) => {
            return Ok(Resolved {
                manifest: top,
                index: None,
            });
        }
    };
    let chosen = index
        .manifests
        .iter()
        .find(|d| d.platform.as_ref().is_some_and(|p| spec.matches(p)))
        .cloned();
    let Some(chosen) = chosen else {
        return Err(Error::PlatformNotFound {
            platform: spec.to_string(),
            digest: top.descriptor.digest.clone(),
            available: index
                .manifests
                .iter()
                .filter_map(|d| d.platform.as_ref().map(|p| p.to_string()))
                .collect(),
        });
    };
    let child = repo.fetch_manifest(&Reference::Digest(chosen.digest.clone()))?;
    Ok(Resolved {
        manifest: child,
        index: Some(top.descriptor),
    })
}

/// Where a referrer list came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReferrersSource {
    /// `GET /v2/<name>/referrers/<digest>`.
    Api,
    /// The `<alg>-<hex>` tag holding an index (referrers tag schema).
    TagSchema,
}

/// Lists referrers of `subject`, filtered by artifact type: the API when the store has it, else
/// the referrers tag schema. A missing fallback tag means no referrers.
pub fn referrers(
    repo: &dyn Repository,
    subject: &Digest,
    artifact_type: Option<&str>,
) -> Result<(Vec<Descriptor>, ReferrersSource), Error> {
    if let Some(list) = repo.referrers_api(subject, artifact_type)? {
        return Ok((list, ReferrersSource::Api));
    }
    let index = match fallback_index(repo, subject)? {
        Some(i) => i,
        None => return Ok((Vec::new(), ReferrersSource::TagSchema)),
    };
    let list = index
        .manifests
        .into_iter()
        .filter(|d| artifact_type.is_none_or(|t| d.artifact_type.as_deref() == Some(t)))
        .collect();
    Ok((list, ReferrersSource::TagSchema))
}

fn fallback_index(repo: &dyn Repository, subject: &Digest) -> Result<Option<ImageIndex>, Error> {
    let tag = subject.to_fallback_tag();
    match repo.fetch_manifest(&Reference::Tag(tag.clone())) {
        Ok(m) => match m.parse()? {
            Manifest::Index(i) => Ok(Some(i)),
            Manifest::Image(_) => Err(Error::Protocol {
                url: format!("{}:{tag}", repo.display_name()),
                reason: "referrers tag holds an image manifest, not an index".to_string(),
            }),
        },
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Pushes a manifest that has a `subject` and makes it discoverable: when the registry did not
/// index the subject itself, adds it to the referrers tag schema index (read, add, write; like
/// every client of that schema this is not atomic against a concurrent writer).
pub fn push_referrer(
    repo: &dyn Repository,
    media_type: &str,
    bytes: &[u8],
    subject: &Digest,
) -> Result<Descriptor, Error> {
    let manifest = Manifest::parse(media_type, bytes).map_err(|source| Error::Manifest {
        what: "to push".to_string(),
        source,
    })?;
    let mut desc = Descriptor::for_bytes(media_type, bytes);
    desc.artifact_type = manifest.artifact_type().map(str::to_string);
    desc.annotations = manifest.annotations().clone();
    let pushed = repo.push_manifest(media_type, bytes, None)?;
    if pushed.digest != desc.digest {
        return Err(Error::DigestMismatch {
            what: format!("manifest pushed to {}", repo.display_name()),
            expected: desc.digest,
            actual: pushed.digest,
        });
    }
    if pushed.subject_indexed {
        return Ok(desc);
    }
    // A registry without OCI-Subject may still have the API (some do not send the header).
    if let Some(list) = repo.referrers_api(subject, None)?
        && list.iter().any(|d| d.digest == desc.digest)
    {
        return Ok(desc);
    }
    let mut index = fallback_index(repo, subject)?.unwrap_or_default();
    if index.manifests.iter().any(|d| d.digest == desc.digest) {
        return Ok(desc);
    }
    index.manifests.push(desc.clone());
    let bytes = serde_json::to_vec(&index).expect("an index always serialises");
    repo.push_manifest(media::OCI_INDEX, &bytes, Some(&subject.to_fallback_tag()))?;
    Ok(desc)
}
