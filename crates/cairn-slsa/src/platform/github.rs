//! GitHub Actions: buildType `https://actions.github.io/buildtypes/workflow/v1`, written exactly as
//! GitHub's own `actions/attest-build-provenance` (`@actions/attest` `provenance.ts`) writes it, so
//! that `gh attestation verify` policies and cairn's read cairn's provenance alike.
//!
//! Every value comes from GitHub's documented default environment variables; GitHub's action
//! reads the same values from the job's OIDC token claims. The one value only the token carries
//! is `job_workflow_ref` (the reusable workflow running the job, when there is one): without the
//! claims, the top-level workflow (`GITHUB_WORKFLOW_REF`) is the builder, which is the same thing
//! for every job that does not call a reusable workflow.

use serde_json::{Map, Value, json};

use super::{BuildContext, PlatformInput, SourceRef, check_checkout, require};
use crate::env::Platform;
use crate::uri::RepoUrl;
use crate::{Error, Warning};

/// The buildType GitHub's attestation action writes.
pub const BUILD_TYPE: &str = "https://actions.github.io/buildtypes/workflow/v1";

/// The events the buildType specification lists as supported.
pub const SUPPORTED_EVENTS: &[&str] = &["create", "release", "push", "workflow_dispatch"];

/// The variables GitHub documents as always set in a job, that provenance needs.
const REQUIRED: [&str; 11] = [
    "GITHUB_SERVER_URL",
    "GITHUB_REPOSITORY",
    "GITHUB_REPOSITORY_ID",
    "GITHUB_REPOSITORY_OWNER_ID",
    "GITHUB_EVENT_NAME",
    "GITHUB_REF",
    "GITHUB_SHA",
    "GITHUB_WORKFLOW_REF",
    "GITHUB_RUN_ID",
    "GITHUB_RUN_ATTEMPT",
    "RUNNER_ENVIRONMENT",
];

pub(super) fn describe(input: PlatformInput<'_>) -> Result<BuildContext, Error> {
    let env = input.env;
    let [
        server_url,
        repository,
        repository_id,
        repository_owner_id,
        event_name,
        git_ref,
        sha,
        workflow_ref,
        run_id,
        run_attempt,
        runner_environment,
    ] = require(env, Platform::GitHubActions, REQUIRED)?;
    let server_url = server_url.trim_end_matches('/');
    let mut warnings = Vec::new();

    // `owner/repo/.github/workflows/build.yml@refs/heads/main` → path and ref; the ref (a tag)
    // may itself contain '@', so only the first '@' after the path splits.
    let (workflow_path, workflow_git_ref) =
        split_workflow_ref(repository, workflow_ref).ok_or(Error::InvalidVariable {
            name: "GITHUB_WORKFLOW_REF",
            value: workflow_ref.to_owned(),
            reason: "expected OWNER/REPO/PATH@REF",
        })?;

    super::check_claims(
        input.claims,
        &[
            ("repository", repository),
            ("sha", sha),
            ("ref", git_ref),
            ("run_id", run_id),
            ("run_attempt", run_attempt),
            ("workflow_ref", workflow_ref),
        ],
    )?;
    let job_workflow_ref = match input.claims.and_then(|c| c.get("job_workflow_ref")) {
        Some(job) => job.to_owned(),
        None => workflow_ref.to_owned(),
    };
    if !SUPPORTED_EVENTS.contains(&event_name) {
        warnings.push(Warning::UnsupportedEvent {
            build_type: BUILD_TYPE,
            event: event_name.to_owned(),
        });
    }
    if !matches!(runner_environment, "github-hosted" | "self-hosted") {
        return Err(Error::InvalidVariable {
            name: "RUNNER_ENVIRONMENT",
            value: runner_environment.to_owned(),
            reason: "expected github-hosted or self-hosted",
        });
    }
    if !sha.bytes().all(|b| b.is_ascii_hexdigit()) || !matches!(sha.len(), 40 | 64) {
        return Err(Error::InvalidVariable {
            name: "GITHUB_SHA",
            value: sha.to_owned(),
            reason: "expected a hex commit id",
        });
    }
    let repo_url = format!("{server_url}/{repository}");
    // The URL must be usable as a repository location (this rejects a malformed server URL).
    RepoUrl::parse(&repo_url).map_err(|source| Error::RepositoryUrl {
        name: "GITHUB_SERVER_URL",
        source,
    })?;

    let mut workflow = Map::new();
    workflow.insert("ref".into(), json!(workflow_git_ref));
    workflow.insert("repository".into(), json!(repo_url));
    workflow.insert("path".into(), json!(workflow_path));
    let mut external = Map::new();
    external.insert("workflow".into(), Value::Object(workflow));

    let mut github = Map::new();
    github.insert("event_name".into(), json!(event_name));
    github.insert("repository_id".into(), json!(repository_id));
    github.insert("repository_owner_id".into(), json!(repository_owner_id));
    github.insert("runner_environment".into(), json!(runner_environment));
    let mut internal = Map::new();
    internal.insert("github".into(), Value::Object(github));

    warnings.extend(check_checkout(input.git, sha, "GITHUB_SHA"));
    Ok(BuildContext {
        platform: Platform::GitHubActions,
        build_type: BUILD_TYPE.to_owned(),
        external_parameters: external,
        internal_parameters: internal,
        builder_id: format!("{server_url}/{job_workflow_ref}"),
        builder_version: Default::default(),
        invocation_id: Some(format!(
            "{server_url}/{repository}/actions/runs/{run_id}/attempts/{run_attempt}"
        )),
        started_on: None,
        source: Some(SourceRef {
            uri: format!("git+{repo_url}@{git_ref}"),
            commit: sha.to_ascii_lowercase(),
        }),
        warnings,
    })
}

/// Splits `owner/repo/PATH@REF` into `(PATH, REF)`.
fn split_workflow_ref<'a>(repository: &str, workflow_ref: &'a str) -> Option<(&'a str, &'a str)> {
    let rest = workflow_ref.strip_prefix(repository)?.strip_prefix('/')?;
    let (path, git_ref) = rest.split_once('@')?;
    (!path.is_empty() && !git_ref.is_empty()).then_some((path, git_ref))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_ref_splits_at_the_first_at_after_the_path() {
        assert_eq!(
            split_workflow_ref(
                "o/r",
                "o/r/.github/workflows/release.yml@refs/tags/pkg@1.2.0"
            ),
            Some((".github/workflows/release.yml", "refs/tags/pkg@1.2.0"))
        );
        assert_eq!(
            split_workflow_ref("o/r", "x/y/.github/workflows/a.yml@refs/heads/main"),
            None
        );
        assert_eq!(
            split_workflow_ref("o/r", "o/r/.github/workflows/a.yml"),
            None
        );
    }
}
