//! `cairn key ...` run as a user runs it: the built binary, exit codes, stdout/stderr.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn cairn(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cairn"));
    cmd.args(args)
        .env_remove("CAIRN_PASSWORD")
        .env_remove("CAIRN_PASSWORD_FILE")
        .env_remove("CAIRN_JSON")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run cairn")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn assert_error(o: &Output, needle: &str) {
    assert_eq!(o.status.code(), Some(2), "stderr: {}", stderr(o));
    let err = stderr(o);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(needle), "expected {needle:?} in:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

#[test]
fn generate_each_type_then_public_and_id() {
    let dir = tempfile::tempdir().unwrap();
    for kt in ["ed25519", "ecdsa-p256", "ecdsa-p384", "rsa"] {
        let key = dir.path().join(kt);
        let o = cairn(&["key", "generate", "--type", kt, "--out", p(&key)], &[]);
        assert_eq!(o.status.code(), Some(0), "{kt}: {}", stderr(&o));
        let private = std::fs::read_to_string(&key).unwrap();
        assert!(private.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{kt}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{kt}: private key mode");
        }
        let pub_path = dir.path().join(format!("{kt}.pub"));
        let public = std::fs::read_to_string(&pub_path).unwrap();
        assert!(public.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        // `key public` of the private key prints the same SPKI PEM.
        let o = cairn(&["key", "public", p(&key)], &[]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(stdout(&o), public);
        // `key id` of the private and the public file agree, both rules labelled.
        let a = cairn(&["key", "id", p(&key)], &[]);
        let b = cairn(&["key", "id", p(&pub_path)], &[]);
        assert_eq!(stdout(&a), stdout(&b));
        let text = stdout(&a);
        assert!(text.contains("keyid (securesystemslib-1): "), "{text}");
        assert!(text.contains("keyid (legacy): "), "{text}");
        // --json gives one document with both ids, matching the library's computation.
        let o = cairn(&["--json", "key", "id", p(&pub_path)], &[]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let k = cairn_sign::PublicKey::from_bytes(public.as_bytes()).unwrap();
        assert_eq!(v["keyid"]["legacy"], k.key_ids().legacy.as_str());
        assert_eq!(
            v["keyid"]["securesystemslib1"],
            k.key_ids().securesystemslib1.as_str()
        );
        assert_eq!(v["scheme"], k.scheme().name());
        // The in-toto layout form: {keyid: key object with that keyid}, readable by cairn.
        for rule in ["securesystemslib-1", "legacy"] {
            let o = cairn(
                &[
                    "key",
                    "public",
                    p(&key),
                    "--format",
                    "in-toto",
                    "--keyid-rule",
                    rule,
                ],
                &[],
            );
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            let (id, obj) = v.as_object().unwrap().iter().next().unwrap();
            assert_eq!(obj["keyid"], id.as_str());
            let back = cairn_sign::PublicKey::from_securesystemslib_json(obj).unwrap();
            assert_eq!(back, k);
            let expected = if rule == "legacy" {
                &k.key_ids().legacy
            } else {
                &k.key_ids().securesystemslib1
            };
            assert_eq!(id, expected.as_str());
        }
    }
}

#[test]
fn refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k");
    assert!(
        cairn(&["key", "generate", "--out", p(&key)], &[])
            .status
            .success()
    );
    let before = std::fs::read(&key).unwrap();
    let o = cairn(&["key", "generate", "--out", p(&key)], &[]);
    assert_error(&o, "already exists");
    assert!(stderr(&o).contains("hint: pass --force"));
    assert_eq!(std::fs::read(&key).unwrap(), before, "key was overwritten");
    let o = cairn(&["key", "generate", "--out", p(&key), "--force"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_ne!(std::fs::read(&key).unwrap(), before);
    // Only the key and its .pub are left: no temporary files.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn encrypted_keys_and_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("enc");
    let o = cairn(
        &["key", "generate", "--type", "ecdsa-p256", "--out", p(&key)],
        &[("CAIRN_PASSWORD", "s3cret")],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        std::fs::read_to_string(&key)
            .unwrap()
            .starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    );
    // Right password from the environment and from a file.
    assert!(
        cairn(&["key", "id", p(&key)], &[("CAIRN_PASSWORD", "s3cret")])
            .status
            .success()
    );
    let pw_file = dir.path().join("pw");
    std::fs::write(&pw_file, "s3cret\n").unwrap();
    let o = cairn(
        &["key", "public", p(&key), "--password-file", p(&pw_file)],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // Wrong password.
    let o = cairn(&["key", "id", p(&key)], &[("CAIRN_PASSWORD", "nope")]);
    assert_error(&o, "wrong password");
    // No password and no terminal: a clear error with a hint.
    let o = cairn(&["key", "id", p(&key)], &[]);
    assert_error(&o, "encrypted and no password was given");
    assert!(
        stderr(&o).contains("hint: set CAIRN_PASSWORD"),
        "{}",
        stderr(&o)
    );
    // cosign format.
    let ckey = dir.path().join("cosign.key");
    let o = cairn(
        &["key", "generate", "--format", "cosign", "--out", p(&ckey)],
        &[("CAIRN_PASSWORD", "pw")],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        std::fs::read_to_string(&ckey)
            .unwrap()
            .starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----")
    );
    assert!(
        cairn(&["key", "id", p(&ckey)], &[("CAIRN_PASSWORD", "pw")])
            .status
            .success()
    );
}

#[test]
fn bad_key_files_exit_2_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let garbage = write("garbage", b"this is not a key\n");
    assert_error(&cairn(&["key", "id", p(&garbage)], &[]), "not a key");
    let truncated = write(
        "truncated",
        b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEICmtWWk/6UydYjr7tmVUtPa7\n",
    );
    assert_error(
        &cairn(&["key", "public", p(&truncated)], &[]),
        "malformed PEM",
    );
    let secp256k1 = write(
        "erin",
        &std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../testdata/in-toto-golang/test/data/erin"),
        )
        .unwrap(),
    );
    assert_error(
        &cairn(&["key", "id", p(&secp256k1)], &[]),
        "unsupported curve secp256k1",
    );
    let p521 = write(
        "frank.pub",
        &std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../testdata/in-toto-golang/test/data/frank.pub"),
        )
        .unwrap(),
    );
    assert_error(
        &cairn(&["key", "id", p(&p521)], &[]),
        "unsupported curve P-521",
    );
    // A 100 MB file is refused from its size (it is never read: the error says so).
    let big = dir.path().join("big");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(100 * 1024 * 1024).unwrap();
    assert_error(&cairn(&["key", "id", p(&big)], &[]), "too large");
    let missing = dir.path().join("missing");
    assert_error(
        &cairn(&["key", "id", p(&missing)], &[]),
        "cannot read key file",
    );
    // A directory is not a key file.
    assert_error(&cairn(&["key", "id", p(dir.path())], &[]), "cannot");
}

/// Runs cairn on a pseudo-terminal (util-linux `script`), typing `input` after a short pause.
fn on_tty(dir: &Path, args: &str, input: &str) -> Option<Output> {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("SKIP: util-linux `script` is not installed; terminal prompts not tested");
        return None;
    }
    let cmd = format!("{} {args}", env!("CARGO_BIN_EXE_cairn"));
    let mut child = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(dir)
        .env_remove("CAIRN_PASSWORD")
        .env_remove("CAIRN_PASSWORD_FILE")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run script");
    let mut stdin = child.stdin.take().unwrap();
    for line in input.lines() {
        std::thread::sleep(std::time::Duration::from_millis(700));
        std::io::Write::write_all(&mut stdin, format!("{line}\n").as_bytes()).unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(700));
    drop(stdin);
    Some(child.wait_with_output().unwrap())
}

#[test]
fn prompts_for_passwords_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let Some(o) = on_tty(dir.path(), "key generate --encrypt --out k", "pw1\npw1") else {
        return;
    };
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        std::fs::read_to_string(dir.path().join("k"))
            .unwrap()
            .starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    );
    let o = on_tty(dir.path(), "key id k", "pw1").unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("keyid (legacy): "));
    let o = on_tty(dir.path(), "key id k", "nope").unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).contains("wrong password"), "{}", stdout(&o));
    // Mismatched confirmation.
    let o = on_tty(dir.path(), "key generate --encrypt --out k2", "a\nb").unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).contains("do not match"), "{}", stdout(&o));
    assert!(!dir.path().join("k2").exists());
}
