//! Per-step link discovery and authorisation: finds `<step>.<keyid[:8]>.link` for every
//! authorised functionary, checks each link's signature with the functionary key the layout
//! declares, and counts distinct keys against the step's threshold.

use std::path::{Path, PathBuf};

use cairn_model::key::LayoutKey;
use cairn_model::layout::{Layout, Step};
use cairn_sign::{KeyId, PublicKey, Verdict as SigVerdict};
use chrono::{DateTime, Utc};

use cairn_sigstore::{
    Artifact, CertificatePolicy, CheckKind, Identity, Instance, SignerPolicy, TrustedRoot,
    VerifyOptions, verify_bundle,
};

use super::document::{LinkBundle, Payload, RawDocument, SubjectDigest};
use super::x509;
use crate::verdict::Evidence;

/// What signatures are checked against besides the layout: the verification time and the
/// Sigstore trusted root for links in Sigstore bundles (`None`: the embedded public-good root,
/// loaded only when a bundle is met).
#[derive(Clone, Copy)]
pub(crate) struct Trust<'a> {
    /// The verification time.
    pub at: DateTime<Utc>,
    /// The trusted root given by the caller.
    pub root: Option<&'a TrustedRoot>,
}

impl Trust<'_> {
    /// Runs `f` with the trusted root.
    fn with_root<T>(&self, f: impl FnOnce(&TrustedRoot) -> T) -> T {
        match self.root {
            Some(root) => f(root),
            None => f(&TrustedRoot::embedded(Instance::PublicGood)),
        }
    }

    /// Verifies a link bundle for `signer`: `Ok` with what was checked, or why not.
    fn verify_bundle(
        &self,
        bundle: &LinkBundle,
        signer: &SignerPolicy,
        allow_missing_tlog: bool,
    ) -> Result<String, String> {
        let artifact = match bundle.subject_digest() {
            Some(SubjectDigest::Sha256(d)) => Artifact::Sha256(d),
            Some(SubjectDigest::Sha512(d)) => Artifact::Sha512(d),
            None => {
                return Err(
                    "the link Statement has no sha256 or sha512 subject (product), so a \
                     Sigstore verifier cannot bind the bundle to it"
                        .to_owned(),
                );
            }
        };
        let options = VerifyOptions {
            now: self.at.timestamp(),
            allow_missing_tlog,
        };
        let verdict = self
            .with_root(|root| verify_bundle(&bundle.bytes, artifact, signer, root, options))
            .map_err(|e| format!("cannot verify the bundle: {}", error_chain(&e)))?;
        if verdict.verified {
            let log = verdict
                .checks
                .iter()
                .find(|c| c.check == CheckKind::TransparencyLog)
                .map(|c| c.detail.clone())
                .unwrap_or_default();
            Ok(log)
        } else {
            Err(verdict.first_failure().map_or_else(
                || "bundle not verified".to_owned(),
                |c| format!("{:?}: {}", c.check, c.detail),
            ))
        }
    }
}

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
pub(crate) fn load(layout: &Layout, step: &Step, dir: &Path, trust: &Trust<'_>) -> StepLinks {
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
            let mut bundle_note = None;
            if let Some(bundle) = doc.bundle() {
                // A key functionary's bundle: signed by that key (a certificate bundle whose key
                // happens to be filed here is checked as a certificate functionary's, below).
                if !bundle.is_key_based() {
                    statuses.push(format!(
                        "{name}: a certificate (keyless) bundle; the step's cert_constraints decide who may sign it"
                    ));
                    continue;
                }
                let policy = SignerPolicy::Key(cairn_sigstore::PublicKey::from_der(
                    key.to_spki_der().to_vec(),
                ));
                match trust.verify_bundle(bundle, &policy, true) {
                    Ok(log) => bundle_note = Some(log),
                    Err(why) => {
                        statuses.push(format!(
                            "{name}: bundle not signed by this functionary's key ({why})"
                        ));
                        continue;
                    }
                }
            } else {
                match doc.verify(key, Some(&functionary.keyid)) {
                    SigVerdict::Verified(_) => {}
                    SigVerdict::Rejected { rejections } => {
                        let why = rejections.first().map_or_else(
                            || "no valid signature".to_owned(),
                            |r| r.reason.to_string(),
                        );
                        statuses.push(format!(
                            "{name}: not signed by this functionary's key ({why})"
                        ));
                        continue;
                    }
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
            if let Some(log) = bundle_note.filter(|l| !l.is_empty()) {
                statuses.push(format!("transparency log: {log}"));
            }
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
        trust,
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
    trust: &Trust<'_>,
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
        // (who, the key that signed, what counts as one functionary, or why not)
        let (who, signer): (String, Result<CertSigner, String>) = if let Some(bundle) = doc.bundle()
        {
            let Some(der) = bundle.certificate() else {
                continue;
            };
            let result = x509::bundle_signer(der, &constraints, |issuer| {
                let policy = SignerPolicy::Certificate(CertificatePolicy::new(
                    Identity::pattern(".*").map_err(|e| e.to_string())?,
                    issuer,
                ));
                trust.verify_bundle(bundle, &policy, false).map(|_| ())
            });
            let who = match &result {
                Ok(s) => format!("certificate {}", s.identity),
                Err(_) => format!("certificate in {name}"),
            };
            (
                who,
                result
                    .map(|s| CertSigner {
                        key: s.key,
                        material: s.identity.into_bytes(),
                        keyid: prefix.clone(),
                    })
                    .map_err(|why| format!("{name}: Sigstore bundle rejected: {why}")),
            )
        } else {
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
            let result = match x509::functionary_key(&pem, &cas, &constraints, trust.at) {
                Err(why) => Err(format!("{name}: certificate rejected: {why}")),
                Ok(key) => match doc.verify(&key, None) {
                    SigVerdict::Rejected { .. } => Err(format!(
                        "{name}: signature does not verify with the certificate's key"
                    )),
                    SigVerdict::Verified(_) => {
                        let material = key.to_spki_der().to_vec();
                        Ok(CertSigner {
                            key,
                            material,
                            keyid: keyid.clone(),
                        })
                    }
                },
            };
            (format!("certificate {keyid}"), result)
        };
        let status = match signer {
            Err(why) => why,
            Ok(CertSigner {
                key,
                material,
                keyid,
            }) => {
                let form = doc.form;
                match doc.into_payload() {
                    Err(e) => format!("{name}: {}", error_chain(&e)),
                    Ok(Payload::Link(l)) if l.name != step.name => {
                        format!(
                            "{name}: the link is for step '{}', not '{}'",
                            l.name, step.name
                        )
                    }
                    Ok(payload) => {
                        if !seen_keys.contains(&material) {
                            seen_keys.push(material);
                        }
                        accepted.push(AcceptedLink {
                            path: path.clone(),
                            keyid: KeyId::new(keyid),
                            file_prefix: prefix,
                            key,
                            payload,
                        });
                        format!(
                            "{name}: signed by a certificate that meets the step's constraints ({})",
                            form.describe()
                        )
                    }
                }
            }
        };
        evidence.push(Evidence::signer(who, status));
    }
}

/// A certificate functionary's link that verified.
struct CertSigner {
    /// The certificate's key.
    key: PublicKey,
    /// What counts as one functionary (the key, or issuer + identity for keyless).
    material: Vec<u8>,
    /// The key id to report.
    keyid: String,
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
