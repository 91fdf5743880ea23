//! Replays the `sigstore_bundle` fuzzing regression fixtures (`testdata/fuzz-regressions/`)
//! through offline verification as `fuzz/fuzz_targets/sigstore_bundle.rs` does: no input may
//! panic, hang, or verify.
#![allow(clippy::unwrap_used)]

use cairn_sigstore::{
    Artifact, CertificatePolicy, Identity, Instance, SignerPolicy, TrustedRoot, VerifyOptions,
    verify_bundle,
};

fn sigstore_bundle(data: &[u8]) {
    let root = TrustedRoot::embedded(Instance::PublicGood);
    let signer = SignerPolicy::Certificate(CertificatePolicy::new(
        Identity::exact(
            "https://github.com/example/repo/.github/workflows/release.yml@refs/heads/main",
        ),
        "https://token.actions.githubusercontent.com",
    ));
    let opts = VerifyOptions {
        now: 1_795_824_000,
        allow_missing_tlog: false,
    };
    if let Ok(verdict) = verify_bundle(data, Artifact::Bytes(b"hello\n"), &signer, &root, opts) {
        assert!(!verdict.verified, "fuzzed bundle verified");
    }
}

#[test]
fn sigstore_bundle_fixtures() {
    replay("sigstore_bundle", sigstore_bundle);
}

/// Feeds every file in `testdata/fuzz-regressions/<target>/` to `run` on its own thread and
/// fails on a panic or when one input takes longer than the time bound. Returns the count.
fn replay(target: &str, run: fn(&[u8])) -> usize {
    use std::sync::mpsc::{RecvTimeoutError, channel};
    use std::time::Duration;
    const BOUND: Duration = Duration::from_secs(30);
    let dir = cairn_testkit::testdata()
        .join("fuzz-regressions")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let (tx, rx) = channel();
        let worker = std::thread::spawn(move || {
            run(&bytes);
            let _ = tx.send(());
        });
        match rx.recv_timeout(BOUND) {
            Ok(()) => worker.join().unwrap(),
            Err(RecvTimeoutError::Timeout) => {
                panic!("{}: still running after {BOUND:?}", path.display())
            }
            Err(RecvTimeoutError::Disconnected) => {
                let _ = worker.join();
                panic!("{}: panicked (see above)", path.display())
            }
        }
    }
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files.len()
}
