//! Sigstore bundles: the model's strict parse, the OCI summary, and the full offline
//! verification entry (against the embedded public-good root, a fixed identity and time).
#![no_main]
use std::sync::OnceLock;

use cairn_sigstore::{
    Artifact, CertificatePolicy, Identity, Instance, SignerPolicy, TrustedRoot, VerifyOptions,
    verify_bundle,
};
use libfuzzer_sys::fuzz_target;

fn root() -> &'static TrustedRoot {
    static ROOT: OnceLock<TrustedRoot> = OnceLock::new();
    ROOT.get_or_init(|| TrustedRoot::embedded(Instance::PublicGood))
}

fuzz_target!(|data: &[u8]| {
    let _ = cairn_model::json::from_slice::<cairn_model::bundle::Bundle>(data);
    let _ = cairn_oci::bundle::summarize("fuzz", data);
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
    if let Ok(verdict) = verify_bundle(data, Artifact::Bytes(b"hello\n"), &signer, root(), opts) {
        // Random bytes never verify against the public-good root.
        assert!(!verdict.verified, "fuzzed bundle verified");
    }
});
