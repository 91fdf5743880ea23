//! `cairn promote` and `cairn verify image` end to end: on OCI layout directories (no peer
//! needed) and on a local registry (docker-registry; skipped with a reason when missing).
//! Bundles are key-signed in-process and logged in the in-process Rekor (cairn_testkit).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cairn_oci::manifest::Descriptor;
use cairn_oci::{Layout, Reference, Repository};
use cairn_sign::{KeyType, PrivateKey};
use cairn_testkit::sigstore::Stack;
use cairn_testkit::{attest, oci};
use serde_json::{Value, json};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

use cairn_testkit::show;

struct Env {
    stack: Stack,
    dir: tempfile::TempDir,
    root: PathBuf,
    key: PrivateKey,
    policy: PathBuf,
    policy_sbom: PathBuf,
}

fn env() -> Env {
    let stack = Stack::start();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("trusted_root.json");
    std::fs::write(&root, serde_json::to_vec(&stack.trusted_root()).unwrap()).unwrap();
    let key = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    let pubkey = dir.path().join("release.pub");
    std::fs::write(&pubkey, key.public_key().to_spki_pem()).unwrap();
    let policy = dir.path().join("policy.yaml");
    let base = "version: 1\nname: prod-gate\nsigners:\n  - name: release\n    key: release.pub\nrequirements:\n  - name: provenance\n    predicateType: slsa\n    slsa:\n      builders:\n        - id: https://cairn.test/builders/ci\n          level: 2\n";
    std::fs::write(&policy, base).unwrap();
    let policy_sbom = dir.path().join("policy-sbom.yaml");
    std::fs::write(
        &policy_sbom,
        format!("{base}  - name: sbom\n    predicateType: sbom\n"),
    )
    .unwrap();
    Env {
        stack,
        dir,
        root,
        key,
        policy,
        policy_sbom,
    }
}

const SLSA: &str = "https://slsa.dev/provenance/v1";

fn provenance() -> Value {
    attest::slsa_provenance("https://cairn.test/builders/ci@v1")
}

impl Env {
    fn cairn(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(args)
            .env("NO_COLOR", "1")
            .env_remove("CAIRN_JSON")
            .env_remove("CAIRN_POLICY")
            .output()
            .unwrap()
    }

    /// The stack's client trust config (trusted root and signing config), written to a file.
    fn trust_config_file(&self) -> PathBuf {
        let trust = self.dir.path().join("trust_config.json");
        std::fs::write(
            &trust,
            serde_json::to_vec(&self.stack.trust_config()).unwrap(),
        )
        .unwrap();
        trust
    }

    fn root_arg(&self) -> String {
        self.root.display().to_string()
    }

    /// `cairn <verb...> IMAGES... --policy POLICY --trusted-root ROOT EXTRA...`.
    fn gate(&self, verb: &[&str], images: &[&str], policy: &Path, extra: &[&str]) -> Output {
        let policy = policy.display().to_string();
        let root = self.root_arg();
        let args = [
            verb,
            images,
            &["--policy", &policy, "--trusted-root", &root],
            extra,
        ]
        .concat();
        self.cairn(&args)
    }

    /// `cairn verify image IMAGE --policy POLICY --trusted-root ROOT EXTRA...`.
    fn verify_image(&self, image: &str, policy: &Path, extra: &[&str]) -> Output {
        self.gate(&["verify", "image"], &[image], policy, extra)
    }

    /// `cairn promote SRC DST --policy POLICY --trusted-root ROOT EXTRA...`.
    fn promote(&self, src: &str, dst: &str, policy: &Path, extra: &[&str]) -> Output {
        self.gate(&["promote"], &[src, dst], policy, extra)
    }

    /// A key-signed DSSE bundle (logged in the stack's Rekor) about `digest`, written to a file.
    fn bundle(&self, digest: &Descriptor, predicate_type: &str, predicate: Value) -> PathBuf {
        let json = attest::attestation_bundle(
            &self.stack,
            &self.key,
            "app",
            digest.digest.hex(),
            predicate_type,
            &predicate,
        );
        let n = std::fs::read_dir(self.dir.path()).unwrap().count();
        let path = self.dir.path().join(format!("bundle-{n}.sigstore.json"));
        std::fs::write(&path, json).unwrap();
        path
    }

    fn attach(&self, image: &str, bundle: &Path, platform: Option<&str>) {
        let b = bundle.display().to_string();
        let mut args = vec!["attach", image, "--bundle", &b];
        if let Some(p) = platform {
            args.extend(["--platform", p]);
        }
        let out = self.cairn(&args);
        assert!(out.status.success(), "{}", show(&out));
    }

    /// Signs SLSA provenance (by the trusted builder) about `digest` and attaches it to `image`.
    fn attach_provenance(&self, image: &str, digest: &Descriptor, platform: Option<&str>) {
        self.attach(image, &self.bundle(digest, SLSA, provenance()), platform);
    }
}

/// A single-arch image tagged `t` in the OCI layout at `dir`.
fn single(dir: &Path, t: &str, seed: u64) -> Descriptor {
    oci::single_arch_layout(dir, t, seed)
}

/// Asserts that `t` in the layout at `dir` points at `want`.
fn assert_tag(dir: &Path, t: &str, want: &Descriptor) {
    assert_eq!(
        oci::layout_tag_digest(dir, t).as_deref(),
        Some(want.digest.to_string().as_str()),
        "{t} in {}",
        dir.display()
    );
}

#[test]
fn passing_image_is_promoted_with_its_attestations() {
    let e = env();
    let src_dir = e.dir.path().join("staging");
    let img = single(&src_dir, "v1", 1);
    let src = format!("oci:{}:v1", src_dir.display());
    e.attach_provenance(&src, &img, None);

    let out = e.verify_image(&src, &e.policy, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(text(&out.stdout).starts_with("PASS"), "{}", show(&out));

    let dst_dir = e.dir.path().join("prod");
    let dst = format!("oci:{}:prod", dst_dir.display());
    // Dry run writes nothing.
    let out = e.promote(&src, &dst, &e.policy, &["--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(text(&out.stdout).contains("would copy"), "{}", show(&out));
    assert_eq!(oci::layout_tag_digest(&dst_dir, "prod"), None);

    let out = e.promote(&src, &dst, &e.policy, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_tag(&dst_dir, "prod", &img);
    // The attestation travelled with the image, and still verifies there.
    let out = e.cairn(&["attestations", &dst, "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["subjects"][0]["attestations"].as_array().unwrap().len(),
        1,
        "{}",
        show(&out)
    );
    let out = e.verify_image(&dst, &e.policy, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));

    // Idempotent: a second run copies nothing new and leaves the tag where it is.
    let out = e.promote(&src, &dst, &e.policy, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["promoted"], true);
    assert_eq!(v["copy"]["manifests_copied"], 0, "{v}");
    assert_eq!(v["copy"]["blobs_copied"], 0, "{v}");
    assert_tag(&dst_dir, "prod", &img);
}

#[test]
fn failing_image_is_refused_with_the_reason_and_dst_is_unchanged() {
    let e = env();
    let src_dir = e.dir.path().join("staging");
    let dst_dir = e.dir.path().join("prod");
    // DST already serves an older image under the tag.
    let old = single(&dst_dir, "prod", 9);
    let img = single(&src_dir, "v2", 2);
    let src = format!("oci:{}:v2", src_dir.display());
    e.attach_provenance(&src, &img, None);
    let dst = format!("oci:{}:prod", dst_dir.display());
    // The policy also wants an SBOM, which the image does not have.
    let out = e.promote(&src, &dst, &e.policy_sbom, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("[requirements.sbom.threshold]"), "{stdout}");
    assert!(
        stdout.contains("no SBOM (SPDX or CycloneDX) attestation"),
        "{stdout}"
    );
    assert!(stdout.contains("refused"), "{stdout}");
    assert_tag(&dst_dir, "prod", &old);
    let l = Layout::open_or_create(&dst_dir).unwrap();
    assert!(!l.manifest_exists(&img.digest).unwrap(), "nothing copied");

    // An attestation signed by someone else does not help.
    let stranger = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    let e2 = Env { key: stranger, ..e };
    e2.attach(
        &src,
        &e2.bundle(
            &img,
            "https://spdx.dev/Document/v2.3",
            json!({"spdxVersion": "SPDX-2.3", "packages": []}),
        ),
        None,
    );
    let out = e2.promote(&src, &dst, &e2.policy_sbom, &["--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["promoted"], false);
    let why = v.to_string();
    assert!(why.contains("not from a trusted signer"), "{why}");
    assert_tag(&dst_dir, "prod", &old);
}

#[test]
fn tag_moved_on_src_after_resolve_promotes_the_verified_digest() {
    // The library sequence `cairn promote` runs: resolve once, verify, then copy by the approved
    // digest. The tag moves to an unverified image between resolve and copy.
    let e = env();
    let src_dir = e.dir.path().join("staging");
    let good = single(&src_dir, "v1", 1);
    e.attach_provenance(&format!("oci:{}:v1", src_dir.display()), &good, None);
    let src = Layout::open_or_create(&src_dir).unwrap();
    let resolved = cairn_oci::resolve(
        &src,
        &Reference::Tag("v1".into()),
        &cairn_oci::PlatformSelection::All,
    )
    .unwrap();
    let policy = cairn_verify::policy::Policy::from_file(&e.policy).unwrap();
    let root = cairn_sigstore::TrustedRoot::from_file(&e.root).unwrap();
    let found = cairn_oci::discover(&src, resolved.digest()).unwrap();
    let bundles: Vec<_> = found
        .attestations
        .iter()
        .map(|f| cairn_verify::policy::BundleInput::new("referrer", f.content.clone()))
        .collect();
    let sha = attest::sha256_bytes(resolved.digest().hex());
    let eval = cairn_verify::policy::evaluate(
        &policy,
        &cairn_verify::policy::Subject::sha256("app", sha),
        &bundles,
        &cairn_verify::policy::EvalOptions::new(&root, chrono::Utc::now()),
    )
    .unwrap();
    assert!(eval.verdict.passed());

    // Someone pushes an unverified image under the same tag.
    let mut evil = oci::push_image(&src, "amd64", 66, 2066);
    evil.platform = None;
    oci::tag(&src, &evil, "v1");

    let dst_dir = e.dir.path().join("prod");
    let dst = Layout::open_or_create(&dst_dir).unwrap();
    let approval = cairn_oci::Approval::new(resolved.digest().clone(), "policy passed");
    cairn_oci::promote(
        &src,
        &resolved,
        &approval,
        &dst,
        Some("prod"),
        &cairn_oci::CopyOptions::default(),
    )
    .unwrap();
    assert_tag(&dst_dir, "prod", &good);
    assert!(!dst.manifest_exists(&evil.digest).unwrap());

    // And the CLI, run now, resolves the moved tag to the unverified image and refuses it.
    let out = e.promote(
        &format!("oci:{}:v1", src_dir.display()),
        &format!("oci:{}:prod", dst_dir.display()),
        &e.policy,
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        text(&out.stderr).contains(&evil.digest.to_string()),
        "{}",
        show(&out)
    );
    assert_tag(&dst_dir, "prod", &good);
}

#[test]
fn multi_platform_images_are_verified_per_platform() {
    let e = env();
    let dir = e.dir.path().join("multi");
    let l = Layout::open_or_create(&dir).unwrap();
    let a = oci::push_image(&l, "amd64", 2, 2002);
    let arm64 = cairn_oci::manifest::Platform {
        variant: None,
        ..oci::linux("arm64")
    };
    let b = oci::push_image_for(&l, arm64, 3, 2003);
    oci::push_index(&l, &[a.clone(), b], Some("v1"));
    let r = format!("oci:{}:v1", dir.display());
    // Only the amd64 manifest has provenance.
    e.attach_provenance(&r, &a, Some("linux/amd64"));
    let run = |extra: &[&str]| e.verify_image(&r, &e.policy, extra);
    assert_eq!(run(&["--platform", "linux/amd64"]).status.code(), Some(0));
    assert_eq!(run(&["--platform", "linux/arm64"]).status.code(), Some(1));
    let out = run(&["--all-platforms", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let subjects = v["subjects"].as_array().unwrap();
    assert_eq!(subjects.len(), 2);
    let outcome = |p: &str| {
        subjects
            .iter()
            .find(|s| s["platform"] == p)
            .map(|s| s["verdict"]["outcome"].clone())
    };
    assert_eq!(outcome("linux/amd64"), Some(json!("pass")));
    assert_eq!(outcome("linux/arm64"), Some(json!("fail")));
    // The index digest itself carries nothing.
    assert_eq!(run(&[]).status.code(), Some(1));

    // Promote just the platform that passes.
    let dst_dir = e.dir.path().join("prod");
    let out = e.promote(
        &r,
        &format!("oci:{}:prod", dst_dir.display()),
        &e.policy,
        &["--platform", "linux/amd64"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_tag(&dst_dir, "prod", &a);
}

#[test]
fn verify_image_writes_a_signed_vsa_only_on_success() {
    let e = env();
    let src_dir = e.dir.path().join("staging");
    let img = single(&src_dir, "v1", 1);
    let src = format!("oci:{}:v1", src_dir.display());
    e.attach_provenance(&src, &img, None);
    let vsa_key = e.dir.path().join("vsa.key");
    std::fs::write(
        &vsa_key,
        PrivateKey::generate(KeyType::EcdsaP256)
            .unwrap()
            .to_pkcs8_pem(None)
            .unwrap()
            .as_bytes(),
    )
    .unwrap();
    let trust = e.trust_config_file();
    let (trust_s, key_s) = (trust.display().to_string(), vsa_key.display().to_string());
    // `cairn verify image SRC --policy POLICY --trust-config T --vsa-out VSA --key K`.
    let verify_with_vsa = |policy: &Path, vsa: &Path| {
        let policy = policy.display().to_string();
        let vsa = vsa.display().to_string();
        e.cairn(&[
            "verify",
            "image",
            &src,
            "--policy",
            &policy,
            "--trust-config",
            &trust_s,
            "--vsa-out",
            &vsa,
            "--key",
            &key_s,
            "--vsa-tlog-upload",
        ])
    };
    let vsa = e.dir.path().join("app.vsa.json");
    let out = verify_with_vsa(&e.policy, &vsa);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let bundle: Value = serde_json::from_slice(&std::fs::read(&vsa).unwrap()).unwrap();
    use base64::Engine;
    let payload = base64::engine::general_purpose::STANDARD
        .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let st: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(
        st["predicateType"],
        "https://slsa.dev/verification_summary/v1"
    );
    assert_eq!(st["predicate"]["verificationResult"], "PASSED");
    assert_eq!(
        st["subject"][0]["digest"]["sha256"],
        img.digest.to_string()[7..]
    );
    // The VSA verifies as a bundle over the image digest with the VSA key.
    let out = e.cairn(&[
        "verify",
        "artifact",
        &img.digest.to_string(),
        "--bundle",
        &vsa.display().to_string(),
        "--key",
        &key_s,
        "--trust-config",
        &trust_s,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));

    // A failing verification writes no VSA.
    let vsa2 = e.dir.path().join("fail.vsa.json");
    let out = verify_with_vsa(&e.policy_sbom, &vsa2);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(!vsa2.exists());
}

#[test]
fn promote_on_a_registry() {
    let Some(reg) = cairn_testkit::registry::Registry::start("promote_on_a_registry") else {
        return;
    };
    let e = env();
    let host = reg.host();
    // Build the image in a layout, then copy it into the registry's staging repository.
    let seed_dir = e.dir.path().join("seed");
    let img = single(&seed_dir, "v1", 4);
    oci::push_layout_image(&seed_dir, &img.digest, &host, "staging/app", "v1");
    let staging = format!("{host}/staging/app:v1");
    e.attach_provenance(&staging, &img, None);
    let prod = format!("{host}/prod/app:stable");
    let out = e.promote(&staging, &prod, &e.policy, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let out = e.verify_image(&prod, &e.policy, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["digest"], img.digest.to_string());

    // A failing image is refused and prod:stable stays where it was.
    let bad = single(&seed_dir, "v2", 5);
    oci::push_layout_image(&seed_dir, &bad.digest, &host, "staging/app", "v2");
    let out = e.promote(&format!("{host}/staging/app:v2"), &prod, &e.policy, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let out = e.verify_image(&prod, &e.policy, &["--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["digest"], img.digest.to_string(), "prod:stable unchanged");
}

/// Benchmark (run by scripts/bench-verify-image.sh): `cairn verify image` over 10 attestations
/// on a local registry. Prints the median wall time of RUNS (env `BENCH_RUNS`, default 10).
#[test]
#[ignore = "benchmark: scripts/bench-verify-image.sh"]
fn bench_verify_image_10_attestations() {
    let Some(reg) = cairn_testkit::registry::Registry::start("bench_verify_image_10_attestations")
    else {
        return;
    };
    let e = env();
    let seed_dir = e.dir.path().join("seed");
    let img = single(&seed_dir, "v1", 4);
    let image_ref = format!("{}/bench/app:v1", reg.host());
    oci::push_layout_image(&seed_dir, &img.digest, &reg.host(), "bench/app", "v1");
    let sbom = json!({"spdxVersion": "SPDX-2.3", "packages": [
        {"name": "serde", "versionInfo": "1.0.0", "licenseConcluded": "MIT OR Apache-2.0",
         "externalRefs": [{"referenceType": "purl", "referenceLocator": "pkg:cargo/serde@1.0.0"}]}]});
    let tests = json!({"result": "PASSED", "passedTests": ["a"], "failedTests": []});
    let mut kinds = Vec::new();
    for i in 0..10 {
        let (t, p) = match i % 3 {
            0 => (SLSA, provenance()),
            1 => ("https://spdx.dev/Document/v2.3", sbom.clone()),
            _ => (
                "https://in-toto.io/attestation/test-result/v0.1",
                tests.clone(),
            ),
        };
        kinds.push(t);
        e.attach(&image_ref, &e.bundle(&img, t, p), None);
    }
    let policy = e.dir.path().join("bench.yaml");
    std::fs::write(
        &policy,
        format!(
            "{}  - name: sbom\n    predicateType: sbom\n    sbom:\n      deniedLicenses: ['GPL-3.0-*']\n  - name: tests\n    predicateType: test-result\n    cel:\n      - name: passed\n        expr: \"predicate.result == 'PASSED'\"\n",
            std::fs::read_to_string(&e.policy).unwrap()
        ),
    )
    .unwrap();
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = std::time::Instant::now();
        let out = e.verify_image(&image_ref, &policy, &["--json"]);
        times.push(start.elapsed());
        assert_eq!(out.status.code(), Some(0), "{}", show(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            v["subjects"][0]["attestations"].as_array().unwrap().len(),
            10
        );
    }
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "BENCH verify-image attestations=10 runs={runs} median_ms={:.1} min_ms={:.1} max_ms={:.1}",
        median.as_secs_f64() * 1000.0,
        times[0].as_secs_f64() * 1000.0,
        times[times.len() - 1].as_secs_f64() * 1000.0
    );
}

#[test]
fn keyless_vsa_from_the_in_process_sigstore() {
    let e = env();
    let src_dir = e.dir.path().join("staging");
    let img = single(&src_dir, "v1", 1);
    let src = format!("oci:{}:v1", src_dir.display());
    e.attach_provenance(&src, &img, None);
    let trust = e.trust_config_file();
    let vsa = e.dir.path().join("app.vsa.json");
    let token = e.stack.token("gate@cairn.test", "sigstore", 600);
    let out = e.cairn(&[
        "verify",
        "image",
        &src,
        "--policy",
        &e.policy.display().to_string(),
        "--trust-config",
        &trust.display().to_string(),
        "--vsa-out",
        &vsa.display().to_string(),
        "--keyless",
        "--identity-token",
        &token,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    // A later gate trusts the VSA by its keyless signer.
    let gate = e.dir.path().join("gate.yaml");
    std::fs::write(
        &gate,
        format!(
            "version: 1\nsigners:\n  - name: gate\n    identity: gate@cairn.test\n    issuer: {}\nrequirements:\n  - name: vsa\n    predicateType: vsa\n    cel:\n      - name: passed\n        expr: \"predicate.verificationResult == 'PASSED' && 'SLSA_BUILD_LEVEL_1' in predicate.verifiedLevels\"\n",
            e.stack.issuer()
        ),
    )
    .unwrap();
    let out = e.cairn(&[
        "verify",
        "artifact",
        &img.digest.to_string(),
        "--policy",
        &gate.display().to_string(),
        "--bundle",
        &vsa.display().to_string(),
        "--trust-config",
        &trust.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
}
