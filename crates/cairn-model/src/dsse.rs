//! DSSE (Dead Simple Signing Envelope) v1: the envelope and its pre-authentication encoding.
//!
//! See secure-systems-lab/dsse `envelope.md` and `protocol.md`. The payload is kept as the exact
//! bytes that were signed; nothing is re-encoded.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The payload type of in-toto statements and of in-toto links and layouts inside DSSE.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// A DSSE envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The signed bytes (base64 in JSON).
    #[serde(with = "b64")]
    pub payload: Vec<u8>,
    /// What the payload is, e.g. [`IN_TOTO_PAYLOAD_TYPE`].
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// Signatures over `pae(payload_type, payload)`.
    pub signatures: Vec<Signature>,
}

/// One DSSE signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// The key id the signer declares (unauthenticated; a hint only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keyid: String,
    /// The signature bytes (base64 in JSON).
    #[serde(with = "b64")]
    pub sig: Vec<u8>,
}

impl Envelope {
    /// Reads an envelope strictly (duplicate keys, size and depth are errors; see
    /// [`crate::json`]).
    pub fn from_slice(bytes: &[u8]) -> Result<Self, crate::json::JsonError> {
        crate::json::from_slice(bytes)
    }

    /// An unsigned envelope of an in-toto payload ([`IN_TOTO_PAYLOAD_TYPE`]).
    pub fn in_toto(payload: Vec<u8>) -> Self {
        Envelope {
            payload,
            payload_type: IN_TOTO_PAYLOAD_TYPE.to_owned(),
            signatures: Vec::new(),
        }
    }

    /// The bytes a signer signs and a verifier checks: `PAE(payloadType, payload)`.
    pub fn pae(&self) -> Vec<u8> {
        pae(&self.payload_type, &self.payload)
    }
}

/// DSSE v1 pre-authentication encoding:
/// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths as ASCII decimal.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let type_len = payload_type.len().to_string();
    let body_len = payload.len().to_string();
    let mut out = Vec::with_capacity(
        10 + type_len.len() + payload_type.len() + body_len.len() + payload.len(),
    );
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(type_len.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(body_len.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// Base64 as DSSE writes it (standard alphabet, padded), reading URL-safe too, since the DSSE
/// spec allows either and some producers (Google's GCB) use it.
pub(crate) mod b64 {
    use super::*;

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        decode(&text).ok_or_else(|| serde::de::Error::custom("invalid base64"))
    }

    /// Decodes standard or URL-safe base64, padded or not.
    pub fn decode(text: &str) -> Option<Vec<u8>> {
        let trimmed = text.trim_end_matches('=');
        let padded = |s: &str| {
            let mut p = s.to_string();
            while !p.len().is_multiple_of(4) {
                p.push('=');
            }
            p
        };
        STANDARD
            .decode(padded(trimmed))
            .or_else(|_| URL_SAFE.decode(padded(trimmed)))
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of DSSE `protocol.md`.
    #[test]
    fn pae_matches_the_protocol_example() {
        let got = pae("http://example.com/HelloWorld", b"hello world");
        assert_eq!(
            got,
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn envelope_round_trips_and_reads_url_safe_base64() {
        let json = r#"{"payload":"aGVsbG8gd29ybGQ","payloadType":"http://example.com/HelloWorld","signatures":[{"keyid":"k","sig":"-_8"}]}"#;
        let env: Envelope = serde_json::from_str(json).unwrap();
        assert_eq!(env.payload, b"hello world");
        assert_eq!(env.signatures[0].sig, vec![0xfb, 0xff]);
        let back = serde_json::to_string(&env).unwrap();
        assert!(back.contains(r#""payload":"aGVsbG8gd29ybGQ=""#), "{back}");
    }

    #[test]
    fn rejects_bad_base64() {
        let json = r#"{"payload":"***","payloadType":"t","signatures":[]}"#;
        assert!(serde_json::from_str::<Envelope>(json).is_err());
    }
}
