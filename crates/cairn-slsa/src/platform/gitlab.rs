//! GitLab CI/CD: cairn's buildType `…/docs/buildtypes/gitlab-ci-v1.md`.
//!
//! GitLab documents one SLSA v1 buildType (`https://gitlab.com/gitlab-org/gitlab-runner/-/blob/
//! {VERSION}/PROVENANCE.md`, "experiment" status), but it describes provenance the *runner*
//! writes: its `externalParameters.variables` must list every CI/CD variable with masked values
//! replaced by `[MASKED]`, which a process inside the job cannot know. Claiming that buildType
//! from inside a job would either leak secrets or be incomplete, so cairn uses its own, specified
//! in `docs/buildtypes/gitlab-ci-v1.md`. It keeps GitLab's builder id form
//! (`{server}/{project}/-/runners/{id}`), so allowlists work for both.

use serde_json::{Map, Value, json};

use super::{BuildContext, CAIRN_DOCS, PlatformInput, SourceRef, check_checkout, require};
use crate::env::Platform;
use crate::uri::RepoUrl;
use crate::{Error, Warning};

/// cairn's GitLab CI buildType.
pub fn build_type() -> String {
    format!("{CAIRN_DOCS}/gitlab-ci-v1.md")
}

const REQUIRED: [&str; 12] = [
    "CI_SERVER_URL",
    "CI_PROJECT_PATH",
    "CI_PROJECT_URL",
    "CI_PROJECT_ID",
    "CI_PIPELINE_ID",
    "CI_PIPELINE_SOURCE",
    "CI_JOB_ID",
    "CI_JOB_NAME",
    "CI_JOB_URL",
    "CI_COMMIT_SHA",
    "CI_COMMIT_REF_NAME",
    "CI_RUNNER_ID",
];

pub(super) fn describe(input: PlatformInput<'_>) -> Result<BuildContext, Error> {
    let env = input.env;
    let [
        server_url,
        project_path,
        project_url,
        project_id,
        pipeline_id,
        pipeline_source,
        job_id,
        job_name,
        job_url,
        sha,
        _ref_name,
        runner_id,
    ] = require(env, Platform::GitLabCi, REQUIRED)?;
    let server_url = server_url.trim_end_matches('/');
    let mut warnings = Vec::new();
    if !sha.bytes().all(|b| b.is_ascii_hexdigit()) || !matches!(sha.len(), 40 | 64) {
        return Err(Error::InvalidVariable {
            name: "CI_COMMIT_SHA",
            value: sha.to_owned(),
            reason: "expected a hex commit id",
        });
    }
    // `refs/merge-requests/*` live in the merge request's target project, which is not the
    // project running the pipeline when a fork runs it.
    let (repo_var, repo_text) = match (
        env.get("CI_MERGE_REQUEST_IID"),
        env.get("CI_MERGE_REQUEST_PROJECT_URL"),
    ) {
        (Some(_), Some(url)) => ("CI_MERGE_REQUEST_PROJECT_URL", url),
        _ => ("CI_PROJECT_URL", project_url),
    };
    let repo = RepoUrl::parse(repo_text).map_err(|source| Error::RepositoryUrl {
        name: repo_var,
        source,
    })?;

    // Which ref the pipeline ran for. Merge request pipelines run on GitLab's
    // `refs/merge-requests/IID/{head,merge,train}` refs, in the target project.
    let merge_request = env.get("CI_MERGE_REQUEST_IID");
    let git_ref = if let Some(iid) = merge_request {
        match env.get("CI_MERGE_REQUEST_EVENT_TYPE") {
            Some("merged_result") => format!("refs/merge-requests/{iid}/merge"),
            Some("merge_train") => format!("refs/merge-requests/{iid}/train"),
            _ => env
                .get("CI_MERGE_REQUEST_REF_PATH")
                .map(str::to_owned)
                .unwrap_or_else(|| format!("refs/merge-requests/{iid}/head")),
        }
    } else if let Some(tag) = env.get("CI_COMMIT_TAG") {
        format!("refs/tags/{tag}")
    } else if let Some(branch) = env.get("CI_COMMIT_BRANCH") {
        format!("refs/heads/{branch}")
    } else {
        return Err(Error::MissingVariables {
            platform: Platform::GitLabCi,
            names: vec!["CI_COMMIT_BRANCH", "CI_COMMIT_TAG", "CI_MERGE_REQUEST_IID"],
        });
    };

    let mut source = Map::new();
    source.insert("repository".into(), json!(repo.as_str()));
    source.insert("ref".into(), json!(git_ref));
    let mut external = Map::new();
    external.insert("source".into(), Value::Object(source));
    external.insert(
        "configPath".into(),
        json!(env.get("CI_CONFIG_PATH").unwrap_or(".gitlab-ci.yml")),
    );
    external.insert("entryPoint".into(), json!(job_name));
    external.insert("pipelineSource".into(), json!(pipeline_source));
    if let Some(iid) = merge_request {
        let mut mr = Map::new();
        mr.insert("iid".into(), json!(iid));
        for (key, var) in [
            ("eventType", "CI_MERGE_REQUEST_EVENT_TYPE"),
            ("sourceBranch", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"),
            ("sourceProject", "CI_MERGE_REQUEST_SOURCE_PROJECT_URL"),
            ("targetBranch", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME"),
        ] {
            if let Some(v) = env.get(var) {
                mr.insert(key.into(), json!(v));
            }
        }
        external.insert("mergeRequest".into(), Value::Object(mr));
    }

    let mut runner = Map::new();
    runner.insert("id".into(), json!(runner_id));
    for (key, var) in [
        ("description", "CI_RUNNER_DESCRIPTION"),
        ("version", "CI_RUNNER_VERSION"),
        ("revision", "CI_RUNNER_REVISION"),
        ("architecture", "CI_RUNNER_EXECUTABLE_ARCH"),
    ] {
        if let Some(v) = env.get(var) {
            runner.insert(key.into(), json!(v));
        }
    }
    if let Some(tags) = env.get("CI_RUNNER_TAGS") {
        // GitLab documents a JSON array ("[\"docker\", \"linux\"]"); older runners wrote a
        // comma-separated list.
        let list: Vec<String> = match serde_json::from_str::<Vec<String>>(tags) {
            Ok(list) => list,
            Err(_) => tags
                .split(',')
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect(),
        };
        runner.insert("tags".into(), json!(list));
    }
    super::check_claims(
        input.claims,
        &[
            ("project_path", project_path),
            ("project_id", project_id),
            ("sha", sha),
            ("pipeline_id", pipeline_id),
            ("job_id", job_id),
        ],
    )?;
    let runner_environment = input.claims.and_then(|c| c.get("runner_environment"));
    match runner_environment {
        Some(v) => {
            runner.insert("environment".into(), json!(v));
        }
        None => warnings.push(Warning::RunnerEnvironmentUnknown),
    }
    if env.is_true("CI_DISPOSABLE_ENVIRONMENT") {
        runner.insert("disposable".into(), json!(true));
    } else if env.is_true("CI_SHARED_ENVIRONMENT") {
        runner.insert("disposable".into(), json!(false));
    }

    let mut gitlab = Map::new();
    gitlab.insert("projectId".into(), json!(project_id));
    if let Some(ns) = env.get("CI_PROJECT_NAMESPACE_ID") {
        gitlab.insert("namespaceId".into(), json!(ns));
    }
    gitlab.insert("pipelineId".into(), json!(pipeline_id));
    if let Some(url) = env.get("CI_PIPELINE_URL") {
        gitlab.insert("pipelineUrl".into(), json!(url));
    }
    gitlab.insert("jobId".into(), json!(job_id));
    if let Some(p) = env.get("CI_COMMIT_REF_PROTECTED") {
        gitlab.insert("refProtected".into(), json!(p.eq_ignore_ascii_case("true")));
    }
    gitlab.insert("runner".into(), Value::Object(runner));
    let mut internal = Map::new();
    internal.insert("gitlab".into(), Value::Object(gitlab));

    let started_on = match env.get("CI_JOB_STARTED_AT") {
        Some(text) => Some(
            chrono::DateTime::parse_from_rfc3339(text)
                .map_err(|_| Error::InvalidVariable {
                    name: "CI_JOB_STARTED_AT",
                    value: text.to_owned(),
                    reason: "expected an RFC 3339 time",
                })?
                .with_timezone(&chrono::Utc),
        ),
        None => None,
    };
    let mut builder_version = std::collections::BTreeMap::new();
    if let Some(v) = env.get("CI_RUNNER_VERSION") {
        builder_version.insert("gitlab-runner".to_owned(), v.to_owned());
    }
    warnings.extend(check_checkout(input.git, sha, "CI_COMMIT_SHA"));
    Ok(BuildContext {
        platform: Platform::GitLabCi,
        build_type: build_type(),
        external_parameters: external,
        internal_parameters: internal,
        builder_id: format!("{server_url}/{project_path}/-/runners/{runner_id}"),
        builder_version,
        invocation_id: Some(job_url.to_owned()),
        started_on,
        source: Some(SourceRef {
            uri: repo.git_uri(Some(&git_ref)),
            commit: sha.to_ascii_lowercase(),
        }),
        warnings,
    })
}
