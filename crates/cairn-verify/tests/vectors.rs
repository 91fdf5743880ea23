//! Every layout case of the in-toto-python, in-toto-golang and in-toto-rs vectors (see the
//! MANIFEST.md of each `testdata/in-toto-*` folder), with the verification time pinned.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cairn_sign::PublicKey;
use cairn_verify::layout::inspect::InspectionSettings;
use cairn_verify::layout::{Options, verify_file};
use cairn_verify::{Outcome, Verdict};
use chrono::{DateTime, Utc};

/// The in-toto-python demo: layout, keys, links.
const PY_ROOT: &str = "in-toto-python/generated-by-reference-impl/root.layout";
const PY_ALICE: &str = "in-toto-python/tests/demo_files/alice.pub";
const PY_BOB: &str = "in-toto-python/tests/demo_files/bob.pub";
const PY_CARL: &str = "in-toto-python/tests/demo_files/carl.pub";
const PY_DEMO: &str = "in-toto-python/tests/demo_files";
/// The in-toto-golang test data (layouts, keys and links in one folder).
const GO_DATA: &str = "in-toto-golang/test/data";
const GO_ALICE: &str = "in-toto-golang/test/data/alice.pub";
/// The in-toto-rs verifylib case.
const RS_ALICE: &str = "in-toto-rs/tests/test_verifylib/workdir/alice.pub";
const RS_LINKS: &str = "in-toto-rs/tests/test_verifylib/links";

fn td(rel: &str) -> PathBuf {
    cairn_testkit::testdata().join(rel)
}

fn key(rel: &str) -> PublicKey {
    cairn_sign::load_key(&td(rel), None)
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
        .public_key()
        .clone()
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// A clean working directory holding `files` (copied from testdata), for inspections.
fn workdir(files: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in files {
        let src = td(f);
        std::fs::copy(&src, dir.path().join(src.file_name().unwrap())).unwrap();
    }
    dir
}

fn opts(keys: Vec<PublicKey>, when: &str, links: &Path, work: &Path) -> Options {
    Options {
        layout_keys: keys,
        at: at(when),
        params: BTreeMap::new(),
        link_dir: links.to_path_buf(),
        inspections: InspectionSettings {
            workdir: work.to_path_buf(),
            timeout: Duration::from_secs(30),
            link_dir: None,
        },
    }
}

/// Verifies the testdata layout `layout` with the testdata public keys `keys` at `when`, links
/// from the testdata folder `links`, inspections run in `work`.
fn verify(layout: &str, keys: &[&str], when: &str, links: &str, work: &Path) -> Verdict {
    let keys = keys.iter().map(|k| key(k)).collect();
    verify_file(&td(layout), &opts(keys, when, &td(links), work)).unwrap()
}

fn failures(v: &Verdict) -> String {
    v.failures()
        .map(|c| format!("{}: {}", c.id, c.reason))
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_pass(v: &Verdict) {
    assert!(v.passed(), "expected PASS, got:\n{}", failures(v));
}

fn assert_fail_at(v: &Verdict, id: &str) {
    assert!(!v.passed(), "expected FAIL at {id}");
    let c = v
        .find(id)
        .unwrap_or_else(|| panic!("no check {id}:\n{}", failures(v)));
    assert_eq!(
        c.outcome,
        Outcome::Fail,
        "{id}: {}\nall failures:\n{}",
        c.reason,
        failures(v)
    );
}

/// A working directory with upstream's mock `scripts/tar` replaced by a tiny wrapper around the
/// system tar (upstream's mock is code and was not copied; any tar behaves the same).
fn python_demo_workdir() -> Option<tempfile::TempDir> {
    if std::process::Command::new("python")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!(
            "SKIP in-toto-python inspection: no `python` on PATH (the layout's inspection runs it)"
        );
        return None;
    }
    let dir = workdir(&["in-toto-python/tests/demo_files/foo.tar.gz"]);
    std::fs::create_dir(dir.path().join("scripts")).unwrap();
    std::fs::write(
        dir.path().join("scripts/tar"),
        "import subprocess, sys\nsys.exit(subprocess.call(['tar'] + sys.argv[1:]))\n",
    )
    .unwrap();
    Some(dir)
}

const PY_AT: &str = "2026-12-01T00:00:00Z";

#[test]
fn python_9_root_layout_verifies() {
    let Some(work) = python_demo_workdir() else {
        return;
    };
    let v = verify(PY_ROOT, &[PY_ALICE], PY_AT, PY_DEMO, work.path());
    assert_pass(&v);
    // The untar inspection ran and its rules were applied.
    assert_eq!(
        v.find("inspections.untar.run").unwrap().outcome,
        Outcome::Pass
    );
    assert_eq!(
        v.find("inspections.untar.products").unwrap().outcome,
        Outcome::Pass
    );
    // package's recorded command is the expected one; write-code has no expected command.
    assert_eq!(
        v.find("steps.package.command").unwrap().outcome,
        Outcome::Pass
    );
}

#[test]
fn python_9_after_expiry_fails() {
    let work = workdir(&[]);
    let v = verify(
        PY_ROOT,
        &[PY_ALICE],
        "2026-12-28T13:26:15Z",
        PY_DEMO,
        work.path(),
    );
    assert_fail_at(&v, "layout.expiry");
}

#[test]
fn python_10_wrong_layout_key_fails() {
    let work = workdir(&[]);
    let v = verify(PY_ROOT, &[PY_BOB], PY_AT, PY_DEMO, work.path());
    assert_fail_at(&v, "layout.signatures.key[0]");
    assert_eq!(v.find("steps").unwrap().outcome, Outcome::Skip);
}

#[test]
fn python_11_double_signed_needs_each_given_key() {
    let Some(work) = python_demo_workdir() else {
        return;
    };
    let layout = td("in-toto-python/generated-by-reference-impl/root-double-signed.layout");
    let links = td(PY_DEMO);
    for keys in [vec![key(PY_ALICE)], vec![key(PY_ALICE), key(PY_BOB)]] {
        let v = verify_file(&layout, &opts(keys, PY_AT, &links, work.path())).unwrap();
        assert_pass(&v);
    }
    // carl never signed it.
    let v = verify_file(
        &layout,
        &opts(
            vec![key(PY_ALICE), key(PY_CARL)],
            PY_AT,
            &links,
            work.path(),
        ),
    )
    .unwrap();
    assert_fail_at(&v, "layout.signatures.key[1]");
}

#[test]
fn python_12_dsse_layout_without_expires_is_rejected_strictly() {
    // Spec-ambiguous (MANIFEST case 12): the reference fills in a default expiry; the
    // specification makes `expires` mandatory. cairn follows the specification, but everything
    // else about the case (DSSE layout signature, DSSE links, rules) must verify.
    let Some(work) = python_demo_workdir() else {
        return;
    };
    let v = verify(
        "in-toto-python/generated-by-reference-impl/root.dsse.layout",
        &[PY_ALICE],
        PY_AT,
        "in-toto-python/tests/demo_dsse_files",
        work.path(),
    );
    let roots: Vec<&str> = v.failures().map(|c| c.id.as_str()).collect();
    assert_eq!(roots, vec!["layout.expiry"], "{}", failures(&v));
    assert_eq!(v.find("steps").unwrap().outcome, Outcome::Pass);
}

#[test]
fn python_6_7_unsigned_templates_fail() {
    let work = workdir(&[]);
    for (layout, links) in [
        (
            "in-toto-python/tests/demo_files/demo.layout.template",
            PY_DEMO,
        ),
        (
            "in-toto-python/tests/demo_dsse_files/demo.layout.template",
            "in-toto-python/tests/demo_dsse_files",
        ),
    ] {
        let v = verify(layout, &[PY_ALICE], PY_AT, links, work.path());
        assert_fail_at(&v, "layout.signatures");
    }
}

#[test]
fn python_5_link_with_wrong_functionary_fails_threshold() {
    // Copy write-code's link under carl's keyid prefix for step package: authorised file name,
    // wrong signer and wrong step name.
    let Some(work) = python_demo_workdir() else {
        return;
    };
    let links = tempfile::tempdir().unwrap();
    let src = td(PY_DEMO);
    std::fs::copy(
        src.join("write-code.776a00e2.link"),
        links.path().join("write-code.776a00e2.link"),
    )
    .unwrap();
    std::fs::copy(
        src.join("write-code.776a00e2.link"),
        links.path().join("package.2f89b927.link"),
    )
    .unwrap();
    let v = verify_file(
        &td(PY_ROOT),
        &opts(vec![key(PY_ALICE)], PY_AT, links.path(), work.path()),
    )
    .unwrap();
    assert_fail_at(&v, "steps.package.threshold");
    assert_eq!(v.find("inspections.untar").unwrap().outcome, Outcome::Skip);
}

const GO_AT: &str = "2026-06-01T00:00:00Z";

/// A file of the in-toto-golang test data.
fn go(name: &str) -> String {
    format!("{GO_DATA}/{name}")
}

fn go_work() -> tempfile::TempDir {
    workdir(&["in-toto-golang/test/data/foo.tar.gz"])
}

#[test]
fn golang_1_2_metablock_and_dsse_layouts_verify() {
    for layout in ["demo.layout", "demo.dsse.layout"] {
        let work = go_work();
        let v = verify(&go(layout), &[GO_ALICE], GO_AT, GO_DATA, work.path());
        assert_pass(&v);
        assert_eq!(
            v.find("inspections.untar.run").unwrap().outcome,
            Outcome::Pass
        );
    }
}

#[test]
fn golang_3_dsse_only_chain_verifies() {
    let work = workdir(&[]);
    let v = verify(
        &go("dsse-only.root.layout"),
        &[GO_ALICE],
        GO_AT,
        GO_DATA,
        work.path(),
    );
    assert_pass(&v);
}

#[test]
fn golang_4_5_wrong_layout_keys_fail() {
    for (layout, k) in [
        ("demo.dsse.layout", "carol.pub"),
        ("demo.layout", "dan.pub"),
        ("demo.layout", "carol.pub"),
    ] {
        let work = go_work();
        let v = verify(&go(layout), &[&go(k)], GO_AT, GO_DATA, work.path());
        assert_fail_at(&v, "layout.signatures.key[0]");
    }
}

#[test]
fn golang_6_super_layout_as_root_fails() {
    let work = go_work();
    let v = verify(
        &go("super.layout"),
        &[GO_ALICE],
        GO_AT,
        GO_DATA,
        work.path(),
    );
    assert_fail_at(&v, "layout.signatures");
}

/// Case 7: the vector's sublayout (`sub_layout.70ca5750.link`, signed by alice) under a super
/// layout like upstream's `super.layout`, signed here (upstream's is unsigned and expired) by a
/// fresh key, with the sublayout's links in `sub_layout.70ca5750/`.
#[test]
fn golang_7_sublayout_verifies_recursively() {
    let data = td(GO_DATA);
    let links = tempfile::tempdir().unwrap();
    std::fs::copy(
        data.join("sub_layout.70ca5750.link"),
        links.path().join("sub_layout.70ca5750.link"),
    )
    .unwrap();
    let sub = links.path().join("sub_layout.70ca5750");
    std::fs::create_dir(&sub).unwrap();
    for f in ["write-code.b7d643de.link", "package.d3ffd108.link"] {
        std::fs::copy(data.join(f), sub.join(f)).unwrap();
    }
    let owner = cairn_sign::PrivateKey::generate(cairn_sign::KeyType::Ed25519).unwrap();
    let mut mb = cairn_model::metablock::Metablock::from_slice(
        &std::fs::read(data.join("super.layout")).unwrap(),
    )
    .unwrap();
    mb.signed["expires"] = serde_json::Value::String("2030-01-01T00:00:00Z".into());
    cairn_sign::metablock::sign(&mut mb, &owner).unwrap();
    let layout = links.path().join("super.layout");
    std::fs::write(&layout, mb.to_pretty_json()).unwrap();

    let work = go_work();
    let owner_pub = cairn_sign::Signer::public_key(&owner).clone();
    let v = verify_file(
        &layout,
        &opts(vec![owner_pub.clone()], GO_AT, links.path(), work.path()),
    )
    .unwrap();
    assert_pass(&v);
    let sub_check = v.find("steps.sub_layout.sublayout").unwrap();
    assert_eq!(sub_check.outcome, Outcome::Pass);
    assert!(
        v.find("steps.sub_layout.sublayout.steps.package.materials")
            .is_some()
    );
    assert_eq!(
        v.find("steps.sub_layout.sublayout.inspections.untar.run")
            .unwrap()
            .outcome,
        Outcome::Pass
    );

    // Without the sublayout's links the super step fails, naming the missing sub-step link.
    std::fs::remove_file(sub.join("package.d3ffd108.link")).unwrap();
    let work = go_work();
    let v = verify_file(
        &layout,
        &opts(vec![owner_pub], GO_AT, links.path(), work.path()),
    )
    .unwrap();
    assert_fail_at(&v, "steps.sub_layout.sublayout.steps.package.threshold");
}

const RS_LAYOUT: &str = "in-toto-rs/tests/test_verifylib/workdir/root.layout";
/// Before and after the in-toto-rs layout's expiry.
const RS_BEFORE: &str = "2022-01-01T00:00:00Z";
const RS_AFTER: &str = "2026-01-01T00:00:00Z";

fn rs_work() -> tempfile::TempDir {
    workdir(&[
        "in-toto-rs/tests/test_verifylib/workdir/demo-project.tar.gz",
        RS_ALICE,
        "in-toto-rs/tests/test_verifylib/workdir/root.layout",
    ])
}

#[test]
fn rs_1_expired_layout_fails_now() {
    let work = rs_work();
    let v = verify(RS_LAYOUT, &[RS_ALICE], RS_AFTER, RS_LINKS, work.path());
    assert_fail_at(&v, "layout.expiry");
}

#[test]
fn rs_2_verifies_before_expiry() {
    let work = rs_work();
    let v = verify(RS_LAYOUT, &[RS_ALICE], RS_BEFORE, RS_LINKS, work.path());
    assert_pass(&v);
    assert_eq!(
        v.find("inspections.untar.materials").unwrap().outcome,
        Outcome::Pass
    );
}

#[test]
fn rs_4_wrong_layout_key_fails() {
    let work = rs_work();
    let v = verify(RS_LAYOUT, &[PY_BOB], RS_BEFORE, RS_LINKS, work.path());
    assert_fail_at(&v, "layout.signatures.key[0]");
}

/// X.509 functionaries (in-toto-golang `cert_constraints`, `rootcas`, `intermediatecas`):
/// demo.layout with write-code's key functionary removed, so only a certificate identity can
/// satisfy the step; the link is signed with the vector's `example.com.write-code` key and
/// carries its certificate, which chains through the layout's intermediate to its root.
#[test]
fn golang_x509_functionary_certificate_identity() {
    let data = td(GO_DATA);
    let owner = cairn_sign::PrivateKey::generate(cairn_sign::KeyType::Ed25519).unwrap();
    let owner_pub = cairn_sign::Signer::public_key(&owner).clone();
    let leaf_key =
        match cairn_sign::load_key(&data.join("example.com.write-code.key.pem"), None).unwrap() {
            cairn_sign::ParsedKey::Private(k) => k,
            _ => panic!("expected a private key"),
        };
    let cert_pem = std::fs::read_to_string(data.join("example.com.write-code.cert.pem")).unwrap();

    let run = |edit: &dyn Fn(&mut serde_json::Value)| -> Verdict {
        let links = tempfile::tempdir().unwrap();
        let mut layout = cairn_model::metablock::Metablock::from_slice(
            &std::fs::read(data.join("demo.layout")).unwrap(),
        )
        .unwrap();
        layout.signed["steps"][0]["pubkeys"] = serde_json::json!([]);
        edit(&mut layout.signed);
        layout.signatures.clear();
        cairn_sign::metablock::sign(&mut layout, &owner).unwrap();
        let layout_path = links.path().join("root.layout");
        std::fs::write(&layout_path, layout.to_pretty_json()).unwrap();

        let mut link = cairn_model::metablock::Metablock::from_slice(
            &std::fs::read(data.join("write-code.b7d643de.link")).unwrap(),
        )
        .unwrap();
        link.signatures.clear();
        cairn_sign::metablock::sign(&mut link, &leaf_key).unwrap();
        link.signatures[0]
            .extra
            .insert("cert".into(), serde_json::Value::String(cert_pem.clone()));
        let keyid = link.signatures[0].keyid.clone();
        std::fs::write(
            links
                .path()
                .join(format!("write-code.{}.link", &keyid[..8])),
            link.to_pretty_json(),
        )
        .unwrap();
        std::fs::copy(
            data.join("package.d3ffd108.link"),
            links.path().join("package.d3ffd108.link"),
        )
        .unwrap();
        let work = go_work();
        verify_file(
            &layout_path,
            &opts(vec![owner_pub.clone()], GO_AT, links.path(), work.path()),
        )
        .unwrap()
    };

    let v = run(&|_| {});
    assert_pass(&v);
    let ev = format!(
        "{:?}",
        v.find("steps.write-code.threshold").unwrap().evidence
    );
    assert!(
        ev.contains("certificate that meets the step's constraints"),
        "{ev}"
    );

    // Constraint not met: another common name.
    let v = run(&|s| {
        s["steps"][0]["cert_constraints"][0]["common_name"] = serde_json::json!("build.example.com")
    });
    assert_fail_at(&v, "steps.write-code.threshold");
    let ev = format!(
        "{:?}",
        v.find("steps.write-code.threshold").unwrap().evidence
    );
    assert!(ev.contains("common name"), "{ev}");

    // Root not allowed by the constraint.
    let v = run(&|s| s["steps"][0]["cert_constraints"][0]["roots"] = serde_json::json!(["0000"]));
    assert_fail_at(&v, "steps.write-code.threshold");

    // Without the intermediate the chain does not reach the root.
    let v = run(&|s| s["intermediatecas"] = serde_json::json!({}));
    assert_fail_at(&v, "steps.write-code.threshold");
    let ev = format!(
        "{:?}",
        v.find("steps.write-code.threshold").unwrap().evidence
    );
    assert!(ev.contains("does not chain"), "{ev}");
}
