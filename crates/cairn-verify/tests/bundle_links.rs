//! Links in Sigstore bundles (what `cairn run --keyless` writes): a DSSE envelope of an in-toto
//! Statement with the link v0.3 predicate, signed keyless through cairn-testkit's in-process
//! Sigstore stack (OIDC issuer, Fulcio, Rekor), verified against the stack's trusted root. A
//! step names the certificate identity it accepts in `cert_constraints`, with the OIDC issuer
//! (`oidc_issuer`). Also: key-based bundles signed by a functionary key.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use cairn_model::dsse::IN_TOTO_PAYLOAD_TYPE;
use cairn_model::metablock::Metablock;
use cairn_model::{DigestSet, Link};
use cairn_sign::{KeyType, PrivateKey, Signer};
use cairn_sigstore::{
    IdentityToken, Payload, Retry, Services, SignOptions, TokenOrigin, TrustConfig, sign_keyless,
    sign_with_key,
};
use cairn_testkit::sigstore::Stack;
use cairn_verify::layout::inspect::InspectionSettings;
use cairn_verify::layout::{Options, verify_file, verify_file_with_root};
use cairn_verify::{Check, Outcome, Verdict};
use serde_json::{Value, json};

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
    dir: tempfile::TempDir,
    owner: PrivateKey,
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
        dir: tempfile::tempdir().unwrap(),
        owner: PrivateKey::generate(KeyType::Ed25519).unwrap(),
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

const SRC: [u8; 32] = [0x11; 32];
const OUT: [u8; 32] = [0x22; 32];

fn link(name: &str, materials: &[(&str, [u8; 32])], products: &[(&str, [u8; 32])]) -> Link {
    let mut link = Link::new(name);
    link.command = vec!["make".into(), name.into()];
    for (p, d) in materials {
        link.materials.insert((*p).into(), DigestSet::sha256(d));
    }
    for (p, d) in products {
        link.products.insert((*p).into(), DigestSet::sha256(d));
    }
    link
}

/// cairn's key id of the key in a keyless bundle's certificate.
fn certificate_key_id(bundle: &[u8]) -> String {
    use base64::Engine;
    use x509_cert::der::{Decode, Encode};
    let v: Value = serde_json::from_slice(bundle).unwrap();
    let raw = v["verificationMaterial"]["certificate"]["rawBytes"]
        .as_str()
        .unwrap();
    let der = base64::engine::general_purpose::STANDARD
        .decode(raw)
        .unwrap();
    let cert = x509_cert::Certificate::from_der(&der).unwrap();
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .unwrap();
    let key = cairn_sign::PublicKey::from_spki_der(&spki).unwrap();
    key.key_id(cairn_sign::KeyIdRule::Securesystemslib1)
        .as_str()
        .to_owned()
}

fn statement_bytes(link: &Link) -> (Vec<u8>, [u8; 32]) {
    let statement = link.to_statement();
    let first = link
        .products
        .values()
        .next()
        .unwrap()
        .get("sha256")
        .unwrap();
    let digest: [u8; 32] = hex::decode(first).unwrap().try_into().unwrap();
    (statement.to_vec(), digest)
}

impl Env {
    /// Signs `link` keyless as `identity` and writes it as `<file_step>.<keyid8>.link`.
    fn keyless(&self, identity: &str, link: &Link, file_step: &str) -> PathBuf {
        let token = IdentityToken::from_jwt(
            &self.stack.token(identity, "sigstore", 600),
            TokenOrigin::Explicit,
        )
        .unwrap();
        let (payload, digest) = statement_bytes(link);
        let signed = sign_keyless(
            &self.services,
            &self.trust.trusted_root,
            &token,
            Payload::Dsse {
                payload_type: IN_TOTO_PAYLOAD_TYPE,
                payload: &payload,
                subject_sha256: digest,
            },
            &options(),
        )
        .unwrap();
        // The file name carries the first 8 hex of the (ephemeral) signing key's id.
        let path = self.dir.path().join(format!(
            "{file_step}.{}.link",
            &certificate_key_id(&signed.json)[..8]
        ));
        std::fs::write(&path, &signed.json).unwrap();
        path
    }

    fn layout(&self, steps: Value, keys: Value) -> PathBuf {
        let signed = json!({"_type": "layout", "expires": "2099-01-01T00:00:00Z", "readme": "",
                            "keys": keys, "steps": steps, "inspect": []});
        let mut mb = Metablock::unsigned(signed);
        cairn_sign::metablock::sign(&mut mb, &self.owner).unwrap();
        let path = self.dir.path().join("root.layout");
        std::fs::write(&path, mb.to_pretty_json()).unwrap();
        path
    }

    fn cert_step(&self, name: &str, identity: &str, materials: Value, products: Value) -> Value {
        json!({"_type": "step", "name": name, "threshold": 1, "pubkeys": [],
               "cert_constraints": [{"emails": [identity], "oidc_issuer": self.stack.issuer(),
                                     "roots": ["*"]}],
               "expected_command": ["make", name], "expected_materials": materials,
               "expected_products": products})
    }

    fn opts(&self) -> Options {
        Options {
            layout_keys: vec![self.owner.public_key().clone()],
            at: chrono::Utc::now(),
            params: Default::default(),
            link_dir: self.dir.path().to_path_buf(),
            inspections: InspectionSettings {
                workdir: self.dir.path().to_path_buf(),
                timeout: Duration::from_secs(10),
                link_dir: None,
            },
        }
    }

    fn verify(&self, layout: &Path) -> Verdict {
        verify_file_with_root(layout, &self.opts(), &self.trust.trusted_root).unwrap()
    }
}

fn find<'a>(checks: &'a [Check], id: &str) -> Option<&'a Check> {
    for c in checks {
        if c.id == id {
            return Some(c);
        }
        if let Some(found) = find(&c.children, id) {
            return Some(found);
        }
    }
    None
}

fn evidence_text(c: &Check) -> String {
    serde_json::to_string(&c.evidence).unwrap()
}

/// Two keyless steps chained by MATCH: passes with the stack's root, fails with the embedded
/// public-good root (the bundles do not chain to it).
#[test]
fn keyless_bundle_links_verify_against_the_trusted_root() {
    let e = env();
    let steps = json!([
        e.cert_step(
            "build",
            "builder@cairn.test",
            json!([]),
            json!([["CREATE", "out.bin"], ["DISALLOW", "*"]])
        ),
        e.cert_step(
            "package",
            "packager@cairn.test",
            json!([
                ["MATCH", "out.bin", "WITH", "PRODUCTS", "FROM", "build"],
                ["DISALLOW", "*"]
            ]),
            json!([["CREATE", "app.tar"], ["DISALLOW", "out.bin"]])
        ),
    ]);
    let layout = e.layout(steps, json!({}));
    e.keyless(
        "builder@cairn.test",
        &link("build", &[], &[("out.bin", OUT)]),
        "build",
    );
    e.keyless(
        "packager@cairn.test",
        &link("package", &[("out.bin", OUT)], &[("app.tar", SRC)]),
        "package",
    );
    let v = e.verify(&layout);
    assert_eq!(
        v.outcome,
        Outcome::Pass,
        "{}",
        serde_json::to_string_pretty(&v).unwrap()
    );
    let threshold = find(&v.checks, "steps.build.threshold").unwrap();
    let text = evidence_text(threshold);
    assert!(text.contains("Sigstore bundle"), "{text}");
    assert!(text.contains("builder@cairn.test"), "{text}");

    // The same files against the public-good root: the Fulcio CA is unknown there.
    let v = verify_file(&layout, &e.opts()).unwrap();
    assert_eq!(v.outcome, Outcome::Fail);
    let threshold = find(&v.checks, "steps.build.threshold").unwrap();
    assert_eq!(threshold.outcome, Outcome::Fail);
    assert!(evidence_text(threshold).contains("Sigstore bundle rejected"));
}

#[test]
fn a_bundle_signed_by_another_identity_is_not_counted() {
    let e = env();
    let layout = e.layout(
        json!([e.cert_step(
            "build",
            "builder@cairn.test",
            json!([]),
            json!([["ALLOW", "*"]])
        )]),
        json!({}),
    );
    e.keyless(
        "mallory@cairn.test",
        &link("build", &[], &[("out.bin", OUT)]),
        "build",
    );
    let v = e.verify(&layout);
    assert_eq!(v.outcome, Outcome::Fail);
    let threshold = find(&v.checks, "steps.build.threshold").unwrap();
    assert_eq!(threshold.outcome, Outcome::Fail);
    let text = evidence_text(threshold);
    assert!(text.contains("mallory@cairn.test"), "{text}");
    assert!(text.contains("meets no cert_constraints"), "{text}");
}

#[test]
fn the_issuer_must_be_named_and_must_match() {
    let e = env();
    let mut step = e.cert_step(
        "build",
        "builder@cairn.test",
        json!([]),
        json!([["ALLOW", "*"]]),
    );
    step["cert_constraints"][0]["oidc_issuer"] = json!("https://accounts.example.com");
    let layout = e.layout(json!([step.clone()]), json!({}));
    e.keyless(
        "builder@cairn.test",
        &link("build", &[], &[("out.bin", OUT)]),
        "build",
    );
    let v = e.verify(&layout);
    assert_eq!(v.outcome, Outcome::Fail);
    let text = evidence_text(find(&v.checks, "steps.build.threshold").unwrap());
    assert!(text.contains("OIDC issuer"), "{text}");

    // No issuer at all: an identity without its issuer is not an identity; never matches.
    step["cert_constraints"][0]
        .as_object_mut()
        .unwrap()
        .remove("oidc_issuer");
    let layout = e.layout(json!([step]), json!({}));
    let v = e.verify(&layout);
    assert_eq!(v.outcome, Outcome::Fail);
    let text = evidence_text(find(&v.checks, "steps.build.threshold").unwrap());
    assert!(text.contains("without oidc_issuer"), "{text}");
}

#[test]
fn a_bundle_for_another_step_is_not_counted() {
    let e = env();
    let layout = e.layout(
        json!([e.cert_step(
            "build",
            "builder@cairn.test",
            json!([]),
            json!([["ALLOW", "*"]])
        )]),
        json!({}),
    );
    // A genuine bundle by the right identity, but its link is for step "test", filed as build.
    e.keyless(
        "builder@cairn.test",
        &link("test", &[], &[("out.bin", OUT)]),
        "build",
    );
    let v = e.verify(&layout);
    assert_eq!(v.outcome, Outcome::Fail);
    let text = evidence_text(find(&v.checks, "steps.build.threshold").unwrap());
    assert!(
        text.contains("the link is for step 'test', not 'build'"),
        "{text}"
    );
}

#[test]
fn a_tampered_bundle_is_rejected() {
    let e = env();
    let layout = e.layout(
        json!([e.cert_step(
            "build",
            "builder@cairn.test",
            json!([]),
            json!([["ALLOW", "*"]])
        )]),
        json!({}),
    );
    let path = e.keyless(
        "builder@cairn.test",
        &link("build", &[], &[("out.bin", OUT)]),
        "build",
    );
    // Swap the product digest inside the signed Statement (the bundle still parses).
    let mut bundle: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let payload = bundle["dsseEnvelope"]["payload"]
        .as_str()
        .unwrap()
        .to_owned();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let statement = String::from_utf8(b64.decode(payload).unwrap()).unwrap();
    let tampered = statement.replace(&hex::encode(OUT), &hex::encode(SRC));
    assert_ne!(statement, tampered);
    bundle["dsseEnvelope"]["payload"] = json!(b64.encode(tampered));
    std::fs::write(&path, serde_json::to_vec(&bundle).unwrap()).unwrap();
    let v = e.verify(&layout);
    assert_eq!(v.outcome, Outcome::Fail);
    let threshold = find(&v.checks, "steps.build.threshold").unwrap();
    assert_eq!(threshold.outcome, Outcome::Fail);
    assert!(
        evidence_text(threshold).contains("Sigstore bundle rejected"),
        "{}",
        evidence_text(threshold)
    );
}

#[test]
fn the_same_identity_counts_once_towards_a_threshold() {
    let e = env();
    let mut step = e.cert_step(
        "build",
        "builder@cairn.test",
        json!([]),
        json!([["ALLOW", "*"]]),
    );
    step["threshold"] = json!(2);
    let layout = e.layout(json!([step]), json!({}));
    // Two keyless runs: two ephemeral keys, one identity.
    let l = link("build", &[], &[("out.bin", OUT)]);
    let a = e.keyless("builder@cairn.test", &l, "build");
    std::fs::rename(&a, e.dir.path().join("build.aaaaaaaa.link")).unwrap();
    let b = e.keyless("builder@cairn.test", &l, "build");
    std::fs::rename(&b, e.dir.path().join("build.bbbbbbbb.link")).unwrap();
    let v = e.verify(&layout);
    assert_eq!(v.outcome, Outcome::Fail);
    let threshold = find(&v.checks, "steps.build.threshold").unwrap();
    assert_eq!(threshold.outcome, Outcome::Fail, "{threshold:?}");
    assert!(threshold.reason.contains("found 1"), "{}", threshold.reason);
    // Both links verified; they are one functionary.
    assert_eq!(
        evidence_text(threshold)
            .matches("meets the step's constraints")
            .count(),
        2
    );
}

/// A key functionary's link in a key-based bundle (logged in the stack's Rekor).
#[test]
fn key_based_bundles_are_signed_by_the_functionary_key() {
    let e = env();
    let func = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    let other = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    let mut key = func
        .public_key()
        .to_securesystemslib_json(cairn_sign::KeyIdRule::Securesystemslib1);
    key["keyid"] = json!(func.key_id().as_str());
    let step = json!({"_type": "step", "name": "build", "threshold": 1,
        "pubkeys": [func.key_id().as_str()], "expected_command": ["make", "build"],
        "expected_materials": [], "expected_products": [["CREATE", "out.bin"], ["DISALLOW", "*"]]});
    let layout = e.layout(json!([step]), json!({ func.key_id().as_str(): key }));
    let (payload, digest) = statement_bytes(&link("build", &[], &[("out.bin", OUT)]));
    let file = e
        .dir
        .path()
        .join(format!("build.{}.link", &func.key_id().as_str()[..8]));
    for (signer, expect) in [(&other, Outcome::Fail), (&func, Outcome::Pass)] {
        let signed = sign_with_key(
            &e.services,
            signer as &dyn Signer,
            Payload::Dsse {
                payload_type: IN_TOTO_PAYLOAD_TYPE,
                payload: &payload,
                subject_sha256: digest,
            },
            &options(),
        )
        .unwrap();
        std::fs::write(&file, &signed.json).unwrap();
        let v = e.verify(&layout);
        let threshold = find(&v.checks, "steps.build.threshold").unwrap();
        assert_eq!(v.outcome, expect, "{}", evidence_text(threshold));
    }
    // The root matters: the log entry is from the stack's Rekor.
    let v = verify_file(&layout, &e.opts()).unwrap();
    assert_eq!(v.outcome, Outcome::Fail);
}
