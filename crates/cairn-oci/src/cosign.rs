//! cosign v2 signatures and attestations (the `sha256-<hex>.sig` and `.att` tags) turned into
//! Sigstore bundles, so they are verified by the same code, with the same signer rules, as
//! bundles attached as referrers.
//!
//! cosign (before the v3 bundle format) stores each signature as one layer of an image tagged
//! `sha256-<hex of the signed manifest>.sig` or `.att`, and everything a verifier needs besides
//! the layer bytes in the layer's annotations (cosign `pkg/oci/static/signature.go`):
//!
//! | annotation | content |
//! |---|---|
//! | `dev.cosignproject.cosign/signature` | base64 signature over the layer (`.sig`); empty for `.att`, whose DSSE envelope carries its own |
//! | `dev.sigstore.cosign/certificate` | the Fulcio (or other) leaf certificate, PEM; absent for key signatures |
//! | `dev.sigstore.cosign/chain` | its intermediates and root, PEM |
//! | `dev.sigstore.cosign/bundle` | the Rekor SET: `{"SignedEntryTimestamp": b64, "Payload": {"body": b64, "integratedTime": n, "logIndex": n, "logID": hex}}` |
//! | `dev.sigstore.cosign/rfc3161timestamp` | `{"SignedRFC3161Timestamp": b64}` |
//!
//! A `.sig` layer (`application/vnd.dev.cosign.simplesigning.v1+json`) is a "simple signing"
//! payload naming the image digest in `critical.image.docker-manifest-digest`; an `.att` layer
//! (`application/vnd.dsse.envelope.v1+json`) is a DSSE envelope of an in-toto statement.
//!
//! [`to_bundle`] rebuilds the Sigstore bundle these pieces amount to: v0.1 (the version whose
//! log entries carry an inclusion promise instead of a proof, which is what a SET is) when a
//! Rekor bundle annotation is present, else v0.3 with no log entry (only a key signer whose
//! policy allows a missing log entry, or an RFC 3161 timestamp, can then verify it). Nothing
//! is verified here; the bundle is exactly as trustworthy as the annotations.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::discover::{EvidenceFormat, Found};
use crate::manifest::annotations;

/// `dev.sigstore.cosign/chain`: the certificate chain above the leaf (PEM).
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// `dev.sigstore.cosign/rfc3161timestamp`: an RFC 3161 timestamp over the signature.
pub const TIMESTAMP_ANNOTATION: &str = "dev.sigstore.cosign/rfc3161timestamp";

const BUNDLE_V0_1: &str = "application/vnd.dev.sigstore.bundle+json;version=0.1";
const BUNDLE_V0_3: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// Why a cosign layer could not be turned into a bundle (the layer is then reported as not
/// evaluated, with this reason).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConversionError {
    /// The layer is a Sigstore bundle already, or could not be read.
    #[error("not a cosign .sig or .att layer")]
    NotCosign,
    /// A `.sig` layer without its signature annotation.
    #[error("the layer has no {} annotation", annotations::COSIGN_SIGNATURE)]
    MissingSignature,
    /// An annotation (or the layer) is not what cosign writes.
    #[error("malformed {what}")]
    Malformed {
        /// Which annotation or field.
        what: &'static str,
        /// What is wrong with it.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

fn malformed(
    what: &'static str,
    source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> ConversionError {
    ConversionError::Malformed {
        what,
        source: source.into(),
    }
}

/// A cosign layer as a Sigstore bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CosignBundle {
    /// The bundle JSON (v0.1 with the Rekor entry, or v0.3 without one).
    pub bundle: Vec<u8>,
    /// For a `.sig` layer: the simple-signing payload the message signature is over. The
    /// verifier checks the signature over these bytes and that the payload names the image.
    pub signed_payload: Option<Vec<u8>>,
    /// Whether a transparency-log entry (from the Rekor bundle annotation) is included.
    pub has_tlog_entry: bool,
}

/// The Rekor bundle annotation, as cosign writes it.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RekorBundle {
    signed_entry_timestamp: String,
    payload: RekorPayload,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RekorPayload {
    body: String,
    integrated_time: i64,
    log_index: i64,
    #[serde(rename = "logID")]
    log_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Timestamp {
    #[serde(rename = "SignedRFC3161Timestamp")]
    signed_rfc3161_timestamp: String,
}

/// The Sigstore bundle a cosign `.sig` or `.att` layer (as [`crate::discover()`] found it)
/// amounts to.
pub fn to_bundle(found: &Found) -> Result<CosignBundle, ConversionError> {
    if found.problem.is_some() {
        return Err(ConversionError::NotCosign);
    }
    let ann = &found.layer.annotations;
    let content = match found.format {
        EvidenceFormat::DsseEnvelope => {
            // Keep the envelope as received (unknown fields included); its signatures are
            // over the payload bytes, which re-serialising the JSON does not change.
            let envelope: Value = cairn_model::json::value_from_slice(&found.content)
                .map_err(|e| malformed("DSSE envelope", e))?;
            if !envelope.is_object() {
                return Err(malformed("DSSE envelope", "not a JSON object"));
            }
            ("dsseEnvelope", envelope)
        }
        EvidenceFormat::CosignSimpleSigning => {
            let sig = ann
                .get(annotations::COSIGN_SIGNATURE)
                .filter(|s| !s.is_empty())
                .ok_or(ConversionError::MissingSignature)?;
            STANDARD
                .decode(sig)
                .map_err(|e| malformed(annotations::COSIGN_SIGNATURE, e))?;
            (
                "messageSignature",
                json!({
                    "messageDigest": {
                        "algorithm": "SHA2_256",
                        "digest": STANDARD.encode(Sha256::digest(&found.content)),
                    },
                    "signature": sig,
                }),
            )
        }
        EvidenceFormat::SigstoreBundle => return Err(ConversionError::NotCosign),
    };

    let mut material = serde_json::Map::new();
    let certificate = ann
        .get(annotations::COSIGN_CERTIFICATE)
        .filter(|c| !c.trim().is_empty())
        .map(|pem| {
            x509_cert::der::pem::decode_vec(pem.as_bytes())
                .map_err(|e| malformed(annotations::COSIGN_CERTIFICATE, e.to_string()))
                .and_then(|(label, der)| {
                    if label == "CERTIFICATE" {
                        Ok(der)
                    } else {
                        Err(malformed(
                            annotations::COSIGN_CERTIFICATE,
                            format!("a PEM {label}, not a CERTIFICATE"),
                        ))
                    }
                })
        })
        .transpose()?;

    let tlog = ann
        .get(annotations::COSIGN_BUNDLE)
        .filter(|b| !b.trim().is_empty())
        .map(|b| tlog_entry(b))
        .transpose()?;

    let timestamp = ann
        .get(TIMESTAMP_ANNOTATION)
        .filter(|t| !t.trim().is_empty())
        .map(|t| {
            let ts: Timestamp =
                serde_json::from_str(t).map_err(|e| malformed(TIMESTAMP_ANNOTATION, e))?;
            STANDARD
                .decode(&ts.signed_rfc3161_timestamp)
                .map_err(|e| malformed(TIMESTAMP_ANNOTATION, e))?;
            Ok::<_, ConversionError>(ts.signed_rfc3161_timestamp)
        })
        .transpose()?;

    let has_tlog_entry = tlog.is_some();
    let media_type = if has_tlog_entry {
        BUNDLE_V0_1
    } else {
        BUNDLE_V0_3
    };
    match (&certificate, has_tlog_entry) {
        // v0.1 carries the leaf in a chain; the chain annotation's intermediates and root are
        // not copied: the trusted root supplies the CA chain, as for every other bundle.
        (Some(der), true) => {
            material.insert(
                "x509CertificateChain".into(),
                json!({"certificates": [{"rawBytes": STANDARD.encode(der)}]}),
            );
        }
        (Some(der), false) => {
            material.insert(
                "certificate".into(),
                json!({"rawBytes": STANDARD.encode(der)}),
            );
        }
        (None, _) => {
            material.insert("publicKey".into(), json!({"hint": ""}));
        }
    }
    material.insert(
        "tlogEntries".into(),
        Value::Array(tlog.into_iter().collect()),
    );
    if let Some(ts) = timestamp {
        material.insert(
            "timestampVerificationData".into(),
            json!({"rfc3161Timestamps": [{"signedTimestamp": ts}]}),
        );
    }
    let mut bundle = serde_json::Map::new();
    bundle.insert("mediaType".into(), json!(media_type));
    bundle.insert("verificationMaterial".into(), Value::Object(material));
    bundle.insert(content.0.into(), content.1);
    Ok(CosignBundle {
        bundle: serde_json::to_vec(&bundle).expect("a JSON value serialises"),
        signed_payload: (found.format == EvidenceFormat::CosignSimpleSigning)
            .then(|| found.content.clone()),
        has_tlog_entry,
    })
}

/// The bundle's transparency-log entry from cosign's Rekor bundle annotation: the SET becomes
/// the inclusion promise, the entry body is kept verbatim as the canonicalized body (the SET
/// signs it), and the entry kind and version are read from that body.
fn tlog_entry(annotation: &str) -> Result<Value, ConversionError> {
    const WHAT: &str = annotations::COSIGN_BUNDLE;
    let rb: RekorBundle = serde_json::from_str(annotation).map_err(|e| malformed(WHAT, e))?;
    STANDARD
        .decode(&rb.signed_entry_timestamp)
        .map_err(|e| malformed(WHAT, e))?;
    let body = STANDARD
        .decode(&rb.payload.body)
        .map_err(|e| malformed(WHAT, e))?;
    let body: Value = cairn_model::json::value_from_slice(&body).map_err(|e| malformed(WHAT, e))?;
    let (Some(kind), Some(version)) = (
        body.get("kind").and_then(Value::as_str),
        body.get("apiVersion").and_then(Value::as_str),
    ) else {
        return Err(malformed(WHAT, "the entry body has no kind and apiVersion"));
    };
    let log_id = hex::decode(&rb.payload.log_id).map_err(|e| malformed(WHAT, e))?;
    Ok(json!({
        "logIndex": rb.payload.log_index.to_string(),
        "logId": {"keyId": STANDARD.encode(log_id)},
        "kindVersion": {"kind": kind, "version": version},
        "integratedTime": rb.payload.integrated_time.to_string(),
        "inclusionPromise": {"signedEntryTimestamp": rb.signed_entry_timestamp},
        "canonicalizedBody": rb.payload.body,
    }))
}
