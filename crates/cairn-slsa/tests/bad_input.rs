//! Bad input gives a clear error (or a documented warning), never a panic.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use cairn_slsa::{
    Environment, Error, GitError, GitSource, Platform, Request, Subject, Warning, generate,
};
use common::env_fixture;

fn one_subject() -> Vec<Subject> {
    vec![Subject {
        name: "a".into(),
        digest: BTreeMap::from([(
            "sha256".to_owned(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".to_owned(),
        )]),
    }]
}

fn run(env: &Environment) -> Result<cairn_slsa::Generated, Error> {
    let mut r = Request::new(env);
    r.subjects = one_subject();
    generate(&r)
}

fn without(mut base: Environment, names: &[&str]) -> Environment {
    for n in names {
        base.insert(*n, "");
    }
    base
}

#[test]
fn missing_github_variables_are_all_named() {
    let env = without(
        env_fixture("github-push-hosted"),
        &["GITHUB_SHA", "RUNNER_ENVIRONMENT", "GITHUB_RUN_ATTEMPT"],
    );
    match run(&env) {
        Err(
            e @ Error::MissingVariables {
                platform: Platform::GitHubActions,
                ..
            },
        ) => {
            let Error::MissingVariables { names, .. } = &e else {
                unreachable!()
            };
            assert_eq!(
                names,
                &["GITHUB_SHA", "GITHUB_RUN_ATTEMPT", "RUNNER_ENVIRONMENT"]
            );
            assert_eq!(
                e.to_string(),
                "GitHub Actions variables missing: GITHUB_SHA, GITHUB_RUN_ATTEMPT, RUNNER_ENVIRONMENT"
            );
        }
        other => panic!("{other:?}"),
    }
    // GITHUB_ACTIONS alone.
    let bare = Environment::new().with("GITHUB_ACTIONS", "true");
    assert!(matches!(run(&bare), Err(Error::MissingVariables { names, .. }) if names.len() == 11));
}

#[test]
fn missing_gitlab_variables_and_refless_pipelines() {
    let env = without(
        env_fixture("gitlab-branch"),
        &["CI_JOB_URL", "CI_RUNNER_ID"],
    );
    assert!(
        matches!(run(&env), Err(Error::MissingVariables { platform: Platform::GitLabCi, names }) if names == ["CI_JOB_URL", "CI_RUNNER_ID"])
    );
    let env = without(env_fixture("gitlab-branch"), &["CI_COMMIT_BRANCH"]);
    let err = run(&env).unwrap_err();
    assert_eq!(
        err.to_string(),
        "GitLab CI variables missing: CI_COMMIT_BRANCH, CI_COMMIT_TAG, CI_MERGE_REQUEST_IID"
    );
}

#[test]
fn malformed_variables_are_rejected_with_their_value() {
    let mut env = env_fixture("github-push-hosted");
    env.insert("GITHUB_WORKFLOW_REF", "release.yml");
    assert!(matches!(
        run(&env),
        Err(Error::InvalidVariable {
            name: "GITHUB_WORKFLOW_REF",
            ..
        })
    ));
    let mut env = env_fixture("github-push-hosted");
    env.insert("RUNNER_ENVIRONMENT", "laptop");
    assert!(matches!(
        run(&env),
        Err(Error::InvalidVariable {
            name: "RUNNER_ENVIRONMENT",
            ..
        })
    ));
    let mut env = env_fixture("github-push-hosted");
    env.insert("GITHUB_SHA", "main");
    assert!(matches!(
        run(&env),
        Err(Error::InvalidVariable {
            name: "GITHUB_SHA",
            ..
        })
    ));
    let mut env = env_fixture("gitlab-branch");
    env.insert("CI_JOB_STARTED_AT", "yesterday");
    assert!(matches!(
        run(&env),
        Err(Error::InvalidVariable {
            name: "CI_JOB_STARTED_AT",
            ..
        })
    ));
    let mut env = env_fixture("gitlab-branch");
    env.insert("SOURCE_DATE_EPOCH", "-5");
    assert!(matches!(run(&env), Err(Error::SourceDateEpoch { .. })));
}

#[test]
fn gitlab_merged_results_and_merge_trains_use_their_refs() {
    for (event, suffix) in [
        ("merged_result", "merge"),
        ("merge_train", "train"),
        ("detached", "head"),
    ] {
        let mut env = env_fixture("gitlab-merge-request");
        env.insert("CI_MERGE_REQUEST_EVENT_TYPE", event);
        let g = run(&env).unwrap();
        assert_eq!(
            g.json()
                .pointer("/predicate/buildDefinition/resolvedDependencies/0/uri")
                .unwrap(),
            &format!(
                "git+https://gitlab.com/example-group/hello-world@refs/merge-requests/7/{suffix}"
            )
        );
    }
}

#[test]
fn local_build_without_a_checkout_needs_consent() {
    let env = env_fixture("local");
    let err = run(&env).unwrap_err();
    assert!(matches!(err, Error::NoSource));
    let mut r = Request::new(&env);
    r.subjects = one_subject();
    r.allow_no_source = true;
    let g = generate(&r).unwrap();
    assert!(
        g.json()
            .pointer("/predicate/buildDefinition/resolvedDependencies")
            .is_none()
    );
    // externalParameters stays a (empty) object, which the spec requires to be present.
    assert!(
        g.json()
            .pointer("/predicate/buildDefinition/externalParameters")
            .unwrap()
            .is_object()
    );
}

#[test]
fn detached_head_without_remote_is_recorded_without_ref_and_warned() {
    let env = env_fixture("local");
    let git = GitSource {
        root: "/src/project".into(),
        commit: "ffac537e6cbbf934b08745a378932722df287a53".into(),
        git_ref: None,
        detached: true,
        shallow: false,
        remote: None,
    };
    let mut r = Request::new(&env);
    r.subjects = one_subject();
    r.git = Some(&git);
    let g = generate(&r).unwrap();
    assert_eq!(
        g.json()
            .pointer("/predicate/buildDefinition/resolvedDependencies/0/uri")
            .unwrap(),
        "git+file:///src/project"
    );
    assert!(
        matches!(
            &g.warnings[..],
            [Warning::DetachedHead { .. }, Warning::NoRemote]
        ),
        "{:?}",
        g.warnings
    );
}

#[test]
fn builder_id_override_is_for_local_builds_only() {
    let env = env_fixture("github-push-hosted");
    let mut r = Request::new(&env);
    r.subjects = one_subject();
    r.builder_id = Some("https://ci.example.com/builder".into());
    assert!(matches!(
        generate(&r),
        Err(Error::BuilderIdOverride {
            platform: Platform::GitHubActions
        })
    ));
    let local = env_fixture("local");
    let mut r = Request::new(&local);
    r.subjects = one_subject();
    r.allow_no_source = true;
    r.builder_id = Some("https://ci.example.com/builder".into());
    let g = generate(&r).unwrap();
    assert_eq!(
        g.json()
            .pointer("/predicate/runDetails/builder/id")
            .unwrap(),
        "https://ci.example.com/builder"
    );
}

#[test]
fn no_subjects_is_an_error() {
    let env = env_fixture("github-push-hosted");
    assert!(matches!(
        generate(&Request::new(&env)),
        Err(Error::NoSubjects)
    ));
}

#[test]
fn not_a_checkout_message() {
    let tmp = tempfile::tempdir().unwrap();
    let err = GitSource::read(tmp.path()).unwrap_err();
    assert!(matches!(err, GitError::NotACheckout { .. }));
    assert!(
        err.to_string().ends_with("is not inside a git checkout"),
        "{err}"
    );
}

#[test]
fn links_that_are_not_links_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("a.link"),
        br#"{"signed": {"_type": "layout"}, "signatures": []}"#,
    )
    .unwrap();
    std::fs::write(tmp.path().join("notes.txt"), b"ignored").unwrap();
    let err = cairn_slsa::links::read_dir(tmp.path()).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Link {
                reason: "signed object is not a link",
                ..
            }
        ),
        "{err}"
    );
    std::fs::write(tmp.path().join("a.link"), b"{\"a\":1,\"a\":2}").unwrap();
    assert!(matches!(
        cairn_slsa::links::read_dir(tmp.path()),
        Err(Error::LinkJson { .. })
    ));
    std::fs::write(
        tmp.path().join("a.link"),
        br#"{"payloadType": "text/plain", "payload": "", "signatures": []}"#,
    )
    .unwrap();
    assert!(matches!(
        cairn_slsa::links::read_dir(tmp.path()),
        Err(Error::Link { .. })
    ));
}

#[test]
fn an_id_token_from_another_job_is_refused() {
    let env = env_fixture("github-reusable-workflow");
    let mut claims = common::claims_fixture("github-reusable-workflow").unwrap();
    let mut r = Request::new(&env);
    r.subjects = one_subject();
    r.claims = Some(&claims);
    generate(&r).unwrap();
    claims.0.insert("repository".into(), "someone/else".into());
    let mut r = Request::new(&env);
    r.subjects = one_subject();
    r.claims = Some(&claims);
    match generate(&r) {
        Err(
            e @ Error::ClaimsMismatch {
                claim: "repository",
                ..
            },
        ) => {
            assert_eq!(
                e.to_string(),
                "the ID token's repository is \"someone/else\" but the environment says \"octo-org/hello-world\""
            )
        }
        other => panic!("{other:?}"),
    }
    // GitLab: numeric ids compare as text.
    let env = env_fixture("gitlab-branch");
    let mut claims = common::claims_fixture("gitlab-branch").unwrap();
    let mut r = Request::new(&env);
    r.subjects = one_subject();
    r.claims = Some(&claims);
    generate(&r).unwrap();
    claims.0.insert("job_id".into(), serde_json::json!(1));
    let mut r = Request::new(&env);
    r.subjects = one_subject();
    r.claims = Some(&claims);
    assert!(matches!(
        generate(&r),
        Err(Error::ClaimsMismatch {
            claim: "job_id",
            ..
        })
    ));
}

#[test]
fn gitlab_fork_merge_request_names_the_target_project() {
    let mut env = env_fixture("gitlab-merge-request");
    // The fork runs the pipeline; the merge request targets example-group/hello-world.
    env.insert(
        "CI_PROJECT_URL",
        "https://gitlab.com/contributor/hello-world",
    );
    env.insert("CI_PROJECT_PATH", "contributor/hello-world");
    env.insert(
        "CI_MERGE_REQUEST_SOURCE_PROJECT_URL",
        "https://gitlab.com/contributor/hello-world",
    );
    let g = run(&env).unwrap();
    let json = g.json();
    assert_eq!(
        json.pointer("/predicate/buildDefinition/resolvedDependencies/0/uri")
            .unwrap(),
        "git+https://gitlab.com/example-group/hello-world@refs/merge-requests/7/head"
    );
    assert_eq!(
        json.pointer("/predicate/buildDefinition/externalParameters/mergeRequest/sourceProject")
            .unwrap(),
        "https://gitlab.com/contributor/hello-world"
    );
}
