//! Golden provenance for every platform scenario, from complete environment fixtures in
//! testdata/slsa/env. Each output is also checked structurally against the SLSA provenance v1
//! and in-toto Statement v1 protos. Regenerate with `CAIRN_BLESS=1 cargo test -p cairn-slsa`.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use cairn_slsa::links::{self, LinkRecord};
use cairn_slsa::subject::{self, HashAlgorithm};
use cairn_slsa::uri::RepoUrl;
use cairn_slsa::{GitSource, Platform, Request, Warning, generate};
use chrono::{TimeZone, Utc};

use common::*;

fn subjects() -> Vec<cairn_slsa::Subject> {
    let art = slsa().join("artifacts");
    let art = art.canonicalize().unwrap();
    let mut w = Vec::new();
    let mut out =
        subject::from_path(&art.join("hello.txt"), &[HashAlgorithm::Sha256], &mut w).unwrap();
    out.extend(subject::from_path(&art.join("dist"), &[HashAlgorithm::Sha256], &mut w).unwrap());
    assert!(w.is_empty());
    out
}

fn checkout(commit: &str, git_ref: &str, remote: &str) -> GitSource {
    GitSource {
        root: "/work/checkout".into(),
        commit: commit.into(),
        git_ref: Some(git_ref.into()),
        detached: false,
        shallow: true,
        remote: Some(RepoUrl::parse(remote).unwrap()),
    }
}

fn all_links() -> Vec<LinkRecord> {
    let mut out = links::read_dir(&slsa().join("links/legacy")).unwrap();
    out.extend(links::read_dir(&slsa().join("links/dsse")).unwrap());
    out
}

/// Runs one scenario; returns the warnings for the caller to assert.
fn golden(
    case: &str,
    git: Option<GitSource>,
    links: Vec<LinkRecord>,
    sha512: bool,
) -> (cairn_slsa::Generated, Vec<Warning>) {
    let env = env_fixture(case);
    let claims = claims_fixture(case);
    let mut subjects = subjects();
    if sha512 {
        let mut w = Vec::new();
        let art = slsa().join("artifacts").canonicalize().unwrap();
        subjects.extend(
            subject::from_path(&art.join("hello.txt"), &[HashAlgorithm::Sha512], &mut w).unwrap(),
        );
    }
    let mut request = Request::new(&env);
    request.claims = claims.as_ref();
    request.git = git.as_ref();
    request.subjects = subjects;
    request.links = links;
    request.now = Some(Utc.with_ymd_and_hms(2023, 11, 15, 0, 0, 0).unwrap());
    let generated = generate(&request).unwrap();
    let text = String::from_utf8(generated.to_pretty_json()).unwrap();
    let path = slsa().join("golden").join(format!("{case}.json"));
    if std::env::var_os("CAIRN_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing golden {}; run with CAIRN_BLESS=1", path.display()));
    assert_eq!(text, expected, "golden {case} differs");
    let problems = validate_provenance_statement(&generated.json());
    // cairn-model's own validators agree, and read the predicate back as the typed value.
    generated.statement.validate().unwrap();
    match generated.statement.typed_predicate().unwrap() {
        cairn_model::Predicate::SlsaProvenanceV1(p) => assert_eq!(*p, generated.provenance),
        other => panic!("{other:?}"),
    }
    assert!(problems.is_empty(), "{case}: {problems:#?}");
    // Deterministic: the same inputs give the same bytes.
    let again = String::from_utf8(generate(&request).unwrap().to_pretty_json()).unwrap();
    assert_eq!(again, text);
    let warnings = generated.warnings.clone();
    (generated, warnings)
}

fn pointer(g: &cairn_slsa::Generated, p: &str) -> String {
    g.json()
        .pointer(p)
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| panic!("{p} missing"))
        .to_owned()
}

#[test]
fn github_push_on_a_github_hosted_runner() {
    let git = checkout(
        "ffac537e6cbbf934b08745a378932722df287a53",
        "refs/heads/main",
        "https://github.com/octo-org/hello-world",
    );
    let (g, w) = golden("github-push-hosted", Some(git), vec![], true);
    assert_eq!(g.platform, Platform::GitHubActions);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(
        pointer(&g, "/predicate/buildDefinition/buildType"),
        "https://actions.github.io/buildtypes/workflow/v1"
    );
    assert_eq!(
        pointer(&g, "/predicate/runDetails/builder/id"),
        "https://github.com/octo-org/hello-world/.github/workflows/release.yml@refs/heads/main"
    );
    assert_eq!(
        pointer(
            &g,
            "/predicate/buildDefinition/internalParameters/github/runner_environment"
        ),
        "github-hosted"
    );
    assert_eq!(
        pointer(&g, "/predicate/runDetails/metadata/invocationId"),
        "https://github.com/octo-org/hello-world/actions/runs/1658821493/attempts/1"
    );
    // SOURCE_DATE_EPOCH clamps the time passed in.
    assert_eq!(
        pointer(&g, "/predicate/runDetails/metadata/finishedOn"),
        "2023-11-14T22:13:20Z"
    );
}

#[test]
fn github_push_on_a_self_hosted_runner() {
    let (g, _) = golden("github-push-self-hosted", None, vec![], false);
    assert_eq!(
        pointer(
            &g,
            "/predicate/buildDefinition/internalParameters/github/runner_environment"
        ),
        "self-hosted"
    );
}

#[test]
fn github_tag_push() {
    let (g, _) = golden("github-tag", None, vec![], false);
    assert_eq!(
        pointer(&g, "/predicate/buildDefinition/resolvedDependencies/0/uri"),
        "git+https://github.com/octo-org/hello-world@refs/tags/v1.2.0"
    );
    assert_eq!(
        pointer(
            &g,
            "/predicate/buildDefinition/externalParameters/workflow/ref"
        ),
        "refs/tags/v1.2.0"
    );
}

#[test]
fn github_pull_request_warns_that_the_buildtype_does_not_list_the_event() {
    let (g, w) = golden("github-pull-request", None, vec![], false);
    assert_eq!(
        pointer(&g, "/predicate/runDetails/metadata/invocationId"),
        "https://github.com/octo-org/hello-world/actions/runs/1658900412/attempts/2"
    );
    assert!(
        matches!(&w[..], [Warning::UnsupportedEvent { event, .. }] if event == "pull_request"),
        "{w:?}"
    );
}

#[test]
fn github_reusable_workflow_names_the_reusable_workflow_as_builder() {
    let (g, _) = golden("github-reusable-workflow", None, vec![], false);
    assert_eq!(
        pointer(&g, "/predicate/runDetails/builder/id"),
        "https://github.com/octo-org/shared-workflows/.github/workflows/build.yml@refs/tags/v2.0.0"
    );
    assert_eq!(
        pointer(
            &g,
            "/predicate/buildDefinition/externalParameters/workflow/path"
        ),
        ".github/workflows/publish.yml"
    );
}

#[test]
fn gitlab_branch_pipeline_on_a_gitlab_hosted_runner() {
    let (g, w) = golden("gitlab-branch", None, vec![], false);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(g.platform, Platform::GitLabCi);
    assert_eq!(
        pointer(&g, "/predicate/runDetails/builder/id"),
        "https://gitlab.com/example-group/hello-world/-/runners/12270807"
    );
    assert_eq!(
        pointer(&g, "/predicate/buildDefinition/resolvedDependencies/0/uri"),
        "git+https://gitlab.com/example-group/hello-world@refs/heads/main"
    );
    assert_eq!(
        pointer(
            &g,
            "/predicate/buildDefinition/internalParameters/gitlab/runner/environment"
        ),
        "gitlab-hosted"
    );
    // The job started before SOURCE_DATE_EPOCH? No: after, so it is clamped too.
    assert_eq!(
        pointer(&g, "/predicate/runDetails/metadata/startedOn"),
        "2023-11-14T21:58:02Z"
    );
}

#[test]
fn gitlab_tag_pipeline_on_a_self_managed_runner_without_id_token() {
    let (g, w) = golden("gitlab-tag", None, vec![], false);
    assert_eq!(
        pointer(&g, "/predicate/buildDefinition/resolvedDependencies/0/uri"),
        "git+https://gitlab.com/example-group/hello-world@refs/tags/v1.2.0"
    );
    assert!(
        matches!(&w[..], [Warning::RunnerEnvironmentUnknown]),
        "{w:?}"
    );
    assert_eq!(
        g.json()
            .pointer("/predicate/buildDefinition/internalParameters/gitlab/runner/disposable"),
        Some(&serde_json::json!(false))
    );
}

#[test]
fn gitlab_merge_request_pipeline() {
    let (g, _) = golden("gitlab-merge-request", None, vec![], false);
    assert_eq!(
        pointer(&g, "/predicate/buildDefinition/resolvedDependencies/0/uri"),
        "git+https://gitlab.com/example-group/hello-world@refs/merge-requests/7/head"
    );
    assert_eq!(
        pointer(
            &g,
            "/predicate/buildDefinition/externalParameters/mergeRequest/targetBranch"
        ),
        "main"
    );
}

#[test]
fn local_build_with_recorded_links() {
    let git = checkout(
        "ffac537e6cbbf934b08745a378932722df287a53",
        "refs/heads/main",
        "git@github.com:octo-org/hello-world.git",
    );
    let (g, w) = golden("local", Some(git), all_links(), false);
    assert_eq!(g.platform, Platform::Local);
    assert_eq!(w, [Warning::ShallowClone], "a note only");
    let json = g.json();
    let deps = json
        .pointer("/predicate/buildDefinition/resolvedDependencies")
        .unwrap()
        .as_array()
        .unwrap();
    assert_eq!(
        deps[0]["uri"],
        "git+https://github.com/octo-org/hello-world@refs/heads/main"
    );
    // foo.py appears in three links with one digest: recorded once.
    assert_eq!(deps.iter().filter(|d| d["name"] == "foo.py").count(), 1);
    let byproducts = json
        .pointer("/predicate/runDetails/byproducts")
        .unwrap()
        .as_array()
        .unwrap();
    assert_eq!(byproducts.len(), 4);
}

#[test]
fn checkout_at_another_commit_is_recorded_and_warned() {
    let env = env_fixture("github-push-hosted");
    let git = checkout(
        "1111111111111111111111111111111111111111",
        "refs/heads/other",
        "https://github.com/octo-org/hello-world",
    );
    let mut request = Request::new(&env);
    request.git = Some(&git);
    request.subjects = subjects();
    let g = generate(&request).unwrap();
    assert!(matches!(
        &g.warnings[..],
        [Warning::CheckoutDiffers {
            variable: "GITHUB_SHA",
            ..
        }]
    ));
    let json = g.json();
    let deps = json
        .pointer("/predicate/buildDefinition/resolvedDependencies")
        .unwrap()
        .as_array()
        .unwrap();
    assert_eq!(deps.len(), 2);
    assert_eq!(
        deps[1]["uri"],
        "git+https://github.com/octo-org/hello-world@refs/heads/other"
    );
    // No time given and SOURCE_DATE_EPOCH set: finishedOn is SOURCE_DATE_EPOCH.
    assert_eq!(
        g.json()
            .pointer("/predicate/runDetails/metadata/finishedOn")
            .unwrap(),
        "2023-11-14T22:13:20Z"
    );
}

#[test]
fn golden_files_exist_for_every_env_fixture() {
    for entry in std::fs::read_dir(slsa().join("env")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(case) = name.strip_suffix(".env") {
            assert!(
                Path::new(&slsa().join("golden").join(format!("{case}.json"))).exists(),
                "{case}"
            );
        }
    }
}
