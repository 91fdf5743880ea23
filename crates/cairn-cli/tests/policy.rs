//! `cairn policy check|test` and `cairn verify artifact --policy` on recorded public-good
//! vectors (slsa-verifier's bcr bundles, offline, embedded trusted root).
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn cairn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("CAIRN_JSON")
        .env_remove("CAIRN_POLICY")
        .env_remove("CAIRN_TRUSTED_ROOT")
        .output()
        .unwrap()
}

use cairn_testkit::show;

fn td(rel: &str) -> String {
    cairn_testkit::testdata().join(rel).display().to_string()
}

#[test]
fn policy_test_runs_recorded_cases() {
    let out = cairn(&[
        "policy",
        "test",
        &td("policy/bcr.yaml"),
        "--fixtures",
        &td("policy/cases"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("3 of 3 case(s) as expected"),
        "{}",
        show(&out)
    );

    // A case whose expectation is wrong makes the run fail, and says why.
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("c3-expected-to-pass");
    std::fs::create_dir(&case).unwrap();
    for f in ["provenance.json", "MODULE.bazel"] {
        std::fs::copy(
            cairn_testkit::testdata()
                .join("policy/cases/bcr-c3-wrong-signer")
                .join(f),
            case.join(f),
        )
        .unwrap();
    }
    std::fs::write(
        case.join("case.json"),
        r#"{"subject": {"file": "MODULE.bazel"}, "expect": "pass"}"#,
    )
    .unwrap();
    let out = cairn(&[
        "policy",
        "test",
        &td("policy/bcr.yaml"),
        "--fixtures",
        &dir.path().display().to_string(),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["passed"], 0);
    assert_eq!(v["cases"][0]["got"], "fail");
    assert!(
        v["cases"][0]["failures"][0]
            .as_str()
            .unwrap()
            .contains("requirements.provenance.threshold")
    );
}

#[test]
fn verify_artifact_with_a_policy() {
    let c1 = "policy/cases/bcr-c1-trusted-builder";
    let c3 = "policy/cases/bcr-c3-wrong-signer";
    let policy = td("policy/bcr.yaml");
    let out = cairn(&[
        "verify",
        "artifact",
        &td(&format!("{c1}/MODULE.bazel")),
        "--policy",
        &policy,
        "--bundle",
        &td(&format!("{c1}/provenance.json")),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["passed"], true);
    assert_eq!(
        v["digest"],
        "sha256:06ce330900a7d6403bc8d88e5dfad6aeeb8ae40179f66bb89e69c8bf6f6b1a0b"
    );
    assert_eq!(v["verdict"]["outcome"], "pass");
    assert_eq!(v["slsa_level"], 3);
    assert_eq!(
        v["attestations"][0]["identity"],
        "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.1"
    );

    // The wrong signer: human view names the certificate identity that did not match.
    let out = cairn(&[
        "verify",
        "artifact",
        &td(&format!("{c3}/MODULE.bazel")),
        "--policy",
        &policy,
        "--bundle",
        &td(&format!("{c3}/provenance.json")),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("FAIL"), "{stdout}");
    assert!(stdout.contains("loosebazooka/aa-test"), "{stdout}");
    assert!(
        stdout.contains("[requirements.provenance.threshold]"),
        "{stdout}"
    );

    // Both bundles together: the good one satisfies the requirement.
    let out = cairn(&[
        "verify",
        "artifact",
        &td(&format!("{c1}/MODULE.bazel")),
        "--policy",
        &policy,
        "--bundle",
        &td(&format!("{c3}/provenance.json")),
        "--bundle",
        &td(&format!("{c1}/provenance.json")),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));

    // By digest instead of file.
    let out = cairn(&[
        "verify",
        "artifact",
        "sha256:06ce330900a7d6403bc8d88e5dfad6aeeb8ae40179f66bb89e69c8bf6f6b1a0b",
        "--policy",
        &policy,
        "--bundle",
        &td(&format!("{c1}/provenance.json")),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
}

#[test]
fn policy_errors_are_exit_2_and_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let p: PathBuf = dir.path().join("p.yaml");
    std::fs::write(
        &p,
        "version: 1\nsigners:\n  - name: a\n    identiti: x@y.z\n    issuer: https://i\nrequirements:\n  - name: r\n    predicateType: slsa\n",
    )
    .unwrap();
    let out = cairn(&["policy", "check", &p.display().to_string()]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown field `identiti`"), "{stderr}");
    assert!(stderr.contains("line 4"), "{stderr}");

    std::fs::write(
        &p,
        "version: 1\nsigners: []\nrequirements:\n  - name: r\n    predicateType: slsa\n",
    )
    .unwrap();
    let out = cairn(&[
        "verify",
        "artifact",
        &td("policy/cases/bcr-c1-trusted-builder/MODULE.bazel"),
        "--policy",
        &p.display().to_string(),
        "--bundle",
        &td("policy/cases/bcr-c1-trusted-builder/provenance.json"),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no default signer"),
        "{}",
        show(&out)
    );

    let out = cairn(&["policy", "check", &td("policy/release.yaml"), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["name"], "acme-app-release");
    assert_eq!(v["signers"].as_array().unwrap().len(), 2);
}

#[test]
fn vsa_out_needs_a_signing_mode_and_policy_conflicts_with_single_signer_flags() {
    let out = cairn(&[
        "verify",
        "image",
        "oci:/nonexistent:v1",
        "--policy",
        &td("policy/bcr.yaml"),
        "--vsa-out",
        "/tmp/never.json",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--key KEY or --keyless"),
        "{}",
        show(&out)
    );
    let out = cairn(&[
        "verify",
        "artifact",
        "x",
        "--policy",
        &td("policy/bcr.yaml"),
        "--bundle",
        "b.json",
        "--certificate-identity",
        "a@b.c",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
}
