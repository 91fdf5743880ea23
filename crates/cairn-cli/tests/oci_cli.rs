//! `cairn attach`, `cairn attestations` and `cairn promote` end to end, on OCI layout
//! directories (no peer) and on a local registry (docker-registry, skipped when missing).

use std::path::Path;
use std::process::{Command, Output};

use cairn_oci::blob::Blob;
use cairn_oci::manifest::{Descriptor, Platform, media};
use cairn_oci::{Layout, Repository};

fn cairn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .env_remove("CAIRN_JSON")
        .output()
        .expect("run cairn")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

fn bundle_path(name: &str) -> String {
    cairn_testkit::testdata()
        .join("oci")
        .join(name)
        .display()
        .to_string()
}

/// A one-layer image in `repo`; returns its descriptor (platform set for index entries).
fn image(repo: &dyn Repository, arch: &str, seed: u8) -> Descriptor {
    let layer = vec![seed; 1000 + seed as usize];
    let ld = Descriptor::for_bytes("application/vnd.oci.image.layer.v1.tar", &layer);
    repo.push_blob(&ld, &Blob::from_vec(layer)).expect("layer");
    let config = format!(
        r#"{{"architecture":"{arch}","os":"linux","rootfs":{{"type":"layers","diff_ids":["{}"]}}}}"#,
        ld.digest
    );
    let cd = Descriptor::for_bytes(
        "application/vnd.oci.image.config.v1+json",
        config.as_bytes(),
    );
    repo.push_blob(&cd, &Blob::from_vec(config.into_bytes()))
        .expect("config");
    let m = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": media::OCI_MANIFEST, "config": cd, "layers": [ld]
    }))
    .expect("json");
    repo.push_manifest(media::OCI_MANIFEST, &m, None)
        .expect("manifest");
    let mut d = Descriptor::for_bytes(media::OCI_MANIFEST, &m);
    d.platform = Some(Platform {
        architecture: arch.into(),
        os: "linux".into(),
        variant: None,
        os_version: None,
        extra: Default::default(),
    });
    d
}

fn single(dir: &Path, tag: &str) -> Descriptor {
    let l = Layout::open_or_create(dir).expect("layout");
    let mut d = image(&l, "amd64", 1);
    d.platform = None;
    let m = l
        .fetch_manifest(&cairn_oci::Reference::Digest(d.digest.clone()))
        .expect("fetch");
    l.push_manifest(media::OCI_MANIFEST, &m.bytes, Some(tag))
        .expect("tag");
    d
}

fn multi(dir: &Path, tag: &str) -> (Descriptor, Vec<Descriptor>) {
    let l = Layout::open_or_create(dir).expect("layout");
    let a = image(&l, "amd64", 2);
    let b = image(&l, "arm64", 3);
    let idx = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": [a, b]
    }))
    .expect("json");
    l.push_manifest(media::OCI_INDEX, &idx, Some(tag))
        .expect("index");
    (Descriptor::for_bytes(media::OCI_INDEX, &idx), vec![a, b])
}

#[test]
fn attach_then_list_and_download_on_a_layout() {
    let dir = tempfile::tempdir().expect("tmp");
    let img = single(&dir.path().join("img"), "v1");
    let r = format!("oci:{}:v1", dir.path().join("img").display());
    let b1 = bundle_path("reusable-workflow-attestation.sigstore.json");
    let b2 = bundle_path("custom-issuer.sigstore.json");
    let out = cairn(&["attach", &r, "--bundle", &b1, "--bundle", &b2]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(stdout.contains("https://slsa.dev/provenance/v1"));
    assert!(
        text(&out.stderr).contains(&img.digest.to_string()),
        "{}",
        text(&out.stderr)
    );

    let dl = dir.path().join("evidence");
    let out = cairn(&[
        "attestations",
        &r,
        "--json",
        "--download",
        &dl.display().to_string(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(v["digest"], img.digest.to_string());
    assert_eq!(v["verified"], false);
    let atts = v["subjects"][0]["attestations"].as_array().expect("array");
    assert_eq!(atts.len(), 2);
    assert_eq!(v["subjects"][0]["referrers_via"], "tag-schema");
    assert_eq!(atts[0]["predicateType"], "https://slsa.dev/provenance/v1");
    assert_eq!(atts[0]["verified"], false);
    assert_eq!(
        atts[0]["signer"]["issuer"],
        "https://token.actions.githubusercontent.com"
    );
    assert_eq!(
        atts[1]["signer"]["issuer"],
        "https://token.actions.githubusercontent.com/hammer-time"
    );
    assert_eq!(atts[0]["signer"]["time"], "2024-05-24T19:14:24Z");
    // The downloads are the attached bundles, byte for byte.
    let mut files: Vec<_> = std::fs::read_dir(&dl)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2);
    let mut got: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(f).expect("read"))
        .collect();
    let mut want = vec![
        std::fs::read(&b1).expect("b1"),
        std::fs::read(&b2).expect("b2"),
    ];
    got.sort();
    want.sort();
    assert_eq!(got, want);

    // Human view: labelled unverified.
    let out = cairn(&["attestations", &r]);
    assert!(out.status.success());
    let human = text(&out.stdout);
    assert!(human.contains("[unverified]"), "{human}");
    assert!(human.contains("artifact-attestations-workflows"), "{human}");
    assert!(text(&out.stderr).contains("NOT verified"));
}

#[test]
fn multi_platform_images_list_each_platform() {
    let dir = tempfile::tempdir().expect("tmp");
    let (idx, children) = multi(&dir.path().join("img"), "v1");
    let r = format!("oci:{}:v1", dir.path().join("img").display());
    let b = bundle_path("sigstore-js-2.1.0-bundle.json");
    let out = cairn(&["attach", &r, "--platform", "linux/arm64", "--bundle", &b]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = cairn(&["attestations", &r, "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["digest"], idx.digest.to_string());
    let subjects = v["subjects"].as_array().expect("subjects");
    assert_eq!(subjects.len(), 3, "index + 2 platforms");
    assert_eq!(
        subjects[0]["attestations"].as_array().map(Vec::len),
        Some(0)
    );
    assert_eq!(subjects[1]["platform"], "linux/amd64");
    assert_eq!(
        subjects[1]["attestations"].as_array().map(Vec::len),
        Some(0)
    );
    assert_eq!(subjects[2]["platform"], "linux/arm64");
    assert_eq!(subjects[2]["subject"], children[1].digest.to_string());
    assert_eq!(
        subjects[2]["attestations"].as_array().map(Vec::len),
        Some(1)
    );
    let out = cairn(&["attestations", &r, "--platform", "linux/s390x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no manifest for platform linux/s390x"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tmp");
    single(&dir.path().join("img"), "v1");
    let r = format!("oci:{}:v1", dir.path().join("img").display());
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, b"{\"not\":\"a bundle\"}").expect("write");
    let out = cairn(&["attach", &r, "--bundle", &junk.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("error: cannot attach") && err.contains("invalid Sigstore bundle"),
        "{err}"
    );
    let out = cairn(&["attestations", "oci:/nonexistent/dir:v1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is not an OCI image layout"),
        "{}",
        text(&out.stderr)
    );
    let out = cairn(&["attestations", "Bad/Name:v1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("hint:"), "{}", text(&out.stderr));
    let out = cairn(&["attach", &r]);
    assert_eq!(out.status.code(), Some(2), "--bundle is required");
}

#[test]
fn promote_needs_a_readable_policy_and_moves_nothing_without_one() {
    let dir = tempfile::tempdir().expect("tmp");
    single(&dir.path().join("src"), "v1");
    let src = format!("oci:{}:v1", dir.path().join("src").display());
    let dst_dir = dir.path().join("dst");
    let dst = format!("oci:{}:prod", dst_dir.display());
    let out = cairn(&["promote", &src, &dst]);
    assert_eq!(out.status.code(), Some(2), "--policy is required");
    assert!(text(&out.stderr).contains("--policy"));
    let policy = dir.path().join("policy.yaml");
    let out = cairn(&[
        "promote",
        &src,
        &dst,
        "--policy",
        &policy.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("policy"),
        "{}",
        text(&out.stderr)
    );
    assert!(!dst_dir.exists(), "nothing was written");
    let out = cairn(&[
        "promote",
        &src,
        &format!("{dst}@sha256:{}", "0".repeat(64)),
        "--policy",
        "p.yaml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!dst_dir.exists(), "nothing was written");
}

#[test]
fn attach_and_list_on_a_registry() {
    let Some(reg) = cairn_testkit::registry::Registry::start("attach_and_list_on_a_registry")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let (idx, _) = multi(&dir.path().join("img"), "v1");
    // Push with cairn-oci (digests are kept by construction).
    let client = cairn_oci::Client::new(
        cairn_oci::ClientConfig::default(),
        std::sync::Arc::new(cairn_oci::auth::Anonymous),
    )
    .expect("client");
    let layout = Layout::open(dir.path().join("img")).expect("layout");
    let repo = client.repository(&reg.host(), "team/app").expect("repo");
    cairn_oci::copy(
        &layout,
        &idx.digest,
        &repo,
        Some("v1"),
        &cairn_oci::CopyOptions::default(),
    )
    .expect("push");

    let r = format!("{}/team/app:v1", reg.host());
    let b = bundle_path("reusable-workflow-attestation.sigstore.json");
    let out = cairn(&["attach", &r, "--bundle", &b, "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["subject"], idx.digest.to_string());
    let out = cairn(&[
        "attestations",
        &format!("{}/team/app@{}", reg.host(), idx.digest),
        "--json",
        "--index-only",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let atts = v["subjects"][0]["attestations"].as_array().expect("array");
    assert_eq!(atts.len(), 1);
    assert_eq!(atts[0]["origin"]["kind"], "referrer");
    assert_eq!(
        atts[0]["origin"]["via"], "tag-schema",
        "distribution 2.8 has no referrers API"
    );
    assert_eq!(
        atts[0]["signer"]["identity"],
        "https://github.com/github/artifact-attestations-workflows/.github/workflows/attest.yml@09b495c3f12c7881b3cc17209a327792065c1a1d"
    );
}

/// `cairn attest --attach` end to end on `image` (any reference): sign a provenance statement
/// with a key (logged in the in-process Rekor), attach it, list it, verify the image with a
/// policy trusting that key. `want_digest` is what the reference must resolve to.
fn attest_attach_verify(image: &str, want_digest: &cairn_oci::Digest, work: &Path) {
    use base64::Engine;
    let stack = cairn_testkit::sigstore::Stack::start();
    let trust = work.join("trust_config.json");
    std::fs::write(
        &trust,
        serde_json::to_vec(&stack.trust_config()).expect("json"),
    )
    .expect("write");
    let key = cairn_sign::PrivateKey::generate(cairn_sign::KeyType::EcdsaP256).expect("key");
    let key_path = work.join("release.key");
    std::fs::write(&key_path, key.to_pkcs8_pem(None).expect("pem").as_bytes()).expect("write");
    std::fs::write(work.join("release.pub"), key.public_key().to_spki_pem()).expect("write");
    let predicate = work.join("provenance.json");
    std::fs::write(
        &predicate,
        serde_json::to_vec(&serde_json::json!({
            "buildDefinition": {"buildType": "https://cairn.test/build/v1", "externalParameters": {}},
            "runDetails": {"builder": {"id": "https://cairn.test/builders/ci@v1"}}
        }))
        .expect("json"),
    )
    .expect("write");
    let bundle = work.join("provenance.sigstore.json");
    let out = cairn(&[
        "attest",
        &predicate.display().to_string(),
        "--type",
        "slsa",
        "--subject",
        image,
        "--key",
        &key_path.display().to_string(),
        "--tlog-upload",
        "--trust-config",
        &trust.display().to_string(),
        "--bundle",
        &bundle.display().to_string(),
        "--attach",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one document");
    assert_eq!(report["mode"], "key");
    assert!(report["log_index"].is_i64(), "{report}");
    let attached = report["attached"].as_array().expect("attached");
    assert_eq!(attached.len(), 1, "{report}");
    assert_eq!(attached[0]["subject"], want_digest.to_string());

    // The bundle is about exactly the resolved digest.
    let b: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&bundle).expect("bundle")).expect("json");
    let payload = base64::engine::general_purpose::STANDARD
        .decode(b["dsseEnvelope"]["payload"].as_str().expect("payload"))
        .expect("base64");
    let st: serde_json::Value = serde_json::from_slice(&payload).expect("statement");
    assert_eq!(
        st["subject"][0]["digest"]["sha256"].as_str(),
        want_digest.to_string().strip_prefix("sha256:")
    );

    // Listed as a referrer of that digest; the stored layer is the bundle, byte for byte.
    let dl = work.join("dl");
    let out = cairn(&[
        "attestations",
        image,
        "--json",
        "--index-only",
        "--download",
        &dl.display().to_string(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let atts = v["subjects"][0]["attestations"].as_array().expect("array");
    assert_eq!(atts.len(), 1, "{v}");
    assert_eq!(atts[0]["origin"]["kind"], "referrer");
    assert_eq!(atts[0]["manifest"], attached[0]["manifest"]);
    assert_eq!(atts[0]["predicateType"], "https://slsa.dev/provenance/v1");
    let files: Vec<_> = std::fs::read_dir(&dl)
        .expect("dir")
        .map(|e| std::fs::read(e.expect("entry").path()).expect("read"))
        .collect();
    assert_eq!(files, vec![std::fs::read(&bundle).expect("bundle")]);

    // The policy gate accepts it (key signer, logged entry).
    let policy = work.join("policy.yaml");
    std::fs::write(
        &policy,
        "version: 1\nsigners:\n  - name: release\n    key: release.pub\nrequirements:\n  - name: provenance\n    predicateType: slsa\n    signers: [release]\n",
    )
    .expect("write");
    let out = cairn(&[
        "verify",
        "image",
        image,
        "--policy",
        &policy.display().to_string(),
        "--trust-config",
        &trust.display().to_string(),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["digest"], want_digest.to_string());
    assert_eq!(v["subjects"][0]["attestations"][0]["verified"], true);

    // Re-attaching the same bundle (cairn attach) changes nothing.
    let out = cairn(&["attach", image, "--bundle", &bundle.display().to_string()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = cairn(&["attestations", image, "--json", "--index-only"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        v["subjects"][0]["attestations"].as_array().map(Vec::len),
        Some(1)
    );
}

#[test]
fn attest_attach_on_a_layout() {
    let dir = tempfile::tempdir().expect("tmp");
    let img = single(&dir.path().join("img"), "v1");
    let r = format!("oci:{}:v1", dir.path().join("img").display());
    attest_attach_verify(&r, &img.digest, dir.path());
}

#[test]
fn attest_attach_on_a_registry_attaches_to_the_index_digest() {
    let Some(reg) = cairn_testkit::registry::Registry::start(
        "attest_attach_on_a_registry_attaches_to_the_index_digest",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let (idx, _) = multi(&dir.path().join("img"), "v1");
    let client = cairn_oci::Client::new(
        cairn_oci::ClientConfig::default(),
        std::sync::Arc::new(cairn_oci::auth::Anonymous),
    )
    .expect("client");
    let layout = Layout::open(dir.path().join("img")).expect("layout");
    let repo = client.repository(&reg.host(), "team/app").expect("repo");
    cairn_oci::copy(
        &layout,
        &idx.digest,
        &repo,
        Some("v1"),
        &cairn_oci::CopyOptions::default(),
    )
    .expect("push");
    let r = format!("{}/team/app:v1", reg.host());
    attest_attach_verify(&r, &idx.digest, dir.path());
    // The tag still names the image, not an attestation.
    let resolved = cairn_oci::resolve(
        &repo,
        &cairn_oci::Reference::Tag("v1".into()),
        &cairn_oci::PlatformSelection::All,
    )
    .expect("resolve");
    assert_eq!(resolved.digest(), &idx.digest);
}

#[test]
fn attest_attach_refuses_file_only_subjects_before_signing() {
    let dir = tempfile::tempdir().expect("tmp");
    let key = cairn_sign::PrivateKey::generate(cairn_sign::KeyType::Ed25519).expect("key");
    let key_path = dir.path().join("k.key");
    std::fs::write(&key_path, key.to_pkcs8_pem(None).expect("pem").as_bytes()).expect("write");
    let predicate = dir.path().join("p.json");
    std::fs::write(&predicate, b"{}").expect("write");
    let artifact = dir.path().join("app.tar.gz");
    std::fs::write(&artifact, b"app").expect("write");
    let bundle = dir.path().join("out.json");
    let out = cairn(&[
        "attest",
        &predicate.display().to_string(),
        "--type",
        "slsa",
        "--subject",
        &artifact.display().to_string(),
        "--key",
        &key_path.display().to_string(),
        "--bundle",
        &bundle.display().to_string(),
        "--attach",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("--attach needs an image subject"), "{err}");
    assert!(!bundle.exists(), "nothing signed");
}

/// Offline promotion: a key-signed attestation with no transparency-log entry (nothing leaves
/// the machine) is refused by default and accepted only for the key whose policy entry says
/// `transparencyLog: optional`.
#[test]
fn offline_key_attestation_needs_transparency_log_optional() {
    let dir = tempfile::tempdir().expect("tmp");
    let work = dir.path();
    let img = single(&work.join("staging"), "v1");
    let src = format!("oci:{}:v1", work.join("staging").display());
    let key = cairn_sign::PrivateKey::generate(cairn_sign::KeyType::EcdsaP256).expect("key");
    let key_path = work.join("ci.key");
    std::fs::write(&key_path, key.to_pkcs8_pem(None).expect("pem").as_bytes()).expect("write");
    std::fs::write(work.join("ci.pub"), key.public_key().to_spki_pem()).expect("write");
    let predicate = work.join("result.json");
    std::fs::write(&predicate, br#"{"result": "PASSED", "failedTests": []}"#).expect("write");
    let out = cairn(&[
        "attest",
        &predicate.display().to_string(),
        "--type",
        "https://in-toto.io/attestation/test-result/v0.1",
        "--subject",
        &src,
        "--key",
        &key_path.display().to_string(),
        "--attach",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let write_policy = |name: &str, tlog: &str| {
        let p = work.join(name);
        std::fs::write(
            &p,
            format!(
                "version: 1\nsigners:\n  - name: ci\n    key: ci.pub\n{tlog}requirements:\n  - name: tests\n    predicateType: test-result\n    cel:\n      - name: passed\n        expr: \"predicate.result == 'PASSED'\"\n"
            ),
        )
        .expect("write");
        p.display().to_string()
    };
    let strict = write_policy("strict.yaml", "");
    let offline = write_policy("offline.yaml", "    transparencyLog: optional\n");

    let out = cairn(&["verify", "image", &src, "--policy", &strict, "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let why = v["subjects"][0]["attestations"][0]["reason"]
        .as_str()
        .expect("reason")
        .to_owned();
    assert!(
        why.contains("tlog") || why.contains("transparency log"),
        "{why}"
    );

    let out = cairn(&["verify", "image", &src, "--policy", &offline, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let why = v["subjects"][0]["attestations"][0]["reason"]
        .as_str()
        .expect("reason");
    assert!(why.contains("no transparency-log entry"), "{why}");

    // Promotion refuses with the strict policy (nothing written) and moves with the offline one.
    let dst = format!("oci:{}:prod", work.join("prod").display());
    let out = cairn(&["promote", &src, &dst, "--policy", &strict]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let out = cairn(&["promote", &src, &dst, "--policy", &offline]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let prod = Layout::open(work.join("prod")).expect("layout");
    let resolved = cairn_oci::resolve(
        &prod,
        &cairn_oci::Reference::Tag("prod".into()),
        &cairn_oci::PlatformSelection::All,
    )
    .expect("resolve");
    assert_eq!(resolved.digest(), &img.digest);
    // The attestation travelled with the image: the promoted copy verifies on its own.
    let out = cairn(&["verify", "image", &dst, "--policy", &offline]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}
