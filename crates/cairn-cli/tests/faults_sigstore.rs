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

use cairn_testkit::show;

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

/// Faults in the Sigstore services while `cairn sign` runs (issue 10), against the in-process
/// stack's RFC 3161 TSA: HTTP 500, a stalled answer, a corrupt answer. Expected: bounded retries
/// (counted at the server), a clear error naming the service and the attempts, and no partial
/// bundle (an existing file at the output path is left as it was). And the happy path: bundles
/// timestamped through `--timestamp-server` or the signing config's TSA verify offline.
mod tsa {
    use std::path::{Path, PathBuf};
    use std::process::{Command, Output};
    use std::sync::atomic::Ordering;
    use std::time::{Duration, Instant};

    use cairn_testkit::sigstore::{Stack, TsaTamper};

    fn cairn() -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cairn"));
        for var in [
            "CAIRN_IDENTITY_TOKEN",
            "CAIRN_IDENTITY_TOKEN_FILE",
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "SIGSTORE_ID_TOKEN",
            "CAIRN_KEY",
            "CAIRN_KEYLESS",
            "CAIRN_TIMESTAMP_SERVER",
            "CAIRN_RETRIES",
            "CAIRN_TIMEOUT",
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
        key: PathBuf,
    }

    fn env() -> Env {
        let stack = Stack::start();
        let dir = tempfile::tempdir().unwrap();
        let trust = dir.path().join("trust_config.json");
        std::fs::write(&trust, serde_json::to_vec(&stack.trust_config()).unwrap()).unwrap();
        let file = dir.path().join("app.tar.gz");
        std::fs::write(&file, b"release bytes\n".repeat(64)).unwrap();
        let key = dir.path().join("k");
        let out = cairn()
            .args(["key", "generate", "--type", "ecdsa-p256", "--out"])
            .arg(&key)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", show(&out));
        Env {
            stack,
            dir,
            trust,
            file,
            key,
        }
    }

    impl Env {
        /// `cairn sign --key` timestamped by the stack's TSA, not uploaded to Rekor.
        fn sign_timestamped(&self, bundle: &Path, extra: &[&str]) -> (Output, Duration) {
            let started = Instant::now();
            let out = cairn()
                .arg("sign")
                .arg(&self.file)
                .arg("--key")
                .arg(&self.key)
                .args(["--timestamp-server", &self.stack.tsa_url()])
                .arg("--trust-config")
                .arg(&self.trust)
                .arg("--bundle")
                .arg(bundle)
                .args(extra)
                .output()
                .unwrap();
            (out, started.elapsed())
        }

        fn tsa_requests(&self) -> u32 {
            self.stack.faults.tsa_requests.swap(0, Ordering::SeqCst)
        }

        fn verify(&self, bundle: &Path, extra: &[&str]) -> Output {
            cairn()
                .args(["verify", "artifact"])
                .arg(&self.file)
                .arg("--bundle")
                .arg(bundle)
                .arg("--trust-config")
                .arg(&self.trust)
                .args(["--offline", "--json"])
                .args(extra)
                .output()
                .unwrap()
        }
    }

    const OLD: &[u8] = b"an older bundle that must survive a failed signing\n";

    fn assert_failed_cleanly(out: &Output, bundle: &Path, expected: &[&str]) {
        assert_eq!(out.status.code(), Some(2), "{}", show(out));
        let err = String::from_utf8_lossy(&out.stderr);
        for e in expected {
            assert!(err.contains(e), "missing {e:?} in: {}", show(out));
        }
        assert_eq!(
            std::fs::read(bundle).unwrap(),
            OLD,
            "the output file is untouched"
        );
        let dir = bundle.parent().unwrap();
        let leftovers: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.contains(".tmp") || n.starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    }

    #[test]
    fn tsa_500_is_retried_a_bounded_number_of_times() {
        let e = env();
        let bundle = e.dir.path().join("b.sigstore.json");
        std::fs::write(&bundle, OLD).unwrap();
        e.stack.faults.tsa_unavailable.store(100, Ordering::SeqCst);
        let (out, _) = e.sign_timestamped(&bundle, &["--retries", "3"]);
        assert_failed_cleanly(
            &out,
            &bundle,
            &["TSA request failed after 3 attempt(s)", "500"],
        );
        assert_eq!(e.tsa_requests(), 3);

        // A TSA that recovers within the retries: success, one bundle, verified offline.
        e.stack.faults.tsa_unavailable.store(1, Ordering::SeqCst);
        let (out, _) = e.sign_timestamped(&bundle, &["--retries", "3"]);
        assert_eq!(out.status.code(), Some(0), "{}", show(&out));
        assert_eq!(e.tsa_requests(), 2);
        let pubkey = e.dir.path().join("k.pub");
        let out = e.verify(
            &bundle,
            &["--key", pubkey.to_str().unwrap(), "--insecure-ignore-tlog"],
        );
        assert_eq!(out.status.code(), Some(0), "{}", show(&out));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["signing_times"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn a_stalled_tsa_times_out_per_attempt() {
        let e = env();
        let bundle = e.dir.path().join("b.sigstore.json");
        std::fs::write(&bundle, OLD).unwrap();
        e.stack.faults.tsa_stall.store(100, Ordering::SeqCst);
        e.stack.faults.tsa_stall_ms.store(20_000, Ordering::SeqCst);
        let (out, elapsed) = e.sign_timestamped(&bundle, &["--retries", "2", "--timeout", "1"]);
        assert_failed_cleanly(&out, &bundle, &["TSA request failed after 2 attempt(s)"]);
        assert_eq!(e.tsa_requests(), 2);
        // Two 1 s attempts and a 0.5 s backoff, not the TSA's 20 s stall.
        assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    }

    #[test]
    fn a_corrupt_tsa_answer_is_not_retried_and_writes_nothing() {
        let e = env();
        let bundle = e.dir.path().join("b.sigstore.json");
        std::fs::write(&bundle, OLD).unwrap();
        for tamper in [TsaTamper::Corrupt, TsaTamper::Imprint] {
            *e.stack.faults.tsa_tamper.lock().unwrap() = tamper;
            let (out, _) = e.sign_timestamped(&bundle, &["--retries", "3"]);
            assert_failed_cleanly(&out, &bundle, &["TSA request failed after 1 attempt(s)"]);
            assert_eq!(e.tsa_requests(), 1, "{tamper:?}");
        }

        // Keyless: Fulcio and Rekor answered, the TSA did not: still no bundle.
        *e.stack.faults.tsa_tamper.lock().unwrap() = TsaTamper::Corrupt;
        let token = e.stack.token("dev@cairn.test", "sigstore", 600);
        let out = cairn()
            .arg("sign")
            .arg(&e.file)
            .args([
                "--keyless",
                "--no-interactive",
                "--timestamp",
                "--identity-token",
                &token,
            ])
            .arg("--trust-config")
            .arg(&e.trust)
            .arg("--bundle")
            .arg(&bundle)
            .output()
            .unwrap();
        assert_failed_cleanly(&out, &bundle, &["TSA request failed"]);
        assert_eq!(
            e.stack.log_size(),
            1,
            "the entry was logged before the TSA failed"
        );
    }

    #[test]
    fn timestamped_keyless_bundle_from_the_signing_config_verifies_offline() {
        let e = env();
        let bundle = e.dir.path().join("keyless.sigstore.json");
        let token = e.stack.token("dev@cairn.test", "sigstore", 600);
        let out = cairn()
            .arg("sign")
            .arg(&e.file)
            .args([
                "--keyless",
                "--no-interactive",
                "--timestamp",
                "--identity-token",
                &token,
            ])
            .arg("--trust-config")
            .arg(&e.trust)
            .arg("--bundle")
            .arg(&bundle)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", show(&out));
        assert_eq!(e.tsa_requests(), 1);
        let out = e.verify(
            &bundle,
            &[
                "--certificate-identity",
                "dev@cairn.test",
                "--certificate-oidc-issuer",
                &e.stack.issuer(),
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", show(&out));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            report["signing_times"].as_array().unwrap().len(),
            2,
            "log and TSA times: {report}"
        );
    }

    /// Through the loopback fault proxy: connections to the TSA dropped or cut short.
    #[test]
    fn dropped_or_truncated_tsa_connections() {
        use super::proxy::{Fault, Proxy};
        let e = env();
        let port: u16 = e
            .stack
            .url
            .trim_start_matches("http://127.0.0.1:")
            .parse()
            .unwrap();
        let bundle = e.dir.path().join("b.sigstore.json");
        for fault in [Fault::Drop, Fault::Truncate(40), Fault::Corrupt] {
            std::fs::write(&bundle, OLD).unwrap();
            let proxy = Proxy::start(port, std::sync::Arc::new(move |_: &str, _: &str| fault));
            let url = format!(
                "http://{}{}",
                proxy.host(),
                cairn_testkit::sigstore::TSA_PATH
            );
            let out = cairn()
                .arg("sign")
                .arg(&e.file)
                .arg("--key")
                .arg(&e.key)
                .args([
                    "--timestamp-server",
                    &url,
                    "--retries",
                    "3",
                    "--timeout",
                    "2",
                ])
                .arg("--bundle")
                .arg(&bundle)
                .output()
                .unwrap();
            // A flipped byte in the CMS signature still parses: the TSA client accepts it, the
            // check against the trusted root before writing does not.
            let expected = match fault {
                Fault::Corrupt => "returned material that does not verify",
                _ => "TSA request failed after",
            };
            assert_failed_cleanly(&out, &bundle, &[expected]);
            let attempts = proxy.injected();
            match fault {
                // A transport failure is retried, a bad answer is not.
                Fault::Drop => assert_eq!(attempts, 3, "{fault:?}"),
                _ => assert!((1..=3).contains(&attempts), "{fault:?}: {attempts}"),
            }
        }
    }
}
