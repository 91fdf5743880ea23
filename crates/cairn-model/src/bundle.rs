//! Sigstore bundle v0.1–v0.3 in the protobuf JSON mapping (sigstore/protobuf-specs
//! `sigstore_bundle.proto`), as plain serde data.
//!
//! Field names are the proto3 JSON names (lowerCamelCase), `bytes` fields are base64 (standard
//! alphabet on output, standard or URL-safe on input), `int64` fields are decimal strings on output
//! and strings or numbers on input. Every message keeps the fields it does not know in `extra`, so a
//! bundle read and written again loses nothing. Nothing here checks a signature: that is
//! `cairn-sigstore`'s job.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::dsse::b64;

/// Media type of a v0.1 bundle.
pub const MEDIA_TYPE_V0_1: &str = "application/vnd.dev.sigstore.bundle+json;version=0.1";
/// Media type of a v0.2 bundle.
pub const MEDIA_TYPE_V0_2: &str = "application/vnd.dev.sigstore.bundle+json;version=0.2";
/// Media type of a v0.3 bundle in the old spelling.
pub const MEDIA_TYPE_V0_3_LEGACY: &str = "application/vnd.dev.sigstore.bundle+json;version=0.3";
/// Media type of a v0.3 bundle (what cairn writes).
pub const MEDIA_TYPE_V0_3: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// A bundle format version, derived from the media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BundleVersion {
    /// v0.1: certificate chain, inclusion promise required, inclusion proof optional.
    V0_1,
    /// v0.2: inclusion proof required.
    V0_2,
    /// v0.3: a single leaf certificate instead of a chain.
    V0_3,
}

impl BundleVersion {
    /// The version a media type names, or `None` for an unknown media type.
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        match media_type {
            MEDIA_TYPE_V0_1 => Some(Self::V0_1),
            MEDIA_TYPE_V0_2 => Some(Self::V0_2),
            MEDIA_TYPE_V0_3 | MEDIA_TYPE_V0_3_LEGACY => Some(Self::V0_3),
            _ => None,
        }
    }
}

/// A Sigstore bundle: the signed content plus everything needed to verify it offline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    /// e.g. [`MEDIA_TYPE_V0_3`].
    pub media_type: String,
    /// Certificate or key hint, log entries, timestamps.
    pub verification_material: VerificationMaterial,
    /// A signature over an artifact (blob signing). Exactly one of this and `dsse_envelope`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_signature: Option<MessageSignature>,
    /// A DSSE envelope (attestations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsse_envelope: Option<crate::dsse::Envelope>,
    /// Fields this version of cairn does not know, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Bundle {
    /// The format version, or `None` for an unknown media type.
    pub fn version(&self) -> Option<BundleVersion> {
        BundleVersion::from_media_type(&self.media_type)
    }
}

/// What the verifier needs besides the signature.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMaterial {
    /// A hint naming the signer's key (key-based bundles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKeyIdentifier>,
    /// Leaf first, v0.1/v0.2 bundles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_certificate_chain: Option<CertificateChain>,
    /// The leaf certificate alone, v0.3 bundles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<Certificate>,
    /// Transparency log entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tlog_entries: Vec<TransparencyLogEntry>,
    /// RFC 3161 timestamps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_verification_data: Option<TimestampVerificationData>,
    /// Unknown fields, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A key hint (not authenticated: the verifier brings the key).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKeyIdentifier {
    /// Free-form hint, e.g. a key id.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hint: String,
    /// Unknown fields, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A chain of DER certificates, leaf first.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateChain {
    /// The certificates.
    #[serde(default)]
    pub certificates: Vec<Certificate>,
    /// Unknown fields, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One DER certificate.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Certificate {
    /// DER bytes.
    #[serde(with = "b64")]
    pub raw_bytes: Vec<u8>,
    /// Unknown fields, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A Rekor log entry with its proofs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransparencyLogEntry {
    /// Index in the log (global index for sharded Rekor v1). Proto3 JSON omits zero values, so
    /// every scalar here defaults when absent.
    #[serde(default, with = "int64")]
    pub log_index: i64,
    /// Which log.
    pub log_id: LogId,
    /// Entry kind and version, e.g. `hashedrekord` / `0.0.1`.
    pub kind_version: KindVersion,
    /// Seconds since the epoch at which the log integrated the entry (0 for Rekor v2).
    #[serde(default, with = "int64")]
    pub integrated_time: i64,
    /// The signed entry timestamp (SET).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_promise: Option<InclusionPromise>,
    /// Merkle inclusion proof with a signed checkpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_proof: Option<InclusionProof>,
    /// The entry body exactly as the log canonicalized it.
    #[serde(default, with = "b64", skip_serializing_if = "Vec::is_empty")]
    pub canonicalized_body: Vec<u8>,
    /// Unknown fields, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A log id: SHA-256 of the log's DER public key.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogId {
    /// The id bytes.
    #[serde(with = "b64")]
    pub key_id: Vec<u8>,
    /// Unknown fields, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Rekor entry kind and version.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct KindVersion {
    /// `hashedrekord`, `dsse`, `intoto`, ...
    pub kind: String,
    /// e.g. `0.0.1`.
    pub version: String,
    /// Unknown fields, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The SET: the log's signature over the entry's body, time, index and log id.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionPromise {
    /// Signature bytes.
    #[serde(with = "b64")]
    pub signed_entry_timestamp: Vec<u8>,
    /// Unknown fields, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An RFC 6962 inclusion proof.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionProof {
    /// Index of the entry in the tree the proof is for (shard-local for Rekor v1).
    #[serde(default, with = "int64")]
    pub log_index: i64,
    /// Root hash of that tree.
    #[serde(default, with = "b64")]
    pub root_hash: Vec<u8>,
    /// Size of that tree.
    #[serde(default, with = "int64")]
    pub tree_size: i64,
    /// Audit path, leaf to root.
    #[serde(default, with = "b64_vec")]
    pub hashes: Vec<Vec<u8>>,
    /// The signed checkpoint (C2SP signed note) for the tree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Checkpoint>,
    /// Unknown fields, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A signed checkpoint, as text.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The signed note.
    pub envelope: String,
    /// Unknown fields, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A signature over an artifact with its digest.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageSignature {
    /// The artifact's digest (a hint; the verifier hashes the artifact itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_digest: Option<HashOutput>,
    /// Signature bytes.
    #[serde(with = "b64")]
    pub signature: Vec<u8>,
    /// Unknown fields, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A digest and its algorithm (`SHA2_256`, ...).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HashOutput {
    /// Proto enum name, e.g. `SHA2_256`.
    pub algorithm: String,
    /// Digest bytes.
    #[serde(with = "b64")]
    pub digest: Vec<u8>,
    /// Unknown fields, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// RFC 3161 timestamps over the signature.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimestampVerificationData {
    /// The timestamps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rfc3161_timestamps: Vec<Rfc3161Timestamp>,
    /// Unknown fields, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One DER `TimeStampResp`'s token.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rfc3161Timestamp {
    /// DER bytes of the signed timestamp.
    #[serde(with = "b64")]
    pub signed_timestamp: Vec<u8>,
    /// Unknown fields, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// proto3 JSON int64: written as a string, read from a string or a number.
mod int64 {
    use super::*;

    pub fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        match Value::deserialize(d)? {
            Value::String(text) => text
                .parse()
                .map_err(|_| serde::de::Error::custom("invalid int64 string")),
            Value::Number(n) => n
                .as_i64()
                .ok_or_else(|| serde::de::Error::custom("int64 out of range")),
            _ => Err(serde::de::Error::custom("expected an int64")),
        }
    }
}

/// A list of base64 byte strings.
mod b64_vec {
    use super::*;
    use base64::Engine;

    pub fn serialize<S: Serializer>(v: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        let list: Vec<String> = v
            .iter()
            .map(|b| base64::engine::general_purpose::STANDARD.encode(b))
            .collect();
        list.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|t| b64::decode(t).ok_or_else(|| serde::de::Error::custom("invalid base64")))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V03: &str = r#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"certificate":{"rawBytes":"AQID"},"tlogEntries":[{"logIndex":"25915956","logId":{"keyId":"wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="},"kindVersion":{"kind":"hashedrekord","version":"0.0.1"},"integratedTime":"1689177396","inclusionPromise":{"signedEntryTimestamp":"BAU="},"inclusionProof":{"logIndex":"21752525","rootHash":"BgcI","treeSize":"21752526","hashes":["CQo=","Cww="],"checkpoint":{"envelope":"rekor\n1\nx\n"}},"canonicalizedBody":"e30=","futureField":1}]},"messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":"AAE="},"signature":"AgM="},"x-new":{"a":true}}"#;

    #[test]
    fn round_trip_keeps_unknown_fields() {
        let bundle: Bundle = serde_json::from_str(V03).expect("parses");
        assert_eq!(bundle.version(), Some(BundleVersion::V0_3));
        let entry = &bundle.verification_material.tlog_entries[0];
        assert_eq!(entry.log_index, 25915956);
        assert_eq!(entry.integrated_time, 1689177396);
        let proof = entry.inclusion_proof.as_ref().expect("proof");
        assert_eq!(proof.hashes, vec![vec![9, 10], vec![11, 12]]);
        assert_eq!(entry.extra["futureField"], 1);
        let back = serde_json::to_value(&bundle).expect("serializes");
        let orig: Value = serde_json::from_str(V03).expect("json");
        assert_eq!(back, orig);
    }

    #[test]
    fn accepts_numbers_for_int64_and_rejects_garbage() {
        let text = V03.replace(r#""logIndex":"25915956""#, r#""logIndex":25915956"#);
        let bundle: Bundle = serde_json::from_str(&text).expect("parses");
        assert_eq!(
            bundle.verification_material.tlog_entries[0].log_index,
            25915956
        );
        let bad = V03.replace(r#""logIndex":"25915956""#, r#""logIndex":"x""#);
        assert!(serde_json::from_str::<Bundle>(&bad).is_err());
        let bad = V03.replace(r#""signature":"AgM=""#, r#""signature":"!!""#);
        assert!(serde_json::from_str::<Bundle>(&bad).is_err());
    }

    #[test]
    fn proto3_zero_values_may_be_omitted() {
        let text = V03
            .replace(r#""logIndex":"25915956","#, "")
            .replace(r#""logIndex":"21752525","#, "");
        let bundle: Bundle = serde_json::from_str(&text).expect("parses");
        let entry = &bundle.verification_material.tlog_entries[0];
        assert_eq!(entry.log_index, 0);
        assert_eq!(entry.inclusion_proof.as_ref().expect("proof").log_index, 0);
    }

    #[test]
    fn media_types() {
        assert_eq!(
            BundleVersion::from_media_type(MEDIA_TYPE_V0_1),
            Some(BundleVersion::V0_1)
        );
        assert_eq!(
            BundleVersion::from_media_type(MEDIA_TYPE_V0_3_LEGACY),
            Some(BundleVersion::V0_3)
        );
        assert_eq!(
            BundleVersion::from_media_type("application/vnd.dev.sigstore.bundle+json;version=99.9"),
            None
        );
    }
}
