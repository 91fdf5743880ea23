//! Checking provenance against a policy: builder id allowlist, source repository, ref or tag,
//! commit, buildType and SLSA build level. Used by the policy engine and by
//! `cairn verify artifact --provenance-*`.
//!
//! The signer identity (from the Fulcio certificate that signed the envelope) outranks anything
//! the predicate says: a document claiming a trusted builder but signed by someone else is
//! rejected, and source claims must agree with the certificate's source extensions. Signature
//! verification happens before this, elsewhere; this module only reads the decoded Statement.

mod claims;
#[cfg(test)]
mod tests;

use regex::Regex;
use serde::Serialize;
use serde_json::Value;

pub use claims::{
    PROVENANCE_V02, PredicateVersion, ProvenanceClaims, STATEMENT_V01, SourceClaim,
    StatementProblem, validate_descriptor, validate_provenance_v1, validate_statement,
};

use crate::Error;
use crate::uri::RepoUrl;

/// A trusted builder and the SLSA build level it is trusted for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuilderRule {
    /// The builder id. Without `@`, it matches any version of the builder (`X` matches
    /// `X@refs/tags/v1`); `X@v1.2.0` matches `X@refs/tags/v1.2.0`; otherwise exact.
    pub id: String,
    /// The SLSA build level this builder meets when its provenance is signed (1–3).
    pub level: u8,
}

/// How the source ref must look.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RefRule {
    /// `refs/heads/NAME`.
    Branch(String),
    /// `refs/tags/NAME`.
    Tag(String),
    /// A semantic-version tag matching as far as given: `v1` accepts `v1.4.2`, `v1.4` accepts
    /// `v1.4.0`, `v1.4.2` only itself.
    VersionedTag(String),
    /// An anchored regular expression over the full ref (`^(?:PATTERN)$`).
    Pattern(Regex),
}

impl RefRule {
    /// An anchored pattern over the full ref: `refs/tags/v[0-9]+\..*` must match the whole ref.
    pub fn pattern(pattern: &str) -> Result<Self, Error> {
        Regex::new(&format!("^(?:{pattern})$"))
            .map(RefRule::Pattern)
            .map_err(|source| Error::Pattern {
                pattern: pattern.to_owned(),
                source,
            })
    }

    fn describe(&self) -> String {
        match self {
            RefRule::Branch(b) => format!("branch {b}"),
            RefRule::Tag(t) => format!("tag {t}"),
            RefRule::VersionedTag(t) => format!("versioned tag {t}"),
            RefRule::Pattern(re) => format!("ref matching {}", re.as_str()),
        }
    }
}

/// The identity that signed the provenance, from its certificate (SAN, issuer and Fulcio's
/// GitHub/GitLab extensions), as plain strings. Fields the certificate lacks stay `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SignerIdentity {
    /// The certificate's subject alternative name (a workflow URI for CI signers).
    pub san: String,
    /// The OIDC issuer.
    pub issuer: String,
    /// Build Signer URI (1.3.6.1.4.1.57264.1.9).
    pub build_signer_uri: Option<String>,
    /// Runner Environment (…1.11).
    pub runner_environment: Option<String>,
    /// Source Repository URI (…1.12).
    pub source_repository_uri: Option<String>,
    /// Source Repository Digest (…1.13).
    pub source_repository_digest: Option<String>,
    /// Source Repository Ref (…1.14).
    pub source_repository_ref: Option<String>,
    /// Build Trigger (…1.20).
    pub build_trigger: Option<String>,
}

/// What provenance must show. There is no default: a policy names its trusted builders.
/// Build one with [`Policy::new`] and set the fields you need.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Policy {
    /// Trusted builders (at least one, or nothing passes).
    pub builders: Vec<BuilderRule>,
    /// Signer identities (SAN) whose provenance names another builder that is then trusted:
    /// slsa-github-generator's delegator workflows (BYOB), which sign for the builder they run.
    pub delegators: Vec<String>,
    /// The source repository (`github.com/o/r`, `https://github.com/o/r`, any spelling).
    pub source_repository: Option<String>,
    /// The source ref.
    pub source_ref: Option<RefRule>,
    /// The source commit (full hex).
    pub source_commit: Option<String>,
    /// Accepted buildTypes (empty: any).
    pub build_types: Vec<String>,
    /// The minimum SLSA build level.
    pub min_level: Option<u8>,
    /// Accept builds on self-hosted runners (off: such provenance fails).
    pub allow_self_hosted: bool,
    /// An artifact digest (`algorithm`, hex) that must be among the subjects.
    pub subject_digest: Option<(String, String)>,
}

impl Policy {
    /// A policy trusting `builders` and requiring nothing else yet.
    pub fn new(builders: Vec<BuilderRule>) -> Self {
        Policy {
            builders,
            delegators: Vec::new(),
            source_repository: None,
            source_ref: None,
            source_commit: None,
            build_types: Vec::new(),
            min_level: None,
            allow_self_hosted: false,
            subject_digest: None,
        }
    }
}

/// The checks a verdict reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CheckName {
    /// The document is a provenance Statement cairn understands.
    Statement,
    /// The artifact is a subject.
    Subject,
    /// The signer identity and the claimed builder agree.
    Signer,
    /// The builder is trusted.
    BuilderId,
    /// The buildType is accepted.
    BuildType,
    /// The source repository matches.
    SourceRepository,
    /// The source ref matches.
    SourceRef,
    /// The source commit matches.
    SourceCommit,
    /// The runner environment is accepted.
    RunnerEnvironment,
    /// The SLSA build level is high enough.
    BuildLevel,
}

/// A check's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Passed.
    Pass,
    /// Failed: the verdict fails.
    Fail,
    /// Not asked for by the policy (or not applicable).
    Skipped,
}

/// One check and why it came out as it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Which check.
    pub check: CheckName,
    /// Its outcome.
    pub outcome: Outcome,
    /// Why, for people.
    pub reason: String,
}

/// The result of checking provenance: every check, in order, and the overall answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// True when no check failed.
    pub passed: bool,
    /// The SLSA build level established (0 when the builder is not trusted).
    pub level: u8,
    /// The checks.
    pub checks: Vec<Check>,
    /// The claims read, when the document could be read.
    pub claims: Option<ProvenanceClaims>,
}

impl Verdict {
    /// The check of a kind, if it ran.
    pub fn check(&self, name: CheckName) -> Option<&Check> {
        self.checks.iter().find(|c| c.check == name)
    }

    /// The failed checks.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.outcome == Outcome::Fail)
    }
}

struct Checks(Vec<Check>);

impl Checks {
    fn push(&mut self, check: CheckName, outcome: Outcome, reason: impl Into<String>) {
        self.0.push(Check {
            check,
            outcome,
            reason: reason.into(),
        });
    }
    fn pass(&mut self, check: CheckName, reason: impl Into<String>) {
        self.push(check, Outcome::Pass, reason);
    }
    fn fail(&mut self, check: CheckName, reason: impl Into<String>) {
        self.push(check, Outcome::Fail, reason);
    }
    fn skip(&mut self, check: CheckName, reason: impl Into<String>) {
        self.push(check, Outcome::Skipped, reason);
    }
}

/// Checks a decoded provenance Statement (v1 or v0.1, predicate v1 or v0.2) against `policy`,
/// trusting `signer` (when given) over the predicate's claims.
pub fn verify(statement: &Value, signer: Option<&SignerIdentity>, policy: &Policy) -> Verdict {
    let mut checks = Checks(Vec::new());
    let claims = match ProvenanceClaims::from_statement(statement) {
        Ok(c) => c,
        Err(problem) => {
            checks.fail(CheckName::Statement, problem.to_string());
            return Verdict {
                passed: false,
                level: 0,
                checks: checks.0,
                claims: None,
            };
        }
    };
    checks.pass(
        CheckName::Statement,
        format!(
            "{} with SLSA provenance {:?}",
            claims.statement_type, claims.predicate
        ),
    );

    // Subject.
    match &policy.subject_digest {
        None => checks.skip(CheckName::Subject, "no artifact digest given"),
        Some((alg, hex)) => {
            let hit = claims.subjects.iter().find(|(_, d)| {
                d.get(alg)
                    .and_then(Value::as_str)
                    .is_some_and(|v| v.eq_ignore_ascii_case(hex))
            });
            match hit {
                Some((name, _)) => {
                    checks.pass(CheckName::Subject, format!("artifact is subject {name:?}"))
                }
                None => checks.fail(CheckName::Subject, format!("no subject has {alg}:{hex}")),
            }
        }
    }

    // Signer vs claimed builder: which builder id is to be believed.
    let trusted_builder: Option<String> = match signer {
        None => {
            checks.skip(
                CheckName::Signer,
                "no signer identity: the predicate's claims are unauthenticated (SLSA Build L1 at most)",
            );
            Some(claims.builder_id.clone())
        }
        Some(id) => signer_builder(id, &claims, policy, &mut checks),
    };

    // Builder id allowlist.
    let mut level = 0u8;
    match &trusted_builder {
        None => checks.fail(
            CheckName::BuilderId,
            "no builder identity could be established",
        ),
        Some(builder) => {
            if policy.builders.is_empty() {
                checks.fail(CheckName::BuilderId, "the policy trusts no builder");
            } else {
                match policy
                    .builders
                    .iter()
                    .find(|r| builder_matches(&r.id, builder))
                {
                    Some(rule) => {
                        level = rule.level;
                        checks.pass(
                            CheckName::BuilderId,
                            format!("{builder} is trusted as {}", rule.id),
                        );
                    }
                    None => checks.fail(
                        CheckName::BuilderId,
                        format!("builder {builder} is not trusted"),
                    ),
                }
            }
        }
    }

    // buildType.
    if policy.build_types.is_empty() {
        checks.skip(CheckName::BuildType, "any buildType accepted");
    } else if policy.build_types.contains(&claims.build_type) {
        checks.pass(CheckName::BuildType, claims.build_type.clone());
    } else {
        checks.fail(
            CheckName::BuildType,
            format!("buildType {} is not accepted", claims.build_type),
        );
    }

    // Source: the certificate's extensions win; the predicate must agree with them.
    let source = effective_source(&claims, signer, &mut checks);
    check_source(policy, source.as_ref(), &mut checks);

    // Runner environment.
    let runner = signer
        .and_then(|s| s.runner_environment.clone())
        .or_else(|| claims.runner_environment.clone());
    let self_hosted = runner.as_deref() == Some("self-hosted");
    match (&runner, self_hosted, policy.allow_self_hosted) {
        (None, _, _) => checks.skip(
            CheckName::RunnerEnvironment,
            "runner environment not stated",
        ),
        (Some(r), true, false) => checks.fail(
            CheckName::RunnerEnvironment,
            format!("built on a {r} runner, which the policy does not allow"),
        ),
        (Some(r), _, _) => checks.pass(CheckName::RunnerEnvironment, r.clone()),
    }

    // Build level: the builder's, capped at L1 when nothing authenticates the provenance or the
    // build ran on a machine its owner manages (SLSA Build L2 requires a hosted platform).
    if signer.is_none() || self_hosted {
        level = level.min(1);
    }
    match policy.min_level {
        None => checks.skip(
            CheckName::BuildLevel,
            format!("established SLSA Build L{level}"),
        ),
        Some(min) if level >= min => checks.pass(
            CheckName::BuildLevel,
            format!("SLSA Build L{level} ≥ L{min}"),
        ),
        Some(min) => checks.fail(
            CheckName::BuildLevel,
            format!("SLSA Build L{level} < required L{min}"),
        ),
    }

    let passed = checks.0.iter().all(|c| c.outcome != Outcome::Fail);
    Verdict {
        passed,
        level,
        checks: checks.0,
        claims: Some(claims),
    }
}

/// [`verify`] for a Statement already parsed with cairn-model (v1 or v0.1; its predicate v1 or
/// v0.2 is chosen by `predicateType`).
pub fn verify_statement(
    statement: &cairn_model::Statement,
    signer: Option<&SignerIdentity>,
    policy: &Policy,
) -> Verdict {
    let value = serde_json::to_value(statement).expect("a statement serialises to JSON");
    verify(&value, signer, policy)
}

/// `https://github.com/actions/runner/github-hosted`-style builder ids (npm's provenance and
/// early GitHub attestations): the builder is the runner, and the signer is the workflow.
fn is_runner_builder(builder_id: &str) -> bool {
    let Some((_, path)) = builder_id.split_once("://") else {
        return false;
    };
    let mut parts = path.splitn(2, '/');
    parts.next();
    matches!(
        parts.next(),
        Some("actions/runner/github-hosted" | "actions/runner/self-hosted")
    )
}

fn signer_builder(
    id: &SignerIdentity,
    claims: &ProvenanceClaims,
    policy: &Policy,
    checks: &mut Checks,
) -> Option<String> {
    let signer = id.build_signer_uri.as_deref().unwrap_or(&id.san);
    if claims.builder_id == id.san || claims.builder_id == signer {
        checks.pass(
            CheckName::Signer,
            format!("signed by the builder it names ({})", id.san),
        );
        return Some(signer.to_owned());
    }
    if policy
        .delegators
        .iter()
        .any(|d| builder_matches(d, &id.san))
    {
        checks.pass(
            CheckName::Signer,
            format!(
                "signed by trusted delegator {} for builder {}",
                id.san, claims.builder_id
            ),
        );
        return Some(claims.builder_id.clone());
    }
    if is_runner_builder(&claims.builder_id) {
        let claimed = claims.builder_id.rsplit('/').next().unwrap_or_default();
        match id.runner_environment.as_deref() {
            Some(env) if env != claimed => {
                checks.fail(
                    CheckName::Signer,
                    format!("predicate claims a {claimed} runner but the certificate says {env}"),
                );
                return None;
            }
            _ => {
                checks.pass(
                    CheckName::Signer,
                    format!(
                        "runner builder {} signed by workflow {}",
                        claims.builder_id, id.san
                    ),
                );
                return Some(claims.builder_id.clone());
            }
        }
    }
    checks.fail(
        CheckName::Signer,
        format!(
            "predicate claims builder {} but the certificate identity is {}",
            claims.builder_id, id.san
        ),
    );
    None
}

/// slsa-verifier's builder id matching.
fn builder_matches(expected: &str, actual: &str) -> bool {
    if expected == actual {
        return true;
    }
    let (actual_base, actual_version) = match actual.split_once('@') {
        Some((b, v)) => (b, Some(v)),
        None => (actual, None),
    };
    match expected.split_once('@') {
        None => expected == actual_base,
        Some((base, version)) => {
            base == actual_base
                && actual_version
                    .is_some_and(|v| v == version || v == format!("refs/tags/{version}"))
        }
    }
}

fn normalise_repo(text: &str) -> Option<String> {
    let with_scheme = if text.contains("://") || text.contains('@') && text.contains(':') {
        text.to_owned()
    } else {
        format!("https://{text}")
    };
    RepoUrl::parse(&with_scheme)
        .ok()
        .map(|u| u.without_scheme().to_owned())
}

fn effective_source(
    claims: &ProvenanceClaims,
    signer: Option<&SignerIdentity>,
    checks: &mut Checks,
) -> Option<SourceClaim> {
    let predicate = claims.source.clone();
    let Some(id) = signer else {
        return predicate;
    };
    if id.source_repository_uri.is_none()
        && id.source_repository_ref.is_none()
        && id.source_repository_digest.is_none()
    {
        return predicate;
    }
    let mut out = predicate.clone().unwrap_or(SourceClaim {
        repository: String::new(),
        git_ref: None,
        commit: None,
    });
    if let Some(cert_repo) = &id.source_repository_uri {
        if let Some(p) = &predicate
            && normalise_repo(&p.repository) != normalise_repo(cert_repo)
        {
            checks.fail(
                CheckName::SourceRepository,
                format!(
                    "predicate source {} differs from the certificate's {cert_repo}",
                    p.repository
                ),
            );
        }
        out.repository = cert_repo.clone();
    }
    if let Some(cert_ref) = &id.source_repository_ref {
        if let Some(p) = predicate.as_ref().and_then(|p| p.git_ref.as_ref())
            && p != cert_ref
        {
            checks.fail(
                CheckName::SourceRef,
                format!("predicate ref {p} differs from the certificate's {cert_ref}"),
            );
        }
        out.git_ref = Some(cert_ref.clone());
    }
    if let Some(cert_commit) = &id.source_repository_digest {
        if let Some(p) = predicate.as_ref().and_then(|p| p.commit.as_ref())
            && !p.eq_ignore_ascii_case(cert_commit)
        {
            checks.fail(
                CheckName::SourceCommit,
                format!("predicate commit {p} differs from the certificate's {cert_commit}"),
            );
        }
        out.commit = Some(cert_commit.clone());
    }
    Some(out)
}

fn check_source(policy: &Policy, source: Option<&SourceClaim>, checks: &mut Checks) {
    match (&policy.source_repository, source) {
        (None, _) => checks.skip(CheckName::SourceRepository, "no source repository required"),
        (Some(want), None) => checks.fail(
            CheckName::SourceRepository,
            format!("provenance names no source; {want} required"),
        ),
        (Some(want), Some(s)) => {
            let (w, a) = (normalise_repo(want), normalise_repo(&s.repository));
            if w.is_some() && w == a {
                checks.pass(CheckName::SourceRepository, s.repository.clone());
            } else {
                checks.fail(
                    CheckName::SourceRepository,
                    format!("source {} is not {want}", s.repository),
                );
            }
        }
    }
    let git_ref = source.and_then(|s| s.git_ref.as_deref());
    match (&policy.source_ref, git_ref) {
        (None, _) => checks.skip(CheckName::SourceRef, "no ref required"),
        (Some(rule), None) => checks.fail(
            CheckName::SourceRef,
            format!("provenance names no ref; {} required", rule.describe()),
        ),
        (Some(rule), Some(r)) => {
            let ok = match rule {
                RefRule::Branch(b) => r.strip_prefix("refs/heads/") == Some(b.as_str()),
                RefRule::Tag(t) => r.strip_prefix("refs/tags/") == Some(t.as_str()),
                RefRule::VersionedTag(t) => r
                    .strip_prefix("refs/tags/")
                    .is_some_and(|actual| versioned_tag_matches(t, actual)),
                RefRule::Pattern(re) => re.is_match(r),
            };
            if ok {
                checks.pass(CheckName::SourceRef, format!("{r} is {}", rule.describe()));
            } else {
                checks.fail(
                    CheckName::SourceRef,
                    format!("{r} is not {}", rule.describe()),
                );
            }
        }
    }
    let commit = source.and_then(|s| s.commit.as_deref());
    match (&policy.source_commit, commit) {
        (None, _) => checks.skip(CheckName::SourceCommit, "no commit required"),
        (Some(want), None) => checks.fail(
            CheckName::SourceCommit,
            format!("provenance names no commit; {want} required"),
        ),
        (Some(want), Some(c)) if c.eq_ignore_ascii_case(want) => {
            checks.pass(CheckName::SourceCommit, c.to_owned())
        }
        (Some(want), Some(c)) => {
            checks.fail(CheckName::SourceCommit, format!("commit {c} is not {want}"))
        }
    }
}

/// `v1` accepts `v1.x.y`, `v1.2` accepts `v1.2.x`, `v1.2.3` only `v1.2.3` (pre-release and build
/// suffixes of the actual tag are ignored only when the expected version stops short of them).
fn versioned_tag_matches(expected: &str, actual: &str) -> bool {
    fn parts(tag: &str) -> Option<Vec<u64>> {
        let t = tag.strip_prefix('v').unwrap_or(tag);
        let core = t.split(['-', '+']).next()?;
        core.split('.').map(|p| p.parse().ok()).collect()
    }
    let (Some(want), Some(have)) = (parts(expected), parts(actual)) else {
        return false;
    };
    if want.is_empty() || want.len() > 3 || have.len() > 3 || have.len() < want.len() {
        return false;
    }
    if want.len() == 3 && expected.trim_start_matches('v') != actual.trim_start_matches('v') {
        return false;
    }
    want.iter().zip(&have).all(|(w, h)| w == h)
}
