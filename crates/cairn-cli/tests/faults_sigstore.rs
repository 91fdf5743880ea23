//! Faults between `cairn sign --keyless` and the Sigstore services: a loopback proxy (the one
//! cairn-oci's registry fault tests use) in front of the in-process Fulcio and Rekor answers
//! 500s, drops connections, stalls, truncates or corrupts answers mid-operation. Expected:
//! transient faults retried a bounded number of times, then success or a clear error naming
//! the service (exit 2), never a bundle file written from a failed run, and the previous
//! bundle left as it was.
#![allow(clippy::unwrap_used)]

#[allow(dead_code)] // shared with cairn-oci's tests; not every fault is used here
#[path = "../../cairn-oci/tests/common/proxy.rs"]
mod proxy;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cairn_testkit::sigstore::Stack;
use proxy::{Fault, Proxy};

const FULCIO: &str = "/api/v2/signingCert";
const REKOR: &str = "/api/v1/log/entries";

fn show(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

struct Case {
    stack: Stack,
    proxy: Proxy,
    dir: tempfile::TempDir,
    /// Signing config pointing at the proxy; trusted root of the stack.
    trust: PathBuf,
    /// Trust config pointing at the stack directly (for verification).
    direct: PathBuf,
    file: PathBuf,
}

/// A stack behind a proxy whose rule sees (path, how many requests to that path so far).
fn case(rule: impl Fn(&str, usize) -> Fault + Send + Sync + 'static) -> Case {
    let stack = Stack::start();
    let port: u16 = stack
        .issuer()
        .trim_start_matches("http://127.0.0.1:")
        .trim_end_matches("/oidc")
        .parse()
        .unwrap();
    let fulcio = Arc::new(AtomicUsize::new(0));
    let rekor = Arc::new(AtomicUsize::new(0));
    let proxy = Proxy::start(
        port,
        Arc::new(move |_method: &str, path: &str| {
            let counter = if path.starts_with(FULCIO) {
                &fulcio
            } else if path.starts_with(REKOR) {
                &rekor
            } else {
                return Fault::Pass;
            };
            rule(path, counter.fetch_add(1, Ordering::SeqCst))
        }),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut tc = stack.trust_config();
    let via = format!("http://{}", proxy.host());
    for key in ["caUrls", "rekorTlogUrls"] {
        tc["signingConfig"][key][0]["url"] = serde_json::json!(via);
    }
    let trust = dir.path().join("via-proxy.json");
    std::fs::write(&trust, serde_json::to_vec(&tc).unwrap()).unwrap();
    let direct = dir.path().join("direct.json");
    std::fs::write(&direct, serde_json::to_vec(&stack.trust_config()).unwrap()).unwrap();
    let file = dir.path().join("app.tar.gz");
    std::fs::write(&file, b"release\n".repeat(100)).unwrap();
    Case {
        stack,
        proxy,
        dir,
        trust,
        direct,
        file,
    }
}

impl Case {
    fn sign(&self, bundle: &Path) -> Output {
        let token = self.stack.token("dev@cairn.test", "sigstore", 600);
        Command::new(env!("CARGO_BIN_EXE_cairn"))
            .arg("sign")
            .arg(&self.file)
            .args(["--keyless", "--no-interactive", "--identity-token", &token])
            .args(["--retries", "3", "--timeout", "2"])
            .arg("--trust-config")
            .arg(&self.trust)
            .arg("--bundle")
            .arg(bundle)
            .env_remove("CAIRN_KEY")
            .env_remove("CAIRN_IDENTITY_TOKEN")
            .output()
            .unwrap()
    }

    fn verify(&self, bundle: &Path) -> Output {
        Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["verify", "artifact"])
            .arg(&self.file)
            .arg("--bundle")
            .arg(bundle)
            .args(["--certificate-identity", "dev@cairn.test"])
            .args(["--certificate-oidc-issuer", &self.stack.issuer()])
            .arg("--trust-config")
            .arg(&self.direct)
            .output()
            .unwrap()
    }

    /// Signs over a previous bundle and checks the failure is clean.
    fn assert_fails_cleanly(&self, service_words: &[&str]) -> String {
        let bundle = self.dir.path().join("app.sigstore.json");
        std::fs::write(&bundle, b"previous bundle").unwrap();
        let out = self.sign(&bundle);
        assert_eq!(out.status.code(), Some(2), "{}", show(&out));
        let stderr = String::from_utf8_lossy(&out.stderr).to_lowercase();
        assert!(
            stderr.contains("error:") && service_words.iter().any(|w| stderr.contains(w)),
            "error names the service ({service_words:?}): {}",
            show(&out)
        );
        assert_eq!(std::fs::read(&bundle).unwrap(), b"previous bundle");
        let leftovers: Vec<_> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
        stderr
    }
}

#[test]
fn transient_faults_on_both_services_are_retried_and_the_bundle_verifies() {
    // First attempt to each service fails (500, then a dropped connection).
    let c = case(|path, n| match (path.starts_with(FULCIO), n) {
        (true, 0) => Fault::Error500,
        (false, 0) => Fault::Drop,
        _ => Fault::Pass,
    });
    let bundle = c.dir.path().join("app.sigstore.json");
    let out = c.sign(&bundle);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(c.proxy.injected(), 2, "both faults were hit");
    let out = c.verify(&bundle);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
}

#[test]
fn a_dead_transparency_log_fails_after_bounded_retries() {
    let c = case(|path, _| {
        if path.starts_with(REKOR) {
            Fault::Drop
        } else {
            Fault::Pass
        }
    });
    c.assert_fails_cleanly(&["rekor", "transparency log", "log"]);
    assert_eq!(c.proxy.injected(), 3, "exactly --retries attempts");
}

#[test]
fn a_stalled_certificate_authority_times_out() {
    let c = case(|path, _| {
        if path.starts_with(FULCIO) {
            Fault::Stall(Duration::from_secs(20))
        } else {
            Fault::Pass
        }
    });
    let start = Instant::now();
    c.assert_fails_cleanly(&["fulcio", "certificate", "timed out", "timeout"]);
    // 3 attempts x 2 s timeout plus backoff: far from the 20 s stall each.
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn corrupted_or_truncated_answers_are_not_turned_into_bundles() {
    for fault in [Fault::Corrupt, Fault::Truncate(40)] {
        for service in [FULCIO, REKOR] {
            let c = case(move |path, _| {
                if path.starts_with(service) {
                    fault
                } else {
                    Fault::Pass
                }
            });
            c.assert_fails_cleanly(&["fulcio", "rekor", "certificate", "log", "response"]);
            assert!(c.proxy.injected() >= 1, "{fault:?} on {service}");
        }
    }
}
