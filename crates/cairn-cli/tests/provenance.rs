//! `cairn provenance` end to end: the binary run with a cleared environment filled from the
//! platform fixtures in testdata/slsa/env, checked against the library's golden predicates, plus
//! the documented failures (exit code 2, `error:`/`hint:` lines).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn slsa() -> PathBuf {
    cairn_testkit::testdata().join("slsa")
}

fn fixture(name: &str) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(slsa().join("env").join(format!("{name}.env"))).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

/// Runs cairn with exactly `env` (plus PATH and NO_COLOR) in `dir`.
fn cairn(dir: &Path, env: &BTreeMap<String, String>, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout_json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&o.stdout)
        )
    })
}

/// A directory holding copies of the artifacts (not a git checkout).
fn workdir() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let art = slsa().join("artifacts");
    std::fs::copy(art.join("hello.txt"), tmp.path().join("hello.txt")).unwrap();
    std::fs::create_dir(tmp.path().join("dist")).unwrap();
    for f in ["app-linux-amd64", "app-darwin-arm64"] {
        std::fs::copy(art.join("dist").join(f), tmp.path().join("dist").join(f)).unwrap();
    }
    tmp
}

fn git(dir: &Path, args: &[&str]) {
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
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn github_actions_matches_the_library_golden_predicate() {
    for case in [
        "github-push-hosted",
        "github-push-self-hosted",
        "github-tag",
        "github-pull-request",
    ] {
        let dir = workdir();
        let out = cairn(
            dir.path(),
            &fixture(case),
            &["provenance", "--subject", "hello.txt", "--subject", "dist"],
        );
        assert_eq!(code(&out), 0, "{case}: {}", stderr(&out));
        let got = stdout_json(&out);
        let golden: Value = serde_json::from_slice(
            &std::fs::read(slsa().join("golden").join(format!("{case}.json"))).unwrap(),
        )
        .unwrap();
        // The clock is read by the CLI; SOURCE_DATE_EPOCH in the fixture clamps it to the same
        // instant the golden has.
        assert_eq!(got["predicate"], golden["predicate"], "{case}");
        let names: Vec<&str> = got["subject"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["dist/app-darwin-arm64", "dist/app-linux-amd64", "hello.txt"]
        );
        assert!(
            stderr(&out).contains("not inside a git checkout"),
            "a note says the source came from the variables"
        );
    }
}

#[test]
fn gitlab_with_an_id_token_records_the_runner_environment() {
    use base64::Engine;
    let dir = workdir();
    let claims = std::fs::read(slsa().join("env/gitlab-branch.claims.json")).unwrap();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let jwt = format!(
        "{}.{}.{}",
        b64.encode(br#"{"alg":"RS256"}"#),
        b64.encode(&claims),
        b64.encode(b"sig")
    );
    let mut env = fixture("gitlab-branch");
    env.insert("SIGSTORE_ID_TOKEN".into(), jwt);
    let out = cairn(
        dir.path(),
        &env,
        &["provenance", "--subject", "hello.txt", "--subject", "dist"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let golden: Value =
        serde_json::from_slice(&std::fs::read(slsa().join("golden/gitlab-branch.json")).unwrap())
            .unwrap();
    assert_eq!(stdout_json(&out)["predicate"], golden["predicate"]);

    // Without the token: written all the same, with a warning.
    let out = cairn(
        dir.path(),
        &fixture("gitlab-branch"),
        &["provenance", "--subject", "hello.txt"],
    );
    assert_eq!(code(&out), 0);
    assert!(
        stderr(&out).contains("warning: runner environment"),
        "{}",
        stderr(&out)
    );

    let mut bad = fixture("gitlab-branch");
    bad.insert("SIGSTORE_ID_TOKEN".into(), "not-a-token".into());
    let out = cairn(dir.path(), &bad, &["provenance", "--subject", "hello.txt"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("hint: --id-token"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn local_build_in_a_git_checkout_with_links_out_file_and_sha512() {
    let dir = workdir();
    git(dir.path(), &["init", "-q", "-b", "release"]);
    git(
        dir.path(),
        &[
            "remote",
            "add",
            "origin",
            "git@github.com:octo-org/hello-world.git",
        ],
    );
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "init"]);
    let links = slsa().join("links/legacy");
    let out = cairn(
        dir.path(),
        &fixture("local"),
        &[
            "provenance",
            "--subject",
            "hello.txt",
            "--links",
            links.to_str().unwrap(),
            "--hash",
            "sha256,sha512",
            "--out",
            "prov/statement.json",
        ],
    );
    assert_eq!(code(&out), 2, "the output directory does not exist yet");
    std::fs::create_dir(dir.path().join("prov")).unwrap();
    let out = cairn(
        dir.path(),
        &fixture("local"),
        &[
            "--json",
            "provenance",
            "--subject",
            "hello.txt",
            "--links",
            links.to_str().unwrap(),
            "--hash",
            "sha256,sha512",
            "--out",
            "prov/statement.json",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = stdout_json(&out);
    assert_eq!(report["platform"], "local");
    assert_eq!(report["subjects"], 1);
    let st: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("prov/statement.json")).unwrap())
            .unwrap();
    assert_eq!(
        st["subject"][0]["digest"].as_object().unwrap().len(),
        2,
        "sha256 and sha512"
    );
    let dep = &st["predicate"]["buildDefinition"]["resolvedDependencies"][0];
    assert_eq!(
        dep["uri"],
        "git+https://github.com/octo-org/hello-world@refs/heads/release"
    );
    assert_eq!(dep["digest"]["gitCommit"].as_str().unwrap().len(), 40);
    assert_eq!(
        st["predicate"]["runDetails"]["byproducts"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        st["predicate"]["runDetails"]["metadata"]["finishedOn"],
        "2023-11-14T22:13:20Z"
    );
    // No temporary files are left beside the output.
    assert_eq!(
        std::fs::read_dir(dir.path().join("prov")).unwrap().count(),
        1
    );
}

#[test]
fn checksums_file_subjects() {
    let dir = workdir();
    std::fs::write(
        dir.path().join("SHA256SUMS"),
        "dd97d2ffe163c07298d0aa477c671b91fc4eb9779847afa8877c762db4e44533  hello.txt\n87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7 *dist/app-linux-amd64\n",
    )
    .unwrap();
    let out = cairn(
        dir.path(),
        &fixture("github-tag"),
        &["provenance", "--subject-checksums", "SHA256SUMS"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let st = stdout_json(&out);
    assert_eq!(st["subject"].as_array().unwrap().len(), 2);
    std::fs::write(dir.path().join("BAD"), "xyz  hello.txt\n").unwrap();
    let out = cairn(
        dir.path(),
        &fixture("github-tag"),
        &["provenance", "--subject-checksums", "BAD"],
    );
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("BAD:1: digest is not hex"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn local_build_outside_a_checkout_fails_with_a_hint_unless_no_source() {
    let dir = workdir();
    let out = cairn(
        dir.path(),
        &fixture("local"),
        &["provenance", "--subject", "hello.txt"],
    );
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.contains("error: ") && err.contains("is not inside a git checkout"),
        "{err}"
    );
    assert!(
        err.contains("hint: ") && err.contains("--no-source"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    let out = cairn(
        dir.path(),
        &fixture("local"),
        &[
            "provenance",
            "--subject",
            "hello.txt",
            "--no-source",
            "--builder-id",
            "https://ci.example.com/jenkins",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        stdout_json(&out)["predicate"]["runDetails"]["builder"]["id"],
        "https://ci.example.com/jenkins"
    );
}

#[test]
fn missing_ci_variables_are_listed() {
    let dir = workdir();
    let mut env = fixture("github-push-hosted");
    env.remove("GITHUB_RUN_ID");
    env.remove("GITHUB_REPOSITORY_ID");
    let out = cairn(dir.path(), &env, &["provenance", "--subject", "hello.txt"]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.contains(
            "error: GitHub Actions variables missing: GITHUB_REPOSITORY_ID, GITHUB_RUN_ID"
        ),
        "{err}"
    );
    assert!(
        err.contains("hint: ") && err.contains("--platform local"),
        "{err}"
    );
}

#[test]
fn unreadable_or_missing_subjects_are_errors() {
    let dir = workdir();
    let env = fixture("github-push-hosted");
    let out = cairn(
        dir.path(),
        &env,
        &["provenance", "--subject", "nope.tar.gz"],
    );
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("cannot read subject nope.tar.gz"),
        "{}",
        stderr(&out)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let f = dir.path().join("secret.bin");
        std::fs::write(&f, b"x").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o000)).unwrap();
        // root reads anything; only check when the permission actually bites.
        if std::fs::read(&f).is_err() {
            let out = cairn(dir.path(), &env, &["provenance", "--subject", "secret.bin"]);
            assert_eq!(code(&out), 2);
            assert!(stderr(&out).contains("cannot read subject secret.bin"));
        }
    }
    let out = cairn(
        dir.path(),
        &env,
        &["provenance", "--subject", "oci:missing-layout:v1"],
    );
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("error: missing-layout is not an OCI image layout"),
        "{}",
        stderr(&out)
    );
    let out = cairn(dir.path(), &env, &["provenance"]);
    assert_eq!(code(&out), 2, "a subject is required");
}

#[test]
fn image_in_an_oci_layout_is_a_subject_by_manifest_digest() {
    use sha2::{Digest, Sha256};
    let dir = workdir();
    let layout = dir.path().join("layout");
    std::fs::create_dir_all(layout.join("blobs/sha256")).unwrap();
    std::fs::write(
        layout.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    let empty = b"{}";
    let empty_hex = hex::encode(Sha256::digest(empty));
    std::fs::write(layout.join("blobs/sha256").join(&empty_hex), empty).unwrap();
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:{empty_hex}","size":2}},"layers":[{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:{empty_hex}","size":2}}]}}"#
    );
    let manifest_hex = hex::encode(Sha256::digest(manifest.as_bytes()));
    std::fs::write(layout.join("blobs/sha256").join(&manifest_hex), &manifest).unwrap();
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{manifest_hex}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"v1"}}}}]}}"#,
        manifest.len()
    );
    std::fs::write(layout.join("index.json"), index).unwrap();
    let out = cairn(
        dir.path(),
        &fixture("github-tag"),
        &["provenance", "--subject", "oci:layout:v1"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let st = stdout_json(&out);
    assert_eq!(st["subject"][0]["digest"]["sha256"], manifest_hex.as_str());
    assert!(
        st["subject"][0]["name"]
            .as_str()
            .unwrap()
            .ends_with("layout"),
        "{}",
        st["subject"][0]
    );
    assert!(
        stderr(&out).contains(&format!("resolved to sha256:{manifest_hex}")),
        "{}",
        stderr(&out)
    );
}

/// Serves one GitHub Actions ID token request (`GET …&audience=sigstore` with the bearer) on
/// loopback and returns the URL and the request line seen.
fn github_token_endpoint(jwt: String) -> (String, std::thread::JoinHandle<String>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/token?api-version=2.0",
        listener.local_addr().unwrap()
    );
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                break;
            }
            request.push_str(&line);
        }
        let body = format!(r#"{{"count":1,"value":"{jwt}"}}"#);
        let mut stream = stream;
        write!(stream, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len()).unwrap();
        request
    });
    (url, handle)
}

#[test]
fn github_reusable_workflow_builder_comes_from_the_requested_id_token() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let claims = std::fs::read(slsa().join("env/github-reusable-workflow.claims.json")).unwrap();
    let jwt = format!(
        "{}.{}.{}",
        b64.encode(br#"{"alg":"RS256"}"#),
        b64.encode(&claims),
        b64.encode(b"sig")
    );
    let (url, server) = github_token_endpoint(jwt);
    let mut env = fixture("github-reusable-workflow");
    env.insert("ACTIONS_ID_TOKEN_REQUEST_URL".into(), url);
    env.insert(
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN".into(),
        "request-token".into(),
    );
    let dir = workdir();
    let out = cairn(
        dir.path(),
        &env,
        &["provenance", "--subject", "hello.txt", "--subject", "dist"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let request = server.join().unwrap();
    assert!(
        request.starts_with("GET /token?api-version=2.0&audience=sigstore "),
        "{request}"
    );
    assert!(
        request
            .to_ascii_lowercase()
            .contains("authorization: bearer request-token"),
        "{request}"
    );
    let golden: Value = serde_json::from_slice(
        &std::fs::read(slsa().join("golden/github-reusable-workflow.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(stdout_json(&out)["predicate"], golden["predicate"]);

    // Without the request variables: the top-level workflow, and a note saying so.
    let out = cairn(
        dir.path(),
        &fixture("github-reusable-workflow"),
        &["provenance", "--subject", "hello.txt"],
    );
    assert_eq!(code(&out), 0);
    assert_eq!(
        stdout_json(&out)["predicate"]["runDetails"]["builder"]["id"],
        "https://github.com/octo-org/hello-world/.github/workflows/publish.yml@refs/heads/main"
    );
    assert!(stderr(&out).contains("id-token: write"), "{}", stderr(&out));
}

#[test]
fn builder_id_is_refused_on_ci_platforms() {
    let dir = workdir();
    let out = cairn(
        dir.path(),
        &fixture("github-push-hosted"),
        &[
            "provenance",
            "--subject",
            "hello.txt",
            "--builder-id",
            "https://x",
        ],
    );
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("a builder id can only be given for local builds"),
        "{}",
        stderr(&out)
    );
}
