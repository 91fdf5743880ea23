//! The whole keyless flow against cairn-testkit's in-process Sigstore stack (OIDC issuer, Fulcio
//! with an embedded SCT, Rekor with a real Merkle tree, checkpoints and SETs), no network: the
//! happy path, and every failure the issue lists, each with its precise reason.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::Ordering;
use std::time::Duration;

use cairn_sigstore::{
    Artifact, CertificatePolicy, CheckKind, Error, Identity, IdentityToken, Payload, Retry,
    Service, Services, SignOptions, SignerPolicy, TokenOrigin, TokenProblem, TrustConfig,
    VerifyOptions, sign_keyless, verify_bundle,
};
use cairn_testkit::sigstore::{RekorTamper, Stack};
use sha2::Digest;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

struct Env {
    stack: Stack,
    trust: TrustConfig,
    services: Services,
}

fn env() -> Env {
    let stack = Stack::start();
    let trust =
        TrustConfig::from_json(&serde_json::to_vec(&stack.trust_config()).unwrap(), None).unwrap();
    let services = Services::from_signing_config(trust.signing_config.as_ref().unwrap());
    Env {
        stack,
        trust,
        services,
    }
}

fn options() -> SignOptions {
    SignOptions {
        retry: Retry {
            attempts: 3,
            backoff: Duration::from_millis(5),
            timeout: Duration::from_secs(10),
        },
        timestamp: false,
        tlog_upload: true,
        now: now(),
    }
}

fn token(e: &Env, sub: &str) -> IdentityToken {
    IdentityToken::from_jwt(&e.stack.token(sub, "sigstore", 600), TokenOrigin::Explicit).unwrap()
}

const ARTIFACT: &[u8] = b"artifact bytes for the keyless flow\n";

fn sign(e: &Env) -> Result<cairn_sigstore::SignedBundle, Error> {
    sign_keyless(
        &e.services,
        &e.trust.trusted_root,
        &token(e, "dev@cairn.test"),
        Payload::Blob(ARTIFACT),
        &options(),
    )
}

fn verify(e: &Env, json: &[u8], artifact: &[u8]) -> cairn_sigstore::Verdict {
    let policy = SignerPolicy::Certificate(CertificatePolicy::new(
        Identity::exact("dev@cairn.test"),
        e.stack.issuer(),
    ));
    verify_bundle(
        json,
        Artifact::Bytes(artifact),
        &policy,
        &e.trust.trusted_root,
        VerifyOptions {
            now: now() + 60,
            allow_missing_tlog: false,
        },
    )
    .unwrap()
}

#[test]
fn keyless_blob_and_attestation_round_trip() {
    let e = env();
    let signed = sign(&e).unwrap();
    assert_eq!(signed.identity.as_deref(), Some("dev@cairn.test"));
    assert_eq!(signed.issuer.as_deref(), Some(e.stack.issuer().as_str()));
    assert_eq!(signed.log_index, Some(0));
    let v = verify(&e, &signed.json, ARTIFACT);
    assert!(v.verified, "{v:?}");
    assert!(
        v.checks
            .iter()
            .any(|c| c.check == CheckKind::Certificate && c.passed)
    );

    // A second entry grows the tree: the proof for index 1 is against a size-2 root.
    let digest: [u8; 32] = sha2::Sha256::digest(ARTIFACT).into();
    let statement = format!(
        r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"a","digest":{{"sha256":"{}"}}}}],"predicateType":"https://example.com/p","predicate":{{}}}}"#,
        hex::encode(digest)
    );
    let signed = sign_keyless(
        &e.services,
        &e.trust.trusted_root,
        &token(&e, "dev@cairn.test"),
        Payload::Dsse {
            payload_type: "application/vnd.in-toto+json",
            payload: statement.as_bytes(),
            subject_sha256: digest,
        },
        &options(),
    )
    .unwrap();
    assert_eq!(signed.log_index, Some(1));
    assert_eq!(e.stack.log_size(), 2);
    assert!(verify(&e, &signed.json, ARTIFACT).verified);

    // Tampered payload, signature, chain: each rejected with the right check.
    let v = verify(&e, &signed.json, b"another artifact");
    assert_eq!(v.first_failure().unwrap().check, CheckKind::Artifact);
    let blob = sign(&e).unwrap();
    let mut bundle: serde_json::Value = serde_json::from_slice(&blob.json).unwrap();
    let cert = bundle["verificationMaterial"]["certificate"]["rawBytes"]
        .as_str()
        .unwrap()
        .to_string();
    let mut der = base64_decode(&cert);
    let n = der.len();
    der[n - 5] ^= 1; // inside the CA's signature over the leaf
    bundle["verificationMaterial"]["certificate"]["rawBytes"] =
        serde_json::json!(base64_encode(&der));
    let v = verify(&e, &serde_json::to_vec(&bundle).unwrap(), ARTIFACT);
    assert_eq!(
        v.first_failure().unwrap().check,
        CheckKind::Certificate,
        "{v:?}"
    );
    let mut bundle: serde_json::Value = serde_json::from_slice(&blob.json).unwrap();
    let sig = base64_decode(bundle["messageSignature"]["signature"].as_str().unwrap());
    let mut sig2 = sig.clone();
    let last = sig2.len() - 1;
    sig2[last] ^= 1;
    bundle["messageSignature"]["signature"] = serde_json::json!(base64_encode(&sig2));
    let v = verify(&e, &serde_json::to_vec(&bundle).unwrap(), ARTIFACT);
    assert!(!v.verified);
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[test]
fn expired_and_wrong_audience_tokens_are_refused_before_any_request() {
    let e = env();
    let expired = IdentityToken::from_jwt(
        &e.stack.token("dev@cairn.test", "sigstore", -10),
        TokenOrigin::Explicit,
    )
    .unwrap();
    let r = sign_keyless(
        &e.services,
        &e.trust.trusted_root,
        &expired,
        Payload::Blob(ARTIFACT),
        &options(),
    );
    assert!(
        matches!(
            r,
            Err(Error::IdentityToken {
                reason: TokenProblem::Expired { .. }
            })
        ),
        "{r:?}"
    );
    let wrong = IdentityToken::from_jwt(
        &e.stack.token("dev@cairn.test", "other", 600),
        TokenOrigin::Explicit,
    )
    .unwrap();
    let r = sign_keyless(
        &e.services,
        &e.trust.trusted_root,
        &wrong,
        Payload::Blob(ARTIFACT),
        &options(),
    );
    assert!(
        matches!(
            r,
            Err(Error::IdentityToken {
                reason: TokenProblem::Audience { .. }
            })
        ),
        "{r:?}"
    );
    assert_eq!(e.stack.faults.fulcio_requests.load(Ordering::SeqCst), 0);
}

#[test]
fn a_token_fulcio_does_not_trust_is_a_fatal_fulcio_error() {
    let e = env();
    let other = Stack::start(); // its tokens are signed by another issuer key and name another issuer
    let foreign = IdentityToken::from_jwt(
        &other.token("dev@cairn.test", "sigstore", 600),
        TokenOrigin::Explicit,
    )
    .unwrap();
    let r = sign_keyless(
        &e.services,
        &e.trust.trusted_root,
        &foreign,
        Payload::Blob(ARTIFACT),
        &options(),
    );
    match r {
        Err(Error::Service {
            service: Service::Fulcio,
            attempts: 1,
            source,
        }) => {
            assert!(source.to_string().contains("401"), "{source}");
        }
        other => panic!("expected a fatal Fulcio error, got {other:?}"),
    }
}

#[test]
fn transient_errors_are_retried_a_bounded_number_of_times() {
    let e = env();
    e.stack.faults.fulcio_unavailable.store(2, Ordering::SeqCst);
    e.stack.faults.rekor_unavailable.store(1, Ordering::SeqCst);
    let signed = sign(&e).unwrap();
    assert!(verify(&e, &signed.json, ARTIFACT).verified);
    assert_eq!(e.stack.faults.fulcio_requests.load(Ordering::SeqCst), 3);
    assert_eq!(e.stack.faults.rekor_requests.load(Ordering::SeqCst), 2);

    e.stack
        .faults
        .fulcio_unavailable
        .store(100, Ordering::SeqCst);
    let r = sign(&e);
    assert!(
        matches!(
            r,
            Err(Error::Service {
                service: Service::Fulcio,
                attempts: 3,
                ..
            })
        ),
        "{r:?}"
    );
    e.stack.faults.fulcio_unavailable.store(0, Ordering::SeqCst);
    e.stack
        .faults
        .rekor_unavailable
        .store(100, Ordering::SeqCst);
    let r = sign(&e);
    assert!(
        matches!(
            r,
            Err(Error::Service {
                service: Service::Rekor,
                attempts: 3,
                ..
            })
        ),
        "{r:?}"
    );
}

#[test]
fn unreachable_services_fail_after_retries() {
    let e = env();
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let services = Services {
        fulcio: Some(url),
        ..e.services.clone()
    };
    let r = sign_keyless(
        &services,
        &e.trust.trusted_root,
        &token(&e, "dev@cairn.test"),
        Payload::Blob(ARTIFACT),
        &options(),
    );
    assert!(
        matches!(
            r,
            Err(Error::Service {
                service: Service::Fulcio,
                attempts: 3,
                ..
            })
        ),
        "{r:?}"
    );
}

#[test]
fn a_certificate_for_another_key_is_rejected() {
    let e = env();
    e.stack
        .faults
        .fulcio_wrong_key
        .store(true, Ordering::SeqCst);
    match sign(&e) {
        Err(Error::SignedBundleRejected { reason }) => {
            assert!(reason.contains("different public key"), "{reason}")
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(
        e.stack.faults.rekor_requests.load(Ordering::SeqCst),
        0,
        "nothing was logged"
    );
}

#[test]
fn tampered_log_answers_are_rejected_with_their_reason() {
    for (tamper, words) in [
        (RekorTamper::InclusionProof, "inclusion proof"),
        (RekorTamper::Checkpoint, "checkpoint"),
        (RekorTamper::Set, "inclusion promise"),
        (RekorTamper::IntegratedTime, "inclusion promise"),
    ] {
        let e = env();
        *e.stack.faults.rekor_tamper.lock().unwrap() = tamper;
        match sign(&e) {
            Err(Error::SignedBundleRejected { reason }) => {
                assert!(
                    reason.to_lowercase().contains(words),
                    "{tamper:?}: {reason}"
                );
            }
            other => panic!("{tamper:?}: expected a rejection, got {other:?}"),
        }
    }
}
