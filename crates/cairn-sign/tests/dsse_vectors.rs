//! DSSE: the protocol.md worked example (exact PAE, P-256 RFC 6979 signature) and the upstream
//! test vectors in testdata/dsse.
#![allow(clippy::unwrap_used)]

use cairn_model::dsse::Envelope;
use cairn_sign::{EcdsaSignatureFormat, KeyType, PrivateKey, PublicKey, Signer, TrustedKey, dsse};
use serde_json::Value;

/// secure-systems-lab/dsse protocol.md, "Test Vectors". The key is given there in decimal:
/// X = 46950820868899156662930047687818585632848591499744589407958293238635476079160
/// Y = 5640078356564379163099075877009565129882514886557779369047442380624545832820
/// d = 97358161215184420915383655311931858321456579547487070936769975997791359926199
const POINT: &str = "0467cd390f77aa359cb08c2235f652270493a9ed832b0abcc01f70954c0390d2380c782bd54e269125a44f4433aff1432ce94e12bca73aa67ac80cea12608ddf74";
const D: &str = "d73ec437fd6346e3619c5ebfdfff0f6916804955ad32ac9ac492b0ede1f6ffb7";
const ENVELOPE: &str = r#"{"payload": "aGVsbG8gd29ybGQ=",
 "payloadType": "http://example.com/HelloWorld",
 "signatures": [{"sig": "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="}]}"#;

/// r ‖ s (32 bytes each) from a DER ECDSA signature.
fn der_to_raw(der: &[u8]) -> Vec<u8> {
    assert_eq!(der[0], 0x30);
    let mut pos = 2;
    let mut out = Vec::new();
    for _ in 0..2 {
        assert_eq!(der[pos], 0x02);
        let len = der[pos + 1] as usize;
        let int = &der[pos + 2..pos + 2 + len];
        let int = if int[0] == 0 { &int[1..] } else { int };
        out.extend(std::iter::repeat_n(0u8, 32 - int.len()));
        out.extend_from_slice(int);
        pos += 2 + len;
    }
    out
}

#[test]
fn protocol_md_example() {
    let env: Envelope = cairn_model::json::from_slice(ENVELOPE.as_bytes()).unwrap();
    assert_eq!(
        env.pae(),
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    );
    let key = PublicKey::from_sec1_point(KeyType::EcdsaP256, &hex::decode(POINT).unwrap()).unwrap();
    let sig = &env.signatures[0].sig;
    assert_eq!(sig.len(), 64, "raw r||s");
    key.verify_ecdsa(&env.pae(), sig, EcdsaSignatureFormat::Raw)
        .unwrap();
    assert!(dsse::verify(&env, &key).is_verified());
    // Our signer with the same private key gives the same RFC 6979 signature (in DER).
    let signer =
        PrivateKey::from_ecdsa_scalar(KeyType::EcdsaP256, &hex::decode(D).unwrap()).unwrap();
    assert_eq!(signer.public_key(), &key);
    let ours = signer.sign(&env.pae()).unwrap();
    assert_eq!(&der_to_raw(&ours), sig);
    // A changed payload does not verify.
    let mut tampered = env.clone();
    tampered.payload = b"hello world!".to_vec();
    assert!(!dsse::verify(&tampered, &key).is_verified());
}

#[test]
fn upstream_vectors() {
    let doc: Value =
        serde_json::from_slice(&cairn_testkit::read_testdata("dsse/vectors.json")).unwrap();
    let keys: Vec<(String, PublicKey)> = doc["keys"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, k)| {
            let signer =
                PrivateKey::from_ed25519_seed(&hex::decode(k["seed"].as_str().unwrap()).unwrap())
                    .unwrap();
            let public = signer.public_key().clone();
            assert_eq!(
                hex::encode(public.ed25519_bytes().unwrap()),
                k["public"].as_str().unwrap()
            );
            (name.clone(), public)
        })
        .collect();
    let vectors = doc["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 9);
    for v in vectors {
        let id = v["id"].as_str().unwrap();
        let env: Envelope = serde_json::from_value(v["envelope"].clone()).unwrap();
        let expected = v["expect"].as_str().unwrap() == "accept";
        // `pae` is what the signer signed; for accepted vectors it is the envelope's PAE.
        if expected {
            assert_eq!(
                hex::encode(env.pae()),
                v["pae"].as_str().unwrap(),
                "{id}: PAE"
            );
        }
        let trusted: Vec<TrustedKey> = v["trustedKeys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                let key = &keys
                    .iter()
                    .find(|(k, _)| k == n.as_str().unwrap())
                    .unwrap()
                    .1;
                TrustedKey::from(key.clone())
            })
            .collect();
        let threshold = v["threshold"].as_u64().unwrap() as usize;
        let supported = v["supportedPayloadTypes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t.as_str() == Some(env.payload_type.as_str()));
        let verdict = dsse::verify_threshold(&env, &trusted, threshold).unwrap();
        let accepted = supported && verdict.is_met() && !env.payload_type.is_empty();
        assert_eq!(accepted, expected, "{id}: {verdict:?}");
    }
}
