//! RFC 3161 timestamps end to end against the in-process TSA (a real CMS-signed TSTInfo from a
//! TSA listed in the trusted root): keyless and key-based bundles with a timestamp verify offline;
//! a tampered token, a token from a TSA the root does not list, and a time outside the TSA's
//! validity are rejected on the timestamp check.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::Ordering;
use std::time::Duration;

use base64::Engine;
use cairn_sign::{KeyType, PrivateKey};
use cairn_sigstore::{
    Artifact, CertificatePolicy, CheckKind, Error, Identity, IdentityToken, Payload, PublicKey,
    Retry, Service, Services, SignOptions, SignerPolicy, TokenOrigin, TrustConfig, Verdict,
    VerifyOptions, sign_keyless, sign_with_key, sign_with_key_checked, verify_bundle,
};
use cairn_testkit::sigstore::{Stack, TsaTamper};
use serde_json::Value;

const ARTIFACT: &[u8] = b"timestamped release bytes\n";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

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
    assert_eq!(services.tsa.as_deref(), Some(stack.tsa_url().as_str()));
    Env {
        stack,
        trust,
        services,
    }
}

fn options(tlog_upload: bool) -> SignOptions {
    SignOptions {
        retry: Retry {
            attempts: 2,
            backoff: Duration::from_millis(5),
            timeout: Duration::from_secs(10),
        },
        timestamp: true,
        tlog_upload,
        now: now(),
    }
}

fn verify(e: &Env, json: &[u8], who: &SignerPolicy, allow_missing_tlog: bool) -> Verdict {
    verify_bundle(
        json,
        Artifact::Bytes(ARTIFACT),
        who,
        &e.trust.trusted_root,
        VerifyOptions {
            now: now() + 60,
            allow_missing_tlog,
        },
    )
    .unwrap()
}

fn keyless_policy(e: &Env) -> SignerPolicy {
    SignerPolicy::Certificate(CertificatePolicy::new(
        Identity::exact("dev@cairn.test"),
        e.stack.issuer(),
    ))
}

fn sign_key(e: &Env, key: &PrivateKey) -> Result<Vec<u8>, Error> {
    sign_with_key(&e.services, key, Payload::Blob(ARTIFACT), &options(false)).map(|s| s.json)
}

fn key_policy(key: &PrivateKey) -> SignerPolicy {
    SignerPolicy::Key(PublicKey::from_der(key.public_key().to_spki_der().to_vec()))
}

fn timestamps(json: &[u8]) -> Vec<Vec<u8>> {
    let v: Value = serde_json::from_slice(json).unwrap();
    v["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| B64.decode(t["signedTimestamp"].as_str().unwrap()).unwrap())
        .collect()
}

fn failure(v: &Verdict) -> (CheckKind, String) {
    assert!(!v.verified, "expected a rejection: {v:?}");
    let f = v.first_failure().unwrap();
    (f.check, f.detail.clone())
}

#[test]
fn keyless_bundle_with_a_timestamp_verifies_offline() {
    let e = env();
    let token = IdentityToken::from_jwt(
        &e.stack.token("dev@cairn.test", "sigstore", 600),
        TokenOrigin::Explicit,
    )
    .unwrap();
    let signed = sign_keyless(
        &e.services,
        &e.trust.trusted_root,
        &token,
        Payload::Blob(ARTIFACT),
        &options(true),
    )
    .unwrap();
    assert_eq!(e.stack.faults.tsa_requests.load(Ordering::SeqCst), 1);
    assert_eq!(timestamps(&signed.json).len(), 1);
    let v = verify(&e, &signed.json, &keyless_policy(&e), false);
    assert!(v.verified, "{v:?}");
    // Both the log's integrated time and the TSA's time were verified.
    assert_eq!(v.signing_times.len(), 2, "{v:?}");
    assert!(
        v.checks
            .iter()
            .any(|c| c.check == CheckKind::Timestamp && c.passed)
    );
}

#[test]
fn key_bundle_with_only_a_timestamp_verifies_offline() {
    let e = env();
    let key = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    let json = sign_key(&e, &key).unwrap();
    assert_eq!(e.stack.log_size(), 0, "nothing uploaded to Rekor");
    // Still a bundle without a log entry: the opt-in is required.
    let (check, _) = failure(&verify(&e, &json, &key_policy(&key), false));
    assert_eq!(check, CheckKind::TransparencyLog);
    let v = verify(&e, &json, &key_policy(&key), true);
    assert!(v.verified, "{v:?}");
    assert_eq!(v.signing_times.len(), 1);
    assert!((v.signing_times[0] - now()).abs() < 120, "{v:?}");
    // Another key: rejected.
    let other = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    assert!(!verify(&e, &json, &key_policy(&other), true).verified);
}

/// Changes one digit of the TSTInfo's genTime: the token still parses, its signature does not.
fn move_gen_time(token: &mut [u8]) {
    let at = token
        .windows(2)
        .position(|w| w == [0x18, 0x0f])
        .expect("a 15-byte GeneralizedTime");
    // YYYYMMDDHHMMSSZ: bump the tens of minutes (stays a valid time).
    let m = at + 2 + 10;
    token[m] = if token[m] == b'0' { b'1' } else { b'0' };
}

#[test]
fn tampered_timestamp_is_rejected() {
    let e = env();
    let key = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    let json = sign_key(&e, &key).unwrap();
    let mut token = timestamps(&json).remove(0);
    move_gen_time(&mut token);
    let mut v: Value = serde_json::from_slice(&json).unwrap();
    v["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]["signedTimestamp"] =
        Value::String(B64.encode(&token));
    let bad = serde_json::to_vec(&v).unwrap();
    let (check, detail) = failure(&verify(&e, &bad, &key_policy(&key), true));
    assert_eq!(check, CheckKind::Timestamp, "{detail}");
    assert!(detail.contains("hash mismatch"), "{detail}");

    // A token for another signature (valid in itself) does not timestamp this one.
    let other = sign_key(&e, &PrivateKey::generate(KeyType::EcdsaP256).unwrap()).unwrap();
    let mut v: Value = serde_json::from_slice(&json).unwrap();
    let o: Value = serde_json::from_slice(&other).unwrap();
    v["verificationMaterial"]["timestampVerificationData"] =
        o["verificationMaterial"]["timestampVerificationData"].clone();
    let bad = serde_json::to_vec(&v).unwrap();
    let (check, detail) = failure(&verify(&e, &bad, &key_policy(&key), true));
    assert_eq!(check, CheckKind::Timestamp, "{detail}");
}

#[test]
fn timestamp_from_an_untrusted_tsa_is_rejected() {
    let e = env();
    *e.stack.faults.tsa_tamper.lock().unwrap() = TsaTamper::UntrustedSigner;
    let key = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    // The client checks the answer's imprint and nonce, not its signer: the verifier does.
    let json = sign_key(&e, &key).unwrap();
    let (check, detail) = failure(&verify(&e, &json, &key_policy(&key), true));
    assert_eq!(check, CheckKind::Timestamp, "{detail}");
    assert!(detail.contains("not match any trusted TSA"), "{detail}");
    // The checked variant verifies before returning: an error, not a bad bundle.
    let err = sign_with_key_checked(
        &e.services,
        &e.trust.trusted_root,
        &key,
        Payload::Blob(ARTIFACT),
        &options(false),
    )
    .unwrap_err();
    assert!(matches!(err, Error::SignedBundleRejected { .. }), "{err:?}");
    // Keyless signing verifies before writing: an error, not a bad bundle.
    let token = IdentityToken::from_jwt(
        &e.stack.token("dev@cairn.test", "sigstore", 600),
        TokenOrigin::Explicit,
    )
    .unwrap();
    let err = sign_keyless(
        &e.services,
        &e.trust.trusted_root,
        &token,
        Payload::Blob(ARTIFACT),
        &options(true),
    )
    .unwrap_err();
    assert!(matches!(err, Error::SignedBundleRejected { .. }), "{err:?}");
}

#[test]
fn timestamp_outside_the_tsa_validity_is_rejected() {
    let e = env();
    // Two days back: inside the TSA certificate's validity, before the trusted root's window.
    e.stack
        .faults
        .tsa_time_offset
        .store(-2 * 86400, Ordering::SeqCst);
    let key = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    let json = sign_key(&e, &key).unwrap();
    let (check, detail) = failure(&verify(&e, &json, &key_policy(&key), true));
    assert_eq!(check, CheckKind::Timestamp, "{detail}");
    assert!(detail.contains("outside the validity period"), "{detail}");
    // And one in the future (beyond "now"): rejected too.
    e.stack.faults.tsa_time_offset.store(3600, Ordering::SeqCst);
    let json = sign_key(&e, &key).unwrap();
    let (check, detail) = failure(&verify(&e, &json, &key_policy(&key), true));
    assert_eq!(check, CheckKind::Timestamp, "{detail}");
    assert!(detail.contains("after the verification time"), "{detail}");
}

#[test]
fn a_wrong_imprint_or_garbage_fails_at_signing() {
    let e = env();
    let key = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    for tamper in [TsaTamper::Imprint, TsaTamper::Corrupt] {
        *e.stack.faults.tsa_tamper.lock().unwrap() = tamper;
        let before = e.stack.faults.tsa_requests.load(Ordering::SeqCst);
        let err = sign_key(&e, &key).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Service {
                    service: Service::Tsa,
                    ..
                }
            ),
            "{tamper:?}: {err:?}"
        );
        // Not retried: a bad answer does not improve.
        assert_eq!(
            e.stack.faults.tsa_requests.load(Ordering::SeqCst) - before,
            1,
            "{tamper:?}"
        );
    }
}
