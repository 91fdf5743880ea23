//! What a provenance Statement claims, read from any of the versions in use: Statement v1 or
//! v0.1, SLSA provenance v1 or v0.2. Dispatch is on `_type` and `predicateType`, never on
//! which parse happens to succeed.

use cairn_model::digest::validate_digest;
use serde_json::{Map, Value};

use crate::uri::split_git_uri;

/// in-toto Statement v0.1 (what slsa-github-generator still writes).
pub const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";
/// SLSA provenance v0.2.
pub const PROVENANCE_V02: &str = "https://slsa.dev/provenance/v0.2";

/// Which predicate version a Statement carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub enum PredicateVersion {
    /// `https://slsa.dev/provenance/v1`.
    V1,
    /// `https://slsa.dev/provenance/v0.2`.
    V02,
}

/// The source a provenance document says was built.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SourceClaim {
    /// Repository location as written (`https://github.com/o/r`), without `git+` and ref.
    pub repository: String,
    /// The full git ref (`refs/heads/main`), when stated.
    pub git_ref: Option<String>,
    /// The commit (`gitCommit`, or `sha1` in v0.2), when stated.
    pub commit: Option<String>,
}

/// The claims a verifier checks, extracted from one Statement.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProvenanceClaims {
    /// The Statement's `_type`.
    pub statement_type: String,
    /// The predicate version.
    pub predicate: PredicateVersion,
    /// Subjects: name and digests.
    pub subjects: Vec<(String, Map<String, Value>)>,
    /// `runDetails.builder.id` (v1) or `builder.id` (v0.2).
    pub builder_id: String,
    /// `buildDefinition.buildType` (v1) or `buildType` (v0.2).
    pub build_type: String,
    /// The source, when the document names one.
    pub source: Option<SourceClaim>,
    /// `github-hosted`/`self-hosted` (GitHub) or `gitlab-hosted`/`self-hosted` (GitLab), when stated.
    pub runner_environment: Option<String>,
}

/// Why a Statement is not acceptable provenance. These mirror the in-toto attestation Go
/// validators (`Statement.Validate`, `ResourceDescriptor.Validate`, `Provenance.Validate`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatementProblem {
    /// Not a JSON object.
    #[error("statement is not a JSON object")]
    NotAnObject,
    /// `_type` is not Statement v1 or v0.1.
    #[error("_type {0:?} is not an in-toto Statement v1 or v0.1")]
    StatementType(String),
    /// No subjects.
    #[error("statement has no subject")]
    NoSubject,
    /// A resource descriptor has none of name, uri, digest.
    #[error("{0} has none of name, uri and digest")]
    DescriptorEmpty(&'static str),
    /// A subject has no digest.
    #[error("a subject has no digest")]
    SubjectDigest,
    /// A digest is malformed.
    #[error("{context}: {problem}")]
    Digest {
        /// Where.
        context: &'static str,
        /// What.
        problem: cairn_model::DigestError,
    },
    /// `predicateType` missing.
    #[error("predicateType is missing")]
    PredicateTypeMissing,
    /// `predicate` missing.
    #[error("predicate is missing")]
    PredicateMissing,
    /// A predicate type other than SLSA provenance v1 or v0.2.
    #[error("predicateType {0:?} is not SLSA provenance v1 or v0.2")]
    NotProvenance(String),
    /// A required predicate field is missing or has the wrong type.
    #[error("predicate field {0} is missing or malformed")]
    Field(&'static str),
}

/// Validates the Statement envelope (type, subjects, predicate presence), whatever the predicate.
pub fn validate_statement(statement: &Value) -> Result<(), StatementProblem> {
    let obj = statement.as_object().ok_or(StatementProblem::NotAnObject)?;
    let ty = obj.get("_type").and_then(Value::as_str).unwrap_or_default();
    if ty != crate::STATEMENT_V1 && ty != STATEMENT_V01 {
        return Err(StatementProblem::StatementType(ty.to_owned()));
    }
    let subjects = obj
        .get("subject")
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty())
        .ok_or(StatementProblem::NoSubject)?;
    for s in subjects {
        validate_descriptor(s, "subject")?;
        if s.get("digest")
            .and_then(Value::as_object)
            .is_none_or(Map::is_empty)
        {
            return Err(StatementProblem::SubjectDigest);
        }
    }
    if obj
        .get("predicateType")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(StatementProblem::PredicateTypeMissing);
    }
    if obj.get("predicate").is_none_or(Value::is_null) {
        return Err(StatementProblem::PredicateMissing);
    }
    Ok(())
}

/// Validates one ResourceDescriptor: at least one of name, uri, digest (or content), and
/// well-formed digests for the algorithms the spec fixes.
pub fn validate_descriptor(rd: &Value, context: &'static str) -> Result<(), StatementProblem> {
    let obj = rd
        .as_object()
        .ok_or(StatementProblem::DescriptorEmpty(context))?;
    let has = |k: &str| {
        obj.get(k)
            .is_some_and(|v| !v.is_null() && v.as_str() != Some(""))
    };
    let digest = obj.get("digest").and_then(Value::as_object);
    if !has("name") && !has("uri") && digest.is_none_or(Map::is_empty) && !has("content") {
        return Err(StatementProblem::DescriptorEmpty(context));
    }
    if let Some(d) = digest {
        for (alg, v) in d {
            let v = v.as_str().ok_or(StatementProblem::Field("digest value"))?;
            validate_digest(alg, v)
                .map_err(|problem| StatementProblem::Digest { context, problem })?;
        }
    }
    Ok(())
}

/// Validates a SLSA provenance v1 predicate body: `buildDefinition.buildType`,
/// `buildDefinition.externalParameters` and `runDetails.builder.id` are required, and every
/// resource descriptor in it must be well formed.
pub fn validate_provenance_v1(predicate: &Value) -> Result<(), StatementProblem> {
    let bd = predicate
        .get("buildDefinition")
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
        .ok_or(StatementProblem::Field("buildDefinition"))?;
    if bd
        .get("buildType")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(StatementProblem::Field("buildDefinition.buildType"));
    }
    // Present and an object; empty is allowed (a build with no external inputs), as in the Go
    // validator, which only rejects a missing Struct.
    if bd
        .get("externalParameters")
        .and_then(Value::as_object)
        .is_none()
    {
        return Err(StatementProblem::Field(
            "buildDefinition.externalParameters",
        ));
    }
    if let Some(deps) = bd.get("resolvedDependencies") {
        for d in deps.as_array().ok_or(StatementProblem::Field(
            "buildDefinition.resolvedDependencies",
        ))? {
            validate_descriptor(d, "resolvedDependencies")?;
        }
    }
    let rd = predicate
        .get("runDetails")
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
        .ok_or(StatementProblem::Field("runDetails"))?;
    let builder = rd
        .get("builder")
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
        .ok_or(StatementProblem::Field("runDetails.builder"))?;
    if builder
        .get("id")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(StatementProblem::Field("runDetails.builder.id"));
    }
    if let Some(list) = rd.get("byproducts") {
        for d in list
            .as_array()
            .ok_or(StatementProblem::Field("runDetails.byproducts"))?
        {
            validate_descriptor(d, "byproducts")?;
        }
    }
    Ok(())
}

impl ProvenanceClaims {
    /// Reads the claims of a provenance Statement (the decoded DSSE payload).
    pub fn from_statement(statement: &Value) -> Result<Self, StatementProblem> {
        validate_statement(statement)?;
        let predicate_type = statement
            .get("predicateType")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let predicate = &statement["predicate"];
        let subjects = statement["subject"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|s| {
                        (
                            s.get("name")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned(),
                            s.get("digest")
                                .and_then(Value::as_object)
                                .cloned()
                                .unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let statement_type = statement["_type"].as_str().unwrap_or_default().to_owned();
        match predicate_type {
            crate::PROVENANCE_V1 => {
                validate_provenance_v1(predicate)?;
                let bd = &predicate["buildDefinition"];
                let build_type = bd["buildType"].as_str().unwrap_or_default().to_owned();
                Ok(ProvenanceClaims {
                    statement_type,
                    predicate: PredicateVersion::V1,
                    subjects,
                    builder_id: predicate["runDetails"]["builder"]["id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    source: source_v1(bd),
                    runner_environment: runner_environment_v1(bd),
                    build_type,
                })
            }
            PROVENANCE_V02 => {
                let builder_id = predicate
                    .pointer("/builder/id")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .ok_or(StatementProblem::Field("builder.id"))?
                    .to_owned();
                let build_type = predicate
                    .get("buildType")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .ok_or(StatementProblem::Field("buildType"))?
                    .to_owned();
                Ok(ProvenanceClaims {
                    statement_type,
                    predicate: PredicateVersion::V02,
                    subjects,
                    builder_id,
                    build_type,
                    source: source_v02(predicate),
                    runner_environment: None,
                })
            }
            other => Err(StatementProblem::NotProvenance(other.to_owned())),
        }
    }
}

fn git_digest(d: &Value) -> Option<String> {
    d.get("gitCommit")
        .or_else(|| d.get("sha1"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn claim_from_uri(uri: &str, digest: Option<&Value>) -> SourceClaim {
    let (repository, git_ref) = split_git_uri(uri);
    SourceClaim {
        repository,
        git_ref,
        commit: digest.and_then(git_digest),
    }
}

/// The source of a v1 predicate: the resolved dependency for the buildType's declared
/// repository when it names one (GitHub `workflow.repository`, cairn `source.repository`), else
/// the first `git+` dependency with a commit digest, else slsa-github-generator's delegator
/// internal parameters.
fn source_v1(bd: &Value) -> Option<SourceClaim> {
    let ext = &bd["externalParameters"];
    let declared = ext
        .pointer("/workflow/repository")
        .or_else(|| ext.pointer("/source/repository"))
        .and_then(Value::as_str);
    let deps = bd.get("resolvedDependencies").and_then(Value::as_array);
    let git_deps = || {
        deps.into_iter()
            .flatten()
            .filter_map(|d| Some((d.get("uri")?.as_str()?, d.get("digest"))))
            .filter(|(uri, _)| uri.starts_with("git+"))
    };
    if let Some(repo) = declared {
        if let Some((uri, digest)) = git_deps().find(|(uri, _)| split_git_uri(uri).0 == repo) {
            return Some(claim_from_uri(uri, digest));
        }
        let git_ref = ext
            .pointer("/workflow/ref")
            .or_else(|| ext.pointer("/source/ref"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        return Some(SourceClaim {
            repository: repo.to_owned(),
            git_ref,
            commit: None,
        });
    }
    if let Some((uri, digest)) =
        git_deps().find(|(_, d)| d.is_some_and(|d| git_digest(d).is_some()))
    {
        return Some(claim_from_uri(uri, digest));
    }
    let internal = &bd["internalParameters"];
    let repo = internal.get("GITHUB_REPOSITORY").and_then(Value::as_str)?;
    let server = "https://github.com";
    Some(SourceClaim {
        repository: format!("{server}/{repo}"),
        git_ref: internal
            .get("GITHUB_REF")
            .and_then(Value::as_str)
            .map(str::to_owned),
        commit: internal
            .get("GITHUB_SHA")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

fn runner_environment_v1(bd: &Value) -> Option<String> {
    let ip = &bd["internalParameters"];
    ip.pointer("/github/runner_environment")
        .or_else(|| ip.pointer("/gitlab/runner/environment"))
        .or_else(|| bd.pointer("/externalParameters/runner_environment"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn source_v02(predicate: &Value) -> Option<SourceClaim> {
    if let Some(cs) = predicate.pointer("/invocation/configSource")
        && let Some(uri) = cs.get("uri").and_then(Value::as_str)
    {
        return Some(claim_from_uri(uri, cs.get("digest")));
    }
    let m = predicate.get("materials")?.as_array()?.first()?;
    let uri = m.get("uri")?.as_str()?;
    Some(claim_from_uri(uri, m.get("digest")))
}
