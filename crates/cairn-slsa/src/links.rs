//! Recorded steps (`--links DIR`): in-toto links whose materials become `resolvedDependencies`
//! and whose files become `byproducts`.
//!
//! Three encodings are read, chosen by what the document declares (never by trial parsing):
//! - a legacy metablock (`{"signed": {"_type": "link", ...}, "signatures": [...]}`);
//! - a DSSE envelope whose payload is a legacy link object (in-toto-python's `--use-dsse`);
//! - a DSSE envelope whose payload is an in-toto Statement with predicate
//!   `https://in-toto.io/attestation/link/v0.3`.
//!
//! Signatures are not checked here: provenance records what the steps claim to have used; the
//! layout verifier is what decides whether to believe them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest as _, Sha256};

use cairn_model::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE};
use cairn_model::{DigestSet, Link, Metablock, json};

use crate::Error;

/// The predicate type of in-toto link attestations.
pub const LINK_PREDICATE_V03: &str = "https://in-toto.io/attestation/link/v0.3";

/// How a link file was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkFormat {
    /// Legacy metablock.
    Metablock,
    /// DSSE envelope around a legacy link object.
    DsseLegacy,
    /// DSSE envelope around a Statement with a link v0.3 predicate.
    DsseStatement,
}

impl LinkFormat {
    /// The media type a byproduct entry for this file carries.
    pub fn media_type(self) -> &'static str {
        match self {
            LinkFormat::Metablock => "application/vnd.in-toto.link+json",
            LinkFormat::DsseLegacy | LinkFormat::DsseStatement => {
                "application/vnd.dsse.envelope.v1+json"
            }
        }
    }
}

/// One material a step used.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Material {
    /// Its path (or name) as the link records it.
    pub name: String,
    /// Its digests.
    pub digest: DigestSet,
}

/// A link read from disk.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkRecord {
    /// The file name (no directory: provenance must not depend on where the links were kept).
    pub file_name: String,
    /// The step name the link declares.
    pub step: String,
    /// How the file was encoded.
    pub format: LinkFormat,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
    /// The materials, as recorded.
    pub materials: Vec<Material>,
}

/// Reads every `*.link` file in `dir` (not recursively), sorted by file name. Files with other
/// extensions are ignored, so a layout or keys may sit beside the links.
pub fn read_dir(dir: &Path) -> Result<Vec<LinkRecord>, Error> {
    let io = |path: &Path, source| Error::LinkIo {
        path: path.to_path_buf(),
        source,
    };
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let entry = entry.map_err(|e| io(dir, e))?;
        let path = entry.path();
        let is_file = entry.file_type().map_err(|e| io(&path, e))?.is_file()
            || std::fs::metadata(&path)
                .map(|m| m.is_file())
                .unwrap_or(false);
        if is_file && path.extension().is_some_and(|e| e == "link") {
            paths.push(path);
        }
    }
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let bytes = std::fs::read(p).map_err(|e| io(p, e))?;
            read_link(p, &bytes)
        })
        .collect()
}

/// Reads one link file's bytes; `path` is used for its name and in errors.
pub fn read_link(path: &Path, bytes: &[u8]) -> Result<LinkRecord, Error> {
    let not_link = |reason: &'static str| Error::Link {
        path: path.to_path_buf(),
        reason,
    };
    let value = json::value_from_slice(bytes).map_err(|source| Error::LinkJson {
        path: path.to_path_buf(),
        source,
    })?;
    let obj = value
        .as_object()
        .ok_or_else(|| not_link("not a JSON object"))?;
    let (format, step, materials) = if obj.contains_key("signed") {
        let block: Metablock =
            json::from_value(value.clone()).map_err(|source| Error::LinkJson {
                path: path.to_path_buf(),
                source,
            })?;
        let (step, materials) =
            legacy(&block.signed).ok_or_else(|| not_link("signed object is not a link"))?;
        (LinkFormat::Metablock, step, materials)
    } else if obj.contains_key("payloadType") {
        let envelope: Envelope =
            json::from_value(value.clone()).map_err(|source| Error::LinkJson {
                path: path.to_path_buf(),
                source,
            })?;
        if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
            return Err(not_link(
                "DSSE payloadType is not application/vnd.in-toto+json",
            ));
        }
        let payload =
            json::value_from_slice(&envelope.payload).map_err(|source| Error::LinkJson {
                path: path.to_path_buf(),
                source,
            })?;
        match payload.get("_type").and_then(Value::as_str) {
            Some("link") => {
                let (step, materials) =
                    legacy(&payload).ok_or_else(|| not_link("payload is not a link"))?;
                (LinkFormat::DsseLegacy, step, materials)
            }
            Some("https://in-toto.io/Statement/v1" | "https://in-toto.io/Statement/v0.1") => {
                if payload.get("predicateType").and_then(Value::as_str) != Some(LINK_PREDICATE_V03)
                {
                    return Err(not_link("statement predicateType is not link v0.3"));
                }
                let predicate = payload
                    .get("predicate")
                    .ok_or_else(|| not_link("statement has no predicate"))?;
                let (step, materials) = statement_link(predicate)
                    .ok_or_else(|| not_link("link v0.3 predicate is malformed"))?;
                (LinkFormat::DsseStatement, step, materials)
            }
            _ => {
                return Err(not_link(
                    "DSSE payload is neither a link nor an in-toto statement",
                ));
            }
        }
    } else {
        return Err(not_link("neither a metablock nor a DSSE envelope"));
    };
    for m in &materials {
        if m.digest.is_empty() || m.digest.validate().is_err() {
            return Err(not_link("a material has no valid digest"));
        }
    }
    Ok(LinkRecord {
        file_name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        step,
        format,
        sha256: hex::encode(Sha256::digest(bytes)),
        materials,
    })
}

fn legacy(signed: &Value) -> Option<(String, Vec<Material>)> {
    if signed.get("_type").and_then(Value::as_str) != Some("link") {
        return None;
    }
    let link = Link::from_signed(signed).ok()?;
    let materials = link
        .materials
        .into_iter()
        .map(|(name, digest)| Material { name, digest })
        .collect();
    Some((link.name, materials))
}

fn statement_link(predicate: &Value) -> Option<(String, Vec<Material>)> {
    let step = predicate.get("name")?.as_str()?.to_owned();
    let mut materials = Vec::new();
    if let Some(list) = predicate.get("materials") {
        for rd in list.as_array()? {
            let name = rd
                .get("name")
                .or_else(|| rd.get("uri"))
                .and_then(Value::as_str)?
                .to_owned();
            let digest: BTreeMap<String, String> =
                serde_json::from_value(rd.get("digest")?.clone()).ok()?;
            materials.push(Material {
                name,
                digest: DigestSet::from_map_unchecked(digest),
            });
        }
    }
    Some((step, materials))
}
