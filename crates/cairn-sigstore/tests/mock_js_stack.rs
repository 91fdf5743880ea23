//! Keyless signing against the @sigstore/mock stack on loopback (a peer implementation of Fulcio,
//! the CT log, Rekor v1 and a TSA), then offline verification of what cairn made.
#![allow(clippy::unwrap_used)]

use cairn_sigstore::{
    Artifact, CertificatePolicy, Identity, IdentityToken, Payload, Retry, Services, SignOptions,
    SignerPolicy, TokenOrigin, TrustConfig, VerifyOptions, sign_keyless, verify_bundle,
};
use cairn_testkit::sigstore::JsMockStack;
use sha2::Digest;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn keyless_blob_and_dsse_against_sigstore_mock() {
    let Some(stack) = JsMockStack::start("keyless_blob_and_dsse_against_sigstore_mock") else {
        return;
    };
    let trust = TrustConfig::from_file(&stack.file("trust_config.json"), None).unwrap();
    let services = Services::from_signing_config(trust.signing_config.as_ref().unwrap());
    assert!(services.fulcio.is_some() && services.rekor.is_some());
    let token = IdentityToken::from_jwt(&stack.token(), TokenOrigin::Explicit).unwrap();
    let options = SignOptions {
        retry: Retry::default(),
        // @sigstore/mock's TSA writes GeneralizedTime with fractional seconds, which the DER
        // parser of sigstore-tsa 0.15.1 refuses; the in-process stack covers timestamps.
        timestamp: false,
        tlog_upload: true,
        now: now(),
    };
    let artifact = b"hello from cairn\n".repeat(1000);
    let signed = sign_keyless(
        &services,
        &trust.trusted_root,
        &token,
        Payload::Blob(&artifact),
        &options,
    )
    .unwrap();
    let identity = signed.identity.clone().unwrap();
    let issuer = signed.issuer.clone().unwrap();
    assert!(signed.log_index.is_some());
    let policy =
        SignerPolicy::Certificate(CertificatePolicy::new(Identity::exact(&identity), &issuer));
    let opts = VerifyOptions {
        now: now() + 60,
        allow_missing_tlog: false,
    };
    let v = verify_bundle(
        &signed.json,
        Artifact::Bytes(&artifact),
        &policy,
        &trust.trusted_root,
        opts,
    )
    .unwrap();
    assert!(v.verified, "{v:?}");
    assert_eq!(v.signing_times.len(), 1, "log time: {:?}", v.signing_times);

    let mut tampered = artifact.clone();
    tampered[0] ^= 1;
    let v = verify_bundle(
        &signed.json,
        Artifact::Bytes(&tampered),
        &policy,
        &trust.trusted_root,
        opts,
    )
    .unwrap();
    assert!(!v.verified);

    let wrong = SignerPolicy::Certificate(CertificatePolicy::new(
        Identity::exact("someone@else"),
        &issuer,
    ));
    let v = verify_bundle(
        &signed.json,
        Artifact::Bytes(&artifact),
        &wrong,
        &trust.trusted_root,
        opts,
    )
    .unwrap();
    assert!(!v.verified);

    let digest: [u8; 32] = sha2::Sha256::digest(&artifact).into();
    let statement = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "a.bin", "digest": {"sha256": hex::encode(digest)}}],
        "predicateType": "https://example.com/test/v1",
        "predicate": {"ok": true}
    });
    let payload = serde_json::to_vec(&statement).unwrap();
    let signed = sign_keyless(
        &services,
        &trust.trusted_root,
        &token,
        Payload::Dsse {
            payload_type: "application/vnd.in-toto+json",
            payload: &payload,
            subject_sha256: digest,
        },
        &options,
    )
    .unwrap();
    let v = verify_bundle(
        &signed.json,
        Artifact::Bytes(&artifact),
        &policy,
        &trust.trusted_root,
        opts,
    )
    .unwrap();
    assert!(v.verified, "{v:?}");
    let v = verify_bundle(
        &signed.json,
        Artifact::Bytes(&tampered),
        &policy,
        &trust.trusted_root,
        opts,
    )
    .unwrap();
    assert!(!v.verified);
}
