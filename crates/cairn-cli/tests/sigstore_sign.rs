//! `cairn sign` / `cairn attest` end to end against the in-process Sigstore stack (no network):
//! keyless and key-based bundles, the token sources, and failures with clear messages.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cairn_testkit::sigstore::Stack;

fn cairn() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cairn"));
    // The tests decide which token sources exist.
    for var in [
        "CAIRN_IDENTITY_TOKEN",
        "CAIRN_IDENTITY_TOKEN_FILE",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "SIGSTORE_ID_TOKEN",
        "CAIRN_KEY",
        "CAIRN_KEYLESS",
        "CAIRN_BROWSER",
        "CAIRN_NO_INTERACTIVE",
    ] {
        c.env_remove(var);
    }
    c
}

use cairn_testkit::show;

struct Env {
    stack: Stack,
    dir: tempfile::TempDir,
    trust: PathBuf,
    file: PathBuf,
}

fn env() -> Env {
    let stack = Stack::start();
    let dir = tempfile::tempdir().unwrap();
    let trust = dir.path().join("trust_config.json");
    std::fs::write(&trust, serde_json::to_vec(&stack.trust_config()).unwrap()).unwrap();
    let file = dir.path().join("app.tar.gz");
    std::fs::write(&file, b"release bytes\n".repeat(100)).unwrap();
    Env {
        stack,
        dir,
        trust,
        file,
    }
}

impl Env {
    fn verify(&self, file: &Path, bundle: &Path, identity: &str) -> Output {
        cairn()
            .args(["verify", "artifact"])
            .arg(file)
            .arg("--bundle")
            .arg(bundle)
            .args([
                "--certificate-identity",
                identity,
                "--certificate-oidc-issuer",
                &self.stack.issuer(),
            ])
            .arg("--trust-config")
            .arg(&self.trust)
            .output()
            .unwrap()
    }

    fn sign_keyless(&self, bundle: &Path, configure: impl FnOnce(&mut Command)) -> Output {
        let mut cmd = cairn();
        cmd.arg("sign")
            .arg(&self.file)
            .args(["--keyless", "--no-interactive", "--retries", "2"])
            .arg("--trust-config")
            .arg(&self.trust)
            .arg("--bundle")
            .arg(bundle);
        configure(&mut cmd);
        cmd.output().unwrap()
    }
}

#[test]
fn keyless_sign_and_attest_then_verify() {
    let e = env();
    let bundle = e.dir.path().join("app.sigstore.json");
    let token = e.stack.token("dev@cairn.test", "sigstore", 600);
    let out = e.sign_keyless(&bundle, |c| {
        c.args(["--identity-token", &token]);
    });
    assert!(out.status.success(), "{}", show(&out));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    assert_eq!(
        v["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    assert_eq!(
        v["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["kind"],
        "hashedrekord"
    );
    let out = e.verify(&e.file, &bundle, "dev@cairn.test");
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let out = e.verify(&e.file, &bundle, "someone-else@cairn.test");
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));

    let predicate = e.dir.path().join("provenance.json");
    std::fs::write(&predicate, br#"{"buildDefinition":{"buildType":"https://example.com/b"},"runDetails":{"builder":{"id":"https://example.com/builder"}}}"#).unwrap();
    let att = e.dir.path().join("app.intoto.sigstore.json");
    let out = cairn()
        .arg("attest")
        .arg(&predicate)
        .args(["--type", "slsa", "--subject"])
        .arg(&e.file)
        .args([
            "--keyless",
            "--no-interactive",
            "--identity-token",
            &token,
            "--trust-config",
        ])
        .arg(&e.trust)
        .arg("--bundle")
        .arg(&att)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&att).unwrap()).unwrap();
    assert_eq!(
        v["dsseEnvelope"]["payloadType"],
        "application/vnd.in-toto+json"
    );
    assert_eq!(
        v["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["kind"],
        "dsse"
    );
    use base64::Engine;
    let st: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(v["dsseEnvelope"]["payload"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(st["predicateType"], "https://slsa.dev/provenance/v1");
    assert_eq!(st["_type"], "https://in-toto.io/Statement/v1");
    let out = e.verify(&e.file, &att, "dev@cairn.test");
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let out = e.verify(&predicate, &att, "dev@cairn.test");
    assert_eq!(
        out.status.code(),
        Some(1),
        "a file that is not a subject: {}",
        show(&out)
    );
}

#[test]
fn token_sources() {
    let e = env();
    let token = e.stack.token("ci@cairn.test", "sigstore", 600);
    // Environment variable.
    let b = e.dir.path().join("env.json");
    let out = e.sign_keyless(&b, |c| {
        c.env("CAIRN_IDENTITY_TOKEN", &token);
    });
    assert!(out.status.success(), "{}", show(&out));
    // Token file.
    let tf = e.dir.path().join("token");
    std::fs::write(&tf, format!("{token}\n")).unwrap();
    let b = e.dir.path().join("file.json");
    let out = e.sign_keyless(&b, |c| {
        c.arg("--identity-token-file").arg(&tf);
    });
    assert!(out.status.success(), "{}", show(&out));
    // GitLab CI.
    let b = e.dir.path().join("gitlab.json");
    let out = e.sign_keyless(&b, |c| {
        c.env("SIGSTORE_ID_TOKEN", &token);
    });
    assert!(out.status.success(), "{}", show(&out));
    // GitHub Actions: the runner's token endpoint, asked for audience=sigstore with the bearer.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/token?api-version=2.0",
        listener.local_addr().unwrap()
    );
    let gh_token = token.clone();
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        let mut request = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            request.push(line);
        }
        let body = serde_json::json!({"count": 1, "value": gh_token}).to_string();
        write!(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
        request
    });
    let b = e.dir.path().join("github.json");
    let out = e.sign_keyless(&b, |c| {
        c.env("ACTIONS_ID_TOKEN_REQUEST_URL", &url)
            .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "runner-secret");
    });
    assert!(out.status.success(), "{}", show(&out));
    let request = server.join().unwrap();
    assert!(
        request[0].starts_with("GET /token?api-version=2.0&audience=sigstore "),
        "{request:?}"
    );
    assert!(
        request
            .iter()
            .any(|h| h.eq_ignore_ascii_case("authorization: bearer runner-secret\r\n")),
        "{request:?}"
    );
    assert!(e.verify(&e.file, &b, "ci@cairn.test").status.success());
    // None at all, and no browser allowed: a usage-grade error with a hint.
    let b = e.dir.path().join("none.json");
    let out = e.sign_keyless(&b, |_| {});
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no OIDC identity token found") && err.contains("hint:"),
        "{err}"
    );
    assert!(!b.exists());
}

#[test]
fn bad_tokens_and_services_fail_with_clear_errors() {
    let e = env();
    let b = e.dir.path().join("x.json");
    let expired = e.stack.token("dev@cairn.test", "sigstore", -5);
    let out = e.sign_keyless(&b, |c| {
        c.args(["--identity-token", &expired]);
    });
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("expired"),
        "{}",
        show(&out)
    );
    let wrong_aud = e.stack.token("dev@cairn.test", "not-sigstore", 600);
    let out = e.sign_keyless(&b, |c| {
        c.args(["--identity-token", &wrong_aud]);
    });
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("audience"),
        "{}",
        show(&out)
    );
    let token = e.stack.token("dev@cairn.test", "sigstore", 600);
    e.stack
        .faults
        .rekor_unavailable
        .store(100, std::sync::atomic::Ordering::SeqCst);
    let out = e.sign_keyless(&b, |c| {
        c.args(["--identity-token", &token]);
    });
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Rekor request failed after 2 attempt(s)") && err.contains("500"),
        "{err}"
    );
    assert!(!b.exists(), "no bundle is written on failure");
}

#[test]
fn key_based_bundles_with_and_without_the_log() {
    let e = env();
    let key = e.dir.path().join("k");
    let out = cairn()
        .args(["key", "generate", "--type", "ecdsa-p256", "--out"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let public = e.dir.path().join("k.pub");
    let verify = |bundle: &Path, key: &Path, extra: &[&str]| {
        cairn()
            .args(["verify", "artifact"])
            .arg(&e.file)
            .arg("--bundle")
            .arg(bundle)
            .arg("--key")
            .arg(key)
            .arg("--trust-config")
            .arg(&e.trust)
            .args(extra)
            .output()
            .unwrap()
    };
    // Without --tlog-upload (the default) nothing is sent anywhere and the bundle carries neither
    // a log entry nor a timestamp: written with a warning, and verifiers must opt in.
    let b = e.dir.path().join("key.json");
    let out = cairn()
        .arg("sign")
        .arg(&e.file)
        .arg("--key")
        .arg(&key)
        .arg("--bundle")
        .arg(&b)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--insecure-ignore-tlog"),
        "{}",
        show(&out)
    );
    assert_eq!(e.stack.log_size(), 0);
    let out = verify(&b, &public, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("FAIL transparency-log") && text.contains("no transparency-log entry"),
        "{}",
        show(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("hint: ")
            && String::from_utf8_lossy(&out.stderr).contains("--insecure-ignore-tlog"),
        "{}",
        show(&out)
    );
    let out = verify(&b, &public, &["--insecure-ignore-tlog", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verified"], true);
    assert_eq!(report["signing_times"], serde_json::json!([]));
    let details: Vec<String> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{}: {}", c["check"], c["detail"]))
        .collect();
    assert!(
        details
            .iter()
            .any(|d| d.contains("signing time unverified")),
        "{details:?}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning: --insecure-ignore-tlog"));
    // Tampered artifact, and another key, even with the opt-in.
    let tampered = e.dir.path().join("tampered.tar.gz");
    std::fs::write(&tampered, b"other bytes").unwrap();
    let out = cairn()
        .args(["verify", "artifact"])
        .arg(&tampered)
        .arg("--bundle")
        .arg(&b)
        .arg("--key")
        .arg(&public)
        .args(["--insecure-ignore-tlog"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    // The same for an attestation (DSSE bundle).
    let predicate = e.dir.path().join("predicate.json");
    std::fs::write(&predicate, br#"{"purpose":"test"}"#).unwrap();
    let att = e.dir.path().join("key-att.json");
    let out = cairn()
        .arg("attest")
        .arg(&predicate)
        .args(["--type", "https://example.com/p/v1", "--subject"])
        .arg(&e.file)
        .arg("--key")
        .arg(&key)
        .arg("--bundle")
        .arg(&att)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(verify(&att, &public, &[]).status.code(), Some(1));
    let out = verify(&att, &public, &["--insecure-ignore-tlog"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(e.stack.log_size(), 0);
    // With --tlog-upload: a hashedrekord entry with the public key, fully verified.
    let b = e.dir.path().join("key-tlog.json");
    let out = cairn()
        .arg("sign")
        .arg(&e.file)
        .arg("--key")
        .arg(&key)
        .arg("--tlog-upload")
        .arg("--trust-config")
        .arg(&e.trust)
        .arg("--bundle")
        .arg(&b)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(e.stack.log_size(), 1);
    let out = verify(&b, &public, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&b).unwrap()).unwrap();
    assert!(
        v["verificationMaterial"]["publicKey"]["hint"]
            .as_str()
            .is_some_and(|h| !h.is_empty())
    );
    // Another key: rejected.
    let other = e.dir.path().join("other");
    cairn()
        .args(["key", "generate", "--type", "ecdsa-p256", "--out"])
        .arg(&other)
        .output()
        .unwrap();
    let out = verify(&b, &e.dir.path().join("other.pub"), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
}

/// One HTTP/1.1 GET to a loopback URL: (status, Location).
fn http_get(url: &str) -> (u16, Option<String>) {
    use std::io::Read;
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut conn = std::net::TcpStream::connect(host).unwrap();
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    conn.read_to_string(&mut text).unwrap();
    let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let location = text
        .lines()
        .find_map(|l| l.strip_prefix("Location: "))
        .map(str::to_string);
    (status, location)
}

/// The interactive flow through the CLI: `CAIRN_BROWSER` names a command (here a script that hands
/// the URL to the test, which then acts as the browser: it follows the authorization URL to the
/// provider and the provider's redirect to cairn's loopback port).
#[cfg(unix)]
#[test]
fn interactive_browser_sign_in() {
    use std::os::unix::fs::PermissionsExt;
    let e = env();
    e.stack.set_browser_user("browser-dev@cairn.test");
    let url_file = e.dir.path().join("url.txt");
    let script = e.dir.path().join("browser.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nprintf '%s' \"$1\" > '{}'\n", url_file.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();

    let run = |bundle: &Path| {
        let _ = std::fs::remove_file(&url_file);
        let child = cairn()
            .arg("sign")
            .arg(&e.file)
            .args(["--keyless", "--retries", "1"])
            .env("CAIRN_BROWSER", &script)
            .arg("--trust-config")
            .arg(&e.trust)
            .arg("--bundle")
            .arg(bundle)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The "browser": wait for the URL, follow it, then the redirect.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let url = loop {
            if let Ok(u) = std::fs::read_to_string(&url_file)
                && !u.is_empty()
            {
                break u;
            }
            assert!(std::time::Instant::now() < deadline, "no URL was opened");
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let (status, location) = http_get(&url);
        assert_eq!(status, 302, "{url}");
        let location = location.unwrap();
        assert!(location.starts_with("http://127.0.0.1:"), "{location}");
        let (callback_status, _) = http_get(&location);
        (child.wait_with_output().unwrap(), url, callback_status)
    };

    let bundle = e.dir.path().join("interactive.sigstore.json");
    let (out, url, status) = run(&bundle);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(status, 200);
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&url),
        "the URL is shown for when no browser opens: {}",
        show(&out)
    );
    let out = e.verify(&e.file, &bundle, "browser-dev@cairn.test");
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));

    // A redirect carrying another state (CSRF): refused, nothing exchanged, nothing written.
    *e.stack.faults.oidc_fault.lock().unwrap() = cairn_testkit::sigstore::OidcFault::WrongState;
    let before = e
        .stack
        .faults
        .oidc_token_requests
        .load(std::sync::atomic::Ordering::SeqCst);
    let bundle = e.dir.path().join("csrf.sigstore.json");
    let (out, _, status) = run(&bundle);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert_eq!(status, 400);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("state does not match"),
        "{}",
        show(&out)
    );
    assert!(!bundle.exists());
    assert_eq!(
        e.stack
            .faults
            .oidc_token_requests
            .load(std::sync::atomic::Ordering::SeqCst),
        before
    );
}

/// `cairn trust refresh` against the in-process stack's TUF repository: the ClientTrustConfig it
/// writes signs and verifies; a tampered target is an error and writes nothing.
#[test]
fn trust_refresh_through_tuf() {
    let e = env();
    let root = e.dir.path().join("tuf-root.json");
    std::fs::write(&root, e.stack.tuf_root()).unwrap();
    let refreshed = e.dir.path().join("refreshed.json");
    let refresh = |out: &Path| {
        cairn()
            .args([
                "trust",
                "refresh",
                "--tuf-url",
                &e.stack.tuf_url(),
                "--tuf-root",
            ])
            .arg(&root)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap()
    };
    let out = refresh(&refreshed);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 TSA(s)"),
        "{}",
        show(&out)
    );
    let bundle = e.dir.path().join("refreshed.sigstore.json");
    let token = e.stack.token("dev@cairn.test", "sigstore", 600);
    let out = cairn()
        .arg("sign")
        .arg(&e.file)
        .args(["--keyless", "--no-interactive", "--identity-token", &token])
        .arg("--trust-config")
        .arg(&refreshed)
        .arg("--bundle")
        .arg(&bundle)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let out = cairn()
        .args(["verify", "artifact"])
        .arg(&e.file)
        .arg("--bundle")
        .arg(&bundle)
        .args([
            "--certificate-identity",
            "dev@cairn.test",
            "--certificate-oidc-issuer",
            &e.stack.issuer(),
            "--offline",
        ])
        .arg("--trust-config")
        .arg(&refreshed)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));

    e.stack
        .faults
        .tuf_tamper_target
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let bad = e.dir.path().join("bad.json");
    let out = refresh(&bad);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("sha256 mismatch"),
        "{}",
        show(&out)
    );
    assert!(!bad.exists());
}
