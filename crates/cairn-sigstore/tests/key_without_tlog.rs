//! Key-based bundles with no transparency-log entry and no timestamp (`cairn sign --key` without
//! `--tlog-upload`): rejected unless the caller opts in (`allow_missing_tlog`), then verified by
//! cairn itself: signature, digest binding, DSSE subject; tampering and wrong keys rejected; a
//! keyless bundle stripped of its log entry is never accepted.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use base64::Engine;
use cairn_sign::{KeyType, PrivateKey};
use cairn_sigstore::{
    Artifact, CertificatePolicy, CheckKind, Identity, IdentityToken, Instance, Payload, PublicKey,
    Retry, Services, SignOptions, SignerPolicy, TokenOrigin, TrustConfig, TrustedRoot, Verdict,
    VerifyOptions, sign_keyless, sign_with_key, verify_bundle,
};
use serde_json::Value;
use sha2::Digest;

const ARTIFACT: &[u8] = b"release bytes without a log entry\n";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn options() -> SignOptions {
    SignOptions {
        retry: Retry {
            attempts: 1,
            backoff: Duration::from_millis(5),
            timeout: Duration::from_secs(5),
        },
        timestamp: false,
        tlog_upload: false,
        now: now(),
    }
}

fn statement(artifact: &[u8]) -> (Vec<u8>, [u8; 32]) {
    let digest: [u8; 32] = sha2::Sha256::digest(artifact).into();
    let st = format!(
        r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"app","digest":{{"sha256":"{}"}}}}],"predicateType":"https://example.com/p","predicate":{{}}}}"#,
        hex::encode(digest)
    );
    (st.into_bytes(), digest)
}

/// Signs with `key`, no services at all (nothing could be contacted).
fn sign(key: &PrivateKey, dsse: bool) -> Vec<u8> {
    let (payload, digest) = statement(ARTIFACT);
    let p = if dsse {
        Payload::Dsse {
            payload_type: "application/vnd.in-toto+json",
            payload: &payload,
            subject_sha256: digest,
        }
    } else {
        Payload::Blob(ARTIFACT)
    };
    let signed = sign_with_key(&Services::default(), key, p, &options()).unwrap();
    assert_eq!(signed.log_index, None);
    let v: Value = serde_json::from_slice(&signed.json).unwrap();
    assert!(
        v["verificationMaterial"]
            .get("tlogEntries")
            .is_none_or(|e| e == &Value::Array(vec![]))
    );
    assert!(v["verificationMaterial"]["publicKey"]["hint"].is_string());
    signed.json
}

fn signer(key: &PrivateKey) -> SignerPolicy {
    SignerPolicy::Key(PublicKey::from_der(key.public_key().to_spki_der().to_vec()))
}

fn verify(json: &[u8], artifact: Artifact<'_>, who: &SignerPolicy, allow: bool) -> Verdict {
    verify_bundle(
        json,
        artifact,
        who,
        &TrustedRoot::embedded(Instance::PublicGood),
        VerifyOptions {
            now: now() + 60,
            allow_missing_tlog: allow,
        },
    )
    .unwrap()
}

fn failed(v: &Verdict) -> (CheckKind, String) {
    assert!(!v.verified, "expected a rejection: {v:?}");
    let f = v.first_failure().expect("a failed check");
    (f.check, f.detail.clone())
}

fn edit(json: &[u8], f: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(json).unwrap();
    f(&mut v);
    serde_json::to_vec(&v).unwrap()
}

fn flip_b64(v: &mut Value) {
    let mut bytes = B64.decode(v.as_str().unwrap()).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0x01;
    *v = Value::String(B64.encode(bytes));
}

fn assert_unverified_time(v: &Verdict) {
    assert!(v.verified, "{v:?}");
    assert!(v.signing_times.is_empty());
    let detail = |k| {
        v.checks
            .iter()
            .find(|c| c.check == k)
            .map(|c| c.detail.clone())
            .unwrap()
    };
    assert!(
        detail(CheckKind::TransparencyLog).contains("no transparency-log entry checked"),
        "{v:?}"
    );
    assert!(
        detail(CheckKind::Timestamp).contains("signing time unverified"),
        "{v:?}"
    );
}

#[test]
fn message_signature_needs_the_opt_in_then_verifies() {
    let key = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    let json = sign(&key, false);
    let who = signer(&key);

    let (check, detail) = failed(&verify(&json, Artifact::Bytes(ARTIFACT), &who, false));
    assert_eq!(check, CheckKind::TransparencyLog);
    assert!(detail.contains("no transparency-log entry"), "{detail}");

    assert_unverified_time(&verify(&json, Artifact::Bytes(ARTIFACT), &who, true));
    let mut reader: &[u8] = ARTIFACT;
    assert_unverified_time(&verify(&json, Artifact::Reader(&mut reader), &who, true));
    let digest: [u8; 32] = sha2::Sha256::digest(ARTIFACT).into();
    assert_unverified_time(&verify(&json, Artifact::Sha256(digest), &who, true));
}

#[test]
fn message_signature_tampering_and_wrong_keys_are_rejected() {
    let key = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    let json = sign(&key, false);
    let who = signer(&key);

    // Another file.
    let (check, _) = failed(&verify(&json, Artifact::Bytes(b"other bytes"), &who, true));
    assert_eq!(check, CheckKind::Artifact);
    // A flipped signature bit.
    let bad = edit(&json, |v| flip_b64(&mut v["messageSignature"]["signature"]));
    let (check, _) = failed(&verify(&bad, Artifact::Bytes(ARTIFACT), &who, true));
    assert_eq!(check, CheckKind::Signature);
    // The digest moved to another file's, signature unchanged: the digest binds, the signature
    // does not.
    let other: [u8; 32] = sha2::Sha256::digest(b"other bytes").into();
    let bad = edit(&json, |v| {
        v["messageSignature"]["messageDigest"]["digest"] = Value::String(B64.encode(other));
    });
    let (check, _) = failed(&verify(&bad, Artifact::Bytes(b"other bytes"), &who, true));
    assert_eq!(check, CheckKind::Signature);
    let (check, _) = failed(&verify(&bad, Artifact::Bytes(ARTIFACT), &who, true));
    assert_eq!(check, CheckKind::Artifact);
    // Another key of the same type, and of another type.
    for kt in [KeyType::EcdsaP256, KeyType::Ed25519] {
        let other = PrivateKey::generate(kt).unwrap();
        let (check, _) = failed(&verify(
            &json,
            Artifact::Bytes(ARTIFACT),
            &signer(&other),
            true,
        ));
        assert_eq!(check, CheckKind::Signature, "{kt:?}");
    }
}

#[test]
fn ed25519_message_signature_covers_the_bytes() {
    let key = PrivateKey::generate(KeyType::Ed25519).unwrap();
    let json = sign(&key, false);
    let who = signer(&key);
    assert_unverified_time(&verify(&json, Artifact::Bytes(ARTIFACT), &who, true));
    let mut reader: &[u8] = ARTIFACT;
    assert_unverified_time(&verify(&json, Artifact::Reader(&mut reader), &who, true));
    // Pure Ed25519 signs the message, not a digest: a digest alone cannot verify it.
    let digest: [u8; 32] = sha2::Sha256::digest(ARTIFACT).into();
    let (check, detail) = failed(&verify(&json, Artifact::Sha256(digest), &who, true));
    assert_eq!(check, CheckKind::Signature);
    assert!(detail.contains("digest is not enough"), "{detail}");
    let (check, _) = failed(&verify(&json, Artifact::Bytes(b"other"), &who, true));
    assert_eq!(check, CheckKind::Artifact);
}

#[test]
fn dsse_bundle_needs_the_opt_in_then_verifies_signature_and_subject() {
    for kt in [KeyType::EcdsaP256, KeyType::Ed25519] {
        let key = PrivateKey::generate(kt).unwrap();
        let json = sign(&key, true);
        let who = signer(&key);
        let (check, _) = failed(&verify(&json, Artifact::Bytes(ARTIFACT), &who, false));
        assert_eq!(check, CheckKind::TransparencyLog);

        assert_unverified_time(&verify(&json, Artifact::Bytes(ARTIFACT), &who, true));
        let digest: [u8; 32] = sha2::Sha256::digest(ARTIFACT).into();
        assert_unverified_time(&verify(&json, Artifact::Sha256(digest), &who, true));

        // Not a subject.
        let (check, detail) = failed(&verify(
            &json,
            Artifact::Bytes(b"not a subject"),
            &who,
            true,
        ));
        assert_eq!(check, CheckKind::Artifact, "{detail}");
        // A payload swapped for one naming another subject, signature unchanged.
        let (forged, _) = statement(b"not a subject");
        let bad = edit(&json, |v| {
            v["dsseEnvelope"]["payload"] = Value::String(B64.encode(&forged));
        });
        let (check, _) = failed(&verify(&bad, Artifact::Bytes(b"not a subject"), &who, true));
        assert_eq!(check, CheckKind::Signature);
        // Flipped signature.
        let bad = edit(&json, |v| {
            flip_b64(&mut v["dsseEnvelope"]["signatures"][0]["sig"])
        });
        let (check, _) = failed(&verify(&bad, Artifact::Bytes(ARTIFACT), &who, true));
        assert_eq!(check, CheckKind::Signature);
        // The payload type is signed too.
        let bad = edit(&json, |v| {
            v["dsseEnvelope"]["payloadType"] = Value::String("text/plain".into());
        });
        let (check, _) = failed(&verify(&bad, Artifact::Bytes(ARTIFACT), &who, true));
        assert_eq!(check, CheckKind::Signature);
        // A second signature is not a bundle's envelope.
        let bad = edit(&json, |v| {
            let sig = v["dsseEnvelope"]["signatures"][0].clone();
            v["dsseEnvelope"]["signatures"]
                .as_array_mut()
                .unwrap()
                .push(sig);
        });
        assert!(!verify(&bad, Artifact::Bytes(ARTIFACT), &who, true).verified);
        // Another key.
        let other = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
        let (check, _) = failed(&verify(
            &json,
            Artifact::Bytes(ARTIFACT),
            &signer(&other),
            true,
        ));
        assert_eq!(check, CheckKind::Signature);
    }
}

#[test]
fn a_keyless_bundle_without_its_log_entry_is_never_accepted() {
    let stack = cairn_testkit::sigstore::Stack::start();
    let trust =
        TrustConfig::from_json(&serde_json::to_vec(&stack.trust_config()).unwrap(), None).unwrap();
    let services = Services::from_signing_config(trust.signing_config.as_ref().unwrap());
    let token = IdentityToken::from_jwt(
        &stack.token("dev@cairn.test", "sigstore", 600),
        TokenOrigin::Explicit,
    )
    .unwrap();
    let signed = sign_keyless(
        &services,
        &trust.trusted_root,
        &token,
        Payload::Blob(ARTIFACT),
        &SignOptions {
            tlog_upload: true,
            ..options()
        },
    )
    .unwrap();
    let stripped = edit(&signed.json, |v| {
        v["verificationMaterial"]["tlogEntries"] = Value::Array(vec![]);
    });
    let keyless = SignerPolicy::Certificate(CertificatePolicy::new(
        Identity::exact("dev@cairn.test"),
        stack.issuer(),
    ));
    let options = |allow| VerifyOptions {
        now: now() + 60,
        allow_missing_tlog: allow,
    };
    for allow in [false, true] {
        let v = verify_bundle(
            &stripped,
            Artifact::Bytes(ARTIFACT),
            &keyless,
            &trust.trusted_root,
            options(allow),
        )
        .unwrap();
        assert!(!v.verified, "allow={allow}: {v:?}");
    }
    // Nor when the certificate's own key is given as "the key".
    let cert_der = {
        let v: Value = serde_json::from_slice(&signed.json).unwrap();
        B64.decode(
            v["verificationMaterial"]["certificate"]["rawBytes"]
                .as_str()
                .unwrap(),
        )
        .unwrap()
    };
    let info = sigstore_verify::crypto::parse_certificate_info(
        &sigstore_verify::types::DerCertificate::new(cert_der),
    )
    .unwrap();
    let as_key = SignerPolicy::Key(PublicKey::from_der(info.public_key.as_bytes().to_vec()));
    let v = verify_bundle(
        &stripped,
        Artifact::Bytes(ARTIFACT),
        &as_key,
        &trust.trusted_root,
        options(true),
    )
    .unwrap();
    let (check, detail) = failed(&v);
    assert_eq!(check, CheckKind::PublicKey, "{detail}");
    assert!(detail.contains("not key-based"), "{detail}");
}
