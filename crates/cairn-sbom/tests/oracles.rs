//! Oracles no one here wrote: dpkg-query on a real Debian status file, `pip list` and
//! cyclonedx-py on a real Python environment, `cargo metadata` on a Cargo workspace, and
//! `npm ls --all` on an npm project. Each compares exact package sets (and, where the peer
//! shows one, the dependency graph).

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use cairn_sbom::{Ecosystem, Sbom, ScanOptions, Source};
use cairn_testkit::peers;
use serde_json::Value;

fn scan_dir(p: &Path) -> Sbom {
    cairn_sbom::scan(&Source::Directory(p.to_path_buf()), &ScanOptions::default()).expect("scan")
}

fn on_path(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(tool))
            .find(|p| p.is_file())
    })
}

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn set(s: &Sbom, eco: Ecosystem, norm: fn(&str) -> String) -> BTreeSet<(String, String)> {
    s.packages
        .iter()
        .filter(|p| p.ecosystem == eco)
        .map(|p| (norm(&p.full_name()), p.version.clone()))
        .collect()
}

#[test]
fn debian_status_matches_dpkg_query() {
    let test = "debian_status_matches_dpkg_query";
    let Some(dq) = on_path("dpkg-query").or_else(|| peers::missing(test, "dpkg-query not on PATH"))
    else {
        return;
    };
    let root = common::testdata().join("sbom-fixtures/debian-status");
    let out = run(Command::new(dq)
        .arg(format!(
            "--admindir={}",
            root.join("var/lib/dpkg").display()
        ))
        .args([
            "-W",
            "-f",
            "${Package}\\t${Version}\\t${Architecture}\\t${db:Status-Status}\\n",
        ]));
    let want: BTreeSet<(String, String)> = String::from_utf8(out)
        .expect("utf8")
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() == 4 && f[3] == "installed")
                .then(|| (format!("{}:{}", f[0], f[2]), f[1].to_string()))
        })
        .collect();
    assert!(want.len() > 500, "only {} packages", want.len());
    let s = scan_dir(&root);
    let got: BTreeSet<(String, String)> = s
        .packages
        .iter()
        .map(|p| {
            let arch = p
                .purl
                .split("arch=")
                .nth(1)
                .unwrap_or("")
                .split('&')
                .next()
                .unwrap_or("");
            (format!("{}:{arch}", p.name), p.version.clone())
        })
        .collect();
    assert_eq!(got, want);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    common::validate_all(&s);
}

/// The peers' Python environment (in-toto and sigstore with their dependencies).
fn venv(test: &str) -> Option<PathBuf> {
    let py = peers::require(test, "venv/bin/python")?;
    Some(py.parent()?.parent()?.to_path_buf())
}

fn pep503(n: &str) -> String {
    cairn_sbom::purl::normalize_pypi(n)
}

#[test]
fn python_environment_matches_pip_list() {
    let test = "python_environment_matches_pip_list";
    let Some(venv) = venv(test) else { return };
    let out = run(Command::new(venv.join("bin/python")).args([
        "-m",
        "pip",
        "list",
        "--format",
        "json",
        "--disable-pip-version-check",
    ]));
    let list: Vec<Value> = serde_json::from_slice(&out).expect("pip json");
    let want: BTreeSet<(String, String)> = list
        .iter()
        .map(|p| {
            (
                pep503(p["name"].as_str().expect("name")),
                p["version"].as_str().expect("version").to_string(),
            )
        })
        .collect();
    let s = scan_dir(&venv);
    assert_eq!(set(&s, Ecosystem::Python, pep503), want);
    common::validate_all(&s);
}

#[test]
fn python_environment_matches_cyclonedx_py() {
    let test = "python_environment_matches_cyclonedx_py";
    let Some(venv) = venv(test) else { return };
    let Some(cdx) = peers::require(test, "sbom-venv/bin/cyclonedx-py") else {
        return;
    };
    let out = run(Command::new(cdx)
        .args(["environment", "--no-validate", "--of", "JSON", "-o", "-"])
        .arg(venv.join("bin/python")));
    let bom: Value = serde_json::from_slice(&out).expect("cyclonedx-py json");
    let want: BTreeSet<(String, String)> = bom["components"]
        .as_array()
        .expect("components")
        .iter()
        .map(|c| {
            (
                pep503(c["name"].as_str().expect("name")),
                c["version"].as_str().expect("version").to_string(),
            )
        })
        .collect();
    let s = scan_dir(&venv);
    assert_eq!(set(&s, Ecosystem::Python, pep503), want);
    // Their BOM is valid CycloneDX too (same schema we hold ours to).
    let spec = bom["specVersion"].as_str().expect("spec").to_string();
    if spec == "1.5" || spec == "1.6" {
        common::assert_valid_cdx(&bom, &spec);
    }
}

#[test]
fn cargo_workspace_matches_cargo_metadata() {
    let ws = common::testdata().join("sbom-fixtures/cargo-workspace");
    let tmp = tempfile::tempdir().expect("tmp");
    common::copy_tree(&ws, tmp.path());
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline", "--locked"])
        .current_dir(tmp.path())
        .output()
        .expect("cargo runs");
    if !out.status.success() {
        let why = format!(
            "cargo metadata --offline failed (crates not in the local cache?): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        peers::missing("cargo_workspace_matches_cargo_metadata", &why);
        return;
    }
    let meta: Value = serde_json::from_slice(&out.stdout).expect("json");
    let want: BTreeSet<(String, String)> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().expect("n").to_string(),
                p["version"].as_str().expect("v").to_string(),
            )
        })
        .collect();
    // Edges from the resolve graph, by name@version.
    let id_to = |id: &str| -> (String, String) {
        let p = meta["packages"]
            .as_array()
            .expect("packages")
            .iter()
            .find(|p| p["id"] == id)
            .expect("id");
        (
            p["name"].as_str().expect("n").into(),
            p["version"].as_str().expect("v").into(),
        )
    };
    let mut want_edges = BTreeSet::new();
    for node in meta["resolve"]["nodes"].as_array().expect("nodes") {
        let from = id_to(node["id"].as_str().expect("id"));
        for d in node["dependencies"].as_array().expect("deps") {
            want_edges.insert((from.clone(), id_to(d.as_str().expect("dep"))));
        }
    }
    let s = scan_dir(tmp.path());
    assert_eq!(set(&s, Ecosystem::Cargo, str::to_string), want);
    let got_edges: BTreeSet<_> = s
        .dependencies
        .iter()
        .map(|&(a, b)| {
            let (a, b) = (&s.packages[a], &s.packages[b]);
            (
                (a.name.clone(), a.version.clone()),
                (b.name.clone(), b.version.clone()),
            )
        })
        .collect();
    assert_eq!(got_edges, want_edges);
    common::validate_all(&s);
}

type NameVersion = (String, String);

fn npm_tree(
    v: &Value,
    parent: Option<(String, String)>,
    pkgs: &mut BTreeSet<(String, String)>,
    edges: &mut BTreeSet<(NameVersion, NameVersion)>,
) {
    if let Some(deps) = v["dependencies"].as_object() {
        for (name, d) in deps {
            let me = (
                name.clone(),
                d["version"].as_str().expect("version").to_string(),
            );
            pkgs.insert(me.clone());
            if let Some(p) = &parent {
                edges.insert((p.clone(), me.clone()));
            }
            npm_tree(d, Some(me), pkgs, edges);
        }
    }
}

#[test]
fn npm_lock_matches_npm_ls() {
    let test = "npm_lock_matches_npm_ls";
    let Some(npm) = on_path("npm").or_else(|| peers::missing(test, "npm not on PATH")) else {
        return;
    };
    let project = common::testdata().join("sbom-fixtures/npm-project");
    let out = run(Command::new(npm)
        .args(["ls", "--all", "--json", "--offline"])
        .current_dir(&project));
    let tree: Value = serde_json::from_slice(&out).expect("npm json");
    let mut want = BTreeSet::new();
    let mut want_edges = BTreeSet::new();
    npm_tree(&tree, None, &mut want, &mut want_edges);
    assert_eq!(want.len(), 6);
    // Only the lock file: the installed tree must give the same answer on its own.
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::copy(
        project.join("package-lock.json"),
        tmp.path().join("package-lock.json"),
    )
    .expect("copy");
    for s in [scan_dir(tmp.path()), scan_dir(&project)] {
        assert_eq!(set(&s, Ecosystem::Npm, str::to_string), want);
        let got_edges: BTreeSet<_> = s
            .dependencies
            .iter()
            .map(|&(a, b)| {
                let (a, b) = (&s.packages[a], &s.packages[b]);
                (
                    (a.full_name(), a.version.clone()),
                    (b.full_name(), b.version.clone()),
                )
            })
            .collect();
        assert_eq!(got_edges, want_edges);
        common::validate_all(&s);
    }
}

#[test]
fn rpmdb_matches_rpm_query() {
    let test = "rpmdb_matches_rpm_query";
    let Some(rpm) = on_path("rpm").or_else(|| peers::missing(test, "rpm not on PATH")) else {
        return;
    };
    let root = common::testdata().join("sbom-fixtures/rootfs-fedora");
    // rpm takes a lock in the database directory: query a copy.
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::copy(
        root.join("usr/lib/sysimage/rpm/rpmdb.sqlite"),
        tmp.path().join("rpmdb.sqlite"),
    )
    .expect("copy");
    let out = run(Command::new(rpm).arg("--dbpath").arg(tmp.path()).args([
        "-qa",
        "--qf",
        "%{NAME}\\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\t%{LICENSE}\\n",
    ]));
    let want: BTreeSet<(String, String, String)> = String::from_utf8(out)
        .expect("utf8")
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_string(), f[1].to_string(), f[2].to_string())
        })
        .collect();
    assert_eq!(want.len(), 3);
    let s = scan_dir(&root);
    let got: BTreeSet<(String, String, String)> = s
        .packages
        .iter()
        .map(|p| (p.name.clone(), p.version.clone(), p.licenses[0].raw.clone()))
        .collect();
    assert_eq!(got, want);
}
