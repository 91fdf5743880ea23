//! The release workflow (`.github/workflows/release.yml`) against its consumers: it builds every
//! target the GitHub Action's installer (`scripts/action/install.sh`) and the GitLab template
//! download, and its packaging step, run here as the runner would run it, makes archives the
//! installer accepts (`cairn` at the root, a matching `.sha256`).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn workflow() -> serde_json::Value {
    let text = std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

/// `target=...` assignments in a shell script.
fn targets_in(script: &str) -> BTreeSet<String> {
    script
        .split("target=")
        .skip(1)
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect::<String>()
        })
        .filter(|t| !t.is_empty() && !t.starts_with('$'))
        .collect()
}

fn matrix_targets(wf: &serde_json::Value) -> BTreeSet<String> {
    wf["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .expect("matrix include")
        .iter()
        .map(|e| e["target"].as_str().expect("target").to_string())
        .collect()
}

fn step<'a>(wf: &'a serde_json::Value, job: &str, name: &str) -> &'a str {
    wf["jobs"][job]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["name"] == name)
        .and_then(|s| s["run"].as_str())
        .unwrap_or_else(|| panic!("no step {name:?} in job {job}"))
}

#[test]
fn the_workflow_builds_every_target_the_installers_download() {
    let wf = workflow();
    let built = matrix_targets(&wf);
    let action = std::fs::read_to_string(root().join("scripts/action/install.sh")).unwrap();
    let gitlab = std::fs::read_to_string(root().join("templates/cairn.gitlab-ci.yml")).unwrap();
    for (who, script) in [("install.sh", &action), ("gitlab template", &gitlab)] {
        let wanted = targets_in(script);
        assert!(!wanted.is_empty(), "{who}: no targets found");
        let missing: Vec<_> = wanted.difference(&built).collect();
        assert!(
            missing.is_empty(),
            "{who} downloads {missing:?}, which release.yml does not build"
        );
    }
    // The names: the installers fetch cairn-$target.tar.gz and cairn-$target.tar.gz.sha256.
    assert!(action.contains(r#"archive="cairn-$target.tar.gz""#));
    assert!(gitlab.contains(r#""$base/cairn-$target.tar.gz""#));
    assert!(gitlab.contains(r#""$base/cairn-$target.tar.gz.sha256""#));
    let package = step(&wf, "build", "package");
    assert!(
        package.contains(r#"name="cairn-${{ matrix.target }}.tar.gz""#),
        "{package}"
    );
    // Linux archives are checked for static linking before they are uploaded.
    let check = step(&wf, "build", "check the binary");
    assert!(check.contains("static"), "{check}");
}

#[test]
fn the_packaging_step_makes_archives_the_installer_accepts() {
    let wf = workflow();
    let target = match std::env::consts::ARCH {
        "aarch64" => "aarch64-unknown-linux-musl",
        _ => "x86_64-unknown-linux-musl",
    };
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("workspace");
    let bin = ws.join(format!("target/{target}/dist"));
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_cairn"), bin.join("cairn")).unwrap();
    for f in ["LICENSE", "README.md"] {
        std::fs::copy(root().join(f), ws.join(f)).unwrap();
    }
    let output = tmp.path().join("github_output");
    let script = step(&wf, "build", "package").replace("${{ matrix.target }}", target);
    let out = Command::new("bash")
        .args(["-eo", "pipefail", "-c", &script])
        .current_dir(&ws)
        .env("GITHUB_OUTPUT", &output)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let archive = format!("cairn-{target}.tar.gz");
    assert!(
        std::fs::read_to_string(&output)
            .unwrap()
            .contains(&format!("archive={archive}"))
    );
    let listing = Command::new("tar")
        .arg("-tzf")
        .arg(ws.join(&archive))
        .output()
        .unwrap();
    let names = String::from_utf8_lossy(&listing.stdout).to_string();
    assert!(
        names.lines().any(|l| l == "./cairn" || l == "cairn"),
        "{names}"
    );

    // The step the workflow runs next: the Action's installer on that directory.
    let runner_temp = tmp.path().join("runner");
    let path_file = tmp.path().join("github_path");
    let install = step(&wf, "build", "the installer accepts the archive");
    assert!(install.contains("scripts/action/install.sh"));
    let out = Command::new("bash")
        .arg(root().join("scripts/action/install.sh"))
        .current_dir(&ws)
        .env("INPUT_DOWNLOAD_URL", format!("file://{}", ws.display()))
        .env("RUNNER_TEMP", &runner_temp)
        .env("GITHUB_PATH", &path_file)
        .env_remove("INPUT_CAIRN_PATH")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = std::fs::read_to_string(&path_file).unwrap();
    let installed = Path::new(dir.trim()).join("cairn");
    let v = Command::new(&installed).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&v.stdout).starts_with("cairn "));
}
