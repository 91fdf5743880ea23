//! `cairn run` and `cairn record start|stop` end to end: links on disk, exit codes, and the
//! failure cases that must never leave a (partial) link behind.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::Value;

fn cairn(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(args)
        .current_dir(dir)
        .env_remove("CAIRN_KEY")
        .env_remove("CAIRN_JSON")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn sha256_hex(data: &[u8]) -> String {
    cairn_record::hash::hash_bytes(data, &[cairn_record::HashAlgorithm::Sha256], false)[0]
        .1
        .clone()
}

/// Link files (anything ending in `.link`) in `dir`.
fn links(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".link"))
        .collect();
    v.sort();
    v
}

fn project() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(t.path().join("src")).unwrap();
    std::fs::write(t.path().join("src/a.txt"), b"alpha\n").unwrap();
    std::fs::write(t.path().join("src/b.txt"), b"beta\n").unwrap();
    t
}

fn ed25519_key(dir: &Path) -> PathBuf {
    let key = dir.join("key.pem");
    let st = Command::new("openssl")
        .args(["genpkey", "-algorithm", "ed25519", "-out"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(st.success());
    key
}

#[test]
fn legacy_link_records_materials_command_and_products() {
    let t = project();
    let o = cairn(
        t.path(),
        &[
            "run",
            "--step",
            "copy",
            "-m",
            "src",
            "-p",
            "out.txt",
            "--format",
            "legacy",
            "--",
            "cp",
            "src/a.txt",
            "out.txt",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let link = read_json(&t.path().join("copy.link"));
    let s = &link["signed"];
    assert_eq!(s["_type"], "link");
    assert_eq!(s["name"], "copy");
    assert_eq!(
        s["command"],
        serde_json::json!(["cp", "src/a.txt", "out.txt"])
    );
    assert_eq!(
        s["materials"]["src/a.txt"]["sha256"],
        sha256_hex(b"alpha\n")
    );
    assert_eq!(s["materials"]["src/b.txt"]["sha256"], sha256_hex(b"beta\n"));
    assert_eq!(s["products"]["out.txt"]["sha256"], sha256_hex(b"alpha\n"));
    assert_eq!(s["byproducts"]["return-value"], 0);
    assert_eq!(s["environment"], serde_json::json!({}));
    assert_eq!(link["signatures"], serde_json::json!([]));
}

#[test]
fn statement_is_the_default_format() {
    let t = project();
    let o = cairn(
        t.path(),
        &["run", "--step", "s", "-m", "src", "-p", "src", "--", "true"],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let env = read_json(&t.path().join("s.link"));
    assert_eq!(env["payloadType"], "application/vnd.in-toto+json");
    let payload = base64::engine::general_purpose::STANDARD
        .decode(env["payload"].as_str().unwrap())
        .unwrap();
    let st: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(st["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(
        st["predicateType"],
        "https://in-toto.io/attestation/link/v0.3"
    );
    assert_eq!(st["subject"][0]["name"], "src/a.txt");
    assert_eq!(st["subject"][0]["digest"]["sha256"], sha256_hex(b"alpha\n"));
    assert_eq!(st["predicate"]["name"], "s");
    assert_eq!(st["predicate"]["materials"][1]["name"], "src/b.txt");
    assert_eq!(st["predicate"]["byproducts"]["return-value"], 0);
}

#[test]
fn signed_link_is_named_with_the_key_id() {
    let t = project();
    let key = ed25519_key(t.path());
    for format in ["legacy", "statement"] {
        let out = t.path().join(format);
        std::fs::create_dir(&out).unwrap();
        let o = cairn(
            t.path(),
            &[
                "run",
                "--step",
                "build",
                "-m",
                "src",
                "--key",
                key.to_str().unwrap(),
                "--format",
                format,
                "--out",
                out.to_str().unwrap(),
                "--no-command",
            ],
        );
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let files = links(&out);
        assert_eq!(files.len(), 1);
        let name = files[0].file_name().unwrap().to_str().unwrap().to_owned();
        let doc = read_json(&files[0]);
        let keyid = doc["signatures"][0]["keyid"].as_str().unwrap().to_owned();
        assert_eq!(keyid.len(), 64, "{doc}");
        assert_eq!(name, format!("build.{}.link", &keyid[..8]));
        if format == "legacy" {
            assert_eq!(doc["signed"]["command"], serde_json::json!([]));
            assert_eq!(doc["signed"]["byproducts"], serde_json::json!({}));
        }
    }
}

#[test]
fn a_failing_command_is_recorded_and_its_exit_code_passed_through() {
    let t = project();
    let o = cairn(
        t.path(),
        &[
            "run",
            "--step",
            "f",
            "--format",
            "legacy",
            "--shell",
            "--",
            "echo out; echo err >&2; exit 7",
        ],
    );
    assert_eq!(code(&o), 7, "{}", stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "out\n",
        "the command's stdout flows through"
    );
    assert!(stderr(&o).contains("err\n"));
    let s = &read_json(&t.path().join("f.link"))["signed"];
    assert_eq!(s["byproducts"]["return-value"], 7);
    assert_eq!(s["byproducts"]["stdout"], "out\n");
    assert_eq!(s["byproducts"]["stderr"], "err\n");
    assert_eq!(
        s["command"],
        serde_json::json!(["sh", "-c", "echo out; echo err >&2; exit 7"])
    );
}

#[test]
fn a_command_killed_by_a_signal() {
    let t = project();
    let o = cairn(
        t.path(),
        &[
            "run",
            "--step",
            "k",
            "--format",
            "legacy",
            "--",
            "sh",
            "-c",
            "kill -KILL $$",
        ],
    );
    assert_eq!(code(&o), 128 + 9, "{}", stderr(&o));
    let s = &read_json(&t.path().join("k.link"))["signed"];
    assert_eq!(s["byproducts"]["return-value"], -9);
}

#[test]
fn a_command_that_cannot_start_writes_no_link() {
    let t = project();
    let o = cairn(
        t.path(),
        &[
            "run",
            "--step",
            "x",
            "-m",
            "src",
            "--",
            "no-such-command-cairn-test",
        ],
    );
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(
        err.contains("cannot start \"no-such-command-cairn-test\""),
        "{err}"
    );
    assert!(err.contains("no link written"), "{err}");
    assert!(links(t.path()).is_empty());
}

#[test]
fn timeout_kills_the_command_and_writes_no_link() {
    let t = project();
    let start = Instant::now();
    let o = cairn(
        t.path(),
        &[
            "run",
            "--step",
            "slow",
            "--timeout",
            "0.5",
            "--",
            "sleep",
            "30",
        ],
    );
    assert_eq!(code(&o), 2);
    assert!(start.elapsed() < Duration::from_secs(20));
    assert!(
        stderr(&o).contains("timed out after 0.5 s"),
        "{}",
        stderr(&o)
    );
    assert!(links(t.path()).is_empty());
}

#[test]
fn usage_errors() {
    let t = project();
    let o = cairn(t.path(), &["run", "--step", "x", "-m", "src"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("no command given"));
    let o = cairn(
        t.path(),
        &["run", "--step", "x", "--hash", "md5", "--no-command"],
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("unknown hash algorithm"));
    let o = cairn(
        t.path(),
        &["run", "--step", "x", "-m", "../", "--no-command"],
    );
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("outside the base path"),
        "{}",
        stderr(&o)
    );
    let o = cairn(
        t.path(),
        &["run", "--step", "x", "--out", "missing-dir", "--no-command"],
    );
    assert_eq!(code(&o), 2);
    assert!(links(t.path()).is_empty());
}

#[test]
fn json_report_keeps_stdout_clean() {
    let t = project();
    let o = cairn(
        t.path(),
        &[
            "--json", "run", "--step", "j", "-m", "src", "--", "echo", "noise",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["step"], "j");
    assert_eq!(report["materials"], 2);
    assert_eq!(report["return-value"], 0);
    assert!(stderr(&o).contains("noise"));
}

#[test]
fn options_that_change_names_or_digests_are_recorded() {
    let t = project();
    std::fs::write(t.path().join("src/crlf.txt"), b"a\r\nb\r\n").unwrap();
    let o = cairn(
        t.path(),
        &[
            "run",
            "--step",
            "o",
            "-m",
            "src",
            "--lstrip",
            "src/",
            "--normalize-line-endings",
            "--hash",
            "sha256,sha512",
            "--format",
            "legacy",
            "--no-command",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let s = &read_json(&t.path().join("o.link"))["signed"];
    assert_eq!(s["materials"]["crlf.txt"]["sha256"], sha256_hex(b"a\nb\n"));
    assert_eq!(
        s["materials"]["crlf.txt"]["sha512"].as_str().unwrap().len(),
        128
    );
    assert_eq!(
        s["environment"]["cairn-record-options"],
        serde_json::json!({"hash": ["sha256", "sha512"], "lstrip": ["src/"], "normalize-line-endings": true})
    );
}

#[test]
fn env_variables_are_recorded_but_secrets_never() {
    let t = project();
    let o = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args([
            "run",
            "--step",
            "e",
            "--env",
            "BUILD_MODE",
            "--env",
            "GITHUB_TOKEN",
            "--format",
            "legacy",
            "--no-command",
        ])
        .current_dir(t.path())
        .env("BUILD_MODE", "release")
        .env("GITHUB_TOKEN", "ghp_secretsecret")
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("not recording GITHUB_TOKEN"));
    let text = std::fs::read_to_string(t.path().join("e.link")).unwrap();
    assert!(!text.contains("ghp_secretsecret"));
    let s = &read_json(&t.path().join("e.link"))["signed"];
    assert_eq!(
        s["environment"]["variables"],
        serde_json::json!({"BUILD_MODE": "release"})
    );
}

#[test]
fn fifo_in_the_tree_is_skipped_with_a_warning() {
    let t = project();
    assert!(
        Command::new("mkfifo")
            .arg(t.path().join("src/pipe"))
            .status()
            .unwrap()
            .success()
    );
    let o = cairn(
        t.path(),
        &[
            "run",
            "--step",
            "p",
            "-m",
            "src",
            "--format",
            "legacy",
            "--no-command",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("warning: src/pipe is a named pipe; not recorded"),
        "{}",
        stderr(&o)
    );
    let s = &read_json(&t.path().join("p.link"))["signed"];
    assert_eq!(s["materials"].as_object().unwrap().len(), 2);
}

#[test]
fn symlink_loop_is_reported_not_followed_forever() {
    let t = project();
    std::os::unix::fs::symlink("..", t.path().join("src/up")).unwrap();
    let o = cairn(
        t.path(),
        &[
            "run",
            "--step",
            "l",
            "-m",
            "src",
            "--follow-symlinks",
            "--format",
            "legacy",
            "--no-command",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let err = stderr(&o);
    // src/up -> the project root, which holds src: followed once, then the loop is cut.
    assert!(
        err.contains("warning: src/up/src leads back into a directory being walked"),
        "{err}"
    );
    let s = &read_json(&t.path().join("l.link"))["signed"];
    let names: Vec<&String> = s["materials"].as_object().unwrap().keys().collect();
    assert_eq!(
        names,
        ["src/a.txt", "src/b.txt"],
        "src/up/src is src itself: cut, not recorded twice"
    );
}

/// Runs cairn as an unprivileged user when the tests run as root (root reads every file).
fn unreadable_file_setup(t: &Path) -> Option<Command> {
    let f = t.join("src/secret.txt");
    std::fs::write(&f, b"x").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o000)).unwrap();
    let is_root = std::fs::metadata("/proc/self").map(|m| {
        use std::os::unix::fs::MetadataExt;
        m.uid() == 0
    });
    if is_root.unwrap_or(false) {
        for p in [t, &t.join("src")] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        if Command::new("setpriv").arg("--version").output().is_err() {
            eprintln!("SKIP unreadable file test: running as root without setpriv");
            return None;
        }
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(env!("CARGO_BIN_EXE_cairn"));
        Some(c)
    } else {
        Some(Command::new(env!("CARGO_BIN_EXE_cairn")))
    }
}

#[test]
fn an_unreadable_file_is_an_error_naming_it_and_no_link_is_written() {
    let t = project();
    // The binary must be reachable by the unprivileged user; the temp dir must be too.
    let Some(mut cmd) = unreadable_file_setup(t.path()) else {
        return;
    };
    let o = cmd
        .args(["run", "--step", "u", "-m", "src", "--no-command"])
        .current_dir(t.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("cannot read src/secret.txt"), "{err}");
    assert!(links(t.path()).is_empty());
}

#[test]
fn full_disk_leaves_no_partial_link() {
    let t = project();
    let mnt = t.path().join("full");
    std::fs::create_dir(&mnt).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&mnt)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !mounted {
        eprintln!("SKIP full-disk test: cannot mount a small tmpfs here (needs root)");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _guard = Unmount(mnt.clone());
    // Fill the file system, leaving a few bytes.
    let _ = Command::new("dd")
        .args(["if=/dev/zero", "bs=1k", "count=1000"])
        .arg(format!("of={}", mnt.join("filler").display()))
        .output();
    let o = cairn(
        t.path(),
        &[
            "run",
            "--step",
            "d",
            "-m",
            "src",
            "--out",
            "full",
            "--shell",
            "--",
            "head -c 20000 /dev/zero | tr '\\0' a",
        ],
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot write full/d.link"),
        "{}",
        stderr(&o)
    );
    let left: Vec<_> = std::fs::read_dir(&mnt)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        ["filler"],
        "no partial link or temporary file is left"
    );
}

#[test]
fn record_start_and_stop() {
    let t = project();
    let key = ed25519_key(t.path());
    let k = key.to_str().unwrap();
    let o = cairn(
        t.path(),
        &[
            "record", "start", "--step", "multi", "-m", "src", "--key", k, "--format", "legacy",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let state: Vec<_> = std::fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".link-unfinished"))
        .collect();
    assert_eq!(state.len(), 1);
    assert!(
        state[0].starts_with(".multi.")
            && state[0].len() == ".multi.".len() + 8 + ".link-unfinished".len()
    );

    // A second start for the same step is refused.
    let o = cairn(
        t.path(),
        &[
            "record", "start", "--step", "multi", "-m", "src", "--key", k,
        ],
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("already in progress"));

    // Stop for another step, or without the key, is a clear error.
    let o = cairn(
        t.path(),
        &["record", "stop", "--step", "other", "-p", "src", "--key", k],
    );
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(
        err.contains("no unfinished recording for step \"other\""),
        "{err}"
    );
    assert!(
        err.contains("unfinished recordings here are for: multi"),
        "{err}"
    );
    let o = cairn(
        t.path(),
        &["record", "stop", "--step", "multi", "-p", "src"],
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("same --key"), "{}", stderr(&o));
    // Different recording options.
    let o = cairn(
        t.path(),
        &[
            "record", "stop", "--step", "multi", "-p", "src", "--key", k, "--lstrip", "src/",
        ],
    );
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("different recording options"),
        "{}",
        stderr(&o)
    );

    std::fs::write(t.path().join("src/c.txt"), b"gamma\n").unwrap();
    let o = cairn(
        t.path(),
        &[
            "record", "stop", "--step", "multi", "-p", "src", "--key", k, "--format", "legacy",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let files = links(t.path());
    assert_eq!(files.len(), 1);
    let s = &read_json(&files[0])["signed"];
    assert_eq!(s["materials"].as_object().unwrap().len(), 2);
    assert_eq!(s["products"].as_object().unwrap().len(), 3);
    assert_eq!(s["products"]["src/c.txt"]["sha256"], sha256_hex(b"gamma\n"));
    assert!(std::fs::read_dir(t.path()).unwrap().all(|e| {
        !e.unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with("-unfinished")
    }));

    // Stop without any start.
    let o = cairn(
        t.path(),
        &["record", "stop", "--step", "multi", "-p", "src", "--key", k],
    );
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("run `cairn record start` first"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn tampered_recording_state_is_rejected() {
    let t = project();
    let key = ed25519_key(t.path());
    let k = key.to_str().unwrap();
    assert_eq!(
        code(&cairn(
            t.path(),
            &["record", "start", "--step", "s", "-m", "src", "--key", k]
        )),
        0
    );
    let state = std::fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".link-unfinished"))
        .unwrap();
    let text = std::fs::read_to_string(&state)
        .unwrap()
        .replace(&sha256_hex(b"alpha\n"), &sha256_hex(b"evil\n"));
    std::fs::write(&state, text).unwrap();
    let o = cairn(
        t.path(),
        &["record", "stop", "--step", "s", "-p", "src", "--key", k],
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("does not verify"), "{}", stderr(&o));
    assert!(links(t.path()).is_empty());
}

/// Starts `cairn run` over `dir`, waits until it holds `big` open (so the directory has been
/// listed and `big`, first in name order, is being hashed), then calls `act`.
fn while_hashing(t: &Path, big: &Path, act: impl FnOnce()) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args([
            "run",
            "--step",
            "v",
            "-m",
            "src",
            "--format",
            "legacy",
            "--no-command",
        ])
        .current_dir(t)
        .env_remove("CAIRN_KEY")
        .env_remove("CAIRN_JSON")
        // One worker: the files of a directory are hashed in name order, after its listing.
        .env("RAYON_NUM_THREADS", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let fd_dir = PathBuf::from(format!("/proc/{}/fd", child.id()));
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = false;
    while !seen && Instant::now() < deadline {
        seen = std::fs::read_dir(&fd_dir)
            .map(|fds| {
                fds.flatten()
                    .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|p| p == big))
            })
            .unwrap_or(false);
        if !seen {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    assert!(seen, "cairn never opened {}", big.display());
    act();
    child.wait_with_output().unwrap()
}

/// A sparse file that takes a while to hash (zeros are read from the page cache, not disk).
fn big_sparse_file(path: &Path) {
    std::fs::File::create(path)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
}

#[test]
fn a_file_deleted_mid_walk_is_skipped_with_a_warning_and_the_link_is_complete() {
    let t = project();
    let root = std::fs::canonicalize(t.path()).unwrap();
    let big = root.join("src/0-big.bin");
    big_sparse_file(&big);
    let victim = root.join("src/victim.txt");
    std::fs::write(&victim, b"here at listing time\n").unwrap();
    let o = while_hashing(&root, &big, || std::fs::remove_file(&victim).unwrap());
    // Documented: skipped with a warning; the link records everything else; exit 0.
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("warning: src/victim.txt disappeared while recording; not recorded"),
        "{}",
        stderr(&o)
    );
    let links = links(&root);
    assert_eq!(links, [root.join("v.link")]);
    // A whole link (it parses), with exactly the files that were there to hash.
    let s = &read_json(&links[0])["signed"];
    let names: Vec<&String> = s["materials"].as_object().unwrap().keys().collect();
    assert_eq!(names, ["src/0-big.bin", "src/a.txt", "src/b.txt"]);
    assert_eq!(
        s["materials"]["src/a.txt"]["sha256"],
        sha256_hex(b"alpha\n")
    );
    let no_temp: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(no_temp.is_empty(), "{no_temp:?}");
}

#[test]
fn a_directory_deleted_mid_walk_is_skipped_with_a_warning() {
    let t = project();
    let root = std::fs::canonicalize(t.path()).unwrap();
    let big = root.join("src/0-big.bin");
    big_sparse_file(&big);
    std::fs::create_dir(root.join("src/sub")).unwrap();
    std::fs::write(root.join("src/sub/x"), b"x").unwrap();
    // src is listed (src/sub found, its walk scheduled) before src's own files are hashed.
    let o = while_hashing(&root, &big, || {
        std::fs::remove_dir_all(root.join("src/sub")).unwrap()
    });
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("warning: src/sub disappeared while recording; not recorded"),
        "{}",
        stderr(&o)
    );
    let s = &read_json(&root.join("v.link"))["signed"];
    let names: Vec<&String> = s["materials"].as_object().unwrap().keys().collect();
    assert_eq!(names, ["src/0-big.bin", "src/a.txt", "src/b.txt"]);
}
