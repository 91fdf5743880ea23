//! Attach Sigstore bundles to an image as OCI 1.1 artifacts (cosign BUNDLE_SPEC, as GitHub's
//! actions/attest and cosign v3 write them): an image manifest whose `artifactType` and single
//! layer are the bundle media type, whose config is the empty descriptor, and whose `subject`
//! is the image. Registries with the referrers API index it; others get the referrers tag
//! schema index, maintained here.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;

use crate::blob::Blob;
use crate::bundle::{BundleSummary, summarize};
use crate::error::Error;
use crate::manifest::{Descriptor, EMPTY_JSON, annotations, media};
use crate::store::{Repository, push_referrer};

/// The result of attaching one bundle.
#[derive(Debug, Clone, Serialize)]
pub struct Attached {
    /// The artifact manifest.
    pub manifest: Descriptor,
    /// The bundle blob.
    pub bundle: Descriptor,
    /// What the bundle says about itself (unverified).
    pub summary: BundleSummary,
}

/// Builds the artifact manifest bytes for `bundle` about `subject`; `created` (RFC 3339) is
/// passed in so output is reproducible.
pub fn artifact_manifest(
    subject: &Descriptor,
    bundle: &[u8],
    summary: &BundleSummary,
    created: Option<&str>,
) -> (Vec<u8>, Descriptor) {
    // v0.3 bundles use their own media type; older ones keep theirs (honest about the content).
    let bundle_type = summary.media_type.clone();
    let mut layer = Descriptor::for_bytes(&bundle_type, bundle);
    layer.annotations.insert(
        annotations::TITLE.to_string(),
        format!("{}.sigstore.json", layer.digest.to_fallback_tag()),
    );
    let mut ann = BTreeMap::new();
    ann.insert(
        annotations::BUNDLE_CONTENT.to_string(),
        summary.content.as_str().to_string(),
    );
    if let Some(pt) = &summary.predicate_type {
        ann.insert(annotations::BUNDLE_PREDICATE_TYPE.to_string(), pt.clone());
    }
    if let Some(c) = created {
        ann.insert(annotations::CREATED.to_string(), c.to_string());
    }
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "artifactType": bundle_type,
        "config": Descriptor::empty(),
        "layers": [layer],
        "subject": {
            "mediaType": subject.media_type,
            "digest": subject.digest,
            "size": subject.size,
        },
        "annotations": ann,
    });
    let bytes = serde_json::to_vec(&manifest).expect("a manifest serialises");
    (bytes, layer)
}

/// Attaches one bundle to `subject` in `repo`. `created` is the RFC 3339 creation time
/// annotation (pass the clock's value, or `SOURCE_DATE_EPOCH`, or none).
pub fn attach_bundle(
    repo: &dyn Repository,
    subject: &Descriptor,
    bundle: &[u8],
    created: Option<&str>,
) -> Result<Attached, Error> {
    let summary = summarize("to attach", bundle)?;
    let (bytes, layer) = artifact_manifest(subject, bundle, &summary, created);
    let empty = Descriptor::empty();
    if !repo.blob_exists(&empty)? {
        repo.push_blob(&empty, &Blob::from_vec(EMPTY_JSON.to_vec()))?;
    }
    if !repo.blob_exists(&layer)? {
        repo.push_blob(&layer, &Blob::from_vec(bundle.to_vec()))?;
    }
    let manifest = push_referrer(repo, media::OCI_MANIFEST, &bytes, &subject.digest)?;
    Ok(Attached {
        manifest,
        bundle: layer,
        summary,
    })
}
