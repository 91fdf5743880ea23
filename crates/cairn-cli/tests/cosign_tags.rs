//! cosign v2 `sha256-<hex>.att` and `.sig` tags evaluated by `cairn verify image` and
//! `cairn promote`: the layers are written in an OCI layout exactly as cosign 2.x leaves them
//! (layer media types and the annotations of cosign `pkg/oci/static/signature.go`:
//! `dev.cosignproject.cosign/signature`, `dev.sigstore.cosign/certificate`,
//! `dev.sigstore.cosign/chain`, `dev.sigstore.cosign/bundle`), from signatures made by the
//! in-process Sigstore stack (real Fulcio certificate, Rekor SET over the entry body). No
//! third-party cosign fixture exists in the vectors, so the layout is built here.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cairn_oci::blob::Blob;
use cairn_oci::manifest::{Descriptor, media};
use cairn_oci::{Layout, Repository};
use cairn_sign::{KeyType, PrivateKey};
use cairn_sigstore::{IdentityToken, Payload, Services, SignOptions, TokenOrigin, TrustedRoot};
use cairn_testkit::sigstore::Stack;
use serde_json::{Value, json};

use cairn_testkit::show;

fn cairn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("CAIRN_JSON")
        .env_remove("CAIRN_POLICY")
        .output()
        .unwrap()
}

struct Env {
    stack: Stack,
    root: TrustedRoot,
    services: Services,
    dir: tempfile::TempDir,
    key: PrivateKey,
}

fn env() -> Env {
    let stack = Stack::start();
    let root = TrustedRoot::from_json(&serde_json::to_vec(&stack.trusted_root()).unwrap()).unwrap();
    let config = cairn_sigstore::SigningConfig::from_json(
        &serde_json::to_vec(&stack.signing_config()).unwrap(),
    )
    .unwrap();
    let services = Services::from_signing_config(&config);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("trusted_root.json"),
        serde_json::to_vec(&stack.trusted_root()).unwrap(),
    )
    .unwrap();
    let key = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    std::fs::write(dir.path().join("ci.pub"), key.public_key().to_spki_pem()).unwrap();
    Env {
        stack,
        root,
        services,
        dir,
        key,
    }
}

fn opts(tlog: bool) -> SignOptions {
    SignOptions {
        retry: Default::default(),
        timestamp: false,
        tlog_upload: tlog,
        now: chrono::Utc::now().timestamp(),
    }
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// What cosign stores for one signature, taken apart from a Sigstore bundle: the layer bytes
/// and the annotations cosign would have written from the same Fulcio and Rekor responses.
struct CosignLayer {
    bytes: Vec<u8>,
    annotations: BTreeMap<String, String>,
}

fn rekor_annotation(entry: &Value) -> String {
    let log_id = STANDARD
        .decode(entry["logId"]["keyId"].as_str().unwrap())
        .unwrap();
    serde_json::to_string(&json!({
        "SignedEntryTimestamp": entry["inclusionPromise"]["signedEntryTimestamp"],
        "Payload": {
            "body": entry["canonicalizedBody"],
            "integratedTime": entry["integratedTime"].as_str().unwrap().parse::<i64>().unwrap(),
            "logIndex": entry["logIndex"].as_str().unwrap().parse::<i64>().unwrap(),
            "logID": hex::encode(log_id),
        }
    }))
    .unwrap()
}

fn take_apart(bundle: &[u8], layer: Vec<u8>, signature: &str) -> CosignLayer {
    let b: Value = serde_json::from_slice(bundle).unwrap();
    let mut annotations = BTreeMap::new();
    annotations.insert(
        "dev.cosignproject.cosign/signature".to_owned(),
        signature.to_owned(),
    );
    if let Some(cert) = b["verificationMaterial"]["certificate"]["rawBytes"].as_str() {
        annotations.insert(
            "dev.sigstore.cosign/certificate".to_owned(),
            pem("CERTIFICATE", &STANDARD.decode(cert).unwrap()),
        );
        annotations.insert("dev.sigstore.cosign/chain".to_owned(), String::new());
    }
    if let Some(entry) = b["verificationMaterial"]["tlogEntries"].get(0) {
        annotations.insert(
            "dev.sigstore.cosign/bundle".to_owned(),
            rekor_annotation(entry),
        );
    }
    CosignLayer {
        bytes: layer,
        annotations,
    }
}

impl Env {
    fn statement(&self, subject: &Descriptor, predicate_type: &str, predicate: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "app", "digest": {"sha256": &subject.digest.to_string()[7..]}}],
            "predicateType": predicate_type,
            "predicate": predicate,
        }))
        .unwrap()
    }

    fn sha(subject: &Descriptor) -> [u8; 32] {
        hex::decode(&subject.digest.to_string()[7..])
            .unwrap()
            .try_into()
            .unwrap()
    }

    /// A cosign `.att` layer signed keyless as `who` (Fulcio certificate, Rekor entry).
    fn att_keyless(&self, who: &str, subject: &Descriptor, statement: &[u8]) -> CosignLayer {
        let jwt = self.stack.token(who, "sigstore", 600);
        let token = IdentityToken::from_jwt(&jwt, TokenOrigin::Explicit).unwrap();
        let signed = cairn_sigstore::sign_keyless(
            &self.services,
            &self.root,
            &token,
            Payload::Dsse {
                payload_type: "application/vnd.in-toto+json",
                payload: statement,
                subject_sha256: Self::sha(subject),
            },
            &opts(true),
        )
        .unwrap();
        let b: Value = serde_json::from_slice(&signed.json).unwrap();
        let envelope = serde_json::to_vec(&b["dsseEnvelope"]).unwrap();
        take_apart(&signed.json, envelope, "")
    }

    /// A cosign `.att` layer signed with the CI key, with or without a Rekor entry.
    fn att_key(&self, subject: &Descriptor, statement: &[u8], tlog: bool) -> CosignLayer {
        let signed = cairn_sigstore::sign_with_key(
            &self.services,
            &self.key,
            Payload::Dsse {
                payload_type: "application/vnd.in-toto+json",
                payload: statement,
                subject_sha256: Self::sha(subject),
            },
            &opts(tlog),
        )
        .unwrap();
        let b: Value = serde_json::from_slice(&signed.json).unwrap();
        let envelope = serde_json::to_vec(&b["dsseEnvelope"]).unwrap();
        take_apart(&signed.json, envelope, "")
    }

    /// A cosign `.sig` layer: a simple-signing payload naming `names`, signed with the CI key
    /// and logged as a hashedrekord entry.
    fn sig_key(&self, names: &str) -> CosignLayer {
        let payload = format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"registry.example/app"}},"image":{{"docker-manifest-digest":"{names}"}},"type":"cosign container image signature"}},"optional":null}}"#
        )
        .into_bytes();
        let signed = cairn_sigstore::sign_with_key(
            &self.services,
            &self.key,
            Payload::Blob(&payload),
            &opts(true),
        )
        .unwrap();
        let b: Value = serde_json::from_slice(&signed.json).unwrap();
        let sig = b["messageSignature"]["signature"]
            .as_str()
            .unwrap()
            .to_owned();
        take_apart(&signed.json, payload, &sig)
    }

    fn policy(&self, name: &str, text: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }

    fn root_arg(&self) -> String {
        self.dir
            .path()
            .join("trusted_root.json")
            .display()
            .to_string()
    }
}

/// A one-layer image tagged `tag` in the layout at `dir`.
fn image(dir: &Path, tag: &str) -> Descriptor {
    let l = Layout::open_or_create(dir).unwrap();
    let layer = b"application bits".to_vec();
    let ld = Descriptor::for_bytes("application/vnd.oci.image.layer.v1.tar", &layer);
    l.push_blob(&ld, &Blob::from_vec(layer)).unwrap();
    let config = br#"{"architecture":"amd64","os":"linux"}"#.to_vec();
    let cd = Descriptor::for_bytes("application/vnd.oci.image.config.v1+json", &config);
    l.push_blob(&cd, &Blob::from_vec(config)).unwrap();
    let m = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": media::OCI_MANIFEST, "config": cd, "layers": [ld]
    }))
    .unwrap();
    l.push_manifest(media::OCI_MANIFEST, &m, Some(tag)).unwrap();
    Descriptor::for_bytes(media::OCI_MANIFEST, &m)
}

/// Writes cosign's `sha256-<hex>.<suffix>` image: one layer per signature, the layer type
/// cosign uses for the suffix, the annotations on the layer descriptors.
fn cosign_tag(dir: &Path, subject: &Descriptor, suffix: &str, layers: &[CosignLayer]) {
    let l = Layout::open(dir).unwrap();
    let layer_type = if suffix == "att" {
        "application/vnd.dsse.envelope.v1+json"
    } else {
        "application/vnd.dev.cosign.simplesigning.v1+json"
    };
    let mut descriptors = Vec::new();
    for layer in layers {
        let mut d = Descriptor::for_bytes(layer_type, &layer.bytes);
        d.annotations = layer.annotations.clone();
        l.push_blob(&d, &Blob::from_vec(layer.bytes.clone()))
            .unwrap();
        descriptors.push(d);
    }
    let config = serde_json::to_vec(&json!({
        "architecture": "", "os": "", "config": {},
        "rootfs": {"type": "layers", "diff_ids": descriptors.iter().map(|d| d.digest.to_string()).collect::<Vec<_>>()}
    }))
    .unwrap();
    let cd = Descriptor::for_bytes("application/vnd.oci.image.config.v1+json", &config);
    l.push_blob(&cd, &Blob::from_vec(config)).unwrap();
    let m = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": media::OCI_MANIFEST, "config": cd, "layers": descriptors
    }))
    .unwrap();
    let tag = format!("{}.{suffix}", subject.digest.to_fallback_tag());
    l.push_manifest(media::OCI_MANIFEST, &m, Some(&tag))
        .unwrap();
}

fn provenance() -> Value {
    json!({
        "buildDefinition": {"buildType": "https://cairn.test/build/v1", "externalParameters": {}},
        "runDetails": {"builder": {"id": "https://cairn.test/builders/ci@v1"}}
    })
}

fn verify(e: &Env, image: &str, policy: &str) -> (Output, Value) {
    let out = cairn(&[
        "verify",
        "image",
        image,
        "--policy",
        policy,
        "--trusted-root",
        &e.root_arg(),
        "--json",
    ]);
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out, v)
}

#[test]
fn cosign_att_keyless_is_evaluated_and_named_by_its_tag() {
    let e = env();
    let dir = e.dir.path().join("img");
    let img = image(&dir, "v1");
    let st = e.statement(&img, "https://slsa.dev/provenance/v1", provenance());
    cosign_tag(
        &dir,
        &img,
        "att",
        &[e.att_keyless("dev@cairn.test", &img, &st)],
    );
    let r = format!("oci:{}:v1", dir.display());
    let issuer = e.stack.issuer();
    let policy = e.policy(
        "p.yaml",
        &format!(
            "version: 1\nsigners:\n  - name: dev\n    identity: dev@cairn.test\n    issuer: {issuer}\nrequirements:\n  - name: provenance\n    predicateType: slsa\n"
        ),
    );
    let (out, v) = verify(&e, &r, &policy);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let att = &v["subjects"][0]["attestations"][0];
    assert_eq!(att["verified"], true, "{v}");
    assert_eq!(att["identity"], "dev@cairn.test");
    let source = att["source"].as_str().unwrap();
    assert!(
        source.starts_with(&format!(
            "cosign tag {}.att layer sha256:",
            img.digest.to_fallback_tag()
        )),
        "{source}"
    );
    assert!(
        v["subjects"][0].get("not_evaluated").is_none(),
        "nothing left unevaluated: {v}"
    );

    // Another identity: the same layout shape, rejected with the reason.
    let wrong = e.policy(
        "wrong.yaml",
        &format!(
            "version: 1\nsigners:\n  - name: dev\n    identity: other@cairn.test\n    issuer: {issuer}\nrequirements:\n  - name: provenance\n    predicateType: slsa\n"
        ),
    );
    let (out, v) = verify(&e, &r, &wrong);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert_eq!(v["subjects"][0]["attestations"][0]["verified"], false);
    assert!(
        v["subjects"][0]["attestations"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("not from a trusted signer"),
        "{v}"
    );
}

#[test]
fn altered_cosign_annotations_fail_closed() {
    let e = env();
    let issuer = e.stack.issuer();
    let policy = format!(
        "version: 1\nsigners:\n  - name: dev\n    identity: dev@cairn.test\n    issuer: {issuer}\nrequirements:\n  - name: provenance\n    predicateType: slsa\n"
    );
    type Edit = fn(&mut CosignLayer);
    let edits: [(&str, &str, Edit); 5] = [
        ("integrated time moved", "inclusion promise", |l| {
            let a = l.annotations.get_mut("dev.sigstore.cosign/bundle").unwrap();
            let mut v: Value = serde_json::from_str(a).unwrap();
            let t = v["Payload"]["integratedTime"].as_i64().unwrap();
            v["Payload"]["integratedTime"] = json!(t - 3600);
            *a = v.to_string();
        }),
        ("SET from someone else", "inclusion promise", |l| {
            let a = l.annotations.get_mut("dev.sigstore.cosign/bundle").unwrap();
            let mut v: Value = serde_json::from_str(a).unwrap();
            v["SignedEntryTimestamp"] = json!(STANDARD.encode([7u8; 70]));
            *a = v.to_string();
        }),
        (
            "no Rekor bundle (keyless needs a log entry)",
            "inclusion proof",
            |l| {
                l.annotations.remove("dev.sigstore.cosign/bundle");
            },
        ),
        ("certificate removed", "no key signer", |l| {
            l.annotations.remove("dev.sigstore.cosign/certificate");
        }),
        ("payload edited", "signature verification failed", |l| {
            let mut env: Value = serde_json::from_slice(&l.bytes).unwrap();
            let mut st: Value =
                serde_json::from_slice(&STANDARD.decode(env["payload"].as_str().unwrap()).unwrap())
                    .unwrap();
            st["predicate"]["runDetails"]["builder"]["id"] = json!("https://evil.example/b");
            env["payload"] = json!(STANDARD.encode(serde_json::to_vec(&st).unwrap()));
            l.bytes = serde_json::to_vec(&env).unwrap();
        }),
    ];
    for (i, (what, why, edit)) in edits.into_iter().enumerate() {
        let dir = e.dir.path().join(format!("img{i}"));
        let img = image(&dir, "v1");
        let st = e.statement(&img, "https://slsa.dev/provenance/v1", provenance());
        let mut layer = e.att_keyless("dev@cairn.test", &img, &st);
        edit(&mut layer);
        cosign_tag(&dir, &img, "att", &[layer]);
        let p = e.policy(&format!("p{i}.yaml"), &policy);
        let (out, v) = verify(&e, &format!("oci:{}:v1", dir.display()), &p);
        assert_eq!(out.status.code(), Some(1), "{what}: {}", show(&out));
        let att = &v["subjects"][0]["attestations"][0];
        assert_eq!(att["verified"], false, "{what}: {v}");
        assert!(att["reason"].as_str().unwrap().contains(why), "{what}: {v}");
    }
}

#[test]
fn cosign_sig_and_key_signed_att_follow_the_signer_rules() {
    let e = env();
    let dir = e.dir.path().join("img");
    let img = image(&dir, "v1");
    let other = "sha256:".to_owned() + &"ab".repeat(32);
    cosign_tag(
        &dir,
        &img,
        "sig",
        &[e.sig_key(&img.digest.to_string()), e.sig_key(&other)],
    );
    let st = e.statement(
        &img,
        "https://in-toto.io/attestation/test-result/v0.1",
        json!({"result": "PASSED"}),
    );
    // Key-signed without a Rekor bundle annotation (cosign attest --tlog-upload=false).
    cosign_tag(&dir, &img, "att", &[e.att_key(&img, &st, false)]);
    let r = format!("oci:{}:v1", dir.display());
    let req = "requirements:\n  - name: tests\n    predicateType: test-result\n";
    let strict = e.policy(
        "strict.yaml",
        &format!("version: 1\nsigners:\n  - name: ci\n    key: ci.pub\n{req}"),
    );
    let offline = e.policy(
        "offline.yaml",
        &format!(
            "version: 1\nsigners:\n  - name: ci\n    key: ci.pub\n    transparencyLog: optional\n{req}"
        ),
    );

    let (out, v) = verify(&e, &r, &strict);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let atts = v["subjects"][0]["attestations"].as_array().unwrap();
    assert_eq!(atts.len(), 3, "{v}");
    let by_tag = |suffix: &str| -> Vec<&Value> {
        atts.iter()
            .filter(|a| {
                a["source"]
                    .as_str()
                    .unwrap()
                    .contains(&format!(".{suffix} layer"))
            })
            .collect()
    };
    let sigs = by_tag("sig");
    assert_eq!(sigs.len(), 2);
    // The signature over this image verifies (logged, trusted key); it is not an attestation.
    assert_eq!(sigs[0]["verified"], true, "{v}");
    assert!(
        sigs[0]["reason"]
            .as_str()
            .unwrap()
            .contains("cosign image signature verified"),
        "{v}"
    );
    // A valid signature over another image does not count for this one.
    assert_eq!(sigs[1]["verified"], false);
    assert!(sigs[1]["reason"].as_str().unwrap().contains(&other), "{v}");
    // The unlogged key-signed attestation needs transparencyLog: optional.
    let att = by_tag("att");
    assert_eq!(att[0]["verified"], false);
    assert!(
        att[0]["reason"].as_str().unwrap().contains("tlog")
            || att[0]["reason"]
                .as_str()
                .unwrap()
                .contains("transparency log"),
        "{v}"
    );

    let (out, v) = verify(&e, &r, &offline);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(v["passed"], true);
    // The human view names each piece of evidence by where it was found and what it is.
    let out = cairn(&[
        "verify",
        "image",
        &r,
        "--policy",
        &offline,
        "--trusted-root",
        &e.root_arg(),
        "--verbose-checks",
    ]);
    let human = String::from_utf8_lossy(&out.stdout);
    eprintln!("{human}");
    assert!(
        human.contains(&format!(
            "cosign tag {}.sig layer",
            img.digest.to_fallback_tag()
        )) && human.contains("(cosign image signature)"),
        "{human}"
    );

    // Promotion carries the cosign tags with the image; the copy verifies the same way.
    let dst = format!("oci:{}:prod", e.dir.path().join("prod").display());
    let out = cairn(&[
        "promote",
        &r,
        &dst,
        "--policy",
        &offline,
        "--trusted-root",
        &e.root_arg(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let (out, _) = verify(&e, &dst, &offline);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
}

#[test]
fn cosign_tags_on_a_registry_are_evaluated() {
    let Some(reg) =
        cairn_testkit::registry::Registry::start("cosign_tags_on_a_registry_are_evaluated")
    else {
        return;
    };
    let e = env();
    let dir = e.dir.path().join("img");
    let img = image(&dir, "v1");
    let st = e.statement(&img, "https://slsa.dev/provenance/v1", provenance());
    cosign_tag(
        &dir,
        &img,
        "att",
        &[e.att_keyless("dev@cairn.test", &img, &st)],
    );
    cosign_tag(&dir, &img, "sig", &[e.sig_key(&img.digest.to_string())]);
    // Push image and cosign tags to the registry (docker-registry keeps tags and digests).
    let client = cairn_oci::Client::new(
        cairn_oci::ClientConfig::default(),
        std::sync::Arc::new(cairn_oci::auth::Anonymous),
    )
    .unwrap();
    let repo = client.repository(&reg.host(), "team/app").unwrap();
    let report = cairn_oci::copy(
        &Layout::open(&dir).unwrap(),
        &img.digest,
        &repo,
        Some("v1"),
        &cairn_oci::CopyOptions::default(),
    )
    .unwrap();
    assert_eq!(report.cosign_tags.len(), 2, "{report:?}");
    let issuer = e.stack.issuer();
    let policy = e.policy(
        "p.yaml",
        &format!(
            "version: 1\nsigners:\n  - name: dev\n    identity: dev@cairn.test\n    issuer: {issuer}\n  - name: ci\n    key: ci.pub\nrequirements:\n  - name: provenance\n    predicateType: slsa\n    signers: [dev]\n"
        ),
    );
    let (out, v) = verify(&e, &format!("{}/team/app:v1", reg.host()), &policy);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let atts = v["subjects"][0]["attestations"].as_array().unwrap();
    assert_eq!(atts.len(), 2, "{v}");
    assert!(atts.iter().all(|a| a["verified"] == true), "{v}");
    assert!(
        atts.iter().all(|a| a["source"]
            .as_str()
            .unwrap()
            .starts_with("cosign tag sha256-")),
        "{v}"
    );
}

/// A `.sig` layer written by a real cosign against the public-good instance in October 2021
/// (keyless; fixture from sigstore-rs, see testdata/cosign-oci/MANIFEST.md). Its annotations
/// are read as cosign wrote them (SET, entry body, hex log id, PEM certificate), but cosign
/// logged signatures as `rekord` 0.0.1 entries until late 2021 (`hashedrekord` since), which
/// the bundle verifier does not support: the layer is refused with that reason, never passed.
#[test]
fn real_2021_cosign_signature_layer_is_refused_with_the_reason() {
    let fixture: Value = serde_json::from_slice(&cairn_testkit::read_testdata(
        "cosign-oci/sigstore-rs-keyless-sig.json",
    ))
    .unwrap();
    let payload = fixture["payload"].as_str().unwrap().as_bytes().to_vec();
    let mut layer = Descriptor::for_bytes(fixture["layer_media_type"].as_str().unwrap(), &payload);
    layer.annotations = serde_json::from_value(fixture["annotations"].clone()).unwrap();
    let found = cairn_oci::discover::Found {
        origin: cairn_oci::discover::Origin::CosignSignatureTag {
            tag: "sha256-5f481572d088dc4023afb35fced9530ced3d9b03bf7299c6f492163cb9f0452e.sig"
                .into(),
        },
        manifest: layer.digest.clone(),
        layer,
        format: cairn_oci::discover::EvidenceFormat::CosignSimpleSigning,
        predicate_type: None,
        bundle: None,
        signer: Default::default(),
        verified: false,
        problem: None,
        content: payload.clone(),
    };
    let c = cairn_oci::cosign::to_bundle(&found).unwrap();
    let b: Value = serde_json::from_slice(&c.bundle).unwrap();
    let entry = &b["verificationMaterial"]["tlogEntries"][0];
    assert_eq!(
        entry["kindVersion"],
        json!({"kind": "rekord", "version": "0.0.1"})
    );
    assert_eq!(entry["logIndex"], "783607");
    assert_eq!(
        entry["logId"]["keyId"],
        STANDARD.encode(
            hex::decode("c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d")
                .unwrap()
        )
    );
    let root = TrustedRoot::embedded(cairn_sigstore::Instance::PublicGood);
    let v = cairn_sigstore::verify_bundle(
        &c.bundle,
        cairn_sigstore::Artifact::Bytes(&payload),
        &cairn_sigstore::SignerPolicy::Certificate(cairn_sigstore::CertificatePolicy::new(
            cairn_sigstore::Identity::exact("flavio@castelli.me"),
            "https://github.com/login/oauth",
        )),
        &root,
        cairn_sigstore::VerifyOptions {
            now: chrono::Utc::now().timestamp(),
            allow_missing_tlog: false,
        },
    )
    .unwrap();
    assert!(!v.verified);
    let why = v
        .first_failure()
        .map(|c| c.detail.clone())
        .unwrap_or_default();
    assert!(why.contains("rekord/0.0.1"), "{why}");
}
