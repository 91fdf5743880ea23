//! The in-toto reference fixtures (python, golang, rs) in testdata/: every link and layout
//! signature verifies with the right key and fails with a wrong one, key ids follow both rules
//! as the MANIFESTs list them, and every key file loads (or fails with the documented error).
#![allow(clippy::unwrap_used)]

use cairn_model::dsse::Envelope;
use cairn_model::metablock::Metablock;
use cairn_sign::{
    KeyError, KeyIdRule, KeyMatch, ParsedKey, Password, PublicKey, TrustedKey, Verdict, dsse,
    metablock, parse_key,
};

fn read(rel: &str) -> Vec<u8> {
    cairn_testkit::read_testdata(rel)
}

fn public(rel: &str) -> PublicKey {
    match parse_key(&read(rel), None).unwrap_or_else(|e| panic!("{rel}: {e}")) {
        ParsedKey::Public(k) => k,
        ParsedKey::Private(k) => cairn_sign::Signer::public_key(&k).clone(),
    }
}

fn mb(rel: &str) -> Metablock {
    Metablock::from_slice(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn env(rel: &str) -> Envelope {
    cairn_model::json::from_slice(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

const PY: &str = "in-toto-python/tests/demo_files";
const GO: &str = "in-toto-golang/test/data";

#[track_caller]
fn assert_verified(v: &Verdict, by: KeyMatch) {
    match v {
        Verdict::Verified(m) => assert_eq!(m.matched_by, by, "{v:?}"),
        Verdict::Rejected { .. } => panic!("expected a valid signature, got {v:?}"),
    }
}

#[track_caller]
fn assert_rejected(v: &Verdict) {
    assert!(!v.is_verified(), "a wrong key verified: {v:?}");
}

#[test]
fn key_ids_match_the_manifests() {
    // in-toto-python MANIFEST: legacy and securesystemslib-1.x ids.
    for (name, legacy, new) in [
        (
            "alice",
            "556caebdc0877eed53d419b60eddb1e57fa773e4e31d70698b588f3e9cc48b35",
            "c8ef46bd3ccb95e2617a80e447d0c8c6338f85334c2f6c6cb640e140fc183763",
        ),
        (
            "bob",
            "776a00e29f3559e0141b3b096f696abc6cfb0c657ab40f441132b345b08453f5",
            "210dcc50ed4dd534fca6dcf71e4ea8bd36b399d1098c3116bcd53004784f16ae",
        ),
        (
            "carl",
            "2f89b9272acfc8f4a0a0f094d789fdb0ba798b0fe41f2f5f417c12f0085ff498",
            "be06db20cdcfd928a905c0b7ede61a27eeaa60b6dbdaee9dd9fb2ebf6f393fbd",
        ),
    ] {
        let pubkey = public(&format!("{PY}/{name}.pub"));
        let ids = pubkey.key_ids();
        assert_eq!(ids.legacy.as_str(), legacy, "{name} legacy");
        assert_eq!(
            ids.securesystemslib1.as_str(),
            new,
            "{name} securesystemslib 1.x"
        );
        // The PKCS#1 private key has the same ids.
        let private = public(&format!("{PY}/{name}"));
        assert_eq!(private.key_ids(), ids, "{name} private");
    }
    // in-toto-golang MANIFEST (legacy rule).
    for (file, legacy) in [
        (
            "alice.pub",
            "70ca5750c2eda80b18f41f4ec5f92146789b5d68dd09577be422a0159bd13680",
        ),
        (
            "dan.pub",
            "b7d643dec0a051096ee5d87221b5d91a33daa658699d30903e1cefb90c418401",
        ),
        (
            "carol.pub",
            "be6371bc627318218191ce0780fd3183cce6c36da02938a477d2e4dfae1804a6",
        ),
    ] {
        assert_eq!(
            public(&format!("{GO}/{file}"))
                .key_id(KeyIdRule::Legacy)
                .as_str(),
            legacy,
            "{file}"
        );
    }
    assert!(
        public(&format!("{GO}/grace.pub"))
            .key_id(KeyIdRule::Legacy)
            .as_str()
            .starts_with("a5522ebc"),
        "grace (P-384) legacy id"
    );
    // in-toto-rs: alice without a trailing newline has the same ids as with one.
    assert_eq!(
        public("in-toto-rs/tests/test_verifylib/workdir/alice.pub")
            .key_id(KeyIdRule::Legacy)
            .as_str(),
        "556caebdc0877eed53d419b60eddb1e57fa773e4e31d70698b588f3e9cc48b35"
    );
    // danny: a securesystemslib JSON key whose file records its (legacy) id.
    let danny = public(&format!("{PY}/danny.pub"));
    assert_eq!(
        danny.key_id(KeyIdRule::Legacy).as_str(),
        "36a5529f72cf3b1cc096a28887350969212f9d6c46529658ab186fc0cb781699"
    );
    let ParsedKey::Private(danny_private) = parse_key(&read(&format!("{PY}/danny")), None).unwrap()
    else {
        panic!("danny is a private key");
    };
    assert_eq!(cairn_sign::Signer::public_key(&danny_private), &danny);
    assert_eq!(
        cairn_sign::Signer::key_id(&danny_private).as_str(),
        "36a5529f72cf3b1cc096a28887350969212f9d6c46529658ab186fc0cb781699"
    );
    // Keys embedded in layouts: the map key is the legacy id of the embedded key object.
    let layout = mb(&format!("{GO}/demo.layout"));
    for (id, obj) in layout.signed["keys"].as_object().unwrap() {
        let key = PublicKey::from_securesystemslib_json(obj).unwrap();
        assert_eq!(key.key_id(KeyIdRule::Legacy).as_str(), id);
        // Our JSON form of the key reproduces the embedded object's id-relevant fields.
        let ours = key.to_securesystemslib_json(KeyIdRule::Legacy);
        for field in ["keytype", "scheme", "keyid_hash_algorithms"] {
            assert_eq!(ours[field], obj[field], "{field}");
        }
    }
}

#[test]
fn python_links_and_layouts() {
    let bob = public(&format!("{PY}/bob.pub"));
    let carl = public(&format!("{PY}/carl.pub"));
    let alice = public(&format!("{PY}/alice.pub"));
    // Cases 1, 2, 5: classic links, legacy key ids.
    let write_code = mb(&format!("{PY}/write-code.776a00e2.link"));
    assert_verified(
        &metablock::verify(&write_code, &bob).unwrap(),
        KeyMatch::KeyId(KeyIdRule::Legacy),
    );
    assert_rejected(&metablock::verify(&write_code, &carl).unwrap());
    assert_rejected(&metablock::verify(&write_code, &alice).unwrap());
    let package = mb(&format!("{PY}/package.2f89b927.link"));
    assert_verified(
        &metablock::verify(&package, &carl).unwrap(),
        KeyMatch::KeyId(KeyIdRule::Legacy),
    );
    assert_rejected(&metablock::verify(&package, &bob).unwrap());
    // Cases 3, 4: DSSE links.
    let dsse_dir = "in-toto-python/tests/demo_dsse_files";
    let e = env(&format!("{dsse_dir}/write-code.776a00e2.link"));
    assert!(dsse::verify(&e, &bob).is_verified());
    assert_rejected(&dsse::verify(&e, &carl));
    let e = env(&format!("{dsse_dir}/package.2f89b927.link"));
    assert!(dsse::verify(&e, &carl).is_verified());
    assert_rejected(&dsse::verify(&e, &bob));
    // Cases 6, 7: unsigned templates verify with nothing.
    assert_rejected(
        &metablock::verify(&mb(&format!("{PY}/demo.layout.template")), &alice).unwrap(),
    );
    assert_rejected(&dsse::verify(
        &env(&format!("{dsse_dir}/demo.layout.template")),
        &alice,
    ));
    // Cases 9-12: layouts signed by in-toto 3.1.0 (securesystemslib 1.x key ids).
    let refimpl = "in-toto-python/generated-by-reference-impl";
    let root = mb(&format!("{refimpl}/root.layout"));
    assert_verified(
        &metablock::verify(&root, &alice).unwrap(),
        KeyMatch::KeyId(KeyIdRule::Securesystemslib1),
    );
    assert_rejected(&metablock::verify(&root, &bob).unwrap());
    let double = mb(&format!("{refimpl}/root-double-signed.layout"));
    let keys = [
        TrustedKey::from(alice.clone()),
        TrustedKey::from(bob.clone()),
    ];
    let t = metablock::verify_threshold(&double, &keys, 2).unwrap();
    assert!(t.is_met(), "{t:?}");
    let t = metablock::verify_threshold(&root, &keys, 2).unwrap();
    assert!(
        !t.is_met(),
        "single-signed layout must not meet a threshold of 2"
    );
    assert!(dsse::verify(&env(&format!("{refimpl}/root.dsse.layout")), &alice).is_verified());
    assert_rejected(&dsse::verify(
        &env(&format!("{refimpl}/root.dsse.layout")),
        &carl,
    ));
}

#[test]
fn golang_links_and_layouts() {
    let alice = public(&format!("{GO}/alice.pub"));
    let dan = public(&format!("{GO}/dan.pub"));
    let carol = public(&format!("{GO}/carol.pub"));
    let py_bob = public(&format!("{PY}/bob.pub"));
    let py_carl = public(&format!("{PY}/carl.pub"));
    // Case 1: the layout with Go-only fields verifies over the received `signed` value.
    let layout = mb(&format!("{GO}/demo.layout"));
    assert!(
        layout.signed.get("rootcas").is_some(),
        "fixture keeps Go-only fields"
    );
    assert_verified(
        &metablock::verify(&layout, &alice).unwrap(),
        KeyMatch::KeyId(KeyIdRule::Legacy),
    );
    // Case 5.
    assert_rejected(&metablock::verify(&layout, &dan).unwrap());
    assert_rejected(&metablock::verify(&layout, &carol).unwrap());
    // Cases 2, 4.
    let dsse_layout = env(&format!("{GO}/demo.dsse.layout"));
    assert!(dsse::verify(&dsse_layout, &alice).is_verified());
    assert_rejected(&dsse::verify(&dsse_layout, &carol));
    // Case 3.
    assert!(dsse::verify(&env(&format!("{GO}/dsse-only.root.layout")), &alice).is_verified());
    // Case 6: unsigned super layout.
    assert_rejected(&metablock::verify(&mb(&format!("{GO}/super.layout")), &alice).unwrap());
    // Case 8: link signatures.
    let d3ffd108 = PublicKey::from_securesystemslib_json(
        &layout.signed["keys"]["d3ffd1086938b3698618adf088bf14b13db4c8ae19e4e78d73da49ee88492710"],
    )
    .unwrap();
    for (file, right, wrong) in [
        ("write-code.b7d643de.link", &dan, &alice),
        ("foo.b7d643de.link", &dan, &d3ffd108),
        ("package.d3ffd108.link", &d3ffd108, &dan),
        ("foo.d3ffd108.link", &d3ffd108, &dan),
        ("sub_layout.70ca5750.link", &alice, &dan),
    ] {
        let m = mb(&format!("{GO}/{file}"));
        assert_verified(
            &metablock::verify(&m, right).unwrap(),
            KeyMatch::KeyId(KeyIdRule::Legacy),
        );
        assert_rejected(&metablock::verify(&m, wrong).unwrap());
    }
    for (file, right, wrong) in [
        ("clone-dsse.776a00e2.link", &py_bob, &py_carl),
        ("update-version-dsse.776a00e2.link", &py_bob, &py_carl),
        ("package-dsse.2f89b927.link", &py_carl, &py_bob),
    ] {
        let e = env(&format!("{GO}/{file}"));
        assert!(dsse::verify(&e, right).is_verified(), "{file}");
        assert_rejected(&dsse::verify(&e, wrong));
    }
}

#[test]
fn rs_links_and_layout() {
    let alice = public("in-toto-rs/tests/test_verifylib/workdir/alice.pub");
    let bob = public(&format!("{PY}/bob.pub"));
    let carl = public(&format!("{PY}/carl.pub"));
    let root = mb("in-toto-rs/tests/test_verifylib/workdir/root.layout");
    assert_verified(
        &metablock::verify(&root, &alice).unwrap(),
        KeyMatch::KeyId(KeyIdRule::Legacy),
    );
    assert_rejected(&metablock::verify(&root, &bob).unwrap());
    let links = "in-toto-rs/tests/test_verifylib/links";
    for (file, right, wrong) in [
        ("clone.776a00e2.link", &bob, &carl),
        ("update-version.776a00e2.link", &bob, &carl),
        ("package.2f89b927.link", &carl, &bob),
    ] {
        let m = mb(&format!("{links}/{file}"));
        assert!(
            metablock::verify(&m, right).unwrap().is_verified(),
            "{file}"
        );
        assert_rejected(&metablock::verify(&m, wrong).unwrap());
    }
    // The functionary keys embedded in the layout are bob and carl.
    let keys = root.signed["keys"].as_object().unwrap();
    for key in [&bob, &carl] {
        let id = key.key_id(KeyIdRule::Legacy);
        let embedded = PublicKey::from_securesystemslib_json(&keys[id.as_str()]).unwrap();
        assert_eq!(&embedded, key);
    }
}

#[test]
fn key_encodings_load() {
    let dir = "in-toto-rs/tests";
    // SPKI DER and PEM of the same keys agree; PKCS#1 DER; raw Ed25519.
    let ec_pem = public(&format!("{dir}/ecdsa/ec.pub"));
    let ec_der = public(&format!("{dir}/ecdsa/ec.spki.der"));
    assert_eq!(ec_pem, ec_der);
    let ed_der = public(&format!("{dir}/ed25519/ed25519-1.spki.der"));
    let ed_raw =
        PublicKey::from_ed25519_bytes(&read(&format!("{dir}/ed25519/ed25519-1.pub"))).unwrap();
    assert_eq!(ed_der, ed_raw);
    let rsa_spki = public(&format!("{dir}/rsa/rsa-2048.spki.der"));
    let rsa_pkcs1 = public(&format!("{dir}/rsa/rsa-2048.pkcs1.der"));
    assert_eq!(rsa_spki, rsa_pkcs1);
    assert_eq!(rsa_spki.bits(), 2048);
    assert_eq!(public(&format!("{dir}/rsa/rsa-4096.spki.der")).bits(), 4096);
    assert_eq!(
        public(&format!("{dir}/rsa/alice.pub")),
        public(&format!("{PY}/alice.pub"))
    );
}

#[test]
fn python_pems_plain_and_encrypted() {
    let dir = "in-toto-python/tests/pems";
    let hunter2 = Password::new("hunter2");
    for kind in ["rsa", "ecdsa", "ed25519"] {
        let expected = public(&format!("{dir}/{kind}_public.pem"));
        let plain = public(&format!("{dir}/{kind}_private_unencrypted.pem"));
        assert_eq!(plain, expected, "{kind} unencrypted");
        let enc = read(&format!("{dir}/{kind}_private_encrypted.pem"));
        assert!(cairn_sign::is_encrypted(&enc));
        assert!(
            matches!(parse_key(&enc, None), Err(KeyError::PasswordRequired)),
            "{kind}"
        );
        assert!(
            matches!(
                parse_key(&enc, Some(&Password::new("hunter3"))),
                Err(KeyError::WrongPassword)
            ),
            "{kind} wrong password: {:?}",
            parse_key(&enc, Some(&Password::new("hunter3")))
        );
        let ParsedKey::Private(key) = parse_key(&enc, Some(&hunter2)).unwrap() else {
            panic!("{kind}: private key expected");
        };
        assert_eq!(
            cairn_sign::Signer::public_key(&key),
            &expected,
            "{kind} encrypted"
        );
    }
}

#[test]
fn unsupported_curves_are_named() {
    for (file, curve) in [
        ("frank", "P-521"),
        ("frank.pub", "P-521"),
        ("heidi", "P-224"),
        ("heidi.pub", "P-224"),
        ("erin", "secp256k1"),
        ("erin.pub", "secp256k1"),
    ] {
        match parse_key(&read(&format!("{GO}/{file}")), None) {
            Err(e @ KeyError::UnsupportedCurve { .. }) => {
                assert_eq!(
                    e.to_string(),
                    format!("unsupported curve {curve} (cairn supports P-256 and P-384)")
                );
            }
            other => panic!("{file}: expected unsupported curve {curve}, got {other:?}"),
        }
    }
}
