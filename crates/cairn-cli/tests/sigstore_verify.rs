//! `cairn verify artifact` end to end: the sigstore-conformance protocol over every case, exit
//! codes, identity patterns, and the guarantee that offline verification opens no connection.
#![allow(clippy::unwrap_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

fn cairn() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
}

fn suite() -> PathBuf {
    cairn_testkit::testdata().join("sigstore-conformance/bundle-verify")
}

/// The sigstore-conformance `verify-bundle` protocol mapped onto `cairn verify artifact`.
fn conformance_verify(case: &Path, artifact_arg: &str) -> Output {
    let read = |f: &str| {
        std::fs::read_to_string(case.join(f))
            .ok()
            .map(|s| s.trim().to_string())
    };
    let mut cmd = cairn();
    cmd.args(["verify", "artifact", artifact_arg, "--bundle"])
        .arg(case.join("bundle.sigstore.json"));
    match read("key.pub").filter(|k| !k.is_empty()) {
        Some(_) => {
            cmd.arg("--key").arg(case.join("key.pub"));
        }
        None => {
            cmd.args([
                "--certificate-identity",
                &read("identity").unwrap_or_else(|| DEFAULT_IDENTITY.into()),
                "--certificate-oidc-issuer",
                &read("issuer").unwrap_or_else(|| DEFAULT_ISSUER.into()),
            ]);
        }
    }
    if case.join("trusted_root.json").exists() {
        cmd.arg("--trusted-root")
            .arg(case.join("trusted_root.json"));
    }
    cmd.arg("--offline").output().unwrap()
}

#[test]
fn conformance_suite_through_the_cli() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(suite())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 70);
    let mut wrong = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let artifact = if case.join("artifact").exists() {
            case.join("artifact")
        } else {
            suite().join("a.txt")
        };
        let bytes = std::fs::read(&artifact).unwrap();
        let digest = format!("sha256:{}", hex_sha256(&bytes));
        for arg in [artifact.to_string_lossy().to_string(), digest] {
            let out = conformance_verify(case, &arg);
            let code = out.status.code().unwrap();
            let ok = code == 0;
            if ok == name.ends_with("_fail") {
                wrong.push(format!(
                    "{name} ({arg}): exit {code}\n{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            // A rejected bundle is a verdict (1); only unreadable input or trust material is 2.
            assert!(code == 0 || code == 1 || code == 2, "{name}: exit {code}");
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[test]
fn verdict_exit_codes_and_json() {
    let case = suite().join("happy-path-v0.3");
    let run = |identity_flag: &str, identity: &str, artifact: &Path| {
        cairn()
            .args(["--json", "verify", "artifact"])
            .arg(artifact)
            .arg("--bundle")
            .arg(case.join("bundle.sigstore.json"))
            .args([
                identity_flag,
                identity,
                "--certificate-oidc-issuer",
                DEFAULT_ISSUER,
            ])
            .output()
            .unwrap()
    };
    let a = suite().join("a.txt");
    let out = run("--certificate-identity", DEFAULT_IDENTITY, &a);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verified"], true);
    assert_eq!(v["signer"]["identity"], DEFAULT_IDENTITY);

    // Patterns are anchored: a prefix or a substring does not match.
    let out = run(
        "--certificate-identity-regexp",
        "https://github.com/sigstore-conformance/",
        &a,
    );
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let failed: Vec<_> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .collect();
    assert_eq!(failed[0]["check"], "identity");
    let out = run(
        "--certificate-identity-regexp",
        r"https://github\.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/\.github/workflows/.*@refs/heads/main",
        &a,
    );
    assert_eq!(out.status.code(), Some(0));

    // Wrong file: verdict 1 naming the artifact check.
    let other = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(other.path(), b"not a.txt").unwrap();
    let out = run("--certificate-identity", DEFAULT_IDENTITY, other.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"passed\": false"));

    // Missing issuer is a usage error.
    let out = cairn()
        .args(["verify", "artifact"])
        .arg(&a)
        .arg("--bundle")
        .arg(case.join("bundle.sigstore.json"))
        .args(["--certificate-identity", DEFAULT_IDENTITY])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn github_claims_are_checked() {
    let case = suite().join("happy-path-v0.3");
    let run = |extra: &[&str]| {
        cairn()
            .args(["verify", "artifact"])
            .arg(suite().join("a.txt"))
            .arg("--bundle")
            .arg(case.join("bundle.sigstore.json"))
            .args([
                "--certificate-identity",
                DEFAULT_IDENTITY,
                "--certificate-oidc-issuer",
                DEFAULT_ISSUER,
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let ok = run(&[
        "--github-repository",
        "sigstore-conformance/extremely-dangerous-public-oidc-beacon",
        "--github-ref",
        "refs/heads/main",
    ]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let bad = run(&["--github-repository", "sigstore-conformance/other"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stdout).contains("GitHub repository"));
    let bad = run(&["--github-ref", "refs/tags/v1"]);
    assert_eq!(bad.status.code(), Some(1));
}

/// Offline verification must not open a single connection. Every proxy variable points to a
/// listener we own; if anything tried the network through a proxy-aware client, it would connect.
/// (By construction the verify path builds no HTTP client; this proves it from outside.)
#[test]
fn offline_verification_opens_no_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let connected = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let (c2, s2) = (connected.clone(), stop.clone());
    let watcher = std::thread::spawn(move || {
        while !s2.load(Ordering::SeqCst) {
            if listener.accept().is_ok() {
                c2.store(true, Ordering::SeqCst);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    let proxy = format!("http://{addr}");
    for case in [
        "happy-path-v0.3",
        "rekor2-happy-path",
        "signature-mismatch_fail",
    ] {
        let case = suite().join(case);
        let mut cmd = cairn();
        cmd.args(["verify", "artifact"])
            .arg(suite().join("a.txt"))
            .arg("--bundle")
            .arg(case.join("bundle.sigstore.json"))
            .args([
                "--certificate-identity",
                DEFAULT_IDENTITY,
                "--certificate-oidc-issuer",
                DEFAULT_ISSUER,
                "--offline",
            ]);
        if case.join("trusted_root.json").exists() {
            cmd.arg("--trusted-root")
                .arg(case.join("trusted_root.json"));
        }
        for var in [
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
        ] {
            cmd.env(var, &proxy);
        }
        cmd.env_remove("NO_PROXY").env_remove("no_proxy");
        let out = cmd.output().unwrap();
        assert!(out.status.code() == Some(0) || out.status.code() == Some(1));
    }
    std::thread::sleep(Duration::from_millis(50));
    assert!(
        !connected.load(Ordering::SeqCst),
        "offline verification connected to the network"
    );

    // Control: the same proxy settings do catch a command that uses the network (keyless
    // signing), so the silence above means something.
    use base64::Engine;
    let e = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let jwt = format!(
        "{}.{}.{}",
        e(br#"{"alg":"ES256"}"#),
        e(br#"{"iss":"https://issuer.test","sub":"me","aud":"sigstore","exp":99999999999}"#),
        e(b"sig")
    );
    let out = cairn()
        .args(["sign"])
        .arg(suite().join("a.txt"))
        .args([
            "--keyless",
            "--identity-token",
            &jwt,
            "--no-interactive",
            "--retries",
            "1",
            "--timeout",
            "2",
        ])
        .args([
            "--fulcio-url",
            "http://fulcio.test",
            "--rekor-url",
            "http://rekor.test",
        ])
        .arg("--bundle")
        .arg(std::env::temp_dir().join("cairn-never-written.sigstore.json"))
        .env("HTTP_PROXY", &proxy)
        .env("http_proxy", &proxy)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    std::thread::sleep(Duration::from_millis(50));
    stop.store(true, Ordering::SeqCst);
    watcher.join().unwrap();
    assert!(
        connected.load(Ordering::SeqCst),
        "the control (keyless signing) did not reach the proxy"
    );
}
