//! Discover attestations of an image: Sigstore bundles attached as referrers (API or tag
//! schema), and cosign's `sha256-<hex>.att` (DSSE layers) and `.sig` (simple signing layers)
//! tags. Everything is reported **unverified**: the verifier decides what counts.

use serde::Serialize;

use crate::bundle::{BundleSummary, SignerClaim, signer_from_pem, statement_info, summarize};
use crate::digest::Digest;
use crate::error::Error;
use crate::manifest::{Descriptor, Manifest, annotations, media};
use crate::reference::Reference;
use crate::store::{ReferrersSource, Repository, referrers};

/// Largest attestation layer read (bundles are a few KiB; SBOM attestations can be MiBs).
pub const MAX_ATTESTATION_SIZE: u64 = 64 * 1024 * 1024;

/// Where an attestation was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Origin {
    /// A referrer holding a Sigstore bundle.
    Referrer {
        /// Found through the API or the tag schema.
        via: ReferrersSource,
    },
    /// A layer of cosign's `.att` tag (DSSE envelope, cosign < 3 layout).
    CosignAttestationTag {
        /// The tag.
        tag: String,
    },
    /// A layer of cosign's `.sig` tag (simple signing payload).
    CosignSignatureTag {
        /// The tag.
        tag: String,
    },
}

/// What kind of evidence the layer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceFormat {
    /// A Sigstore bundle (JSON).
    SigstoreBundle,
    /// A bare DSSE envelope (cosign `.att` layer); Rekor/certificate data are in annotations.
    DsseEnvelope,
    /// A cosign simple signing payload; the signature is in an annotation.
    CosignSimpleSigning,
}

/// One attestation or signature found for the image.
#[derive(Debug, Clone, Serialize)]
pub struct Found {
    /// Where it was found.
    pub origin: Origin,
    /// The manifest holding it.
    pub manifest: Digest,
    /// The layer holding it.
    pub layer: Descriptor,
    /// Layer content format.
    pub format: EvidenceFormat,
    /// In-toto predicate type, when the content is a statement.
    #[serde(rename = "predicateType", skip_serializing_if = "Option::is_none")]
    pub predicate_type: Option<String>,
    /// Bundle summary (Sigstore bundles only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundle: Option<BundleSummary>,
    /// Who claims to have signed, and when (unverified).
    pub signer: SignerClaim,
    /// Always false here: nothing is verified by discovery.
    pub verified: bool,
    /// Why the content could not be read, when it could not (the entry is still listed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// The layer bytes (for `--download`).
    #[serde(skip)]
    pub content: Vec<u8>,
}

/// Everything found for one subject.
#[derive(Debug, Clone, Serialize)]
pub struct Discovery {
    /// The image digest.
    pub subject: Digest,
    /// How referrers were listed.
    pub referrers_via: ReferrersSource,
    /// The attestations and signatures.
    pub attestations: Vec<Found>,
}

/// Lists attestations and signatures of `subject` in `repo`.
pub fn discover(repo: &dyn Repository, subject: &Digest) -> Result<Discovery, Error> {
    let (list, via) = referrers(repo, subject, None)?;
    let mut out = Vec::new();
    for r in list {
        let is_bundle = r
            .artifact_type
            .as_deref()
            .is_some_and(|t| t.starts_with(media::SIGSTORE_BUNDLE_PREFIX));
        if !is_bundle || !r.is_manifest() {
            continue;
        }
        let m = match repo.fetch_manifest(&Reference::Digest(r.digest.clone())) {
            Ok(m) => m,
            // A tag-schema index can outlive a deleted artifact: skip the stale entry.
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e),
        };
        let Manifest::Image(img) = m.parse()? else {
            continue;
        };
        if img.subject.as_ref().map(|s| &s.digest) != Some(subject) {
            // A tag-schema index can be edited by anyone with push access: trust the manifest.
            continue;
        }
        for layer in img
            .layers
            .iter()
            .filter(|l| l.media_type.starts_with(media::SIGSTORE_BUNDLE_PREFIX))
        {
            out.push(read_bundle_layer(
                repo,
                &r.digest,
                layer,
                Origin::Referrer { via },
            )?);
        }
    }
    for (suffix, is_att) in [("att", true), ("sig", false)] {
        let tag = format!("{}.{suffix}", subject.to_fallback_tag());
        let m = match repo.fetch_manifest(&Reference::Tag(tag.clone())) {
            Ok(m) => m,
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e),
        };
        let Manifest::Image(img) = m.parse()? else {
            continue;
        };
        for layer in &img.layers {
            let origin = if is_att {
                Origin::CosignAttestationTag { tag: tag.clone() }
            } else {
                Origin::CosignSignatureTag { tag: tag.clone() }
            };
            out.push(read_cosign_layer(
                repo,
                &m.descriptor.digest,
                layer,
                origin,
                is_att,
            )?);
        }
    }
    Ok(Discovery {
        subject: subject.clone(),
        referrers_via: via,
        attestations: out,
    })
}

fn fetch_layer(
    repo: &dyn Repository,
    layer: &Descriptor,
) -> Result<Result<Vec<u8>, String>, Error> {
    if layer.size > MAX_ATTESTATION_SIZE {
        return Ok(Err(format!(
            "layer is {} bytes, more than the {MAX_ATTESTATION_SIZE} read",
            layer.size
        )));
    }
    let blob = match repo.fetch_blob(layer) {
        Ok(b) => b,
        Err(e) if e.is_not_found() => {
            return Ok(Err(format!("layer blob {} is missing", layer.digest)));
        }
        Err(e) => return Err(e),
    };
    let bytes = blob
        .to_vec()
        .map_err(|e| Error::io(std::env::temp_dir(), e))?;
    Ok(Ok(bytes))
}

fn read_bundle_layer(
    repo: &dyn Repository,
    manifest: &Digest,
    layer: &Descriptor,
    origin: Origin,
) -> Result<Found, Error> {
    let mut found = Found {
        origin,
        manifest: manifest.clone(),
        layer: layer.clone(),
        format: EvidenceFormat::SigstoreBundle,
        predicate_type: None,
        bundle: None,
        signer: SignerClaim::default(),
        verified: false,
        problem: None,
        content: Vec::new(),
    };
    match fetch_layer(repo, layer)? {
        Err(p) => found.problem = Some(p),
        Ok(bytes) => {
            match summarize(&layer.digest.to_string(), &bytes) {
                Ok(s) => {
                    found.predicate_type = s.predicate_type.clone();
                    found.signer = s.signer.clone();
                    found.bundle = Some(s);
                }
                Err(e) => found.problem = Some(error_chain(&e)),
            }
            found.content = bytes;
        }
    }
    Ok(found)
}

fn read_cosign_layer(
    repo: &dyn Repository,
    manifest: &Digest,
    layer: &Descriptor,
    origin: Origin,
    is_att: bool,
) -> Result<Found, Error> {
    let mut signer = layer
        .annotations
        .get(annotations::COSIGN_CERTIFICATE)
        .map(|pem| signer_from_pem(pem))
        .unwrap_or_default();
    if let Some(t) = layer
        .annotations
        .get(annotations::COSIGN_BUNDLE)
        .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok())
        .and_then(|v| {
            v.pointer("/Payload/integratedTime")
                .and_then(|t| t.as_i64())
        })
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
    {
        signer.time = Some(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    }
    let mut found = Found {
        origin,
        manifest: manifest.clone(),
        layer: layer.clone(),
        format: if is_att {
            EvidenceFormat::DsseEnvelope
        } else {
            EvidenceFormat::CosignSimpleSigning
        },
        predicate_type: layer
            .annotations
            .get(annotations::COSIGN_PREDICATE_TYPE)
            .cloned(),
        bundle: None,
        signer,
        verified: false,
        problem: None,
        content: Vec::new(),
    };
    match fetch_layer(repo, layer)? {
        Err(p) => found.problem = Some(p),
        Ok(bytes) => {
            if is_att {
                match cairn_model::json::from_slice::<cairn_model::Envelope>(&bytes) {
                    Ok(env) => {
                        let (pt, _) = statement_info(&env.payload);
                        if pt.is_some() {
                            found.predicate_type = pt;
                        }
                    }
                    Err(e) => found.problem = Some(format!("not a DSSE envelope: {e}")),
                }
            }
            found.content = bytes;
        }
    }
    Ok(found)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
