//! An RFC 3161 timestamp authority for the in-process stack: parses a DER `TimeStampReq`, answers
//! with a `TimeStampResp` whose token is a CMS `SignedData` over a `TSTInfo` (message imprint and
//! nonce echoed, whole-second `genTime`), signed with ECDSA P-256 over DER signed attributes
//! (content type, message digest, ESS signing-certificate-v2), the TSA leaf embedded. The leaf
//! (EKU timeStamping, critical) chains to a TSA root listed in the trusted root's
//! `timestampAuthorities`. DER is written by hand here, independently of the verifier's parser.

use std::time::{Duration, SystemTime};

use p256::ecdsa::{Signature, SigningKey, signature::Signer};
use sha2::{Digest, Sha256};
use x509_cert::der::{Decode, Encode};
use x509_cert::spki::ObjectIdentifier;

use super::x509;

const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const SIGNING_CERT_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
/// The policy the testkit TSA stamps under (a private arc; any OID will do).
const POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.99.1");

/// A TSA identity: root CA, timestamping leaf and the leaf's key.
pub(crate) struct TsaKeys {
    pub root_cert: Vec<u8>,
    pub leaf_cert: Vec<u8>,
    leaf_key: SigningKey,
}

impl TsaKeys {
    /// A fresh root and leaf, both valid from ten days before `now` for ten years.
    pub(crate) fn generate(name: &str, now: SystemTime, random_key: fn() -> SigningKey) -> Self {
        let root_key = random_key();
        let from = now - Duration::from_secs(10 * 86400);
        let root_cert =
            x509::root_cert_from(&root_key, &format!("CN={name}-root,O=cairn.test"), from);
        let leaf_key = random_key();
        let leaf_cert = x509::tsa_leaf_cert(
            &x509::spki_der(leaf_key.verifying_key()),
            &format!("CN={name},O=cairn.test"),
            &root_key,
            &root_cert,
            from,
        );
        Self {
            root_cert,
            leaf_cert,
            leaf_key,
        }
    }
}

/// How a TSA answer is spoiled (fault injection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TsaTamper {
    /// Honest answers.
    #[default]
    None,
    /// The token is signed by another TSA, not in the trusted root.
    UntrustedSigner,
    /// The token timestamps another message (the imprint is not the signature's hash); the
    /// client notices before anything is written.
    Imprint,
    /// The body is not DER at all.
    Corrupt,
}

// --- a minimal DER writer and reader -------------------------------------------------------------

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &cat(parts))
}

fn oid(o: &ObjectIdentifier) -> Vec<u8> {
    tlv(0x06, o.as_bytes())
}

fn uint(n: u64) -> Vec<u8> {
    let mut bytes: Vec<u8> = n
        .to_be_bytes()
        .into_iter()
        .skip_while(|b| *b == 0)
        .collect();
    if bytes.first().is_none_or(|b| b & 0x80 != 0) {
        bytes.insert(0, 0);
    }
    tlv(0x02, &bytes)
}

fn alg(o: &ObjectIdentifier) -> Vec<u8> {
    seq(&[&oid(o)])
}

/// DER SET OF: elements sorted by their encodings.
fn set_of(mut items: Vec<Vec<u8>>, tag: u8) -> Vec<u8> {
    items.sort();
    tlv(tag, &items.concat())
}

/// One TLV read: (tag, content, whole element, rest).
type Tlv<'a> = (u8, &'a [u8], &'a [u8], &'a [u8]);

/// Reads one TLV; `None` on anything malformed.
fn read(input: &[u8]) -> Option<Tlv<'_>> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |a, b| (a << 8) | *b as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    let header = input.len() - rest.len();
    Some((tag, &rest[..len], &input[..header + len], &rest[len..]))
}

/// What the TSA needs from a `TimeStampReq`.
struct Request<'a> {
    /// The whole `MessageImprint` element, echoed into the TSTInfo.
    imprint: &'a [u8],
    /// The whole nonce INTEGER, echoed.
    nonce: Option<&'a [u8]>,
}

fn parse_request(der: &[u8]) -> Option<Request<'_>> {
    let (tag, body, _, rest) = read(der)?;
    if tag != 0x30 || !rest.is_empty() {
        return None;
    }
    let (tag, version, _, body) = read(body)?;
    if tag != 0x02 || version != [1] {
        return None;
    }
    let (tag, imprint_body, imprint, mut body) = read(body)?;
    if tag != 0x30 {
        return None;
    }
    // MessageImprint ::= SEQUENCE { AlgorithmIdentifier, OCTET STRING }: SHA-256 only.
    let (tag, alg_body, _, after) = read(imprint_body)?;
    let (otag, alg_oid, _, _) = read(alg_body)?;
    let (htag, hash, _, end) = read(after)?;
    if tag != 0x30 || otag != 0x06 || alg_oid != SHA256.as_bytes() || htag != 0x04 {
        return None;
    }
    if hash.len() != 32 || !end.is_empty() {
        return None;
    }
    let mut nonce = None;
    while !body.is_empty() {
        let (tag, _, whole, rest) = read(body)?;
        if tag == 0x02 {
            nonce = Some(whole);
        }
        body = rest;
    }
    Some(Request { imprint, nonce })
}

/// `YYYYMMDDHHMMSSZ`.
fn generalized_time(t: SystemTime) -> String {
    super::stack::rfc3339(t)
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == 'Z')
        .collect()
}

/// Answers a DER `TimeStampReq` with a DER `TimeStampResp` (or the reason it is refused).
pub(crate) fn respond(
    request: &[u8],
    keys: &TsaKeys,
    serial: u64,
    gen_time: SystemTime,
    tamper: TsaTamper,
) -> Result<Vec<u8>, String> {
    let req = parse_request(request).ok_or("not a SHA-256 TimeStampReq")?;
    let other_imprint;
    let imprint = if tamper == TsaTamper::Imprint {
        other_imprint = seq(&[
            &alg(&SHA256),
            &tlv(0x04, &Sha256::digest(b"something else")),
        ]);
        &other_imprint[..]
    } else {
        req.imprint
    };
    let tst_info = seq(&[
        &uint(1),
        &oid(&POLICY),
        imprint,
        &uint(serial),
        &tlv(0x18, generalized_time(gen_time).as_bytes()),
        &seq(&[&uint(1)]),
        req.nonce.unwrap_or_default(),
    ]);
    let leaf = x509_cert::Certificate::from_der(&keys.leaf_cert).map_err(|e| e.to_string())?;
    let issuer = leaf
        .tbs_certificate
        .issuer
        .to_der()
        .map_err(|e| e.to_string())?;
    let leaf_serial = leaf
        .tbs_certificate
        .serial_number
        .to_der()
        .map_err(|e| e.to_string())?;
    let attr = |o: &ObjectIdentifier, value: Vec<u8>| seq(&[&oid(o), &tlv(0x31, &value)]);
    let attrs = vec![
        attr(&CONTENT_TYPE, oid(&TST_INFO)),
        attr(&MESSAGE_DIGEST, tlv(0x04, &Sha256::digest(&tst_info))),
        // SigningCertificateV2 { certs: [ESSCertIDv2 { certHash }] } (hash algorithm SHA-256 by
        // default, so omitted).
        attr(
            &SIGNING_CERT_V2,
            seq(&[&seq(&[&seq(&[&tlv(
                0x04,
                &Sha256::digest(&keys.leaf_cert),
            )])])]),
        ),
    ];
    // The signature covers the attributes as a SET OF; the SignerInfo carries them [0] IMPLICIT.
    let to_sign = set_of(attrs.clone(), 0x31);
    let signature: Signature = keys.leaf_key.sign(&to_sign);
    let signer_info = seq(&[
        &uint(1),
        &seq(&[&issuer, &leaf_serial]),
        &alg(&SHA256),
        &set_of(attrs, 0xa0),
        &alg(&ECDSA_SHA256),
        &tlv(0x04, signature.to_der().as_bytes()),
    ]);
    let signed_data = seq(&[
        &uint(3),
        &tlv(0x31, &alg(&SHA256)),
        &seq(&[&oid(&TST_INFO), &tlv(0xa0, &tlv(0x04, &tst_info))]),
        &tlv(0xa0, &keys.leaf_cert),
        &tlv(0x31, &signer_info),
    ]);
    let token = seq(&[&oid(&SIGNED_DATA), &tlv(0xa0, &signed_data)]);
    Ok(seq(&[&seq(&[&uint(0)]), &token]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_helpers_round_trip() {
        let long = vec![7u8; 300];
        let t = tlv(0x04, &long);
        assert_eq!(&t[..4], &[0x04, 0x82, 0x01, 0x2c]);
        let (tag, content, whole, rest) = read(&t).expect("reads");
        assert_eq!(
            (tag, content.len(), whole.len(), rest.len()),
            (4, 300, 304, 0)
        );
        assert_eq!(uint(0), vec![2, 1, 0]);
        assert_eq!(uint(128), vec![2, 2, 0, 128]);
        assert!(read(&[0x30, 0x05, 1]).is_none());
    }

    #[test]
    fn requests_are_parsed_strictly() {
        let imprint = seq(&[&alg(&SHA256), &tlv(0x04, &[1u8; 32])]);
        let nonce = uint(0x1234_5678);
        let req = seq(&[&uint(1), &imprint, &nonce, &tlv(0x01, &[0xff])]);
        let parsed = parse_request(&req).expect("parses");
        assert_eq!(parsed.imprint, &imprint[..]);
        assert_eq!(parsed.nonce, Some(&nonce[..]));
        let short = seq(&[&uint(1), &seq(&[&alg(&SHA256), &tlv(0x04, &[1u8; 20])])]);
        assert!(parse_request(&short).is_none());
        assert!(parse_request(b"garbage").is_none());
    }
}
