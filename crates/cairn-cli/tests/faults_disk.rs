//! A full disk for outputs: every command that writes a file must fail with a clear error
//! (exit 2), leave the previous file byte for byte as it was, and leave no temp file behind.
//! Uses a tiny tmpfs (needs root and mount(2)); skips with the reason otherwise.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn cairn() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cairn"));
    c.env_remove("CAIRN_SBOM_OUT").env_remove("CAIRN_PASSWORD");
    c
}

use cairn_testkit::show;

fn testdata() -> PathBuf {
    cairn_testkit::testdata()
}

/// An 8 KiB tmpfs, unmounted on drop.
struct FullDisk {
    _dir: tempfile::TempDir,
    mount: PathBuf,
}

impl FullDisk {
    fn new(test: &str) -> Option<FullDisk> {
        let dir = tempfile::tempdir().unwrap();
        let mount = dir.path().join("small");
        std::fs::create_dir(&mount).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=8k,nr_inodes=64", "tmpfs"])
            .arg(&mount)
            .output();
        match out {
            Ok(o) if o.status.success() => Some(FullDisk { _dir: dir, mount }),
            Ok(o) => {
                eprintln!(
                    "SKIP {test}: cannot mount a small tmpfs (needs root): {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("SKIP {test}: cannot run mount: {e}");
                None
            }
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.mount.join(name)
    }

    /// File names in the mount, sorted.
    fn listing(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.mount)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

impl Drop for FullDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.mount).status();
    }
}

/// Runs `cmd` writing to `target` (which holds `previous`) on the full disk and checks the
/// outcome: exit 2, a message naming the lack of space, the old file intact, no temp files.
fn check(disk: &FullDisk, target: &Path, previous: &[u8], cmd: &mut Command) {
    let before = disk.listing();
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error:") && stderr.to_lowercase().contains("space"),
        "the error names the full disk: {}",
        show(&out)
    );
    assert_eq!(std::fs::read(target).unwrap(), previous, "old output kept");
    assert_eq!(disk.listing(), before, "no temp file left behind");
}

#[test]
fn sbom_on_a_full_disk_fails_cleanly_and_keeps_the_old_file() {
    let Some(disk) = FullDisk::new("sbom_on_a_full_disk_fails_cleanly_and_keeps_the_old_file")
    else {
        return;
    };
    let target = disk.path("sbom.json");
    let previous = b"{\"previous\":\"sbom\"}\n".to_vec();
    std::fs::write(&target, &previous).unwrap();
    // ~22 KB of SPDX: more than the 4 KiB left.
    check(
        &disk,
        &target,
        &previous,
        cairn()
            .arg("sbom")
            .arg(testdata().join("sbom-fixtures/rootfs-debian"))
            .arg("--out")
            .arg(&target),
    );
    // With room again, the same command succeeds and replaces the file whole.
    std::fs::remove_file(&target).unwrap();
    let big = disk.path("sbom.json");
    let out = cairn()
        .arg("sbom")
        .arg(testdata().join("sbom-fixtures/debian-status"))
        .arg("--out")
        .arg(&big)
        .output()
        .unwrap();
    if out.status.success() {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&big).unwrap()).unwrap();
        assert!(v["packages"].is_array());
    } else {
        // Still too big for 8 KiB: then it must have failed the same clean way.
        assert_eq!(out.status.code(), Some(2), "{}", show(&out));
        assert!(!big.exists());
    }
}

#[test]
fn signing_a_layout_on_a_full_disk_keeps_the_unsigned_layout() {
    let Some(disk) = FullDisk::new("signing_a_layout_on_a_full_disk_keeps_the_unsigned_layout")
    else {
        return;
    };
    let keys = tempfile::tempdir().unwrap();
    let k = cairn_sign::PrivateKey::generate(cairn_sign::KeyType::Ed25519).unwrap();
    let pem = keys.path().join("owner.pem");
    std::fs::write(&pem, k.to_pkcs8_pem(None).unwrap().as_bytes()).unwrap();
    // A layout of ~3 KiB fits; signing it rewrites it in place (temp + rename), which needs
    // room for a second copy that the disk does not have once it is filled up.
    let layout = disk.path("root.layout");
    let unsigned = serde_json::json!({
        "signatures": [],
        "signed": {
            "_type": "layout", "expires": "2099-01-01T00:00:00Z", "keys": {},
            "readme": "r".repeat(3000), "steps": [], "inspect": []
        }
    });
    let previous = serde_json::to_vec(&unsigned).unwrap();
    std::fs::write(&layout, &previous).unwrap();
    // Fill the rest of the disk.
    let filler = disk.path("filler");
    let mut n = 4096;
    while std::fs::write(&filler, vec![0u8; n]).is_ok() {
        n += 1024;
    }
    std::fs::write(&filler, vec![0u8; n - 1024]).unwrap();
    check(
        &disk,
        &layout,
        &previous,
        cairn()
            .args(["layout", "sign"])
            .arg(&layout)
            .arg("--key")
            .arg(&pem),
    );
}
