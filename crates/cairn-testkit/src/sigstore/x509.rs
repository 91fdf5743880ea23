//! Certificates for the in-process Fulcio: a self-signed root and short-lived code-signing leaves
//! with the Fulcio issuer extensions and an embedded SCT from the in-process CT log.

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use p256::ecdsa::{Signature, SigningKey, signature::Signer};
use sha2::{Digest, Sha256};
use x509_cert::der::asn1::{BitString, Ia5String, OctetString, Utf8StringRef};
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, ObjectIdentifier, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate, Version};

const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
const TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
const FULCIO_ISSUER_V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");
const FULCIO_ISSUER_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");
const SCT_LIST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");

/// DER SubjectPublicKeyInfo of a P-256 key.
pub fn spki_der(key: &p256::ecdsa::VerifyingKey) -> Vec<u8> {
    use p256::pkcs8::EncodePublicKey;
    key.to_public_key_der()
        .expect("P-256 SPKI encodes")
        .as_bytes()
        .to_vec()
}

fn ext(oid: ObjectIdentifier, critical: bool, value: impl Encode) -> Extension {
    Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der().expect("extension encodes")).expect("octets"),
    }
}

/// A key identifier (RFC 5280 §4.2.1.2 allows any method): SHA-256 of the SPKI, first 20 bytes.
fn key_id(spki_der: &[u8]) -> OctetString {
    OctetString::new(&Sha256::digest(spki_der)[..20]).expect("octets")
}

fn ski_ext(spki_der: &[u8]) -> Extension {
    ext(
        ObjectIdentifier::new_unwrap("2.5.29.14"),
        false,
        SubjectKeyIdentifier(key_id(spki_der)),
    )
}

/// The authority key identifier of certificates issued by `ca` (RFC 5280 requires it in every
/// non-self-signed certificate; sigstore-python's chain builder insists).
fn aki_ext(ca: &Certificate) -> Extension {
    let spki = ca
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .expect("spki");
    ext(
        ObjectIdentifier::new_unwrap("2.5.29.35"),
        false,
        AuthorityKeyIdentifier {
            key_identifier: Some(key_id(&spki)),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        },
    )
}

fn raw_ext(oid: ObjectIdentifier, value: Vec<u8>) -> Extension {
    Extension {
        extn_id: oid,
        critical: false,
        extn_value: OctetString::new(value).expect("octets"),
    }
}

fn alg() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: ECDSA_SHA256,
        parameters: None,
    }
}

fn sign_tbs(tbs: TbsCertificate, key: &SigningKey) -> Vec<u8> {
    let tbs_der = tbs.to_der().expect("TBS encodes");
    let sig: Signature = key.sign(&tbs_der);
    let cert = Certificate {
        tbs_certificate: tbs,
        signature_algorithm: alg(),
        signature: BitString::from_bytes(sig.to_der().as_bytes()).expect("bit string"),
    };
    cert.to_der().expect("certificate encodes")
}

/// RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050 (sigstore-python's
/// `cryptography` enforces it; found by the TSA interop test).
fn time(t: SystemTime) -> Time {
    match x509_cert::der::asn1::UtcTime::from_system_time(t) {
        Ok(utc) => Time::UtcTime(utc),
        Err(_) => Time::try_from(t).expect("time in range"),
    }
}

fn validity(from: SystemTime, to: SystemTime) -> Validity {
    Validity {
        not_before: time(from),
        not_after: time(to),
    }
}

/// A self-signed CA certificate, valid from an hour before `now` for ten years.
pub fn root_cert(key: &SigningKey, name: &str, now: SystemTime) -> Vec<u8> {
    root_cert_from(key, name, now - Duration::from_secs(3600))
}

/// A self-signed CA certificate valid from `from` for ten years.
pub fn root_cert_from(key: &SigningKey, name: &str, from: SystemTime) -> Vec<u8> {
    let now = from + Duration::from_secs(3600);
    let name = Name::from_str(name).expect("name parses");
    let spki_bytes = spki_der(key.verifying_key());
    let spki = SubjectPublicKeyInfoOwned::from_der(&spki_bytes).expect("spki");
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(&[1]).expect("serial"),
        signature: alg(),
        issuer: name.clone(),
        validity: validity(
            now - Duration::from_secs(3600),
            now + Duration::from_secs(10 * 365 * 86400),
        ),
        subject: name,
        subject_public_key_info: spki,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(vec![
            ext(
                ObjectIdentifier::new_unwrap("2.5.29.19"),
                true,
                BasicConstraints {
                    ca: true,
                    path_len_constraint: None,
                },
            ),
            ext(
                ObjectIdentifier::new_unwrap("2.5.29.15"),
                true,
                KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
            ),
            ski_ext(&spki_bytes),
        ]),
    };
    sign_tbs(tbs, key)
}

/// An RFC 3161 timestamping leaf (EKU timeStamping, critical, as RFC 3161 §2.3 requires)
/// issued by the CA, valid from `from` for ten years.
pub fn tsa_leaf_cert(
    spki: &[u8],
    subject: &str,
    ca_key: &SigningKey,
    ca_cert_der: &[u8],
    from: SystemTime,
) -> Vec<u8> {
    let ca = Certificate::from_der(ca_cert_der).expect("CA parses");
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(&[2]).expect("serial"),
        signature: alg(),
        issuer: ca.tbs_certificate.subject.clone(),
        validity: validity(from, from + Duration::from_secs(10 * 365 * 86400)),
        subject: Name::from_str(subject).expect("name parses"),
        subject_public_key_info: SubjectPublicKeyInfoOwned::from_der(spki).expect("spki"),
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(vec![
            ext(
                ObjectIdentifier::new_unwrap("2.5.29.15"),
                true,
                KeyUsage(KeyUsages::DigitalSignature.into()),
            ),
            ext(
                ObjectIdentifier::new_unwrap("2.5.29.37"),
                true,
                ExtendedKeyUsage(vec![TIME_STAMPING]),
            ),
            ski_ext(spki),
            aki_ext(&ca),
        ]),
    };
    sign_tbs(tbs, ca_key)
}

/// What goes into a leaf.
pub struct LeafRequest<'a> {
    /// The certified key (DER SPKI).
    pub spki: &'a [u8],
    /// SAN: an email (contains '@' and no scheme) or a URI.
    pub identity: &'a str,
    /// The OIDC issuer.
    pub issuer: &'a str,
    /// Serial number.
    pub serial: u64,
    /// Not before.
    pub now: SystemTime,
}

fn leaf_tbs(req: &LeafRequest<'_>, ca: &Certificate, extra: Option<Extension>) -> TbsCertificate {
    let issuer_name = &ca.tbs_certificate.subject;
    let san = if req.identity.contains("://") {
        GeneralName::UniformResourceIdentifier(Ia5String::new(req.identity).expect("ascii URI"))
    } else {
        GeneralName::Rfc822Name(Ia5String::new(req.identity).expect("ascii email"))
    };
    let mut extensions = vec![
        ext(
            ObjectIdentifier::new_unwrap("2.5.29.15"),
            true,
            KeyUsage(KeyUsages::DigitalSignature.into()),
        ),
        ext(
            ObjectIdentifier::new_unwrap("2.5.29.37"),
            false,
            ExtendedKeyUsage(vec![CODE_SIGNING]),
        ),
        ext(
            ObjectIdentifier::new_unwrap("2.5.29.17"),
            true,
            SubjectAltName(vec![san]),
        ),
        ski_ext(req.spki),
        aki_ext(ca),
        raw_ext(FULCIO_ISSUER_V1, req.issuer.as_bytes().to_vec()),
        ext(
            FULCIO_ISSUER_V2,
            false,
            Utf8StringRef::new(req.issuer).expect("utf8"),
        ),
    ];
    extensions.extend(extra);
    TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(&req.serial.to_be_bytes()).expect("serial"),
        signature: alg(),
        issuer: issuer_name.clone(),
        validity: validity(req.now, req.now + Duration::from_secs(600)),
        subject: Name::default(),
        subject_public_key_info: SubjectPublicKeyInfoOwned::from_der(req.spki).expect("spki"),
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    }
}

/// A Fulcio-style leaf with an embedded SCT signed by `ct_key` over the precertificate TBS
/// (RFC 6962 §3.2: the final TBS without the SCT extension).
pub fn leaf_cert(
    req: &LeafRequest<'_>,
    ca_key: &SigningKey,
    ca_cert_der: &[u8],
    ct_key: &SigningKey,
) -> Vec<u8> {
    let ca = Certificate::from_der(ca_cert_der).expect("CA parses");
    let issuer_spki = ca
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .expect("spki");
    let pre_tbs = leaf_tbs(req, &ca, None).to_der().expect("TBS encodes");
    let timestamp = req
        .now
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as u64;
    let mut signed = vec![0u8, 0u8];
    signed.extend(timestamp.to_be_bytes());
    signed.extend(1u16.to_be_bytes());
    signed.extend(Sha256::digest(&issuer_spki));
    signed.extend(&(pre_tbs.len() as u32).to_be_bytes()[1..]);
    signed.extend(&pre_tbs);
    signed.extend(0u16.to_be_bytes());
    let sig: Signature = ct_key.sign(&signed);
    let sig_der = sig.to_der();
    let log_id = Sha256::digest(spki_der(ct_key.verifying_key()));
    let mut sct = vec![0u8];
    sct.extend(log_id);
    sct.extend(timestamp.to_be_bytes());
    sct.extend(0u16.to_be_bytes());
    sct.extend([4u8, 3u8]);
    sct.extend((sig_der.as_bytes().len() as u16).to_be_bytes());
    sct.extend(sig_der.as_bytes());
    let mut list = ((sct.len() + 2) as u16).to_be_bytes().to_vec();
    list.extend((sct.len() as u16).to_be_bytes());
    list.extend(sct);
    let sct_ext = ext(SCT_LIST, false, OctetString::new(list).expect("octets"));
    sign_tbs(leaf_tbs(req, &ca, Some(sct_ext)), ca_key)
}

/// PEM with LF endings.
pub fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("ascii"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// DER from the first PEM block in `text`.
pub fn pem_decode(text: &str) -> Option<(String, Vec<u8>)> {
    use base64::Engine;
    let start = text.find("-----BEGIN ")?;
    let rest = &text[start + 11..];
    let label_end = rest.find("-----")?;
    let label = rest[..label_end].to_string();
    let body_start = label_end + 5;
    let end = rest.find("-----END ")?;
    let body: String = rest[body_start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .ok()?;
    Some((label, der))
}

/// The public key (SPKI DER) of a PEM certificate or PEM public key.
pub fn spki_of_pem(text: &str) -> Option<Vec<u8>> {
    let (label, der) = pem_decode(text)?;
    match label.as_str() {
        "CERTIFICATE" => Certificate::from_der(&der)
            .ok()?
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .ok(),
        "PUBLIC KEY" => Some(der),
        _ => None,
    }
}
