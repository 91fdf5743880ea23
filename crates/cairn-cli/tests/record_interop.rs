//! Interop of `cairn run` with in-toto 3.1.0 (python): the same artifact maps as in-toto-run
//! over the same tree, and a cairn-recorded chain that in-toto-verify accepts under a layout
//! made and signed by in-toto's own python API.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cairn_testkit::peers;
use serde_json::Value;

fn run(cmd: &mut Command) -> Output {
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "{:?} failed: {}\n{}",
        cmd,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn cairn(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cairn"));
    c.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CAIRN_KEY");
    c
}

fn keypair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let key = dir.join(format!("{name}.pem"));
    let public = dir.join(format!("{name}.pub"));
    run(Command::new("openssl")
        .args(["genpkey", "-algorithm", "ed25519", "-out"])
        .arg(&key));
    run(Command::new("openssl")
        .arg("pkey")
        .arg("-in")
        .arg(&key)
        .args(["-pubout", "-out"])
        .arg(&public));
    (key, public)
}

/// The single link file in `dir` whose name starts with `step.`.
fn link_of(dir: &Path, step: &str) -> Value {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.starts_with(&format!("{step}.")) && n.ends_with(".link")
        })
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    serde_json::from_slice(&std::fs::read(found.pop().unwrap()).unwrap()).unwrap()
}

fn tree(root: &Path) {
    let files: &[(&str, &[u8])] = &[
        ("src/main.c", b"int main(void) { return 0; }\n"),
        ("src/util/u.h", b"#pragma once\r\n"),
        ("src/util/deep/x.txt", b""),
        ("README.md", b"# demo\n"),
        ("café menu.txt", b"espresso"),
        ("cache.pyc", b"\x00\x01"),
        ("old~", b"backup"),
        (".git/HEAD", b"ref: refs/heads/main\n"),
        ("prev.abcdef12.link", b"{}"),
        ("data/blob.bin", &[0xff; 70_000]),
    ];
    for (rel, data) in files {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }
    std::os::unix::fs::symlink("src/main.c", root.join("main-link.c")).unwrap();
    std::os::unix::fs::symlink("src/util", root.join("util-link")).unwrap();
}

#[test]
fn artifact_maps_equal_in_toto_run() {
    let Some(in_toto_run) =
        peers::require("artifact_maps_equal_in_toto_run", "venv/bin/in-toto-run")
    else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let work = t.path().join("work");
    std::fs::create_dir(&work).unwrap();
    tree(&work);
    let keys = t.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    let (key, _) = keypair(&keys, "func");
    let key = key.to_str().unwrap();

    // in-toto-run 3.x always follows symlinked directories: compare with --follow-symlinks.
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            "plain",
            &["-m", ".", "-p", "src", "README.md"],
            &["--follow-symlinks"],
        ),
        (
            "lstrip",
            &[
                "-m",
                "src",
                "data",
                "--lstrip-paths",
                "src/",
                "-p",
                "src/util",
            ],
            &["--follow-symlinks"],
        ),
    ];
    for (name, common, extra) in cases {
        let py_out = t.path().join(format!("py-{name}"));
        let rs_out = t.path().join(format!("rs-{name}"));
        std::fs::create_dir(&py_out).unwrap();
        std::fs::create_dir(&rs_out).unwrap();
        run(Command::new(&in_toto_run)
            .current_dir(&work)
            .args(["-n", name, "--signing-key", key, "-d"])
            .arg(&py_out)
            .args(*common)
            .arg("-x"));
        run(cairn(&work)
            .args([
                "run",
                "--step",
                name,
                "--key",
                key,
                "--format",
                "legacy",
                "--no-command",
                "--out",
            ])
            .arg(&rs_out)
            .args(*common)
            .args(*extra));
        let py = link_of(&py_out, name);
        let rs = link_of(&rs_out, name);
        for list in ["materials", "products"] {
            assert_eq!(
                rs["signed"][list], py["signed"][list],
                "{name}: {list} differ"
            );
        }
        assert!(!rs["signed"]["materials"].as_object().unwrap().is_empty());
        // Same key, same key id, same file name.
        assert_eq!(
            rs["signatures"][0]["keyid"], py["signatures"][0]["keyid"],
            "{name}: key ids differ"
        );
    }
}

const LAYOUT_PY: &str = r#"
import sys
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from securesystemslib.signer import CryptoSigner
from in_toto.models.layout import Layout, Step
from in_toto.models.metadata import Metablock

owner_key, functionary_pub, out = sys.argv[1:4]
layout = Layout()
layout.set_relative_expiration(months=1)
func = layout.add_functionary_key_from_path(functionary_pub)

clone = Step(name="clone")
clone.pubkeys = [func["keyid"]]
clone.expected_products = [["CREATE", "foo.py"], ["DISALLOW", "*"]]

update = Step(name="update")
update.pubkeys = [func["keyid"]]
update.expected_materials = [["MATCH", "foo.py", "WITH", "PRODUCTS", "FROM", "clone"], ["DISALLOW", "*"]]
update.expected_products = [["MODIFY", "foo.py"], ["DISALLOW", "*"]]

package = Step(name="package")
package.pubkeys = [func["keyid"]]
package.expected_materials = [["MATCH", "foo.py", "WITH", "PRODUCTS", "FROM", "update"], ["DISALLOW", "*"]]
package.expected_products = [["CREATE", "foo.tar.gz"], ["DISALLOW", "*"]]

layout.steps = [clone, update, package]
with open(owner_key, "rb") as f:
    signer = CryptoSigner(load_pem_private_key(f.read(), None))
block = Metablock(signed=layout)
block.create_signature(signer)
block.dump(out)
"#;

#[test]
fn in_toto_verify_accepts_a_chain_recorded_by_cairn() {
    let Some(verify) = peers::require(
        "in_toto_verify_accepts_a_chain_recorded_by_cairn",
        "venv/bin/in-toto-verify",
    ) else {
        return;
    };
    let python = peers::peers_dir().join("venv/bin/python");
    let t = tempfile::tempdir().unwrap();
    let work = t.path().join("work");
    let links = t.path().join("links");
    let keys = t.path().join("keys");
    for d in [&work, &links, &keys] {
        std::fs::create_dir(d).unwrap();
    }
    let (owner, owner_pub) = keypair(&keys, "owner");
    let (func, func_pub) = keypair(&keys, "func");
    let layout = t.path().join("root.layout");
    run(Command::new(&python)
        .arg("-c")
        .arg(LAYOUT_PY)
        .arg(&owner)
        .arg(&func_pub)
        .arg(&layout));

    let func = func.to_str().unwrap();
    let out = links.to_str().unwrap();
    let steps: &[(&str, &[&str], &[&str])] = &[
        (
            "clone",
            &["-p", "foo.py"],
            &["--shell", "--", "printf 'print(42)\\n' > foo.py"],
        ),
        (
            "update",
            &["-m", "foo.py", "-p", "foo.py"],
            &["--shell", "--", "echo '# v2' >> foo.py"],
        ),
        (
            "package",
            &["-m", "foo.py", "-p", "foo.tar.gz"],
            &["--", "tar", "czf", "foo.tar.gz", "foo.py"],
        ),
    ];
    for (step, artifacts, command) in steps {
        run(cairn(&work)
            .args([
                "run", "--step", step, "--key", func, "--format", "legacy", "--out", out,
            ])
            .args(*artifacts)
            .args(*command));
    }
    let verify_cmd = || {
        let mut c = Command::new(&verify);
        c.arg("--layout")
            .arg(&layout)
            .arg("--verification-keys")
            .arg(&owner_pub)
            .arg("--link-dir")
            .arg(&links);
        c
    };
    run(&mut verify_cmd());

    // The check can fail: a link whose product digest was changed must be rejected (the
    // signature no longer covers it).
    let package = std::fs::read_dir(&links)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("package.")
        })
        .unwrap();
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&package).unwrap()).unwrap();
    doc["signed"]["products"]["foo.tar.gz"]["sha256"] = Value::String("0".repeat(64));
    std::fs::write(&package, serde_json::to_vec(&doc).unwrap()).unwrap();
    let o = verify_cmd().output().unwrap();
    assert!(
        !o.status.success(),
        "in-toto-verify accepted a tampered link"
    );
}
