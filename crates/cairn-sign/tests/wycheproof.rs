//! Every Wycheproof signature-verification case in testdata/wycheproof gives its expected
//! result. `acceptable` cases get cairn's documented decision (docs/keys.md).
#![allow(clippy::unwrap_used)]

use cairn_sign::{EcdsaSignatureFormat, PublicKey, Scheme, Verifier};
use serde_json::Value;

struct Tally {
    cases: usize,
    valid: usize,
    invalid: usize,
    acceptable: usize,
}

#[derive(Clone, Copy)]
enum Kind {
    EcdsaDer,
    EcdsaRaw,
    Ed25519,
    RsaPss,
    RsaPkcs1,
}

/// cairn's decision on each `acceptable` case, by flag: `false` = rejected.
/// MissingNull: a PKCS#1 v1.5 DigestInfo without the NULL parameter. cairn compares the whole
/// encoded DigestInfo, so it rejects these legacy signatures.
fn acceptable_decision(flags: &[String]) -> bool {
    assert_eq!(
        flags,
        ["MissingNull"],
        "undocumented acceptable case {flags:?}"
    );
    false
}

fn hex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex string")).expect("valid hex")
}

fn run(file: &str, kind: Kind) -> Tally {
    let path = cairn_testkit::testdata().join("wycheproof").join(file);
    let doc: Value = serde_json::from_slice(&std::fs::read(&path).expect("read vector file"))
        .expect("vector file is JSON");
    let mut tally = Tally {
        cases: 0,
        valid: 0,
        invalid: 0,
        acceptable: 0,
    };
    let mut failures = Vec::new();
    for group in doc["testGroups"].as_array().expect("testGroups") {
        let pem = group["publicKeyPem"].as_str().expect("publicKeyPem");
        let key = PublicKey::from_bytes(pem.as_bytes())
            .unwrap_or_else(|e| panic!("{file}: group key does not load: {e}"));
        // The PEM and DER forms must decode to the same key.
        let der_key = PublicKey::from_spki_der(&hex(&group["publicKeyDer"])).expect("DER key");
        assert_eq!(key, der_key, "{file}: PEM and DER keys differ");
        let key = match kind {
            Kind::RsaPkcs1 => key.with_scheme(Scheme::RsaPkcs1v15Sha256).expect("rsa"),
            _ => key,
        };
        for case in group["tests"].as_array().expect("tests") {
            let id = case["tcId"].as_u64().expect("tcId");
            let msg = hex(&case["msg"]);
            let sig = hex(&case["sig"]);
            let result = case["result"].as_str().expect("result");
            let flags: Vec<String> = case["flags"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|f| f.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            let strict = match kind {
                Kind::EcdsaDer => key.verify_ecdsa(&msg, &sig, EcdsaSignatureFormat::Der),
                Kind::EcdsaRaw => key.verify_ecdsa(&msg, &sig, EcdsaSignatureFormat::Raw),
                _ => key.verify(&msg, &sig),
            }
            .is_ok();
            let expected = match result {
                "valid" => {
                    tally.valid += 1;
                    true
                }
                "invalid" => {
                    tally.invalid += 1;
                    false
                }
                "acceptable" => {
                    tally.acceptable += 1;
                    acceptable_decision(&flags)
                }
                other => panic!("{file} #{id}: unknown result {other}"),
            };
            tally.cases += 1;
            if strict != expected {
                failures.push(format!(
                    "#{id} ({}; {flags:?}): expected {expected}, got {strict}",
                    case["comment"].as_str().unwrap_or("")
                ));
            }
            // The format-agnostic `verify` (what DSSE and metablock verification use) must agree,
            // except that it also takes the other encoding of a valid signature by design.
            if matches!(kind, Kind::EcdsaDer | Kind::EcdsaRaw) {
                let either = key.verify(&msg, &sig).is_ok();
                if either != strict {
                    let other = match kind {
                        Kind::EcdsaDer => EcdsaSignatureFormat::Raw,
                        _ => EcdsaSignatureFormat::Der,
                    };
                    let other_ok = key.verify_ecdsa(&msg, &sig, other).is_ok();
                    if !(either && !strict && other_ok) {
                        failures.push(format!(
                            "#{id}: auto-detecting verify gave {either}, strict {strict}"
                        ));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{file}: {} of {} cases wrong:\n{}",
        failures.len(),
        tally.cases,
        failures.join("\n")
    );
    let declared = doc["numberOfTests"].as_u64().expect("numberOfTests") as usize;
    assert_eq!(
        tally.cases, declared,
        "{file}: ran fewer cases than the file declares"
    );
    tally
}

#[test]
fn all_wycheproof_vectors() {
    let files = [
        ("ecdsa_secp256r1_sha256_test.json", Kind::EcdsaDer),
        ("ecdsa_secp256r1_sha256_p1363_test.json", Kind::EcdsaRaw),
        ("ecdsa_secp384r1_sha384_test.json", Kind::EcdsaDer),
        ("ecdsa_secp384r1_sha384_p1363_test.json", Kind::EcdsaRaw),
        ("ed25519_test.json", Kind::Ed25519),
        ("rsa_pss_2048_sha256_mgf1_32_test.json", Kind::RsaPss),
        ("rsa_pss_3072_sha256_mgf1_32_test.json", Kind::RsaPss),
        ("rsa_pss_4096_sha256_mgf1_32_test.json", Kind::RsaPss),
        ("rsa_signature_2048_sha256_test.json", Kind::RsaPkcs1),
        ("rsa_signature_3072_sha256_test.json", Kind::RsaPkcs1),
        ("rsa_signature_4096_sha256_test.json", Kind::RsaPkcs1),
    ];
    let (mut cases, mut valid, mut invalid, mut acceptable) = (0, 0, 0, 0);
    for (file, kind) in files {
        let t = run(file, kind);
        eprintln!(
            "{file}: {} cases ({} valid, {} invalid, {} acceptable) as expected",
            t.cases, t.valid, t.invalid, t.acceptable
        );
        cases += t.cases;
        valid += t.valid;
        invalid += t.invalid;
        acceptable += t.acceptable;
    }
    assert_eq!(cases, 2781, "the collection has 2,781 cases");
    assert_eq!((valid, invalid, acceptable), (1035, 1743, 3));
}
