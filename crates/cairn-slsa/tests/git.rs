//! The source checkout as gitoxide reads it, against repositories made with the `git` CLI
//! (test setup only; the library never runs git).
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use cairn_slsa::{GitError, GitSource};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git is needed to build test repositories");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn repo_with_commits(dir: &Path, n: usize) -> Vec<String> {
    git(dir, &["init", "-q", "-b", "main"]);
    (0..n)
        .map(|i| {
            std::fs::write(dir.join("f"), format!("{i}")).unwrap();
            git(dir, &["add", "f"]);
            git(dir, &["commit", "-q", "-m", &format!("c{i}")]);
            git(dir, &["rev-parse", "HEAD"])
        })
        .collect()
}

#[test]
fn branch_checkout_with_a_token_in_the_remote() {
    let tmp = tempfile::tempdir().unwrap();
    let commits = repo_with_commits(tmp.path(), 1);
    git(
        tmp.path(),
        &[
            "remote",
            "add",
            "origin",
            "https://gitlab-ci-token:glcbt-secret@gitlab.example.com/g/p.git",
        ],
    );
    std::fs::create_dir(tmp.path().join("sub")).unwrap();
    let src = GitSource::read(&tmp.path().join("sub")).unwrap();
    assert_eq!(src.commit, commits[0]);
    assert_eq!(src.git_ref.as_deref(), Some("refs/heads/main"));
    assert!(!src.detached && !src.shallow);
    let remote = src.remote.unwrap();
    assert_eq!(remote.as_str(), "https://gitlab.example.com/g/p");
    assert_eq!(
        remote.git_uri(Some("refs/heads/main")),
        "git+https://gitlab.example.com/g/p@refs/heads/main"
    );
}

#[test]
fn detached_head_uses_the_single_tag_or_no_ref() {
    let tmp = tempfile::tempdir().unwrap();
    let commits = repo_with_commits(tmp.path(), 2);
    git(
        tmp.path(),
        &["tag", "-a", "v1.0.0", "-m", "release", &commits[0]],
    );
    git(tmp.path(), &["checkout", "-q", "--detach", &commits[0]]);
    let src = GitSource::read(tmp.path()).unwrap();
    assert!(src.detached);
    assert_eq!(src.commit, commits[0]);
    assert_eq!(src.git_ref.as_deref(), Some("refs/tags/v1.0.0"));
    assert_eq!(src.remote, None);

    git(tmp.path(), &["checkout", "-q", "--detach", &commits[1]]);
    let src = GitSource::read(tmp.path()).unwrap();
    assert_eq!(src.git_ref, None, "no tag names the second commit");

    // Two tags on one commit: ambiguous, so no ref.
    git(tmp.path(), &["tag", "a", &commits[1]]);
    git(tmp.path(), &["tag", "b", &commits[1]]);
    assert_eq!(GitSource::read(tmp.path()).unwrap().git_ref, None);
}

#[test]
fn shallow_clone_is_read_and_flagged() {
    let tmp = tempfile::tempdir().unwrap();
    let upstream = tmp.path().join("up");
    std::fs::create_dir(&upstream).unwrap();
    let commits = repo_with_commits(&upstream, 3);
    let url = format!("file://{}", upstream.display());
    git(tmp.path(), &["clone", "-q", "--depth", "1", &url, "clone"]);
    let src = GitSource::read(&tmp.path().join("clone")).unwrap();
    assert!(src.shallow);
    assert_eq!(src.commit, commits[2]);
    assert_eq!(src.git_ref.as_deref(), Some("refs/heads/main"));
    assert_eq!(
        src.remote.unwrap().as_str(),
        format!("file://{}", upstream.display())
    );
}

#[test]
fn not_a_checkout_and_unborn_are_distinct_errors() {
    let tmp = tempfile::tempdir().unwrap();
    // tempdirs live under /tmp, which is not inside a repository here.
    match GitSource::read(tmp.path()) {
        Err(GitError::NotACheckout { path }) => assert_eq!(path, tmp.path()),
        other => panic!("{other:?}"),
    }
    git(tmp.path(), &["init", "-q"]);
    match GitSource::read(tmp.path()) {
        Err(e @ GitError::Unborn { .. }) => assert!(e.to_string().contains("no commits yet")),
        other => panic!("{other:?}"),
    }
}
