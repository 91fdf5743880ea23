//! `cairn sbom` end to end: formats, spec versions, SOURCE_DATE_EPOCH, --out, --json, and the
//! exit-code contract on bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

fn cairn(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(args)
        .current_dir(cwd)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .env("NO_COLOR", "1")
        .env_remove("CAIRN_JSON")
        .output()
        .expect("cairn runs")
}

fn alpine() -> String {
    testdata()
        .join("sbom-fixtures/rootfs-alpine")
        .display()
        .to_string()
}

#[test]
fn spdx_on_stdout_is_reproducible() {
    let tmp = tempfile::tempdir().expect("tmp");
    let a = cairn(&["sbom", &alpine()], tmp.path());
    assert_eq!(
        a.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&a.stderr)
    );
    let b = cairn(&["sbom", &alpine()], tmp.path());
    assert_eq!(a.stdout, b.stdout);
    let doc: serde_json::Value = serde_json::from_slice(&a.stdout).expect("json");
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    assert_eq!(doc["creationInfo"]["created"], "2023-11-14T22:13:20Z");
    // root + operating system + 3 apk packages
    assert_eq!(doc["packages"].as_array().expect("packages").len(), 5);
}

#[test]
fn cyclonedx_versions_and_out_file() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("bom.json");
    let r = cairn(
        &[
            "sbom",
            &alpine(),
            "--format",
            "cyclonedx-json",
            "--spec-version",
            "1.5",
            "--out",
        ],
        tmp.path(),
    );
    assert_eq!(r.status.code(), Some(2), "--out needs a value");
    let r = cairn(
        &[
            "sbom",
            &alpine(),
            "--format",
            "cyclonedx-json",
            "--spec-version",
            "1.5",
            "--out",
            out.to_str().expect("utf8"),
        ],
        tmp.path(),
    );
    assert_eq!(
        r.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(r.stdout.is_empty());
    let bom: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).expect("written")).expect("json");
    assert_eq!(bom["specVersion"], "1.5");
    assert_eq!(bom["components"].as_array().expect("components").len(), 4);
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path()).expect("dir").collect();
    assert_eq!(leftovers.len(), 1, "temp files left behind");
    let r = cairn(
        &["sbom", &alpine(), "--format", "cyclonedx-json"],
        tmp.path(),
    );
    let bom: serde_json::Value = serde_json::from_slice(&r.stdout).expect("json");
    assert_eq!(bom["specVersion"], "1.6");
}

#[test]
fn json_report_and_warnings() {
    let tmp = tempfile::tempdir().expect("tmp");
    let root = testdata().join("sbom-fixtures/rootfs-debian");
    let r = cairn(
        &["sbom", root.to_str().expect("utf8"), "--json"],
        tmp.path(),
    );
    assert_eq!(
        r.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    let rep: serde_json::Value = serde_json::from_slice(&r.stdout).expect("one json document");
    assert_eq!(rep["format"], "spdx-json");
    assert_eq!(rep["distro"], "debian-12");
    assert!(rep["packages"].as_u64().expect("count") >= 20);
    assert!(
        rep["warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .any(|w| w["path"] == "var/lib/rpm/rpmdb.sqlite")
    );
    assert_eq!(rep["document"]["spdxVersion"], "SPDX-2.3");
    // Human mode: warnings on stderr, document on stdout.
    let r = cairn(&["sbom", root.to_str().expect("utf8")], tmp.path());
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("warning: var/lib/rpm/rpmdb.sqlite: rpm database not readable"),
        "{err}"
    );
}

#[test]
fn bad_input_exits_2_with_a_clear_error() {
    let tmp = tempfile::tempdir().expect("tmp");
    let r = cairn(&["sbom", "/nonexistent/cairn/source"], tmp.path());
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("error:") && err.contains("does not exist"),
        "{err}"
    );

    let bad = tmp.path().join("broken.tar");
    std::fs::write(&bad, vec![0x41u8; 1000]).expect("write");
    let r = cairn(&["sbom", bad.to_str().expect("utf8")], tmp.path());
    assert_eq!(
        r.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(String::from_utf8_lossy(&r.stderr).contains("error: cannot scan"));

    let r = cairn(&["sbom", &alpine(), "--spec-version", "2.2"], tmp.path());
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("unsupported --spec-version 2.2"));

    let r = cairn(
        &["sbom", &format!("oci:{}:nope", tmp.path().display())],
        tmp.path(),
    );
    assert_eq!(r.status.code(), Some(2));
}
