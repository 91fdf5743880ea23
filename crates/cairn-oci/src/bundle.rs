//! Reading what a Sigstore bundle (or a cosign layer) says about itself, without verifying it:
//! content kind, predicate type, signer identity and time. Everything here is **unverified**;
//! signatures, certificates and log entries are checked by the verifier, not here.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::Value;
use x509_cert::der::{Decode, DecodePem};

use crate::error::Error;
use crate::manifest::media;

/// What a bundle carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BundleContent {
    /// A DSSE envelope (in-toto statements).
    DsseEnvelope,
    /// A plain message signature.
    MessageSignature,
}

impl BundleContent {
    /// The `dev.sigstore.bundle.content` annotation value.
    pub fn as_str(self) -> &'static str {
        match self {
            BundleContent::DsseEnvelope => "dsse-envelope",
            BundleContent::MessageSignature => "message-signature",
        }
    }
}

/// The signer as the evidence claims it (not verified).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SignerClaim {
    /// Certificate SAN (URI or email), when a certificate is present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// Fulcio OIDC issuer extension, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Public key hint, for key-signed bundles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_hint: Option<String>,
    /// Signing time claimed by the first transparency log entry (RFC 3339), else the
    /// certificate's notBefore.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
}

/// A bundle, summarised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleSummary {
    /// The bundle's media type.
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// What it carries.
    pub content: BundleContent,
    /// DSSE payload type.
    #[serde(rename = "payloadType", skip_serializing_if = "Option::is_none")]
    pub payload_type: Option<String>,
    /// In-toto predicate type of the DSSE statement.
    #[serde(rename = "predicateType", skip_serializing_if = "Option::is_none")]
    pub predicate_type: Option<String>,
    /// Subject digests the statement names (`alg:hex`).
    pub subjects: Vec<String>,
    /// Who claims to have signed, and when.
    pub signer: SignerClaim,
}

fn bad(what: &str, why: impl Into<String>) -> Error {
    Error::Bundle {
        what: what.to_string(),
        source: why.into().into(),
    }
}

/// Summarises Sigstore bundle JSON (v0.1–v0.3). `what` names it in errors.
pub fn summarize(what: &str, bytes: &[u8]) -> Result<BundleSummary, Error> {
    let v: Value = cairn_model::json::value_from_slice(bytes).map_err(|e| Error::Bundle {
        what: what.to_string(),
        source: Box::new(e),
    })?;
    let media_type = v
        .get("mediaType")
        .and_then(Value::as_str)
        .filter(|m| m.starts_with(media::SIGSTORE_BUNDLE_PREFIX))
        .ok_or_else(|| bad(what, "no Sigstore bundle mediaType"))?
        .to_string();
    let (content, payload_type, predicate_type, subjects) = if let Some(env) = v.get("dsseEnvelope")
    {
        let env: cairn_model::Envelope = serde_json::from_value(env.clone())
            .map_err(|e| bad(what, format!("dsseEnvelope: {e}")))?;
        let (pt, subjects) = statement_info(&env.payload);
        (
            BundleContent::DsseEnvelope,
            Some(env.payload_type),
            pt,
            subjects,
        )
    } else if v.get("messageSignature").is_some() {
        (BundleContent::MessageSignature, None, None, Vec::new())
    } else {
        return Err(bad(what, "neither dsseEnvelope nor messageSignature"));
    };
    let vm = v
        .get("verificationMaterial")
        .ok_or_else(|| bad(what, "no verificationMaterial"))?;
    let mut signer = SignerClaim::default();
    let cert_b64 = vm
        .pointer("/certificate/rawBytes")
        .or_else(|| vm.pointer("/x509CertificateChain/certificates/0/rawBytes"))
        .and_then(Value::as_str);
    if let Some(b64) = cert_b64
        && let Ok(der) = STANDARD.decode(b64)
        && let Ok(cert) = x509_cert::Certificate::from_der(&der)
    {
        fill_from_cert(&cert, &mut signer);
    }
    if let Some(hint) = vm.pointer("/publicKey/hint").and_then(Value::as_str) {
        signer.key_hint = Some(hint.to_string());
    }
    if let Some(t) = vm
        .pointer("/tlogEntries/0/integratedTime")
        .and_then(|t| {
            t.as_str()
                .map(str::to_string)
                .or_else(|| t.as_i64().map(|n| n.to_string()))
        })
        .and_then(|s| s.parse::<i64>().ok())
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
    {
        signer.time = Some(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    }
    Ok(BundleSummary {
        media_type,
        content,
        payload_type,
        predicate_type,
        subjects,
        signer,
    })
}

/// Predicate type and subject digests of an in-toto statement payload (None when it is not one).
pub fn statement_info(payload: &[u8]) -> (Option<String>, Vec<String>) {
    let Ok(st) = cairn_model::json::value_from_slice(payload) else {
        return (None, Vec::new());
    };
    let pt = st
        .get("predicateType")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut subjects = Vec::new();
    if let Some(list) = st.get("subject").and_then(Value::as_array) {
        for s in list {
            if let Some(ds) = s.get("digest").and_then(Value::as_object) {
                for (alg, hex) in ds {
                    if let Some(hex) = hex.as_str() {
                        subjects.push(format!("{alg}:{hex}"));
                    }
                }
            }
        }
    }
    (pt, subjects)
}

/// Signer claims from a PEM certificate (cosign's layer annotation).
pub fn signer_from_pem(pem: &str) -> SignerClaim {
    let mut signer = SignerClaim::default();
    if let Ok(cert) = x509_cert::Certificate::from_pem(pem.as_bytes()) {
        fill_from_cert(&cert, &mut signer);
    }
    signer
}

const FULCIO_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
const FULCIO_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
const SUBJECT_ALT_NAME: &str = "2.5.29.17";

fn fill_from_cert(cert: &x509_cert::Certificate, signer: &mut SignerClaim) {
    let tbs = &cert.tbs_certificate;
    let not_before = tbs.validity.not_before.to_unix_duration().as_secs();
    if signer.time.is_none() {
        signer.time = i64::try_from(not_before)
            .ok()
            .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    }
    for ext in tbs.extensions.iter().flatten() {
        let oid = ext.extn_id.to_string();
        let value = ext.extn_value.as_bytes();
        match oid.as_str() {
            SUBJECT_ALT_NAME => {
                if let Ok(san) = x509_cert::ext::pkix::SubjectAltName::from_der(value) {
                    for name in san.0 {
                        use x509_cert::ext::pkix::name::GeneralName;
                        let s = match name {
                            GeneralName::UniformResourceIdentifier(u) => Some(u.to_string()),
                            GeneralName::Rfc822Name(e) => Some(e.to_string()),
                            GeneralName::DnsName(d) => Some(d.to_string()),
                            _ => None,
                        };
                        if s.is_some() {
                            signer.identity = s;
                            break;
                        }
                    }
                }
            }
            FULCIO_ISSUER_V2 => {
                if let Ok(s) = x509_cert::der::asn1::Utf8StringRef::from_der(value) {
                    signer.issuer = Some(s.as_str().to_string());
                }
            }
            FULCIO_ISSUER_V1 if signer.issuer.is_none() => {
                signer.issuer = std::str::from_utf8(value).ok().map(str::to_string);
            }
            _ => {}
        }
    }
}
