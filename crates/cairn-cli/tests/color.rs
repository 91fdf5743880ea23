//! Colour is decided per stream: stdout gets colour only when stdout is a terminal, stderr
//! only when stderr is; `NO_COLOR` turns it off, `CLICOLOR_FORCE` on, `--color` overrides both.
//! Pipes are tested directly; a pseudo-terminal (through Python's `pty`, skipped when there is
//! no python3) checks that a terminal on one stream does not colour the other.

use std::path::Path;
use std::process::{Command, Output};

const ESC: char = '\x1b';

/// `cairn ARGS` with stdout and stderr piped and only the given colour variables set.
fn cairn(args: &[&str], env: &[(&str, &str)], cwd: &Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cairn"));
    cmd.args(args).current_dir(cwd);
    for k in [
        "NO_COLOR",
        "CLICOLOR_FORCE",
        "CLICOLOR",
        "CAIRN_COLOR",
        "CAIRN_JSON",
    ] {
        cmd.env_remove(k);
    }
    cmd.env("TERM", "xterm-256color");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run cairn")
}

fn has_esc(b: &[u8]) -> bool {
    String::from_utf8_lossy(b).contains(ESC)
}

/// A layout verification that passes (stdout: the verdict) and an error (stderr).
fn setup(dir: &Path) {
    let demo = cairn(&["demo", "--dir", "d"], &[("NO_COLOR", "1")], dir);
    assert_eq!(
        demo.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
}

const VERIFY: &[&str] = &[
    "verify",
    "layout",
    "d/root.layout",
    "--layout-key",
    "d/keys/owner.pub",
    "--links",
    "d/links",
];
const BROKEN: &[&str] = &["sbom", "does-not-exist/"];

#[test]
fn pipes_get_no_colour_unless_forced() {
    let tmp = tempfile::tempdir().expect("tmp");
    setup(tmp.path());
    let dir = tmp.path();
    // auto, both streams piped: no escape codes anywhere, verdict or error.
    let out = cairn(VERIFY, &[], dir);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("PASS"));
    assert!(!has_esc(&out.stdout) && !has_esc(&out.stderr));
    let err = cairn(BROKEN, &[], dir);
    assert_eq!(err.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&err.stderr).contains("error:"));
    assert!(!has_esc(&err.stderr));

    // CLICOLOR_FORCE colours both streams, even into pipes.
    let forced = [("CLICOLOR_FORCE", "1")];
    assert!(has_esc(&cairn(VERIFY, &forced, dir).stdout));
    assert!(has_esc(&cairn(BROKEN, &forced, dir).stderr));
    // CLICOLOR_FORCE=0 forces nothing.
    assert!(!has_esc(
        &cairn(VERIFY, &[("CLICOLOR_FORCE", "0")], dir).stdout
    ));
    // NO_COLOR wins over CLICOLOR_FORCE.
    let both = [("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")];
    assert!(!has_esc(&cairn(VERIFY, &both, dir).stdout));
    assert!(!has_esc(&cairn(BROKEN, &both, dir).stderr));
    // --color / CAIRN_COLOR win over the environment, both ways.
    let mut always = VERIFY.to_vec();
    always.extend(["--color", "always"]);
    assert!(has_esc(&cairn(&always, &[("NO_COLOR", "1")], dir).stdout));
    assert!(has_esc(
        &cairn(BROKEN, &[("NO_COLOR", "1"), ("CAIRN_COLOR", "always")], dir).stderr
    ));
    assert!(!has_esc(
        &cairn(
            VERIFY,
            &[("CLICOLOR_FORCE", "1"), ("CAIRN_COLOR", "never")],
            dir
        )
        .stdout
    ));
    // --json output never carries escape codes, whatever is forced.
    let mut json = VERIFY.to_vec();
    json.push("--json");
    let out = cairn(&json, &[("CLICOLOR_FORCE", "1")], dir);
    assert!(!has_esc(&out.stdout));
    serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("plain JSON");
}

/// Runs cairn with one stream on a pseudo-terminal and the other piped; returns
/// (terminal bytes, piped bytes).
fn with_pty(
    args: &[&str],
    tty: &str,
    env: &[(&str, &str)],
    cwd: &Path,
) -> Option<(String, String)> {
    let python = cairn_testkit::registry::find_tool("python3")?;
    let script = r#"
import os, pty, subprocess, sys
exe, which, args = sys.argv[1], sys.argv[2], sys.argv[3:]
m, s = pty.openpty()
kw = {"stdout": s, "stderr": subprocess.PIPE} if which == "stdout" else {"stdout": subprocess.PIPE, "stderr": s}
p = subprocess.Popen([exe] + args, stdin=subprocess.DEVNULL, **kw)
os.close(s)
tty = b""
while True:
    try:
        chunk = os.read(m, 65536)
    except OSError:
        break
    if not chunk:
        break
    tty += chunk
piped = (p.stderr if which == "stdout" else p.stdout).read()
p.wait()
sys.stdout.buffer.write(tty.hex().encode() + b"\n" + piped.hex().encode() + b"\n")
"#;
    let mut cmd = Command::new(python);
    cmd.arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_cairn"))
        .arg(tty)
        .args(args)
        .current_dir(cwd);
    for k in [
        "NO_COLOR",
        "CLICOLOR_FORCE",
        "CLICOLOR",
        "CAIRN_COLOR",
        "CAIRN_JSON",
    ] {
        cmd.env_remove(k);
    }
    cmd.env("TERM", "xterm-256color");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut lines = text.lines();
    let decode = |h: &str| String::from_utf8_lossy(&hex::decode(h).expect("hex")).to_string();
    Some((decode(lines.next()?), decode(lines.next().unwrap_or(""))))
}

#[test]
fn a_terminal_on_one_stream_colours_only_that_stream() {
    let tmp = tempfile::tempdir().expect("tmp");
    setup(tmp.path());
    let dir = tmp.path();
    // stdout on a terminal: the verdict is coloured; a warning on piped stderr is not.
    let Some((tty, piped)) = with_pty(VERIFY, "stdout", &[], dir) else {
        eprintln!("SKIP: python3 is not installed (pseudo-terminal test)");
        return;
    };
    assert!(tty.contains("PASS") && tty.contains(ESC), "{tty:?}");
    assert!(!piped.contains(ESC), "{piped:?}");
    // stderr on a terminal: the error is coloured; nothing on piped stdout is.
    let (tty, piped) = with_pty(BROKEN, "stderr", &[], dir).expect("python3");
    assert!(tty.contains("error:") && tty.contains(ESC), "{tty:?}");
    assert!(!piped.contains(ESC), "{piped:?}");
    // The other way round: stdout piped while stderr is a terminal gets no colour.
    let (_, piped) = with_pty(VERIFY, "stderr", &[], dir).expect("python3");
    assert!(piped.contains("PASS") && !piped.contains(ESC), "{piped:?}");
    // NO_COLOR on a terminal, and TERM=dumb: no colour.
    let (tty, _) = with_pty(VERIFY, "stdout", &[("NO_COLOR", "1")], dir).expect("python3");
    assert!(tty.contains("PASS") && !tty.contains(ESC), "{tty:?}");
    let (tty, _) = with_pty(VERIFY, "stdout", &[("TERM", "dumb")], dir).expect("python3");
    assert!(tty.contains("PASS") && !tty.contains(ESC), "{tty:?}");
}
