//! X.509 functionaries as in-toto-golang writes them: a layout's `rootcas` and
//! `intermediatecas` (key objects whose `keyval.certificate` holds a PEM certificate), and a
//! step's `cert_constraints`. A link may then be signed by any key whose certificate chains to
//! one of the roots and satisfies one of the step's constraints; the certificate travels in the
//! link signature's `cert` field.
//!
//! Constraint semantics follow in-toto-golang: each attribute (`common_name`, `dns_names`,
//! `emails`, `organizations`, `uris`, `roots`) must be met one-to-one (every value the
//! certificate has is allowed, and every allowed value is present), `["*"]` (or `"*"` for the
//! common name) allows anything, and an empty list means the certificate must have none.

use cairn_model::layout::{Layout, Step};
use cairn_sign::{PublicKey, Scheme};
use chrono::{DateTime, Utc};
use serde_json::Value;
use x509_cert::Certificate;
use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::der::{Decode, DecodePem, Encode};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, SubjectAltName};
use x509_cert::name::Name;

const OID_CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const OID_O: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
/// Fulcio's OIDC issuer extension (DER UTF8String).
const FULCIO_ISSUER_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");
/// Fulcio's deprecated OIDC issuer extension (raw UTF-8).
const FULCIO_ISSUER_V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");

/// A certificate and the key id the layout lists it under.
struct Ca {
    keyid: String,
    cert: Certificate,
}

/// The certificate authorities a layout declares.
pub(crate) struct Authorities {
    roots: Vec<Ca>,
    intermediates: Vec<Ca>,
}

/// One entry of a step's `cert_constraints`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub(crate) struct Constraint {
    #[serde(default)]
    common_name: String,
    #[serde(default)]
    dns_names: Vec<String>,
    #[serde(default)]
    emails: Vec<String>,
    #[serde(default)]
    organizations: Vec<String>,
    #[serde(default)]
    roots: Vec<String>,
    #[serde(default)]
    uris: Vec<String>,
    /// cairn's extension: the OIDC issuer a Fulcio certificate must name (its extension
    /// 1.3.6.1.4.1.57264.1.8, or the older .1.1). Required for certificates from Sigstore
    /// bundles; when set, also required of certificates in metablock signatures.
    #[serde(default)]
    oidc_issuer: Option<String>,
}

fn cas(layout: &Layout, field: &str) -> Result<Vec<Ca>, String> {
    let mut out = Vec::new();
    let Some(map) = layout.extra.get(field) else {
        return Ok(out);
    };
    let map = map
        .as_object()
        .ok_or_else(|| format!("{field} is not an object"))?;
    for (keyid, key) in map {
        let pem = key
            .pointer("/keyval/certificate")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{field}.{keyid} has no keyval.certificate"))?;
        let cert =
            Certificate::from_pem(pem.as_bytes()).map_err(|e| format!("{field}.{keyid}: {e}"))?;
        out.push(Ca {
            keyid: keyid.clone(),
            cert,
        });
    }
    Ok(out)
}

impl Authorities {
    /// Reads `rootcas` and `intermediatecas`.
    pub(crate) fn from_layout(layout: &Layout) -> Result<Self, String> {
        Ok(Authorities {
            roots: cas(layout, "rootcas")?,
            intermediates: cas(layout, "intermediatecas")?,
        })
    }
}

/// The step's `cert_constraints` (empty when it has none).
pub(crate) fn constraints(step: &Step) -> Result<Vec<Constraint>, String> {
    match step.extra.get("cert_constraints") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| format!("cert_constraints: {e}")),
    }
}

fn attr_values(name: &Name, oid: ObjectIdentifier) -> Vec<String> {
    let mut out = Vec::new();
    for rdn in &name.0 {
        for atv in rdn.0.iter() {
            if atv.oid == oid {
                // UTF8String, PrintableString and IA5String are all UTF-8 compatible.
                out.push(String::from_utf8_lossy(atv.value.value()).into_owned());
            }
        }
    }
    out
}

fn public_key(cert: &Certificate) -> Result<PublicKey, String> {
    let der = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| e.to_string())?;
    PublicKey::from_spki_der(&der).map_err(|e| e.to_string())
}

fn is_ca(cert: &Certificate) -> bool {
    matches!(
        cert.tbs_certificate.get::<BasicConstraints>(),
        Ok(Some((_, bc))) if bc.ca
    )
}

/// Checks that `issuer` signed `cert`.
fn signed_by(cert: &Certificate, issuer: &Certificate) -> Result<(), String> {
    let key = public_key(issuer)?;
    let scheme = match cert.signature_algorithm.oid {
        SHA256_WITH_RSA => Scheme::RsaPkcs1v15Sha256,
        ECDSA_SHA256 => Scheme::EcdsaSha2Nistp256,
        ECDSA_SHA384 => Scheme::EcdsaSha2Nistp384,
        ED25519 => Scheme::Ed25519,
        other => {
            return Err(format!(
                "unsupported certificate signature algorithm {other}"
            ));
        }
    };
    let key = key.with_scheme(scheme).map_err(|e| e.to_string())?;
    let tbs = cert.tbs_certificate.to_der().map_err(|e| e.to_string())?;
    let sig = cert
        .signature
        .as_bytes()
        .ok_or_else(|| "certificate signature has unused bits".to_owned())?;
    cairn_sign::Verifier::verify(&key, &tbs, sig).map_err(|e| e.to_string())
}

fn valid_at(cert: &Certificate, at: DateTime<Utc>) -> bool {
    let v = &cert.tbs_certificate.validity;
    let secs = |t: x509_cert::time::Time| t.to_unix_duration().as_secs() as i64;
    let now = at.timestamp();
    secs(v.not_before) <= now && now <= secs(v.not_after)
}

/// Builds a path from `leaf` through the layout's intermediates to one of its roots; returns
/// the root's key id.
fn chain(leaf: &Certificate, cas: &Authorities, at: DateTime<Utc>) -> Result<String, String> {
    if !valid_at(leaf, at) {
        return Err("the certificate is not valid at the verification time".to_owned());
    }
    let mut current = leaf.clone();
    for _ in 0..8 {
        let issuer_name = current
            .tbs_certificate
            .issuer
            .to_der()
            .map_err(|e| e.to_string())?;
        let subject_of =
            |c: &Certificate| c.tbs_certificate.subject.to_der().ok() == Some(issuer_name.clone());
        for root in cas.roots.iter().filter(|r| subject_of(&r.cert)) {
            if valid_at(&root.cert, at) && signed_by(&current, &root.cert).is_ok() {
                return Ok(root.keyid.clone());
            }
        }
        let next = cas.intermediates.iter().find(|i| {
            subject_of(&i.cert)
                && is_ca(&i.cert)
                && valid_at(&i.cert, at)
                && signed_by(&current, &i.cert).is_ok()
        });
        match next {
            Some(i) => current = i.cert.clone(),
            None => {
                return Err("the certificate does not chain to a root CA of the layout".to_owned());
            }
        }
    }
    Err("certificate chain too long".to_owned())
}

/// One-to-one match of an attribute, with `*` as the wildcard.
fn attribute(what: &str, allowed: &[String], actual: &[String]) -> Result<(), String> {
    if allowed.len() == 1 && allowed[0] == "*" {
        return Ok(());
    }
    let mut a: Vec<&String> = allowed.iter().collect();
    let mut b: Vec<&String> = actual.iter().collect();
    a.sort();
    a.dedup();
    b.sort();
    b.dedup();
    if a == b {
        Ok(())
    } else {
        Err(format!("{what} {actual:?} does not match {allowed:?}"))
    }
}

/// The OIDC issuer a Fulcio certificate names, if any.
fn fulcio_issuer(cert: &Certificate) -> Option<String> {
    let extensions = cert.tbs_certificate.extensions.as_ref()?;
    let find = |oid| extensions.iter().find(|e| e.extn_id == oid);
    if let Some(ext) = find(FULCIO_ISSUER_V2) {
        return x509_cert::der::asn1::Utf8StringRef::from_der(ext.extn_value.as_bytes())
            .ok()
            .map(|s| s.as_str().to_owned());
    }
    find(FULCIO_ISSUER_V1)
        .and_then(|ext| String::from_utf8(ext.extn_value.as_bytes().to_vec()).ok())
}

/// The certificate's attributes against one constraint (everything but `roots`).
fn check_attributes(cert: &Certificate, c: &Constraint) -> Result<(), String> {
    let tbs = &cert.tbs_certificate;
    let (mut dns, mut emails, mut uris) = (Vec::new(), Vec::new(), Vec::new());
    if let Ok(Some((_, san))) = tbs.get::<SubjectAltName>() {
        for name in san.0 {
            match name {
                GeneralName::DnsName(s) => dns.push(s.to_string()),
                GeneralName::Rfc822Name(s) => emails.push(s.to_string()),
                GeneralName::UniformResourceIdentifier(s) => uris.push(s.to_string()),
                _ => {}
            }
        }
    }
    let cn = attr_values(&tbs.subject, OID_CN)
        .into_iter()
        .next()
        .unwrap_or_default();
    attribute("common name", std::slice::from_ref(&c.common_name), &[cn])?;
    attribute("dns names", &c.dns_names, &dns)?;
    attribute("emails", &c.emails, &emails)?;
    attribute(
        "organizations",
        &c.organizations,
        &attr_values(&tbs.subject, OID_O),
    )?;
    attribute("uris", &c.uris, &uris)?;
    if let Some(wanted) = &c.oidc_issuer {
        match fulcio_issuer(cert) {
            Some(found) if &found == wanted => {}
            found => {
                return Err(format!(
                    "OIDC issuer {found:?} is not {wanted:?}",
                    found = found.unwrap_or_default()
                ));
            }
        }
    }
    Ok(())
}

fn check(cert: &Certificate, root: &str, c: &Constraint) -> Result<(), String> {
    check_attributes(cert, c)?;
    // Roots: the chain must end at one of the allowed roots (not one-to-one).
    if !c.roots.iter().any(|r| r == "*" || r == root) {
        return Err(format!(
            "root {root} is not among the allowed roots {:?}",
            c.roots
        ));
    }
    Ok(())
}

/// What a Sigstore bundle's certificate is accepted as.
pub(crate) struct BundleSigner {
    /// The certificate's key.
    pub key: PublicKey,
    /// `issuer` + identity: what threshold counting treats as one functionary (keyless keys
    /// are ephemeral, so the same identity must not count twice).
    pub identity: String,
}

/// Checks the certificate of a Sigstore bundle (DER) against the step's constraints. The
/// chain, SCT, log entry and signature are checked by `verify(issuer)` (cairn-sigstore,
/// against the trusted root, requiring that OIDC issuer); a constraint must name the issuer
/// (`oidc_issuer`) and allow any root (`roots: ["*"]`: the Fulcio CAs come from the trusted
/// root, not the layout).
pub(crate) fn bundle_signer(
    der: &[u8],
    constraints: &[Constraint],
    mut verify: impl FnMut(&str) -> Result<(), String>,
) -> Result<BundleSigner, String> {
    let cert = Certificate::from_der(der).map_err(|e| format!("unreadable certificate: {e}"))?;
    if is_ca(&cert) {
        return Err("the certificate is a CA certificate".to_owned());
    }
    let mut why = Vec::new();
    for c in constraints {
        let Some(issuer) = &c.oidc_issuer else {
            why.push(
                "a constraint without oidc_issuer never matches a Sigstore certificate".to_owned(),
            );
            continue;
        };
        if !c.roots.iter().any(|r| r == "*") {
            why.push(format!(
                "roots {:?} name layout CAs; a Sigstore certificate chains to the trusted root (use [\"*\"])",
                c.roots
            ));
            continue;
        }
        if let Err(e) = check_attributes(&cert, c) {
            why.push(e);
            continue;
        }
        verify(issuer)?;
        let identity = san_identity(&cert);
        return Ok(BundleSigner {
            key: public_key(&cert)?,
            identity: format!("{issuer} {identity}"),
        });
    }
    Err(format!(
        "the certificate meets no cert_constraints of the step ({})",
        why.join("; ")
    ))
}

/// The certificate's email and URI names, for messages and identity counting.
fn san_identity(cert: &Certificate) -> String {
    let mut out = Vec::new();
    if let Ok(Some((_, san))) = cert.tbs_certificate.get::<SubjectAltName>() {
        for name in san.0 {
            match name {
                GeneralName::Rfc822Name(s) => out.push(s.to_string()),
                GeneralName::UniformResourceIdentifier(s) => out.push(s.to_string()),
                _ => {}
            }
        }
    }
    out.join(",")
}

/// Checks a functionary certificate (PEM) against the layout's CAs and the step's constraints
/// at time `at`; returns the key to verify the link with.
pub(crate) fn functionary_key(
    pem: &str,
    cas: &Authorities,
    constraints: &[Constraint],
    at: DateTime<Utc>,
) -> Result<PublicKey, String> {
    let cert = Certificate::from_pem(pem.as_bytes())
        .map_err(|e| format!("unreadable certificate: {e}"))?;
    if is_ca(&cert) {
        return Err("the certificate is a CA certificate".to_owned());
    }
    let root = chain(&cert, cas, at)?;
    let mut why = Vec::new();
    for c in constraints {
        match check(&cert, &root, c) {
            Ok(()) => return public_key(&cert),
            Err(e) => why.push(e),
        }
    }
    Err(format!(
        "the certificate meets no cert_constraints of the step ({})",
        why.join("; ")
    ))
}
