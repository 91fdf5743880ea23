//! Round trips for every key type through DSSE and metablocks, key-id matching rules, and the
//! distinct-key threshold.
#![allow(clippy::unwrap_used)]

use cairn_model::dsse::Envelope;
use cairn_model::metablock::Metablock;
use cairn_sign::{
    KeyId, KeyIdRule, KeyMatch, KeyType, PrivateKey, RejectReason, Scheme, Signer, TrustedKey,
    Verdict, Verifier, dsse, metablock,
};
use serde_json::json;

fn link() -> Metablock {
    Metablock::unsigned(json!({
        "_type": "link", "name": "build", "command": ["make"], "materials": {}, "products": {},
        "byproducts": {"stdout": "line1\nline2\t\"quoted\""}, "environment": {}
    }))
}

fn all_keys() -> Vec<PrivateKey> {
    vec![
        PrivateKey::generate(KeyType::Ed25519).unwrap(),
        PrivateKey::generate(KeyType::EcdsaP256).unwrap(),
        PrivateKey::generate(KeyType::EcdsaP384).unwrap(),
        PrivateKey::generate(KeyType::Rsa).unwrap(),
    ]
}

#[test]
fn every_key_type_signs_and_verifies() {
    let keys = all_keys();
    let rsa_pkcs1 = PrivateKey::from_bytes(keys[3].to_pkcs8_pem(None).unwrap().as_bytes(), None)
        .unwrap()
        .with_scheme(Scheme::RsaPkcs1v15Sha256)
        .unwrap();
    assert_eq!(keys[3].public_key().bits(), 3072);
    for key in keys.iter().chain(std::iter::once(&rsa_pkcs1)) {
        let other = PrivateKey::generate(KeyType::Ed25519).unwrap();
        // Raw signatures.
        let sig = key.sign(b"message").unwrap();
        key.public_key().verify(b"message", &sig).unwrap();
        assert!(key.public_key().verify(b"messagf", &sig).is_err());
        // Metablock.
        let mut mb = link();
        metablock::sign(&mut mb, key).unwrap();
        assert_eq!(mb.signatures[0].keyid, key.key_id().as_str());
        let v = metablock::verify(&mb, key.public_key()).unwrap();
        assert_eq!(
            v,
            Verdict::Verified(cairn_sign::SignatureMatch {
                index: 0,
                keyid: key.key_id().to_string(),
                matched_by: KeyMatch::KeyId(KeyIdRule::Securesystemslib1),
            })
        );
        assert!(
            !metablock::verify(&mb, other.public_key())
                .unwrap()
                .is_verified()
        );
        // Tampering with the signed value breaks it.
        let mut tampered = mb.clone();
        tampered.signed["name"] = json!("build2");
        assert!(
            !metablock::verify(&tampered, key.public_key())
                .unwrap()
                .is_verified()
        );
        // DSSE.
        let env = dsse::sign("application/vnd.in-toto+json", b"{}".to_vec(), key).unwrap();
        assert!(dsse::verify(&env, key.public_key()).is_verified());
        assert!(!dsse::verify(&env, other.public_key()).is_verified());
        let json = serde_json::to_vec(&env).unwrap();
        let back: Envelope = cairn_model::json::from_slice(&json).unwrap();
        assert!(dsse::verify(&back, key.public_key()).is_verified());
    }
}

#[test]
fn pss_and_pkcs1_are_not_interchangeable() {
    let pss = PrivateKey::generate(KeyType::Rsa).unwrap();
    let sig = pss.sign(b"m").unwrap();
    let as_pkcs1 = pss
        .public_key()
        .clone()
        .with_scheme(Scheme::RsaPkcs1v15Sha256)
        .unwrap();
    assert!(as_pkcs1.verify(b"m", &sig).is_err());
    assert!(
        pss.public_key()
            .clone()
            .with_scheme(Scheme::Ed25519)
            .is_err()
    );
}

#[test]
fn key_id_rules_and_fallback_matching() {
    let key = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    // Legacy key id.
    let legacy = key.public_key().key_id(KeyIdRule::Legacy);
    let signer = PrivateKey::from_bytes(key.to_pkcs8_pem(None).unwrap().as_bytes(), None)
        .unwrap()
        .with_key_id_rule(KeyIdRule::Legacy);
    assert_eq!(signer.key_id(), &legacy);
    let mut mb = link();
    metablock::sign(&mut mb, &signer).unwrap();
    match metablock::verify(&mb, key.public_key()).unwrap() {
        Verdict::Verified(m) => assert_eq!(m.matched_by, KeyMatch::KeyId(KeyIdRule::Legacy)),
        v => panic!("{v:?}"),
    }
    // An id neither rule produces: matched by trying the key, or via the declared id.
    let odd = PrivateKey::from_bytes(key.to_pkcs8_pem(None).unwrap().as_bytes(), None)
        .unwrap()
        .with_key_id(KeyId::new("my-key"));
    let mut mb = link();
    metablock::sign(&mut mb, &odd).unwrap();
    match metablock::verify(&mb, key.public_key()).unwrap() {
        Verdict::Verified(m) => assert_eq!(m.matched_by, KeyMatch::TriedKey),
        v => panic!("{v:?}"),
    }
    match metablock::verify_with_key_id(&mb, key.public_key(), &KeyId::new("my-key")).unwrap() {
        Verdict::Verified(m) => assert_eq!(m.matched_by, KeyMatch::DeclaredKeyId),
        v => panic!("{v:?}"),
    }
    // A signature under the right key id that does not verify is reported as such.
    let mut bad = mb.clone();
    bad.signatures[0].keyid = key.key_id().to_string();
    bad.signatures[0].sig = "00".repeat(64);
    match metablock::verify(&bad, key.public_key()).unwrap() {
        Verdict::Rejected { rejections } => {
            assert!(matches!(
                rejections[0].reason,
                RejectReason::BadSignature { .. }
            ));
        }
        v => panic!("{v:?}"),
    }
    // Non-hex signature.
    bad.signatures[0].sig = "zz".into();
    assert!(
        !metablock::verify(&bad, key.public_key())
            .unwrap()
            .is_verified()
    );
    // No signatures.
    match metablock::verify(&link(), key.public_key()).unwrap() {
        Verdict::Rejected { rejections } => {
            assert_eq!(rejections[0].reason, RejectReason::NoSignatures)
        }
        v => panic!("{v:?}"),
    }
}

#[test]
fn threshold_counts_distinct_keys_only() {
    let a = PrivateKey::generate(KeyType::Ed25519).unwrap();
    let b = PrivateKey::generate(KeyType::Ed25519).unwrap();
    let a_legacy = PrivateKey::from_bytes(a.to_pkcs8_pem(None).unwrap().as_bytes(), None)
        .unwrap()
        .with_key_id_rule(KeyIdRule::Legacy);
    // One key, two signatures under two key ids.
    let mut mb = link();
    metablock::sign(&mut mb, &a).unwrap();
    metablock::sign(&mut mb, &a_legacy).unwrap();
    assert_eq!(mb.signatures.len(), 2);
    // The same key listed twice under two ids, plus b (who did not sign).
    let trusted = [
        TrustedKey::from(a.public_key().clone()),
        TrustedKey {
            key: a.public_key().clone(),
            keyid: Some(a.public_key().key_id(KeyIdRule::Legacy)),
        },
        TrustedKey::from(b.public_key().clone()),
    ];
    let t = metablock::verify_threshold(&mb, &trusted, 2).unwrap();
    assert_eq!(t.accepted.len(), 1, "{t:?}");
    assert!(!t.is_met());
    assert!(
        metablock::verify_threshold(&mb, &trusted, 1)
            .unwrap()
            .is_met()
    );
    // Now b signs as well.
    metablock::sign(&mut mb, &b).unwrap();
    let t = metablock::verify_threshold(&mb, &trusted, 2).unwrap();
    assert!(t.is_met());
    assert!(
        !metablock::verify_threshold(&mb, &trusted, 3)
            .unwrap()
            .is_met()
    );
    assert!(metablock::verify_threshold(&mb, &trusted, 0).is_err());
    // A document with more signatures than the limit is rejected without checking them.
    let mut flood = dsse::sign("t", b"x".to_vec(), &a).unwrap();
    let one = flood.signatures[0].clone();
    flood.signatures = vec![one; cairn_sign::MAX_SIGNATURES + 1];
    match dsse::verify(&flood, a.public_key()) {
        Verdict::Rejected { rejections } => assert!(matches!(
            rejections[0].reason,
            RejectReason::TooManySignatures { .. }
        )),
        v => panic!("{v:?}"),
    }
    // DSSE: two copies of one signature count once.
    let mut env = dsse::sign("t", b"x".to_vec(), &a).unwrap();
    env.signatures.push(env.signatures[0].clone());
    let t = dsse::verify_threshold(&env, &trusted, 2).unwrap();
    assert_eq!(t.accepted.len(), 1);
}

#[test]
fn signer_is_object_safe_and_wrappable() {
    let key = PrivateKey::generate(KeyType::Ed25519).unwrap();
    let boxed: Box<dyn Signer> = Box::new(key);
    let shared: std::sync::Arc<dyn Signer> = std::sync::Arc::from(boxed);
    let env = dsse::sign("t", b"x".to_vec(), &shared).unwrap();
    assert!(dsse::verify(&env, shared.public_key()).is_verified());
    // Verdicts serialise for reports (`--json`), naming the rule.
    let v = serde_json::to_value(dsse::verify(&env, shared.public_key())).unwrap();
    assert_eq!(v["result"], "verified");
    assert_eq!(v["matched_by"]["rule"], "securesystemslib-1");
}
