//! Loading a policy: strict YAML, then every rule checked and compiled up front, so a policy
//! that cannot be enforced is an error before any evidence is looked at.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cairn_sigstore::{CertificatePolicy, GithubClaims, Identity, SignerPolicy};
use cairn_slsa::verify::{BuilderRule, Policy as SlsaPolicy, RefRule};
use sha2::{Digest, Sha256};

use super::document::{PolicyDocument, RequirementDocument, SignerDocument, TransparencyLog};
use super::error::Error;
use super::rules::{CelRule, SbomRules};

/// Largest policy file read.
pub const MAX_POLICY_SIZE: u64 = 1024 * 1024;

/// A trusted signer.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Signer {
    /// Its name in the policy.
    pub name: String,
    /// Key or certificate identity.
    pub kind: SignerKind,
}

/// What a signer is.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SignerKind {
    /// A public key.
    Key {
        /// The key.
        key: cairn_sigstore::PublicKey,
        /// `sha256:<hex>` of its SubjectPublicKeyInfo.
        fingerprint: String,
        /// Accept bundles without a transparency-log entry.
        allow_missing_tlog: bool,
    },
    /// A Fulcio certificate identity.
    Keyless(CertificatePolicy),
}

impl Signer {
    pub(crate) fn sigstore_policy(&self) -> SignerPolicy {
        match &self.kind {
            SignerKind::Key { key, .. } => SignerPolicy::Key(key.clone()),
            SignerKind::Keyless(c) => SignerPolicy::Certificate(c.clone()),
        }
    }

    /// One line describing who this is.
    pub fn describe(&self) -> String {
        match &self.kind {
            SignerKind::Key { fingerprint, .. } => format!("key {fingerprint}"),
            SignerKind::Keyless(c) => format!("{} from {}", c.identity, c.issuer),
        }
    }
}

/// Which predicate types a requirement accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PredicateMatch {
    /// SLSA provenance v1 or v0.2.
    Slsa,
    /// SPDX (any version URI).
    Spdx,
    /// CycloneDX (any version URI).
    CycloneDx,
    /// SPDX or CycloneDX.
    Sbom,
    /// SLSA VSA v1.
    Vsa,
    /// in-toto link v0.3.
    Link,
    /// in-toto test-result v0.1.
    TestResult,
    /// Exactly this URI.
    Uri(String),
}

const SLSA_TYPES: &[&str] = &[
    cairn_model::predicate::SLSA_PROVENANCE_V1,
    cairn_model::predicate::SLSA_PROVENANCE_V0_2,
];

fn is_spdx(t: &str) -> bool {
    t == cairn_model::predicate::SPDX || t.starts_with("https://spdx.dev/Document/")
}

fn is_cyclonedx(t: &str) -> bool {
    t == cairn_model::predicate::CYCLONEDX || t.starts_with("https://cyclonedx.org/bom/")
}

impl PredicateMatch {
    fn parse(requirement: &str, value: &str) -> Result<Self, Error> {
        Ok(match value {
            "slsa" | "provenance" => PredicateMatch::Slsa,
            "spdx" => PredicateMatch::Spdx,
            "cyclonedx" => PredicateMatch::CycloneDx,
            "sbom" => PredicateMatch::Sbom,
            "vsa" => PredicateMatch::Vsa,
            "link" => PredicateMatch::Link,
            "test-result" => PredicateMatch::TestResult,
            uri if uri.contains(':') => PredicateMatch::Uri(uri.to_owned()),
            other => {
                return Err(Error::PredicateType {
                    requirement: requirement.to_owned(),
                    value: other.to_owned(),
                });
            }
        })
    }

    /// Whether `predicate_type` is accepted.
    pub fn matches(&self, predicate_type: &str) -> bool {
        match self {
            PredicateMatch::Slsa => SLSA_TYPES.contains(&predicate_type),
            PredicateMatch::Spdx => is_spdx(predicate_type),
            PredicateMatch::CycloneDx => is_cyclonedx(predicate_type),
            PredicateMatch::Sbom => is_spdx(predicate_type) || is_cyclonedx(predicate_type),
            PredicateMatch::Vsa => predicate_type == cairn_model::predicate::VSA_V1,
            PredicateMatch::Link => predicate_type == cairn_model::predicate::LINK_V0_3,
            PredicateMatch::TestResult => {
                predicate_type == cairn_model::predicate::TEST_RESULT_V0_1
            }
            PredicateMatch::Uri(u) => predicate_type == u,
        }
    }

    /// Words for reports.
    pub fn describe(&self) -> String {
        match self {
            PredicateMatch::Slsa => "SLSA provenance".into(),
            PredicateMatch::Spdx => "SPDX SBOM".into(),
            PredicateMatch::CycloneDx => "CycloneDX SBOM".into(),
            PredicateMatch::Sbom => "SBOM (SPDX or CycloneDX)".into(),
            PredicateMatch::Vsa => "SLSA VSA".into(),
            PredicateMatch::Link => "in-toto link".into(),
            PredicateMatch::TestResult => "in-toto test result".into(),
            PredicateMatch::Uri(u) => u.clone(),
        }
    }
}

/// One compiled requirement.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Requirement {
    /// Its name.
    pub name: String,
    /// The predicate types it accepts.
    pub predicate: PredicateMatch,
    /// Indexes into [`Policy::signers`] of the signers that count.
    pub signers: Vec<usize>,
    /// Distinct signers needed.
    pub threshold: usize,
    pub(crate) slsa: Option<SlsaPolicy>,
    pub(crate) sbom: Option<SbomRules>,
    pub(crate) cel: Vec<CelRule>,
}

/// The compiled layout requirement.
#[derive(Debug, Clone)]
pub(crate) struct LayoutRule {
    pub path: PathBuf,
    pub keys: Vec<cairn_sign::PublicKey>,
    pub params: std::collections::BTreeMap<String, String>,
}

/// A loaded, checked policy.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Policy {
    /// Its name (or the file name).
    pub name: String,
    /// SHA-256 of the policy bytes (the VSA names the policy by it).
    pub digest: [u8; 32],
    /// Where it was read from (or `<memory>`).
    pub source: String,
    /// Trusted signers.
    pub signers: Vec<Signer>,
    /// Requirements.
    pub requirements: Vec<Requirement>,
    pub(crate) layout: Option<LayoutRule>,
}

impl Policy {
    /// Reads and checks a policy file; relative paths inside it are relative to its directory.
    pub fn from_file(path: &Path) -> Result<Policy, Error> {
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        if meta.len() > MAX_POLICY_SIZE {
            return Err(Error::TooLarge {
                size: meta.len(),
                limit: MAX_POLICY_SIZE,
            });
        }
        let bytes = std::fs::read(path).map_err(io)?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut policy = Policy::from_yaml(&bytes, base)?;
        policy.source = path.display().to_string();
        if policy.name.is_empty() {
            policy.name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
        }
        Ok(policy)
    }

    /// Parses and checks a policy given as bytes; `base` resolves relative paths.
    pub fn from_yaml(bytes: &[u8], base: &Path) -> Result<Policy, Error> {
        if bytes.len() as u64 > MAX_POLICY_SIZE {
            return Err(Error::TooLarge {
                size: bytes.len() as u64,
                limit: MAX_POLICY_SIZE,
            });
        }
        let text = std::str::from_utf8(bytes).map_err(|e| Error::Yaml {
            source: Box::new(e),
        })?;
        // serde-saphyr bounds alias expansion, depth and node counts by default (billion
        // laughs), and never panics on input.
        let doc: PolicyDocument = serde_saphyr::from_str(text).map_err(|e| Error::Yaml {
            source: Box::new(e),
        })?;
        compile(doc, Sha256::digest(bytes).into(), base)
    }

    /// The signer with this name.
    pub fn signer(&self, name: &str) -> Option<&Signer> {
        self.signers.iter().find(|s| s.name == name)
    }

    /// Whether the policy runs an in-toto layout.
    pub fn has_layout(&self) -> bool {
        self.layout.is_some()
    }
}

fn compile(doc: PolicyDocument, digest: [u8; 32], base: &Path) -> Result<Policy, Error> {
    if doc.version != 1 {
        return Err(Error::Version { found: doc.version });
    }
    if doc.signers.is_empty() {
        return Err(Error::NoSigners);
    }
    if doc.requirements.is_empty() && doc.layout.is_none() {
        return Err(Error::NothingRequired);
    }
    let mut names = BTreeSet::new();
    let mut signers = Vec::new();
    for s in &doc.signers {
        if !names.insert(s.name.clone()) {
            return Err(Error::DuplicateName {
                kind: "signer",
                name: s.name.clone(),
            });
        }
        signers.push(signer(s, base)?);
    }
    let mut req_names = BTreeSet::new();
    let mut requirements = Vec::new();
    for r in &doc.requirements {
        if !req_names.insert(r.name.clone()) {
            return Err(Error::DuplicateName {
                kind: "requirement",
                name: r.name.clone(),
            });
        }
        requirements.push(requirement(r, &signers)?);
    }
    let layout = match &doc.layout {
        None => None,
        Some(l) => {
            if l.keys.is_empty() {
                return Err(Error::NoLayoutKeys);
            }
            let mut keys = Vec::new();
            for k in &l.keys {
                let path = base.join(k);
                let key = cairn_sign::load_key(&path, None).map_err(|source| Error::Key {
                    name: "layout".into(),
                    key: path.display().to_string(),
                    source,
                })?;
                keys.push(key.public_key().clone());
            }
            Some(LayoutRule {
                path: base.join(&l.path),
                keys,
                params: l.params.clone(),
            })
        }
    };
    Ok(Policy {
        name: doc.name.unwrap_or_default(),
        digest,
        source: "<memory>".into(),
        signers,
        requirements,
        layout,
    })
}

fn signer(s: &SignerDocument, base: &Path) -> Result<Signer, Error> {
    let kinds = [
        s.key.is_some(),
        s.key_pem.is_some(),
        s.identity.is_some(),
        s.identity_regexp.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() != 1 {
        return Err(Error::SignerKind {
            name: s.name.clone(),
        });
    }
    let misplaced = |field, kind| Error::MisplacedField {
        name: s.name.clone(),
        field,
        kind,
    };
    if s.key.is_some() || s.key_pem.is_some() {
        if s.issuer.is_some() {
            return Err(misplaced("issuer", "key"));
        }
        if s.github.is_some() {
            return Err(misplaced("github", "key"));
        }
        let (label, parsed) = match (&s.key, &s.key_pem) {
            (Some(path), _) => {
                let p = base.join(path);
                let label = p.display().to_string();
                (label, cairn_sign::load_key(&p, None))
            }
            (None, Some(pem)) => (
                "keyPem".to_owned(),
                cairn_sign::parse_key(pem.as_bytes(), None),
            ),
            (None, None) => unreachable!("one of key/keyPem is set"),
        };
        let parsed = parsed.map_err(|source| Error::Key {
            name: s.name.clone(),
            key: label,
            source,
        })?;
        let allow_missing_tlog = match (s.transparency_log, s.allow_missing_tlog) {
            (Some(TransparencyLog::Required), true) => {
                return Err(Error::ConflictingFields {
                    name: s.name.clone(),
                    first: "transparencyLog: required",
                    second: "allowMissingTlog: true",
                });
            }
            (Some(TransparencyLog::Optional), _) | (None, true) => true,
            (Some(TransparencyLog::Required), false) | (None, false) => false,
        };
        let der = parsed.public_key().to_spki_der().to_vec();
        let fingerprint = format!("sha256:{}", hex::encode(Sha256::digest(&der)));
        return Ok(Signer {
            name: s.name.clone(),
            kind: SignerKind::Key {
                key: cairn_sigstore::PublicKey::from_der(der),
                fingerprint,
                allow_missing_tlog,
            },
        });
    }
    // Keyless bundles always need a log entry or a timestamp: the certificate is only valid
    // for minutes, and only a trusted time proves the signature was made inside them.
    if s.transparency_log.is_some() {
        return Err(misplaced("transparencyLog", "keyless"));
    }
    if s.allow_missing_tlog {
        return Err(misplaced("allowMissingTlog", "keyless"));
    }
    let identity = match (&s.identity, &s.identity_regexp) {
        (Some(id), _) => Identity::exact(id.clone()),
        (None, Some(re)) => Identity::pattern(re).map_err(|source| Error::IdentityPattern {
            name: s.name.clone(),
            source,
        })?,
        (None, None) => unreachable!("one of identity/identityRegexp is set"),
    };
    let Some(issuer) = s.issuer.clone().filter(|i| !i.is_empty()) else {
        return Err(Error::MissingIssuer {
            name: s.name.clone(),
        });
    };
    let gh = s.github.clone().unwrap_or_default();
    Ok(Signer {
        name: s.name.clone(),
        kind: SignerKind::Keyless(CertificatePolicy::new(identity, issuer).with_github(
            GithubClaims {
                repository: gh.repository,
                workflow_ref: gh.workflow_ref,
                sha: gh.sha,
                git_ref: gh.git_ref,
                runner_environment: gh.runner_environment,
            },
        )),
    })
}

fn requirement(r: &RequirementDocument, signers: &[Signer]) -> Result<Requirement, Error> {
    let predicate = PredicateMatch::parse(&r.name, &r.predicate_type)?;
    let indexes: Vec<usize> = if r.signers.is_empty() {
        (0..signers.len()).collect()
    } else {
        let mut out = Vec::new();
        for name in &r.signers {
            let i = signers
                .iter()
                .position(|s| &s.name == name)
                .ok_or_else(|| Error::UnknownSigner {
                    requirement: r.name.clone(),
                    signer: name.clone(),
                })?;
            if !out.contains(&i) {
                out.push(i);
            }
        }
        out
    };
    let threshold = r.threshold.unwrap_or(1);
    if threshold == 0 || threshold as usize > indexes.len() && !has_pattern(signers, &indexes) {
        return Err(Error::Threshold {
            requirement: r.name.clone(),
            threshold,
            available: indexes.len(),
        });
    }
    let slsa = match &r.slsa {
        None => None,
        Some(s) => {
            if predicate != PredicateMatch::Slsa {
                return Err(Error::ChecksMismatch {
                    requirement: r.name.clone(),
                    field: "slsa",
                    needs: "slsa",
                });
            }
            let bad = |problem| Error::Slsa {
                requirement: r.name.clone(),
                problem,
            };
            if s.builders.is_empty() {
                return Err(bad("list at least one trusted builder"));
            }
            let mut builders = Vec::new();
            for b in &s.builders {
                if !(1..=3).contains(&b.level) {
                    return Err(bad("builder levels are 1, 2 or 3"));
                }
                builders.push(BuilderRule {
                    id: b.id.clone(),
                    level: b.level,
                });
            }
            if s.min_level.is_some_and(|l| l > 3) {
                return Err(bad("minLevel is at most 3"));
            }
            let mut p = SlsaPolicy::new(builders);
            p.delegators = s.delegators.clone();
            p.source_repository = s.source_repository.clone();
            p.source_commit = s.source_commit.clone();
            p.build_types = s.build_types.clone();
            p.min_level = s.min_level;
            p.allow_self_hosted = s.allow_self_hosted;
            p.source_ref = match &s.source_ref {
                None => None,
                Some(rd) => {
                    let set = [
                        rd.branch.is_some(),
                        rd.tag.is_some(),
                        rd.versioned_tag.is_some(),
                        rd.pattern.is_some(),
                    ];
                    if set.iter().filter(|x| **x).count() != 1 {
                        return Err(bad(
                            "sourceRef needs exactly one of branch, tag, versionedTag, pattern",
                        ));
                    }
                    Some(if let Some(b) = &rd.branch {
                        RefRule::Branch(b.clone())
                    } else if let Some(t) = &rd.tag {
                        RefRule::Tag(t.clone())
                    } else if let Some(t) = &rd.versioned_tag {
                        RefRule::VersionedTag(t.clone())
                    } else {
                        let pat = rd.pattern.as_deref().unwrap_or_default();
                        RefRule::pattern(pat).map_err(|source| Error::RefPattern {
                            requirement: r.name.clone(),
                            source,
                        })?
                    })
                }
            };
            Some(p)
        }
    };
    let sbom = match &r.sbom {
        None => None,
        Some(s) => {
            if !matches!(
                predicate,
                PredicateMatch::Sbom | PredicateMatch::Spdx | PredicateMatch::CycloneDx
            ) {
                return Err(Error::ChecksMismatch {
                    requirement: r.name.clone(),
                    field: "sbom",
                    needs: "sbom, spdx or cyclonedx",
                });
            }
            Some(SbomRules::compile(&r.name, s)?)
        }
    };
    let mut cel = Vec::new();
    for c in &r.cel {
        cel.push(CelRule::compile(&r.name, &c.name, &c.expr)?);
    }
    Ok(Requirement {
        name: r.name.clone(),
        predicate,
        signers: indexes,
        threshold: threshold as usize,
        slsa,
        sbom,
        cel,
    })
}

/// A pattern signer can stand for many identities, so a threshold above the number of
/// signer entries can still be met.
fn has_pattern(signers: &[Signer], indexes: &[usize]) -> bool {
    indexes.iter().any(|i| {
        matches!(
            &signers[*i].kind,
            SignerKind::Keyless(c) if matches!(c.identity, Identity::Pattern { .. })
        )
    })
}

/// Identities no trusted signer should match: a pattern that accepts one of these accepts
/// anyone the issuer vouches for.
const PROBE_IDENTITIES: &[&str] = &[
    "https://github.com/attacker/evil/.github/workflows/x.yml@refs/heads/main",
    "https://gitlab.com/attacker/evil//.gitlab-ci.yml@refs/heads/main",
    "attacker@evil.example",
    "",
];

impl Policy {
    /// Things that are allowed but probably not meant: identity patterns that match anyone,
    /// unescaped dots in identity patterns, unrestricted key signers without a log. Each is one
    /// sentence; `cairn policy check` prints them.
    pub fn lint(&self) -> Vec<String> {
        let mut out = Vec::new();
        for s in &self.signers {
            match &s.kind {
                SignerKind::Keyless(c) => {
                    if let Identity::Pattern { source, regex } = &c.identity {
                        if let Some(p) = PROBE_IDENTITIES.iter().find(|p| regex.is_match(p)) {
                            out.push(format!(
                                "signer {:?}: identityRegexp {source:?} also matches {p:?}: any identity from {} is trusted",
                                s.name, c.issuer
                            ));
                        }
                        if let Some(at) = unescaped_dot(source) {
                            out.push(format!(
                                "signer {:?}: identityRegexp {source:?} has an unescaped '.' at byte {at}, which matches any character (write \\.)",
                                s.name
                            ));
                        }
                    }
                }
                SignerKind::Key {
                    allow_missing_tlog: true,
                    ..
                } => out.push(format!(
                    "signer {:?}: transparencyLog: optional accepts bundles that prove neither when they were signed nor that they were published",
                    s.name
                )),
                SignerKind::Key { .. } => {}
            }
        }
        out
    }
}

/// The first `.` between two word characters that is not escaped (`github.com`, not
/// `github\.com` or `.*`).
fn unescaped_dot(pattern: &str) -> Option<usize> {
    let b = pattern.as_bytes();
    let mut escaped = false;
    let mut in_class = false;
    for (i, &c) in b.iter().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            b'\\' => escaped = true,
            b'[' => in_class = true,
            b']' => in_class = false,
            b'.' if !in_class => {
                let word = |x: Option<&u8>| x.is_some_and(|x| x.is_ascii_alphanumeric());
                if i > 0 && word(b.get(i - 1)) && word(b.get(i + 1)) {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}
