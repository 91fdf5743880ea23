//! A repository on a registry (OCI distribution spec 1.1) as a [`Repository`].

use std::sync::Arc;

use reqwest::blocking::Response;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, LINK, LOCATION};
use reqwest::{Method, StatusCode, Url};

use crate::blob::{Blob, BlobStream, BlobWriter, ReadError};
use crate::client::{Client, ReqBody, Scope, read_limited, status_error};
use crate::digest::Digest;
use crate::error::Error;
use crate::manifest::{Descriptor, MAX_MANIFEST_SIZE, Manifest, media};
use crate::reference::Reference;
use crate::store::{FetchedManifest, PushedManifest, Repository};

/// A repository on a registry.
#[derive(Debug, Clone)]
pub struct RegistryRepo {
    client: Arc<Client>,
    registry: String,
    repository: String,
    base: Url,
}

const DOCKER_CONTENT_DIGEST: &str = "docker-content-digest";
const OCI_SUBJECT: &str = "oci-subject";
const OCI_FILTERS_APPLIED: &str = "oci-filters-applied";

impl RegistryRepo {
    pub(crate) fn new(
        client: Arc<Client>,
        registry: String,
        repository: String,
        base: Url,
    ) -> RegistryRepo {
        RegistryRepo {
            client,
            registry,
            repository,
            base,
        }
    }

    /// The registry host.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    fn url(&self, tail: &str) -> Url {
        self.base
            .join(&format!("v2/{}/{}", self.repository, tail))
            .expect("repository names and tails are URL-safe")
    }

    /// `GET /v2/<name>/blobs/<digest>`: the successful response and its URL, or `NotFound` /
    /// the status error. The body is not read here; callers verify it as they read.
    fn get_blob(&self, desc: &Descriptor) -> Result<(Url, Response), Error> {
        let url = self.url(&format!("blobs/{}", desc.digest));
        let resp = self.client.send(
            Method::GET,
            &url,
            &self.scope(false),
            &[],
            ReqBody::None,
            true,
        )?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Err(Error::NotFound {
                what: format!("blob {}", desc.digest),
                repository: self.display_name(),
            });
        }
        if resp.status() != StatusCode::OK {
            return Err(status_error(&Method::GET, &url, resp));
        }
        Ok((url, resp))
    }

    fn scope(&self, push: bool) -> Scope {
        Scope {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            push,
            mount_from: None,
        }
    }

    fn location(&self, resp: &Response, url: &Url) -> Result<Url, Error> {
        let loc = resp
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Error::Protocol {
                url: url.to_string(),
                reason: "upload response has no Location".to_string(),
            })?;
        let next = url.join(loc).map_err(|_| Error::Protocol {
            url: url.to_string(),
            reason: format!("bad upload Location `{loc}`"),
        })?;
        // Never follow an upload to another scheme/host than the registry's own.
        if next.scheme() != self.base.scheme() && next.scheme() != "https" {
            return Err(Error::Protocol {
                url: url.to_string(),
                reason: format!("upload Location `{loc}` downgrades to plain HTTP"),
            });
        }
        Ok(next)
    }

    fn start_upload(&self) -> Result<Url, Error> {
        let url = self.url("blobs/uploads/");
        let resp = self.client.send(
            Method::POST,
            &url,
            &self.scope(true),
            &[("Content-Length", "0".into())],
            ReqBody::None,
            true,
        )?;
        if resp.status() != StatusCode::ACCEPTED {
            return Err(status_error(&Method::POST, &url, resp));
        }
        self.location(&resp, &url)
    }

    fn upload_once(&self, desc: &Descriptor, blob: &Blob) -> Result<(), Error> {
        let cfg = self.client.config();
        let mut loc = self.start_upload()?;
        let octet = ("Content-Type", "application/octet-stream".to_string());
        if blob.len() > cfg.chunk_threshold {
            let chunk = cfg.chunk_size.max(1);
            let mut offset = 0u64;
            while offset < blob.len() {
                let len = chunk.min(blob.len() - offset);
                let range = ("Content-Range", format!("{}-{}", offset, offset + len - 1));
                let headers = [octet.clone(), range, ("Content-Length", len.to_string())];
                let resp = self.client.send(
                    Method::PATCH,
                    &loc,
                    &self.scope(true),
                    &headers,
                    ReqBody::Range(blob, offset, len),
                    false,
                )?;
                if resp.status() != StatusCode::ACCEPTED {
                    return Err(status_error(&Method::PATCH, &loc, resp));
                }
                loc = self.location(&resp, &loc)?;
                offset += len;
            }
            let mut put = loc.clone();
            put.query_pairs_mut()
                .append_pair("digest", &desc.digest.to_string());
            let resp = self.client.send(
                Method::PUT,
                &put,
                &self.scope(true),
                &[("Content-Length", "0".to_string())],
                ReqBody::None,
                false,
            )?;
            if resp.status() != StatusCode::CREATED {
                return Err(status_error(&Method::PUT, &put, resp));
            }
        } else {
            let mut put = loc.clone();
            put.query_pairs_mut()
                .append_pair("digest", &desc.digest.to_string());
            let headers = [octet, ("Content-Length", blob.len().to_string())];
            let resp = self.client.send(
                Method::PUT,
                &put,
                &self.scope(true),
                &headers,
                ReqBody::Blob(blob),
                false,
            )?;
            if resp.status() != StatusCode::CREATED {
                return Err(status_error(&Method::PUT, &put, resp));
            }
        }
        Ok(())
    }

    fn get_paginated_index(&self, first: Url) -> Result<(Vec<Descriptor>, bool), Error> {
        let mut out = Vec::new();
        let mut next = Some(first);
        let mut filtered = false;
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > 100 {
                return Err(Error::Protocol {
                    url: url.to_string(),
                    reason: "more than 100 pages of referrers".to_string(),
                });
            }
            let resp = self.client.send(
                Method::GET,
                &url,
                &self.scope(false),
                &[("Accept", media::OCI_INDEX.to_string())],
                ReqBody::None,
                true,
            )?;
            if resp.status() != StatusCode::OK {
                return Err(status_error(&Method::GET, &url, resp));
            }
            filtered |= resp
                .headers()
                .get(OCI_FILTERS_APPLIED)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.split(',').any(|f| f.trim() == "artifactType"));
            next = next_link(&resp, &url);
            let body = read_limited(resp, MAX_MANIFEST_SIZE).map_err(|e| Error::Transport {
                method: "GET".to_string(),
                url: url.to_string(),
                source: Box::new(e),
            })?;
            match Manifest::parse(media::OCI_INDEX, &body) {
                Ok(Manifest::Index(i)) => out.extend(i.manifests),
                Ok(Manifest::Image(_)) => unreachable!("parsed as an index"),
                Err(source) => {
                    return Err(Error::Manifest {
                        what: format!("referrers list {url}"),
                        source,
                    });
                }
            }
        }
        Ok((out, filtered))
    }
}

fn next_link(resp: &Response, url: &Url) -> Option<Url> {
    let link = resp.headers().get(LINK)?.to_str().ok()?;
    for part in link.split(',') {
        let part = part.trim();
        if part.contains("rel=\"next\"") || part.contains("rel=next") {
            let start = part.find('<')? + 1;
            let end = part.find('>')?;
            return url.join(&part[start..end]).ok();
        }
    }
    None
}

impl Repository for RegistryRepo {
    fn display_name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    fn registry_location(&self) -> Option<(String, String)> {
        Some((self.registry.clone(), self.repository.clone()))
    }

    fn fetch_manifest(&self, reference: &Reference) -> Result<FetchedManifest, Error> {
        let url = self.url(&format!("manifests/{reference}"));
        let resp = self.client.send(
            Method::GET,
            &url,
            &self.scope(false),
            &[("Accept", media::MANIFEST_ACCEPT.to_string())],
            ReqBody::None,
            true,
        )?;
        if resp.status() == StatusCode::NOT_FOUND {
            let what = match reference {
                Reference::Tag(t) => format!("tag {t}"),
                Reference::Digest(d) => format!("manifest {d}"),
            };
            return Err(Error::NotFound {
                what,
                repository: self.display_name(),
            });
        }
        if resp.status() != StatusCode::OK {
            return Err(status_error(&Method::GET, &url, resp));
        }
        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        let announced = resp
            .headers()
            .get(DOCKER_CONTENT_DIGEST)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| Digest::parse(v.trim()).ok());
        if resp
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|n| n > MAX_MANIFEST_SIZE)
        {
            return Err(Error::ManifestTooLarge {
                what: reference.to_string(),
                limit: MAX_MANIFEST_SIZE,
            });
        }
        let bytes = read_limited(resp, MAX_MANIFEST_SIZE).map_err(|e| Error::Transport {
            method: "GET".to_string(),
            url: url.to_string(),
            source: Box::new(e),
        })?;
        let expected = match reference {
            Reference::Digest(d) => Some(d.clone()),
            Reference::Tag(_) => announced,
        };
        let digest = match &expected {
            Some(exp) => {
                let actual = Digest::of(exp.algorithm(), &bytes);
                if &actual != exp {
                    return Err(Error::DigestMismatch {
                        what: format!("manifest {reference} from {}", self.display_name()),
                        expected: exp.clone(),
                        actual,
                    });
                }
                actual
            }
            None => Digest::sha256_of(&bytes),
        };
        let media_type = if crate::manifest::is_manifest_media_type(&content_type) {
            content_type
        } else {
            // Some registries serve application/json: let the document say what it is.
            match Manifest::parse("", &bytes) {
                Ok(Manifest::Index(i)) => {
                    i.media_type.unwrap_or_else(|| media::OCI_INDEX.to_string())
                }
                Ok(Manifest::Image(m)) => m
                    .media_type
                    .unwrap_or_else(|| media::OCI_MANIFEST.to_string()),
                Err(source) => {
                    return Err(Error::Manifest {
                        what: reference.to_string(),
                        source,
                    });
                }
            }
        };
        let mut descriptor = Descriptor::for_bytes(&media_type, &bytes);
        descriptor.digest = digest;
        let fetched = FetchedManifest { descriptor, bytes };
        fetched.parse()?;
        Ok(fetched)
    }

    fn manifest_exists(&self, digest: &Digest) -> Result<bool, Error> {
        let url = self.url(&format!("manifests/{digest}"));
        let resp = self.client.send(
            Method::HEAD,
            &url,
            &self.scope(false),
            &[("Accept", media::MANIFEST_ACCEPT.to_string())],
            ReqBody::None,
            true,
        )?;
        match resp.status() {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(status_error(&Method::HEAD, &url, resp)),
        }
    }

    fn fetch_blob(&self, desc: &Descriptor) -> Result<Blob, Error> {
        let max = self.client.config().max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (url, resp) = self.get_blob(desc)?;
            let mut w = BlobWriter::new(desc)?;
            let mut resp = resp;
            match w.read_from(&mut resp) {
                Ok(()) => {}
                Err(ReadError::Content(e)) => return Err(e),
                Err(ReadError::Read(e)) => {
                    // The body stalled or the connection dropped mid-way: start again.
                    let err = Error::Transport {
                        method: "GET".to_string(),
                        url: url.to_string(),
                        source: Box::new(e),
                    };
                    if attempt >= max {
                        return Err(Error::RetriesExhausted {
                            attempts: attempt,
                            last: Box::new(err),
                        });
                    }
                    std::thread::sleep(self.client.backoff(attempt, None));
                    continue;
                }
            }
            // A short body is a dropped connection too.
            match w.finish(&format!("blob from {}", self.display_name())) {
                Err(Error::SizeMismatch {
                    actual, expected, ..
                }) if actual < expected && attempt < max => {
                    std::thread::sleep(self.client.backoff(attempt, None));
                    continue;
                }
                other => return other,
            }
        }
    }

    fn open_blob(&self, desc: &Descriptor) -> Result<BlobStream, Error> {
        let (_, resp) = self.get_blob(desc)?;
        Ok(BlobStream::verifying(
            Box::new(resp),
            desc,
            format!("blob from {}", self.display_name()),
        ))
    }

    fn push_blob_stream(&self, desc: &Descriptor, mut stream: BlobStream) -> Result<(), Error> {
        let cfg = self.client.config();
        let loc = self.start_upload()?;
        let octet = ("Content-Type", "application/octet-stream".to_string());
        let content_error = |stream: &BlobStream, e: Error| stream.content_error().unwrap_or(e);
        let mut put = if desc.size > cfg.chunk_threshold {
            // Chunked: read a chunk, PATCH it, follow the new Location.
            let chunk = usize::try_from(cfg.chunk_size.max(1)).unwrap_or(16 * 1024 * 1024);
            let mut loc = loc;
            let mut offset = 0u64;
            let mut buf = vec![0u8; chunk];
            loop {
                let mut filled = 0;
                while filled < chunk {
                    match stream.reader.read(&mut buf[filled..]) {
                        Ok(0) => break,
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            let err = Error::Transport {
                                method: "GET".to_string(),
                                url: format!("blob {}", desc.digest),
                                source: Box::new(e),
                            };
                            return Err(content_error(&stream, err));
                        }
                    }
                }
                if filled == 0 {
                    break;
                }
                let end = offset + filled as u64 - 1;
                let headers = [
                    octet.clone(),
                    ("Content-Range", format!("{offset}-{end}")),
                    ("Content-Length", filled.to_string()),
                ];
                let resp = self.client.send(
                    Method::PATCH,
                    &loc,
                    &self.scope(true),
                    &headers,
                    ReqBody::Bytes(&buf[..filled]),
                    false,
                )?;
                if resp.status() != StatusCode::ACCEPTED {
                    return Err(status_error(&Method::PATCH, &loc, resp));
                }
                loc = self.location(&resp, &loc)?;
                offset += filled as u64;
            }
            loc
        } else {
            loc
        };
        put.query_pairs_mut()
            .append_pair("digest", &desc.digest.to_string());
        let monolithic = desc.size <= cfg.chunk_threshold;
        let headers = if monolithic {
            vec![octet, ("Content-Length", desc.size.to_string())]
        } else {
            vec![("Content-Length", "0".to_string())]
        };
        let body = if monolithic {
            ReqBody::Stream(
                std::mem::replace(&mut stream.reader, Box::new(std::io::empty())),
                desc.size,
            )
        } else {
            ReqBody::None
        };
        let resp =
            match self
                .client
                .send(Method::PUT, &put, &self.scope(true), &headers, body, false)
            {
                Ok(r) => r,
                Err(e) => return Err(content_error(&stream, e)),
            };
        if let Some(e) = stream.content_error() {
            return Err(e);
        }
        if resp.status() != StatusCode::CREATED {
            return Err(status_error(&Method::PUT, &put, resp));
        }
        Ok(())
    }

    fn blob_exists(&self, desc: &Descriptor) -> Result<bool, Error> {
        let url = self.url(&format!("blobs/{}", desc.digest));
        let resp = self.client.send(
            Method::HEAD,
            &url,
            &self.scope(false),
            &[],
            ReqBody::None,
            true,
        )?;
        match resp.status() {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(status_error(&Method::HEAD, &url, resp)),
        }
    }

    fn push_blob(&self, desc: &Descriptor, blob: &Blob) -> Result<(), Error> {
        if blob.digest() != &desc.digest || blob.len() != desc.size {
            return Err(Error::DigestMismatch {
                what: "blob to push".to_string(),
                expected: desc.digest.clone(),
                actual: blob.digest().clone(),
            });
        }
        // Upload sessions cannot be retried blindly; retry the whole upload instead.
        let max = self.client.config().max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.upload_once(desc, blob) {
                Ok(()) => return Ok(()),
                Err(e) if attempt < max && is_transient(&e) => {
                    tracing::debug!(error = %e, attempt, "blob upload failed, restarting");
                    std::thread::sleep(self.client.backoff(attempt, None));
                }
                Err(e) if attempt > 1 && is_transient(&e) => {
                    return Err(Error::RetriesExhausted {
                        attempts: attempt,
                        last: Box::new(e),
                    });
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn mount_blob(&self, desc: &Descriptor, from_repository: &str) -> Result<bool, Error> {
        let mut url = self.url("blobs/uploads/");
        url.query_pairs_mut()
            .append_pair("mount", &desc.digest.to_string())
            .append_pair("from", from_repository);
        let scope = Scope {
            mount_from: Some(from_repository.to_string()),
            ..self.scope(true)
        };
        let resp = self.client.send(
            Method::POST,
            &url,
            &scope,
            &[("Content-Length", "0".into())],
            ReqBody::None,
            true,
        )?;
        match resp.status() {
            StatusCode::CREATED => Ok(true),
            StatusCode::ACCEPTED => {
                // The registry opened an upload instead; cancel it (best effort).
                if let Ok(loc) = self.location(&resp, &url) {
                    let _ = self.client.send(
                        Method::DELETE,
                        &loc,
                        &self.scope(true),
                        &[],
                        ReqBody::None,
                        false,
                    );
                }
                Ok(false)
            }
            // A registry that cannot mount (unknown source, policy) is not an error: upload.
            other => {
                tracing::debug!(status = %other, "cross-repository mount declined");
                Ok(false)
            }
        }
    }

    fn push_manifest(
        &self,
        media_type: &str,
        bytes: &[u8],
        tag: Option<&str>,
    ) -> Result<PushedManifest, Error> {
        let digest = Digest::sha256_of(bytes);
        let reference = match tag {
            Some(t) => {
                crate::reference::check_tag(t)?;
                t.to_string()
            }
            None => digest.to_string(),
        };
        let url = self.url(&format!("manifests/{reference}"));
        let resp = self.client.send(
            Method::PUT,
            &url,
            &self.scope(true),
            &[("Content-Type", media_type.to_string())],
            ReqBody::Bytes(bytes),
            true,
        )?;
        if resp.status() != StatusCode::CREATED && resp.status() != StatusCode::OK {
            return Err(status_error(&Method::PUT, &url, resp));
        }
        if let Some(announced) = resp
            .headers()
            .get(DOCKER_CONTENT_DIGEST)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| Digest::parse(v.trim()).ok())
            && announced != digest
        {
            return Err(Error::DigestMismatch {
                what: format!("manifest pushed to {}", self.display_name()),
                expected: digest,
                actual: announced,
            });
        }
        let subject_indexed = resp.headers().get(OCI_SUBJECT).is_some();
        Ok(PushedManifest {
            digest,
            subject_indexed,
        })
    }

    fn referrers_api(
        &self,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Option<Vec<Descriptor>>, Error> {
        let mut url = self.url(&format!("referrers/{subject}"));
        if let Some(t) = artifact_type {
            url.query_pairs_mut().append_pair("artifactType", t);
        }
        // Probe first: registries without the API answer 404 (distribution 2.x) or 400/405.
        let resp = self.client.send(
            Method::GET,
            &url,
            &self.scope(false),
            &[("Accept", media::OCI_INDEX.to_string())],
            ReqBody::None,
            true,
        )?;
        match resp.status() {
            StatusCode::OK => {
                let ct = resp
                    .headers()
                    .get(CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if !ct.starts_with(media::OCI_INDEX) {
                    return Ok(None);
                }
            }
            StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST | StatusCode::METHOD_NOT_ALLOWED => {
                return Ok(None);
            }
            _ => return Err(status_error(&Method::GET, &url, resp)),
        }
        drop(resp);
        let (list, filtered) = self.get_paginated_index(url)?;
        let list = match artifact_type {
            Some(t) if !filtered => list
                .into_iter()
                .filter(|d| d.artifact_type.as_deref() == Some(t))
                .collect(),
            _ => list,
        };
        Ok(Some(list))
    }

    fn list_tags(&self) -> Result<Vec<String>, Error> {
        let mut url = self.url("tags/list");
        url.query_pairs_mut().append_pair("n", "1000");
        let mut next = Some(url);
        let mut tags = Vec::new();
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            let resp = self.client.send(
                Method::GET,
                &url,
                &self.scope(false),
                &[],
                ReqBody::None,
                true,
            )?;
            if resp.status() == StatusCode::NOT_FOUND {
                return Ok(Vec::new());
            }
            if resp.status() != StatusCode::OK {
                return Err(status_error(&Method::GET, &url, resp));
            }
            next = if pages < 1000 {
                next_link(&resp, &url)
            } else {
                None
            };
            let body = read_limited(resp, 16 * 1024 * 1024).map_err(|e| Error::Transport {
                method: "GET".to_string(),
                url: url.to_string(),
                source: Box::new(e),
            })?;
            let v: serde_json::Value =
                cairn_model::json::value_from_slice(&body).map_err(|e| Error::Protocol {
                    url: url.to_string(),
                    reason: format!("tag list is not JSON: {e}"),
                })?;
            if let Some(list) = v.get("tags").and_then(|t| t.as_array()) {
                tags.extend(list.iter().filter_map(|t| t.as_str().map(str::to_string)));
            }
        }
        Ok(tags)
    }
}

fn is_transient(e: &Error) -> bool {
    match e {
        Error::Transport { .. } => true,
        Error::Status { status, .. } => matches!(status, 404 | 408 | 429 | 500 | 502 | 503 | 504),
        _ => false,
    }
}
