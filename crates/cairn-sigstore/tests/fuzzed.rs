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
    cairn_testkit::fuzz::replay("sigstore_bundle", sigstore_bundle);
}
