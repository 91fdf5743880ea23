//! Attacks from docs/threat-model.md that had no test elsewhere, end to end through the CLI:
//! tampered DSSE payload types and payload encodings, unanchored identity patterns, a bundle
//! for another artifact (in-process Sigstore stack, no network), and key-id spoofing and
//! verification-time choices on legacy layouts.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine;
use cairn_sign::{KeyIdRule, KeyType, PrivateKey};
use cairn_testkit::sigstore::Stack;
use serde_json::{Value, json};

fn cairn() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cairn"));
    for var in [
        "CAIRN_IDENTITY_TOKEN",
        "CAIRN_IDENTITY_TOKEN_FILE",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "SIGSTORE_ID_TOKEN",
        "CAIRN_KEY",
        "CAIRN_KEYLESS",
        "CAIRN_AT",
    ] {
        c.env_remove(var);
    }
    c
}

use cairn_testkit::show;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// An in-process Sigstore stack, a file, and a keyless attestation about it by `identity`.
struct Signed {
    stack: Stack,
    dir: tempfile::TempDir,
    trust: PathBuf,
    file: PathBuf,
    bundle: PathBuf,
}

fn attested(identity: &str) -> Signed {
    let stack = Stack::start();
    let dir = tempfile::tempdir().unwrap();
    let trust = dir.path().join("trust_config.json");
    std::fs::write(&trust, serde_json::to_vec(&stack.trust_config()).unwrap()).unwrap();
    let file = dir.path().join("app.tar.gz");
    std::fs::write(&file, b"release bytes\n".repeat(64)).unwrap();
    let predicate = dir.path().join("provenance.json");
    std::fs::write(
        &predicate,
        br#"{"buildDefinition":{"buildType":"https://example.com/b"},"runDetails":{"builder":{"id":"https://example.com/builder"}}}"#,
    )
    .unwrap();
    let bundle = dir.path().join("app.intoto.sigstore.json");
    let token = stack.token(identity, "sigstore", 600);
    let out = cairn()
        .arg("attest")
        .arg(&predicate)
        .args(["--type", "slsa", "--subject"])
        .arg(&file)
        .args(["--keyless", "--no-interactive", "--identity-token", &token])
        .arg("--trust-config")
        .arg(&trust)
        .arg("--bundle")
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    Signed {
        stack,
        dir,
        trust,
        file,
        bundle,
    }
}

impl Signed {
    fn verify_with(&self, file: &Path, bundle: &Path, identity_args: &[&str]) -> Output {
        cairn()
            .args(["--json", "verify", "artifact"])
            .arg(file)
            .arg("--bundle")
            .arg(bundle)
            .args(identity_args)
            .args(["--certificate-oidc-issuer", &self.stack.issuer()])
            .arg("--trust-config")
            .arg(&self.trust)
            .output()
            .unwrap()
    }

    fn verify(&self, bundle: &Path, identity: &str) -> Output {
        self.verify_with(&self.file, bundle, &["--certificate-identity", identity])
    }

    /// A copy of the bundle with `edit` applied to its JSON.
    fn tampered(&self, name: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
        let mut v: Value = serde_json::from_slice(&std::fs::read(&self.bundle).unwrap()).unwrap();
        edit(&mut v);
        let path = self.dir.path().join(name);
        std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
        path
    }
}

fn assert_rejected(out: &Output, what: &str) {
    assert_eq!(out.status.code(), Some(1), "{what}: {}", show(out));
}

#[test]
fn dsse_payload_type_confusion_is_rejected() {
    let s = attested("dev@cairn.test");
    assert_eq!(
        s.verify(&s.bundle, "dev@cairn.test").status.code(),
        Some(0),
        "baseline"
    );
    // Same payload and signature, presented as another type (a consumer that dispatched on
    // payloadType would read the statement as something else). PAE binds the type.
    for ty in [
        "application/json",
        "application/vnd.in-toto+json ",
        "application/vnd.dev.cosign.simplesigning.v1+json",
        "",
    ] {
        let b = s.tampered("type.json", |v| {
            v["dsseEnvelope"]["payloadType"] = json!(ty);
        });
        assert_rejected(
            &s.verify(&b, "dev@cairn.test"),
            &format!("payloadType {ty:?}"),
        );
    }
}

#[test]
fn signature_over_a_different_encoding_is_rejected() {
    let s = attested("dev@cairn.test");
    // The same statement, re-encoded (pretty-printed; keys reordered by Value's map), keeps
    // its meaning but not its bytes: the signature covers bytes, so it must not carry over.
    let b = s.tampered("reencoded.json", |v| {
        let payload = B64
            .decode(v["dsseEnvelope"]["payload"].as_str().unwrap())
            .unwrap();
        let st: Value = serde_json::from_slice(&payload).unwrap();
        let again = serde_json::to_vec_pretty(&st).unwrap();
        assert_ne!(again, payload);
        v["dsseEnvelope"]["payload"] = json!(B64.encode(again));
    });
    assert_rejected(&s.verify(&b, "dev@cairn.test"), "re-encoded payload");
    // Base64 spelled differently (URL-safe alphabet, no padding) decodes to the same bytes
    // where a lenient decoder is used; either way it must not verify as a different payload.
    let b = s.tampered("urlsafe.json", |v| {
        let payload = B64
            .decode(v["dsseEnvelope"]["payload"].as_str().unwrap())
            .unwrap();
        let mut st: Value = serde_json::from_slice(&payload).unwrap();
        st["predicate"]["runDetails"]["builder"]["id"] = json!("https://evil.example/builder");
        v["dsseEnvelope"]["payload"] = json!(B64.encode(serde_json::to_vec(&st).unwrap()));
    });
    assert_rejected(&s.verify(&b, "dev@cairn.test"), "edited predicate");
}

#[test]
fn unanchored_identity_patterns_do_not_match_lookalikes() {
    // The attacker's identity contains the expected one as a substring.
    let s = attested("evil-dev@cairn.test.attacker.example");
    let out = s.verify_with(
        &s.file,
        &s.bundle,
        &["--certificate-identity-regexp", r"dev@cairn\.test"],
    );
    assert_rejected(&out, "substring match of an unanchored pattern");
    let out = s.verify_with(
        &s.file,
        &s.bundle,
        &["--certificate-identity", "dev@cairn.test"],
    );
    assert_rejected(&out, "exact identity");
    // The pattern written for the attacker's whole identity does match (the test can fail).
    let out = s.verify_with(
        &s.file,
        &s.bundle,
        &[
            "--certificate-identity-regexp",
            r"evil-dev@cairn\.test\.attacker\.example",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
}

#[test]
fn a_bundle_for_another_artifact_is_rejected() {
    let s = attested("dev@cairn.test");
    let other = s.dir.path().join("other.tar.gz");
    let mut bytes = std::fs::read(&s.file).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&other, &bytes).unwrap();
    let out = s.verify_with(
        &other,
        &s.bundle,
        &["--certificate-identity", "dev@cairn.test"],
    );
    assert_rejected(&out, "one flipped bit");
    // Changing the subject digest to the other file's breaks the signature instead.
    let b = s.tampered("subject.json", |v| {
        let payload = B64
            .decode(v["dsseEnvelope"]["payload"].as_str().unwrap())
            .unwrap();
        let mut st: Value = serde_json::from_slice(&payload).unwrap();
        use sha2::Digest;
        st["subject"][0]["digest"]["sha256"] = json!(hex::encode(sha2::Sha256::digest(&bytes)));
        v["dsseEnvelope"]["payload"] = json!(B64.encode(serde_json::to_vec(&st).unwrap()));
    });
    let out = s.verify_with(&other, &b, &["--certificate-identity", "dev@cairn.test"]);
    assert_rejected(&out, "subject rewritten to the other artifact");
}

/// A minimal layout (no steps) signed with `cairn layout sign`.
fn layout(dir: &Path, expires: &str, signer: &Path) -> PathBuf {
    let unsigned = json!({
        "signatures": [],
        "signed": {
            "_type": "layout",
            "expires": expires,
            "keys": {},
            "readme": "threat test",
            "steps": [],
            "inspect": []
        }
    });
    let path = dir.join("root.layout");
    std::fs::write(&path, serde_json::to_vec_pretty(&unsigned).unwrap()).unwrap();
    let out = cairn()
        .args(["layout", "sign"])
        .arg(&path)
        .arg("--key")
        .arg(signer)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    path
}

fn key(dir: &Path, name: &str) -> (PrivateKey, PathBuf, PathBuf) {
    let k = PrivateKey::generate(KeyType::Ed25519).unwrap();
    let pem = dir.join(format!("{name}.pem"));
    std::fs::write(&pem, k.to_pkcs8_pem(None).unwrap().as_bytes()).unwrap();
    let public = dir.join(format!("{name}.pub"));
    std::fs::write(&public, k.public_key().to_spki_pem()).unwrap();
    (k, pem, public)
}

fn verify_layout(layout: &Path, key: &Path, links: &Path, at: Option<&str>) -> Output {
    let mut c = cairn();
    c.args(["verify", "layout"])
        .arg(layout)
        .arg("--layout-key")
        .arg(key)
        .arg("--links")
        .arg(links);
    if let Some(at) = at {
        c.args(["--at", at]);
    }
    c.output().unwrap()
}

#[test]
fn spoofed_key_ids_do_not_make_a_signature_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let links = dir.path().join("links");
    std::fs::create_dir(&links).unwrap();
    let (owner, _, owner_pub) = key(dir.path(), "owner");
    let (_, mallory_pem, _) = key(dir.path(), "mallory");
    // Mallory signs, then relabels the signature with the owner's key ids (both rules).
    let path = layout(dir.path(), "2099-01-01T00:00:00Z", &mallory_pem);
    for rule in [KeyIdRule::Securesystemslib1, KeyIdRule::Legacy] {
        let mut v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let id = owner.public_key().key_id(rule).as_str().to_owned();
        v["signatures"][0]["keyid"] = json!(id);
        let spoofed = dir.path().join("spoofed.layout");
        std::fs::write(&spoofed, serde_json::to_vec(&v).unwrap()).unwrap();
        let out = verify_layout(&spoofed, &owner_pub, &links, None);
        assert_eq!(out.status.code(), Some(1), "{rule:?}: {}", show(&out));
    }
}

#[test]
fn expired_layouts_fail_and_the_verification_time_is_explicit() {
    let dir = tempfile::tempdir().unwrap();
    let links = dir.path().join("links");
    std::fs::create_dir(&links).unwrap();
    let (_, owner_pem, owner_pub) = key(dir.path(), "owner");
    let good = layout(dir.path(), "2099-01-01T00:00:00Z", &owner_pem);
    let out = verify_layout(&good, &owner_pub, &links, None);
    assert_eq!(out.status.code(), Some(0), "baseline: {}", show(&out));
    let expired = layout(dir.path(), "2020-01-01T00:00:00Z", &owner_pem);
    let out = verify_layout(&expired, &owner_pub, &links, None);
    assert_eq!(out.status.code(), Some(1), "expired: {}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("expire")
            || String::from_utf8_lossy(&out.stderr).contains("expire"),
        "{}",
        show(&out)
    );
    // An environment variable naming a past time must not silently revive an expired
    // layout: CAIRN_AT is the same explicit choice as --at, and an unparseable time is an
    // error, not "now".
    let out = cairn()
        .args(["verify", "layout"])
        .arg(&expired)
        .arg("--layout-key")
        .arg(&owner_pub)
        .arg("--links")
        .arg(&links)
        .env("CAIRN_AT", "yesterday")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "bad time: {}", show(&out));
    // A time in the future does not help either.
    let out = verify_layout(&expired, &owner_pub, &links, Some("2999-01-01T00:00:00Z"));
    assert_eq!(out.status.code(), Some(1), "future: {}", show(&out));
}
