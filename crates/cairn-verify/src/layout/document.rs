//! Signed in-toto documents as found on disk, in every form in use, told apart by their
//! fields (never by trial deserialisation):
//!
//! - a legacy metablock `{"signed": {...}, "signatures": [...]}` whose `signed._type` is `link`
//!   or `layout`;
//! - a DSSE envelope whose payload is a legacy link or layout (in-toto `--use-dsse`);
//! - a DSSE envelope whose payload is an in-toto Statement (v1, or v0.1) with the link v0.3
//!   predicate: products are the subjects, materials the predicate's `materials`.
//!
//! - a Sigstore bundle (`mediaType` `application/vnd.dev.sigstore.bundle...`) whose DSSE
//!   envelope carries such a Statement: verified with `cairn-sigstore` against a trusted root
//!   (see [`RawDocument::bundle`]). Only [`RawDocument`] reads bundles; [`Document`] (layouts)
//!   reports them as unsupported.

use std::collections::BTreeMap;

use cairn_model::bundle::Bundle;
use cairn_model::digest::DigestSet;
use cairn_model::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE};
use cairn_model::json;
use cairn_model::link_reader::{self, ArtifactDigests, LinkMetablock, LinkReadError, ReadLink};
use cairn_model::metablock::{Metablock, MetablockSignature};
use cairn_sign::{
    KeyId, KeyMatch, MAX_SIGNATURES, PublicKey, RejectReason, Rejection, SignatureMatch,
    Verdict as SigVerdict, Verifier, VerifyError,
};
use serde_json::{Map, Value};

use super::rules::{ArtifactMap, LinkArtifacts};

/// The predicate type of in-toto link attestations.
pub const LINK_PREDICATE_V03: &str = "https://in-toto.io/attestation/link/v0.3";
const STATEMENT_TYPES: &[&str] = &[
    "https://in-toto.io/Statement/v1",
    "https://in-toto.io/Statement/v0.1",
];

/// How a document was wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Legacy metablock.
    Metablock,
    /// DSSE envelope with a legacy link or layout payload.
    DsseLegacy,
    /// DSSE envelope with a Statement carrying the link v0.3 predicate.
    DsseStatement,
    /// Sigstore bundle holding a DSSE envelope with a Statement carrying the link v0.3
    /// predicate (what `cairn run --keyless` writes).
    Bundle,
}

impl Form {
    /// Words for the human view.
    pub fn describe(self) -> &'static str {
        match self {
            Form::Metablock => "metablock",
            Form::DsseLegacy => "DSSE envelope",
            Form::DsseStatement => "DSSE Statement (link v0.3)",
            Form::Bundle => "Sigstore bundle, DSSE Statement (link v0.3)",
        }
    }
}

/// The signed container.
#[derive(Debug, Clone)]
pub enum Container {
    /// Legacy metablock.
    Metablock(Metablock),
    /// DSSE envelope.
    Dsse(Envelope),
}

/// What the container holds.
#[derive(Debug, Clone)]
pub enum Payload {
    /// A link (any form), normalised.
    Link(LinkData),
    /// A layout: the `signed` value (or DSSE payload) as received.
    Layout(Value),
}

/// A link's content, whatever its form.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkData {
    /// The step name the link claims.
    pub name: String,
    /// The command it ran.
    pub command: Vec<String>,
    /// Its artifacts.
    pub artifacts: LinkArtifacts,
    /// Byproducts (`return-value`, `stdout`, `stderr`).
    pub byproducts: Map<String, Value>,
}

/// What a document holds, known before its content is extracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A legacy link (`_type: link`).
    Link,
    /// A layout (`_type: layout`).
    Layout,
    /// An in-toto Statement with the link v0.3 predicate.
    LinkStatement,
}

/// A parsed signed document. Its content is extracted with [`RawDocument::into_payload`] once
/// the signature has been checked (extraction moves the parsed data rather than copying it:
/// links can carry tens of thousands of artifacts).
///
/// Link metablocks, the most common and largest documents, are read in one pass straight into a
/// typed link together with the canonical bytes their signatures cover
/// ([`cairn_model::link_reader`]); every other document goes through a strict JSON value.
#[derive(Debug, Clone)]
pub struct RawDocument {
    /// How it was wrapped.
    pub form: Form,
    body: Body,
}

#[derive(Debug, Clone)]
enum Body {
    /// A link metablock, read in one pass.
    LinkMetablock(LinkMetablock),
    /// A DSSE envelope whose payload is a legacy link, read in one pass.
    DsseLink(Envelope, ReadLink),
    /// A Sigstore bundle with a link Statement.
    Bundle(Box<LinkBundle>),
    /// Anything else, as a JSON value.
    General {
        container: Container,
        kind: Kind,
        /// The parsed DSSE payload (for metablocks the content is the container's `signed`).
        inner: Option<Value>,
    },
}

/// Why a document could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// Not JSON, or strict JSON rules violated.
    #[error("not valid JSON")]
    Json(#[source] cairn_model::JsonError),
    /// Neither a metablock nor a DSSE envelope.
    #[error("neither an in-toto metablock nor a DSSE envelope")]
    UnknownContainer,
    /// A Sigstore bundle where only metablocks and DSSE envelopes are read (layouts).
    #[error(
        "a Sigstore bundle: only layout verification reads links in Sigstore bundles (not layouts, not layout authoring)"
    )]
    Bundle,
    /// The envelope or metablock is malformed.
    #[error("malformed {what}: {message}")]
    Malformed {
        /// Which container.
        what: &'static str,
        /// Details.
        message: String,
    },
    /// The DSSE payload type is not in-toto's.
    #[error("DSSE payloadType is {found:?}, expected {IN_TOTO_PAYLOAD_TYPE:?}")]
    PayloadType {
        /// What it says.
        found: String,
    },
    /// The payload is neither a link, a layout nor a link Statement.
    #[error("payload is not an in-toto link or layout (_type {found:?})")]
    PayloadKind {
        /// The `_type` found.
        found: String,
    },
    /// A Statement with another predicate.
    #[error("Statement predicateType is {found:?}, expected {LINK_PREDICATE_V03:?}")]
    PredicateType {
        /// What it says.
        found: String,
    },
    /// The link content is malformed.
    #[error("invalid link: {message}")]
    Link {
        /// Details.
        message: String,
    },
}

impl RawDocument {
    /// Parses a document from the bytes of a file.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, DocumentError> {
        match link_reader::read_link_metablock(bytes) {
            Ok(block) => {
                return Ok(RawDocument {
                    form: Form::Metablock,
                    body: Body::LinkMetablock(block),
                });
            }
            Err(LinkReadError::NotALinkMetablock) => {}
            Err(LinkReadError::Json(e)) => return Err(DocumentError::Json(e)),
            Err(e) => return Err(link_err(e.to_string())),
        }
        let (form, container, kind, inner) = match parse_general(bytes, true) {
            Err(DocumentError::Bundle) => {
                return Ok(RawDocument {
                    form: Form::Bundle,
                    body: Body::Bundle(Box::new(LinkBundle::parse(bytes)?)),
                });
            }
            Ok(General::DsseLink(form, env, link)) => {
                return Ok(RawDocument {
                    form,
                    body: Body::DsseLink(env, link),
                });
            }
            Ok(General::Value(form, container, kind, inner)) => (form, container, kind, inner),
            Err(e) => return Err(e),
        };
        Ok(RawDocument {
            form,
            body: Body::General {
                container,
                kind,
                inner,
            },
        })
    }

    /// What the document holds.
    pub fn kind(&self) -> Kind {
        match &self.body {
            Body::LinkMetablock(_) => Kind::Link,
            Body::DsseLink(..) if self.form == Form::DsseStatement => Kind::LinkStatement,
            Body::DsseLink(..) => Kind::Link,
            Body::Bundle(_) => Kind::LinkStatement,
            Body::General { kind, .. } => *kind,
        }
    }

    /// The metablock signatures, when the document is a metablock.
    pub fn metablock_signatures(&self) -> Option<&[MetablockSignature]> {
        match &self.body {
            Body::LinkMetablock(block) => Some(&block.signatures),
            Body::General {
                container: Container::Metablock(mb),
                ..
            } => Some(&mb.signatures),
            _ => None,
        }
    }

    /// Extracts the content (moving, not copying, the parsed data).
    pub fn into_payload(self) -> Result<Payload, DocumentError> {
        match self.body {
            Body::LinkMetablock(block) => link_data(block.into_parts().0),
            Body::DsseLink(_, link) => link_data(link),
            Body::Bundle(b) => link_data(b.link),
            Body::General {
                container,
                kind,
                inner,
            } => {
                let value = match (container, inner) {
                    (_, Some(inner)) => inner,
                    (Container::Metablock(mb), None) => mb.signed,
                    (Container::Dsse(_), None) => Value::Null,
                };
                payload_of(kind, value)
            }
        }
    }

    /// The Sigstore bundle, when the document is one: it is verified with `cairn-sigstore`
    /// against a trusted root, not with [`RawDocument::verify`].
    pub fn bundle(&self) -> Option<&LinkBundle> {
        match &self.body {
            Body::Bundle(b) => Some(b),
            _ => None,
        }
    }

    /// Checks whether `key` (declared in a layout as `declared`) signed the document. A
    /// Sigstore bundle is always rejected here (see [`RawDocument::bundle`]).
    pub fn verify(&self, key: &PublicKey, declared: Option<&KeyId>) -> SigVerdict {
        match &self.body {
            Body::Bundle(_) => SigVerdict::Rejected {
                rejections: Vec::new(),
            },
            Body::LinkMetablock(block) => {
                verify_signed_bytes(block.signed_bytes(), &block.signatures, key, declared)
            }
            Body::DsseLink(env, _) => verify_container_dsse(env, key, declared),
            Body::General { container, .. } => verify_container(container, key, declared),
        }
    }
}

/// A Sigstore bundle holding a link Statement, as read (not verified yet).
#[derive(Debug, Clone)]
pub struct LinkBundle {
    /// The bundle as received (what `cairn_sigstore::verify_bundle` checks).
    pub bytes: Vec<u8>,
    /// The parsed bundle.
    pub model: Bundle,
    /// The link Statement in its DSSE envelope, read.
    link: ReadLink,
}

impl LinkBundle {
    fn parse(bytes: &[u8]) -> Result<Self, DocumentError> {
        let model: Bundle = json::from_slice(bytes).map_err(DocumentError::Json)?;
        let env = model
            .dsse_envelope
            .as_ref()
            .ok_or_else(|| DocumentError::Malformed {
                what: "Sigstore bundle",
                message: "it holds a message signature, not a DSSE envelope with a link".to_owned(),
            })?;
        if env.payload_type != IN_TOTO_PAYLOAD_TYPE {
            return Err(DocumentError::PayloadType {
                found: env.payload_type.clone(),
            });
        }
        let link = match link_reader::read_link_statement(&env.payload) {
            Ok(link) => link,
            Err(LinkReadError::NotALinkMetablock) => {
                // Not a link Statement: say what it is instead.
                let statement =
                    json::value_from_slice(&env.payload).map_err(DocumentError::Json)?;
                let type_ = statement
                    .get("_type")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if !STATEMENT_TYPES.contains(&type_) {
                    return Err(DocumentError::PayloadKind {
                        found: type_.to_owned(),
                    });
                }
                check_statement(&statement)?;
                return Err(DocumentError::PayloadKind {
                    found: type_.to_owned(),
                });
            }
            Err(LinkReadError::Json(e)) => return Err(DocumentError::Json(e)),
            Err(e) => return Err(link_err(e.to_string())),
        };
        Ok(LinkBundle {
            bytes: bytes.to_vec(),
            model,
            link,
        })
    }

    /// The digest of one subject (a product) that the bundle's verifier binds the Statement
    /// to: Sigstore verification needs an artifact, and any subject of the signed Statement is
    /// one. SHA-256 first, then SHA-512.
    pub fn subject_digest(&self) -> Option<SubjectDigest> {
        let find = |alg: &str| {
            self.link
                .products
                .values()
                .find_map(|d| hex::decode(d.get(alg)?).ok())
        };
        if let Some(d) = find("sha256").and_then(|d| <[u8; 32]>::try_from(d).ok()) {
            return Some(SubjectDigest::Sha256(d));
        }
        find("sha512")
            .and_then(|d| <[u8; 64]>::try_from(d).ok())
            .map(SubjectDigest::Sha512)
    }

    /// The signer's certificate (DER), for certificate (keyless) bundles.
    pub fn certificate(&self) -> Option<&[u8]> {
        let material = &self.model.verification_material;
        material
            .certificate
            .as_ref()
            .or_else(|| {
                material
                    .x509_certificate_chain
                    .as_ref()
                    .and_then(|c| c.certificates.first())
            })
            .map(|c| c.raw_bytes.as_slice())
    }

    /// Whether the bundle names a public key rather than carrying a certificate.
    pub fn is_key_based(&self) -> bool {
        self.model.verification_material.public_key.is_some() && self.certificate().is_none()
    }
}

/// A subject digest of a link Statement (see [`LinkBundle::subject_digest`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectDigest {
    /// SHA-256.
    Sha256([u8; 32]),
    /// SHA-512.
    Sha512([u8; 64]),
}

/// What the general reader found.
enum General {
    /// A document as a JSON value (for DSSE, the payload's value).
    Value(Form, Container, Kind, Option<Value>),
    /// A DSSE envelope whose link payload (legacy link: [`Form::DsseLegacy`], link Statement:
    /// [`Form::DsseStatement`]) was read by the typed reader.
    DsseLink(Form, Envelope, ReadLink),
}

/// The general reader: a strict JSON value, told apart by its fields. With `typed_links`, the
/// payload of a DSSE envelope is first offered to the typed link reader.
fn parse_general(bytes: &[u8], typed_links: bool) -> Result<General, DocumentError> {
    let value = json::value_from_slice(bytes).map_err(DocumentError::Json)?;
    let obj = value.as_object().ok_or(DocumentError::UnknownContainer)?;
    if obj.contains_key("signed") && obj.contains_key("signatures") {
        // Destructured by hand: re-deserialising the whole value into a `Metablock` would copy
        // it once more.
        let Value::Object(mut obj) = value else {
            return Err(DocumentError::UnknownContainer);
        };
        let signed = obj.remove("signed").unwrap_or(Value::Null);
        if !signed.is_object() {
            return Err(DocumentError::Malformed {
                what: "metablock",
                message: "signed is not an object".to_owned(),
            });
        }
        let signatures = obj.remove("signatures").unwrap_or(Value::Null);
        let signatures =
            serde_json::from_value(signatures).map_err(|e| DocumentError::Malformed {
                what: "metablock",
                message: format!("signatures: {e}"),
            })?;
        let kind = legacy_kind(&signed)?;
        let mb = Metablock { signed, signatures };
        return Ok(General::Value(
            Form::Metablock,
            Container::Metablock(mb),
            kind,
            None,
        ));
    }
    if obj.contains_key("payload") && obj.contains_key("payloadType") {
        let env: Envelope =
            serde_json::from_value(value).map_err(|e| DocumentError::Malformed {
                what: "DSSE envelope",
                message: e.to_string(),
            })?;
        if env.payload_type != IN_TOTO_PAYLOAD_TYPE {
            return Err(DocumentError::PayloadType {
                found: env.payload_type.clone(),
            });
        }
        if typed_links {
            let typed = match link_reader::read_link(&env.payload) {
                Err(LinkReadError::NotALinkMetablock) => {
                    link_reader::read_link_statement(&env.payload)
                        .map(|link| (Form::DsseStatement, link))
                }
                other => other.map(|link| (Form::DsseLegacy, link)),
            };
            match typed {
                Ok((form, link)) => return Ok(General::DsseLink(form, env, link)),
                // Neither: a layout, or a Statement of another predicate type (reported below).
                Err(LinkReadError::NotALinkMetablock) => {}
                Err(LinkReadError::Json(e)) => return Err(DocumentError::Json(e)),
                Err(e) => return Err(link_err(e.to_string())),
            }
        }
        let inner = json::value_from_slice(&env.payload).map_err(DocumentError::Json)?;
        let type_ = inner
            .get("_type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let (form, kind) = if STATEMENT_TYPES.contains(&type_) {
            check_statement(&inner)?;
            (Form::DsseStatement, Kind::LinkStatement)
        } else {
            (Form::DsseLegacy, legacy_kind(&inner)?)
        };
        return Ok(General::Value(
            form,
            Container::Dsse(env),
            kind,
            Some(inner),
        ));
    }
    if obj
        .get("mediaType")
        .and_then(Value::as_str)
        .is_some_and(|m| m.starts_with("application/vnd.dev.sigstore.bundle"))
    {
        return Err(DocumentError::Bundle);
    }
    Err(DocumentError::UnknownContainer)
}

fn payload_of(kind: Kind, value: Value) -> Result<Payload, DocumentError> {
    match kind {
        Kind::Layout => Ok(Payload::Layout(value)),
        Kind::Link => Ok(Payload::Link(link_from_legacy(value)?)),
        Kind::LinkStatement => Ok(Payload::Link(link_from_statement(&value)?)),
    }
}

/// The verifier's view of a typed link, digests validated.
fn link_data(link: ReadLink) -> Result<Payload, DocumentError> {
    link.validate_digests()
        .map_err(|e| link_err(error_text(&e)))?;
    Ok(Payload::Link(LinkData {
        name: link.name,
        command: link.command,
        artifacts: LinkArtifacts {
            materials: link.materials,
            products: link.products,
        },
        byproducts: link.byproducts,
    }))
}

fn error_text(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    if let Some(s) = e.source() {
        out.push_str(": ");
        out.push_str(&s.to_string());
    }
    out
}

/// Checks `key` against metablock signatures over already canonicalised bytes, with the
/// matching rules of [`cairn_sign::metablock::verify_with_key_id`]: signatures whose key id
/// names the key (under either key-id rule, or the id the layout declares) are tried first,
/// then every other signature with the key.
fn verify_signed_bytes(
    msg: &[u8],
    sigs: &[MetablockSignature],
    key: &PublicKey,
    declared: Option<&KeyId>,
) -> SigVerdict {
    let whole = |reason| SigVerdict::Rejected {
        rejections: vec![Rejection {
            index: None,
            keyid: None,
            reason,
        }],
    };
    if sigs.is_empty() {
        return whole(RejectReason::NoSignatures);
    }
    if sigs.len() > MAX_SIGNATURES {
        return whole(RejectReason::TooManySignatures {
            count: sigs.len(),
            max: MAX_SIGNATURES,
        });
    }
    let ids = key.key_ids();
    let matched: Vec<(usize, Option<KeyMatch>)> = sigs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let m = if s.keyid.is_empty() {
                None
            } else if let Some(rule) = ids.rule_of(&s.keyid) {
                Some(KeyMatch::KeyId(rule))
            } else if declared.is_some_and(|d| d.as_str() == s.keyid) {
                Some(KeyMatch::DeclaredKeyId)
            } else {
                None
            };
            (i, m)
        })
        .collect();
    let ordered = matched
        .iter()
        .filter(|(_, m)| m.is_some())
        .chain(matched.iter().filter(|(_, m)| m.is_none()));
    let mut rejections = Vec::new();
    for &(index, m) in ordered {
        let sig = &sigs[index];
        let result = hex::decode(&sig.sig)
            .map_err(|_| VerifyError::Encoding { encoding: "hex" })
            .and_then(|bytes| key.verify(msg, &bytes));
        match (result, m) {
            (Ok(()), m) => {
                return SigVerdict::Verified(SignatureMatch {
                    index,
                    keyid: sig.keyid.clone(),
                    matched_by: m.unwrap_or(KeyMatch::TriedKey),
                });
            }
            (Err(error), Some(_)) => rejections.push(Rejection {
                index: Some(index),
                keyid: Some(sig.keyid.clone()),
                reason: RejectReason::BadSignature { error },
            }),
            (Err(_), None) => rejections.push(Rejection {
                index: Some(index),
                keyid: Some(sig.keyid.clone()),
                reason: RejectReason::OtherKey,
            }),
        }
    }
    rejections.sort_by_key(|r| r.index);
    SigVerdict::Rejected { rejections }
}

/// A parsed signed document with its content extracted (a copy of the parsed JSON). For large
/// links prefer [`RawDocument`], which extracts by moving after the signature check.
#[derive(Debug, Clone)]
pub struct Document {
    /// How it was wrapped.
    pub form: Form,
    /// The signed container.
    pub container: Container,
    /// Its content.
    pub payload: Payload,
}

impl Document {
    /// Parses a document from the bytes of a file.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, DocumentError> {
        let (form, container, kind, inner) = match parse_general(bytes, false)? {
            General::Value(form, container, kind, inner) => (form, container, kind, inner),
            // Not produced without `typed_links`; handled all the same.
            General::DsseLink(form, env, link) => {
                return Ok(Document {
                    form,
                    container: Container::Dsse(env),
                    payload: link_data(link)?,
                });
            }
        };
        let content = match (&container, inner) {
            (_, Some(inner)) => inner,
            (Container::Metablock(mb), None) => mb.signed.clone(),
            (Container::Dsse(_), None) => Value::Null,
        };
        let payload = payload_of(kind, content)?;
        Ok(Document {
            form,
            container,
            payload,
        })
    }

    /// Checks whether `key` (declared in a layout as `declared`) signed the document.
    pub fn verify(&self, key: &PublicKey, declared: Option<&KeyId>) -> SigVerdict {
        verify_container(&self.container, key, declared)
    }

    /// The key ids its signatures declare.
    pub fn declared_keyids(&self) -> Vec<String> {
        declared_keyids(&self.container)
    }
}

fn verify_container(
    container: &Container,
    key: &PublicKey,
    declared: Option<&KeyId>,
) -> SigVerdict {
    {
        match container {
            Container::Metablock(mb) => {
                let result = match declared {
                    Some(d) => cairn_sign::metablock::verify_with_key_id(mb, key, d),
                    None => cairn_sign::metablock::verify(mb, key),
                };
                // Canonicalisation can only fail on values JSON cannot hold (non-finite floats);
                // such a document is unsigned as far as we can tell.
                result.unwrap_or(SigVerdict::Rejected {
                    rejections: Vec::new(),
                })
            }
            Container::Dsse(env) => verify_container_dsse(env, key, declared),
        }
    }
}

fn verify_container_dsse(env: &Envelope, key: &PublicKey, declared: Option<&KeyId>) -> SigVerdict {
    match declared {
        Some(d) => cairn_sign::dsse::verify_with_key_id(env, key, d),
        None => cairn_sign::dsse::verify(env, key),
    }
}

fn declared_keyids(container: &Container) -> Vec<String> {
    match container {
        Container::Metablock(mb) => mb.signatures.iter().map(|s| s.keyid.clone()).collect(),
        Container::Dsse(env) => env.signatures.iter().map(|s| s.keyid.clone()).collect(),
    }
}

fn legacy_kind(signed: &Value) -> Result<Kind, DocumentError> {
    match signed.get("_type").and_then(Value::as_str) {
        Some("link") => Ok(Kind::Link),
        Some("layout") => Ok(Kind::Layout),
        other => Err(DocumentError::PayloadKind {
            found: other.unwrap_or_default().to_owned(),
        }),
    }
}

fn check_statement(statement: &Value) -> Result<(), DocumentError> {
    let predicate_type = statement
        .get("predicateType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if predicate_type != LINK_PREDICATE_V03 {
        return Err(DocumentError::PredicateType {
            found: predicate_type.to_owned(),
        });
    }
    Ok(())
}

fn link_err(message: impl Into<String>) -> DocumentError {
    DocumentError::Link {
        message: message.into(),
    }
}

/// The legacy link fields cairn needs, moved out of the JSON value (the same checks as
/// [`cairn_model::link::Link::from_signed`], without copying: links can carry tens of
/// thousands of artifacts).
fn link_from_legacy(signed: Value) -> Result<LinkData, DocumentError> {
    let Value::Object(mut obj) = signed else {
        return Err(link_err("the link is not an object"));
    };
    let name = match obj.remove("name") {
        Some(Value::String(s)) => s,
        _ => return Err(link_err("name is missing or not a string")),
    };
    let command = match obj.remove("command") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Some(s),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| link_err("command is not a list of strings"))?,
        Some(_) => return Err(link_err("command is not a list of strings")),
    };
    let byproducts = match obj.remove("byproducts") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(link_err("byproducts is not an object")),
    };
    let mut artifacts = |field: &str| -> Result<ArtifactMap, DocumentError> {
        let map = match obj.remove(field) {
            None | Some(Value::Null) => return Ok(ArtifactMap::new()),
            Some(Value::Object(m)) => m,
            Some(_) => return Err(link_err(format!("{field} is not an object"))),
        };
        map.into_iter()
            .map(|(path, digests)| {
                let Value::Object(digests) = digests else {
                    return Err(link_err(format!(
                        "{field} {path:?}: digests are not an object"
                    )));
                };
                let digests = digests
                    .into_iter()
                    .map(|(alg, hex)| match hex {
                        Value::String(h) => Ok((alg, h)),
                        _ => Err(link_err(format!(
                            "{field} {path:?}: {alg} digest is not a string"
                        ))),
                    })
                    .collect::<Result<BTreeMap<_, _>, _>>()?;
                let set = ArtifactDigests::from_map_unchecked(digests);
                set.validate()
                    .map_err(|e| link_err(format!("{field} {path:?}: {e}")))?;
                Ok((path, set))
            })
            .collect()
    };
    let materials = artifacts("materials")?;
    let products = artifacts("products")?;
    Ok(LinkData {
        name,
        command,
        artifacts: LinkArtifacts {
            materials,
            products,
        },
        byproducts,
    })
}

fn descriptor_map(list: Option<&Value>, what: &str) -> Result<ArtifactMap, DocumentError> {
    let mut out = BTreeMap::new();
    let Some(list) = list else {
        return Ok(out);
    };
    let items = list.as_array().ok_or_else(|| DocumentError::Link {
        message: format!("{what} is not a list"),
    })?;
    for (i, item) in items.iter().enumerate() {
        let name = item
            .get("name")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .or_else(|| item.get("uri").and_then(Value::as_str))
            .ok_or_else(|| DocumentError::Link {
                message: format!("{what}[{i}] has no name or uri"),
            })?;
        let digest: DigestSet = item
            .get("digest")
            .cloned()
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| DocumentError::Link {
                message: format!("{what}[{i}].digest: {e}"),
            })?
            .unwrap_or_default();
        digest.validate().map_err(|e| DocumentError::Link {
            message: format!("{what}[{i}].digest: {e}"),
        })?;
        if out
            .insert(name.to_owned(), ArtifactDigests::from(&digest))
            .is_some()
        {
            return Err(DocumentError::Link {
                message: format!("{what} lists {name:?} twice"),
            });
        }
    }
    Ok(out)
}

fn link_from_statement(statement: &Value) -> Result<LinkData, DocumentError> {
    let predicate_type = statement
        .get("predicateType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if predicate_type != LINK_PREDICATE_V03 {
        return Err(DocumentError::PredicateType {
            found: predicate_type.to_owned(),
        });
    }
    let predicate = statement
        .get("predicate")
        .ok_or_else(|| DocumentError::Link {
            message: "Statement has no predicate".to_owned(),
        })?;
    let name = predicate
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| DocumentError::Link {
            message: "link predicate has no name".to_owned(),
        })?
        .to_owned();
    let command = match predicate.get("command") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| DocumentError::Link {
            message: format!("command: {e}"),
        })?,
    };
    let byproducts = predicate
        .get("byproducts")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    Ok(LinkData {
        name,
        command,
        artifacts: LinkArtifacts {
            materials: descriptor_map(predicate.get("materials"), "materials")?,
            products: descriptor_map(statement.get("subject"), "subject")?,
        },
        byproducts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const HEX: &str = "74dc3727c6e89308b39e4dfedf787e37841198b1fa165a27c013544a60502549";

    /// The typed Statement reader and the value path agree: same link, or both reject.
    fn same(statement: &Value) {
        let bytes = serde_json::to_vec(statement).unwrap();
        let typed = link_reader::read_link_statement(&bytes);
        let general = json::value_from_slice(&bytes)
            .map_err(|e| e.to_string())
            .and_then(|v| {
                let t = v.get("_type").and_then(Value::as_str).unwrap_or_default();
                if !STATEMENT_TYPES.contains(&t) {
                    return Err("not a Statement".to_owned());
                }
                check_statement(&v).map_err(|e| e.to_string())?;
                link_from_statement(&v).map_err(|e| e.to_string())
            });
        match (typed, general) {
            (Ok(link), Ok(data)) => {
                link.validate_digests().unwrap();
                assert_eq!(link.name, data.name);
                assert_eq!(link.command, data.command);
                assert_eq!(link.materials, data.artifacts.materials);
                assert_eq!(link.products, data.artifacts.products);
                assert_eq!(link.byproducts, data.byproducts);
            }
            (Ok(link), Err(e)) => {
                // The value path validates digests while extracting; the typed one after.
                assert!(link.validate_digests().is_err(), "{statement}: {e}");
            }
            (Err(LinkReadError::NotALinkMetablock), Err(_)) | (Err(_), Err(_)) => {}
            (Err(e), Ok(_)) => panic!("{statement}: only the typed reader rejects it: {e}"),
        }
    }

    #[test]
    fn typed_statement_reader_agrees_with_the_value_path() {
        let rd = |name: Value, digest: Value| json!({"name": name, "digest": digest, "annotations": {"a": 1}});
        let ok = json!({"sha256": HEX});
        let base = json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [rd(json!("out/b"), ok.clone()), rd(json!("out/a"), json!({"sha256": HEX, "sha512": "ab".repeat(64)}))],
            "predicateType": "https://in-toto.io/attestation/link/v0.3",
            "predicate": {"name": "build", "command": ["make", "x"], "materials": [rd(json!("src"), ok.clone())],
                          "byproducts": {"return-value": 0}, "environment": {"k": "v"}, "future": [1]},
        });
        same(&base);
        let variants: Vec<(&str, Value)> = vec![
            ("/_type", json!("https://in-toto.io/Statement/v0.1")),
            ("/_type", json!("https://example.com/other")),
            ("/predicateType", json!("https://slsa.dev/provenance/v1")),
            ("/subject", json!(null)),
            ("/subject", json!({})),
            ("/subject", json!([])),
            ("/subject/0/name", json!("")),
            ("/subject/0/name", json!(null)),
            ("/subject/1/name", json!("out/b")),
            ("/subject/0/digest", json!(null)),
            ("/subject/0/digest", json!({"sha256": "x"})),
            ("/subject/0/digest", json!({"sha256": 1})),
            ("/predicate", json!("x")),
            ("/predicate/name", json!(1)),
            ("/predicate/command", json!(null)),
            ("/predicate/command", json!("make")),
            ("/predicate/command", json!([1])),
            ("/predicate/materials", json!(null)),
            ("/predicate/materials", json!([])),
            ("/predicate/materials", json!([1])),
            ("/predicate/byproducts", json!([1])),
            ("/predicate/environment", json!(2)),
        ];
        for (pointer, value) in variants {
            let mut s = base.clone();
            *s.pointer_mut(pointer).unwrap() = value;
            same(&s);
        }
        // Missing members.
        for (parent, key) in [
            ("", "subject"),
            ("", "predicate"),
            ("/predicate", "name"),
            ("/predicate", "materials"),
            ("/predicate", "command"),
            ("/subject/0", "digest"),
            ("/subject/0", "name"),
        ] {
            let mut s = base.clone();
            let obj = if parent.is_empty() {
                &mut s
            } else {
                s.pointer_mut(parent).unwrap()
            };
            obj.as_object_mut().unwrap().remove(key);
            same(&s);
        }
        // A descriptor named by its uri.
        let mut s = base.clone();
        s["subject"][0] = json!({"uri": "pkg:generic/x", "digest": ok});
        same(&s);
        // Duplicate keys are rejected by both.
        let dup = br#"{"_type": "https://in-toto.io/Statement/v1", "subject": [{"name": "a", "name": "b"}], "predicateType": "https://in-toto.io/attestation/link/v0.3", "predicate": {"name": "x"}}"#;
        assert!(link_reader::read_link_statement(dup).is_err());
        assert!(json::value_from_slice(dup).is_err());
    }
}
