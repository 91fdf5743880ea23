//! The policy's in-toto layout requirement: link attestations (Statements with the link v0.3
//! predicate, found in the bundles) are filed as `<step>.<keyid>.link` for the functionary whose
//! key signed them, and the layout engine verifies the supply chain over them. The links'
//! signatures are checked by the layout's functionary keys, not the policy's signers.

use std::time::Duration;

use cairn_model::dsse::Envelope;
use cairn_model::key::LayoutKey;
use cairn_model::layout::Layout;
use cairn_sign::{KeyId, PublicKey, Verdict as SigVerdict};
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::error::Error;
use super::evaluate::Subject;
use super::load::LayoutRule;
use crate::layout::document::{Document, Payload};
use crate::layout::inspect::InspectionSettings;
use crate::verdict::{Check, Evidence};

pub(crate) fn check(
    rule: &LayoutRule,
    subject: &Subject,
    links: &[(String, Envelope)],
    at: DateTime<Utc>,
) -> Result<Check, Error> {
    let io = |source| Error::Io {
        path: rule.path.clone(),
        source,
    };
    let layout_bytes = std::fs::read(&rule.path).map_err(io)?;
    let dir = tempfile::tempdir().map_err(|source| Error::Io {
        path: std::env::temp_dir(),
        source,
    })?;
    let mut filed = Vec::new();
    let layout = Document::from_slice(&layout_bytes)
        .ok()
        .and_then(|d| match d.payload {
            Payload::Layout(v) => Layout::from_signed(&v).ok(),
            Payload::Link(_) => None,
        });
    let mut product_of_chain = false;
    if let Some(layout) = &layout {
        for (source, env) in links {
            let Ok(bytes) = serde_json::to_vec(env) else {
                continue;
            };
            let Ok(doc) = Document::from_slice(&bytes) else {
                continue;
            };
            let Payload::Link(link) = &doc.payload else {
                continue;
            };
            let Some(step) = layout.step(&link.name) else {
                filed.push(Evidence::value(
                    source.clone(),
                    format!(
                        "link for step '{}', which the layout does not have",
                        link.name
                    ),
                ));
                continue;
            };
            for keyid in &step.pubkeys {
                let Some(LayoutKey::Key(k)) = layout.keys.get(keyid) else {
                    continue;
                };
                let Ok(key) = serde_json::to_value(k)
                    .map_err(|_| ())
                    .and_then(|v| PublicKey::from_securesystemslib_json(&v).map_err(|_| ()))
                else {
                    continue;
                };
                if !matches!(
                    doc.verify(&key, Some(&KeyId::new(keyid.as_str()))),
                    SigVerdict::Verified(_)
                ) {
                    continue;
                }
                let short: String = keyid.as_str().chars().take(8).collect();
                let name = format!("{}.{short}.link", link.name);
                std::fs::write(dir.path().join(&name), &bytes).map_err(|source| Error::Io {
                    path: dir.path().join(&name),
                    source,
                })?;
                filed.push(Evidence::value(source.clone(), format!("filed as {name}")));
                if link_has_product(&env.payload, subject) {
                    product_of_chain = true;
                }
                break;
            }
        }
    }
    let opts = crate::layout::Options {
        layout_keys: rule.keys.clone(),
        at,
        params: rule.params.clone(),
        link_dir: dir.path().to_path_buf(),
        inspections: InspectionSettings {
            workdir: dir.path().to_path_buf(),
            timeout: Duration::from_secs(60),
            link_dir: None,
        },
    };
    let verdict =
        crate::layout::verify_bytes(&layout_bytes, &rule.path.display().to_string(), &opts)
            .map_err(|source| Error::Layout { source })?;
    let mut children = verdict.checks;
    children.push(if product_of_chain {
        Check::pass(
            "layout.subject",
            "the subject is a product of the supply chain",
            format!(
                "a verified link lists {} among its products",
                subject.digest()
            ),
        )
    } else {
        Check::fail(
            "layout.subject",
            "the subject is a product of the supply chain",
            format!(
                "no link verified by a functionary key lists {} among its products",
                subject.digest()
            ),
        )
    });
    Ok(Check::group(
        "layout",
        format!("in-toto layout {}", rule.path.display()),
        children,
    )
    .with_evidences(filed))
}

fn link_has_product(payload: &[u8], subject: &Subject) -> bool {
    let want = hex::encode(subject.sha256);
    let Ok(v) = cairn_model::json::value_from_slice(payload) else {
        return false;
    };
    v.get("subject")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|s| {
            s.get("digest")
                .and_then(|d| d.get("sha256"))
                .and_then(Value::as_str)
                == Some(want.as_str())
        })
}
