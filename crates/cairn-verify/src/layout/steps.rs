//! Per-step link discovery and authorisation: finds `<step>.<keyid[:8]>.link` for every
//! authorised functionary, checks each link's signature with the functionary key the layout
//! declares, and counts distinct keys against the step's threshold.

use std::path::{Path, PathBuf};

use cairn_model::key::LayoutKey;
use cairn_model::layout::{Layout, Step};
use cairn_sign::{KeyId, PublicKey, Verdict as SigVerdict};
use chrono::{DateTime, Utc};

use super::document::{Payload, RawDocument};
use super::x509;
use crate::verdict::Evidence;

/// A functionary key from a layout's `keys`, ready to verify with.
pub(crate) struct Functionary {
    /// The id the layout lists it under.
    pub keyid: KeyId,
    /// The key, or why it cannot be used.
    pub key: Result<PublicKey, String>,
}

impl Functionary {
    pub(crate) fn from_layout(layout: &Layout, keyid: &str) -> Functionary {
        let key = match layout.keys.get(keyid) {
            None => Err("the layout has no key with this id".to_owned()),
            Some(LayoutKey::OpenPgp(_)) => {
                Err("OpenPGP functionary keys are not supported".to_owned())
            }
            Some(LayoutKey::Key(k)) => serde_json::to_value(k)
                .map_err(|e| e.to_string())
                .and_then(|v| PublicKey::from_securesystemslib_json(&v).map_err(|e| e.to_string())),
        };
        Functionary {
            keyid: KeyId::new(keyid),
            key,
        }
    }

    /// The 8-character prefixes under which this functionary's links may be filed: the id the
    /// layout declares, then the key's ids under both key-id rules (implementations disagree).
    fn file_prefixes(&self) -> Vec<String> {
        let mut out = vec![self.keyid.short(8).to_owned()];
        if let Ok(key) = &self.key {
            let ids = key.key_ids();
            for id in [&ids.securesystemslib1, &ids.legacy] {
                let p = id.short(8).to_owned();
                if !out.contains(&p) {
                    out.push(p);
                }
            }
        }
        out
    }
}

/// One link that verified for a step.
pub(crate) struct AcceptedLink {
    /// Where it was found.
    pub path: PathBuf,
    /// The functionary key id it was filed under.
    pub keyid: KeyId,
    /// The 8-character prefix used in the file name (sublayout links live in `<step>.<prefix>/`).
    pub file_prefix: String,
    /// The key that verified it.
    pub key: PublicKey,
    /// Its content (the signed container is dropped once verified: links can be large).
    pub payload: Payload,
}

/// What looking for a step's links found.
pub(crate) struct StepLinks {
    /// Verified, authorised links (at most one per functionary), in `pubkeys` order.
    pub accepted: Vec<AcceptedLink>,
    /// One line of evidence per functionary.
    pub evidence: Vec<Evidence>,
    /// Distinct keys among the accepted links.
    pub distinct_keys: usize,
}

/// Finds and verifies the links of `step` in `dir`.
pub(crate) fn load(layout: &Layout, step: &Step, dir: &Path, at: DateTime<Utc>) -> StepLinks {
    let mut accepted: Vec<AcceptedLink> = Vec::new();
    let mut evidence = Vec::new();
    let mut seen_keys: Vec<Vec<u8>> = Vec::new();
    for keyid in &step.pubkeys {
        let functionary = Functionary::from_layout(layout, keyid.as_str());
        let mut statuses = Vec::new();
        let mut found_any = false;
        for prefix in functionary.file_prefixes() {
            let name = format!("{}.{prefix}.link", step.name);
            let path = dir.join(&name);
            let bytes = match std::fs::read(&path) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    found_any = true;
                    statuses.push(format!("{name}: cannot read: {e}"));
                    continue;
                }
            };
            found_any = true;
            let doc = match RawDocument::from_slice(&bytes) {
                Ok(d) => d,
                Err(e) => {
                    statuses.push(format!("{name}: {}", error_chain(&e)));
                    continue;
                }
            };
            let key = match &functionary.key {
                Ok(k) => k,
                Err(why) => {
                    statuses.push(format!("{name}: cannot check: {why}"));
                    continue;
                }
            };
            match doc.verify(key, Some(&functionary.keyid)) {
                SigVerdict::Verified(_) => {}
                SigVerdict::Rejected { rejections } => {
                    let why = rejections
                        .first()
                        .map_or_else(|| "no valid signature".to_owned(), |r| r.reason.to_string());
                    statuses.push(format!(
                        "{name}: not signed by this functionary's key ({why})"
                    ));
                    continue;
                }
            }
            let form = doc.form;
            let payload = match doc.into_payload() {
                Ok(p) => p,
                Err(e) => {
                    statuses.push(format!("{name}: {}", error_chain(&e)));
                    continue;
                }
            };
            if let Payload::Link(link) = &payload
                && link.name != step.name
            {
                statuses.push(format!(
                    "{name}: the link is for step '{}', not '{}'",
                    link.name, step.name
                ));
                continue;
            }
            let kind = match &payload {
                Payload::Link(_) => "link",
                Payload::Layout(_) => "sublayout",
            };
            statuses.push(format!("{name}: signed {kind} ({})", form.describe()));
            let material = key.to_spki_der().to_vec();
            if seen_keys.contains(&material) {
                statuses.push("same key as another functionary: counted once".to_owned());
            } else {
                seen_keys.push(material);
            }
            accepted.push(AcceptedLink {
                path,
                keyid: functionary.keyid.clone(),
                file_prefix: prefix,
                key: key.clone(),
                payload,
            });
            break;
        }
        if !found_any {
            statuses.push(format!("no link file {}.{}.link", step.name, keyid.short()));
        }
        evidence.push(Evidence::signer(keyid.as_str(), statuses.join("; ")));
    }
    certificate_links(
        layout,
        step,
        dir,
        at,
        &mut accepted,
        &mut evidence,
        &mut seen_keys,
    );
    StepLinks {
        accepted,
        evidence,
        distinct_keys: seen_keys.len(),
    }
}

/// Links signed by certificate functionaries (steps with `cert_constraints`): every
/// `<step>.*.link` not already taken, whose metablock signature carries a `cert` that chains to
/// the layout's CAs and meets a constraint, and verifies with the certificate's key.
fn certificate_links(
    layout: &Layout,
    step: &Step,
    dir: &Path,
    at: DateTime<Utc>,
    accepted: &mut Vec<AcceptedLink>,
    evidence: &mut Vec<Evidence>,
    seen_keys: &mut Vec<Vec<u8>>,
) {
    let constraints = match x509::constraints(step) {
        Ok(c) if c.is_empty() => return,
        Ok(c) => c,
        Err(e) => {
            evidence.push(Evidence::value("cert_constraints", e));
            return;
        }
    };
    let cas = match x509::Authorities::from_layout(layout) {
        Ok(c) => c,
        Err(e) => {
            evidence.push(Evidence::value("certificate authorities", e));
            return;
        }
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.strip_prefix(step.name.as_str())
                    .and_then(|r| r.strip_prefix('.'))
                    .and_then(|r| r.strip_suffix(".link"))
                    .is_some_and(|mid| !mid.is_empty() && !mid.contains('.'))
            })
        })
        .filter(|p| !accepted.iter().any(|a| a.path == *p))
        .collect();
    files.sort();
    for path in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let prefix = name
            .strip_prefix(step.name.as_str())
            .and_then(|r| r.strip_prefix('.'))
            .and_then(|r| r.strip_suffix(".link"))
            .unwrap_or_default()
            .to_owned();
        let Ok(doc) = std::fs::read(&path)
            .map_err(|_| ())
            .and_then(|b| RawDocument::from_slice(&b).map_err(|_| ()))
        else {
            continue;
        };
        let Some(signatures) = doc.metablock_signatures() else {
            continue;
        };
        let Some((keyid, pem)) = signatures.iter().find_map(|s| {
            s.extra
                .get("cert")
                .and_then(serde_json::Value::as_str)
                .filter(|c| !c.is_empty())
                .map(|c| (s.keyid.clone(), c.to_owned()))
        }) else {
            continue;
        };
        let status = match x509::functionary_key(&pem, &cas, &constraints, at) {
            Err(why) => format!("{name}: certificate rejected: {why}"),
            Ok(key) => match doc.verify(&key, None) {
                SigVerdict::Rejected { .. } => {
                    format!("{name}: signature does not verify with the certificate's key")
                }
                SigVerdict::Verified(_) => match doc.into_payload() {
                    Err(e) => format!("{name}: {}", error_chain(&e)),
                    Ok(Payload::Link(l)) if l.name != step.name => {
                        format!(
                            "{name}: the link is for step '{}', not '{}'",
                            l.name, step.name
                        )
                    }
                    Ok(payload) => {
                        let material = key.to_spki_der().to_vec();
                        if !seen_keys.contains(&material) {
                            seen_keys.push(material);
                        }
                        accepted.push(AcceptedLink {
                            path: path.clone(),
                            keyid: KeyId::new(keyid.clone()),
                            file_prefix: prefix,
                            key,
                            payload,
                        });
                        format!("{name}: signed by a certificate that meets the step's constraints")
                    }
                },
            },
        };
        evidence.push(Evidence::signer(format!("certificate {keyid}"), status));
    }
}

/// `error: cause: cause` in one line, for evidence text.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}
