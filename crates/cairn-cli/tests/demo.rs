//! `cairn demo` end to end: its transcript against a golden file (temporary paths, key ids,
//! digests, times and sizes filtered), its exit code, and what it leaves behind with `--dir`.
//!
//! `CAIRN_BLESS=1 cargo test -p cairn-cli --test demo` rewrites the golden file.

use std::path::Path;
use std::process::Command;

fn filter(text: &str, dir: &Path) -> String {
    let text = text.replace(&dir.display().to_string(), "[DIR]");
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(&filter_line(line));
        out.push('\n');
    }
    out
}

/// Replaces volatile tokens: hex runs of 8+ (digests, key ids), RFC 3339 times, byte sizes.
fn filter_line(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        // RFC 3339 time: dddd-dd-ddTdd:dd:dd...Z
        if i + 20 <= chars.len()
            && chars[i..i + 4].iter().all(char::is_ascii_digit)
            && chars[i + 4] == '-'
            && chars[i + 10] == 'T'
        {
            let mut j = i + 11;
            while j < chars.len() && (chars[j].is_ascii_digit() || ":.".contains(chars[j])) {
                j += 1;
            }
            if j < chars.len() && chars[j] == 'Z' {
                out.push_str("[TIME]");
                i = j + 1;
                continue;
            }
        }
        let word_start = i == 0 || !chars[i - 1].is_ascii_alphanumeric();
        if word_start && chars[i].is_ascii_hexdigit() {
            let mut j = i;
            while j < chars.len() && chars[j].is_ascii_hexdigit() {
                j += 1;
            }
            let word_end = j == chars.len() || !chars[j].is_ascii_alphanumeric();
            if j - i >= 8 && word_end {
                out.push_str("[HEX]");
                i = j;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    // Sizes depend on the tar implementation: "(3 files, 287 B)", "10.00 KiB".
    let mut s = out;
    for unit in [" KiB", " MiB", " B)"] {
        while let Some(pos) = s.find(unit) {
            let start = s[..pos]
                .rfind(|c: char| !(c.is_ascii_digit() || c == '.'))
                .map_or(0, |p| p + 1);
            if start == pos {
                break;
            }
            s = format!(
                "{}[SIZE]{}",
                &s[..start],
                &s[pos..].replacen(unit, &unit.replace(' ', "~"), 1)
            );
        }
    }
    s.replace('~', " ")
}

#[test]
fn demo_transcript_matches_the_golden_file() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("demo");
    let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["demo", "--dir"])
        .arg(&dir)
        .env("NO_COLOR", "1")
        .env_remove("CAIRN_JSON")
        .output()
        .expect("run cairn demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        !stdout.contains('\x1b'),
        "no ANSI codes when not on a terminal"
    );

    // What the transcript claims is on disk.
    for f in [
        "keys/owner.pub",
        "root.layout",
        "sbom.spdx.json",
        "provenance.json",
        "staging/index.json",
        "attack/links",
    ] {
        assert!(dir.join(f).exists(), "{f} missing");
    }
    assert!(stdout.contains("PASS root.layout"));
    assert!(stdout.contains("FAIL root.layout"));
    assert!(stdout.contains("MATCH dist/hello/hello.py WITH PRODUCTS FROM build: digest changed"));

    // The unsigned image was refused, the signed one promoted: prod:1.0 is staging:1.0's
    // digest, and the promoted copy passes the policy on its own (with its attestations).
    assert!(stdout.contains("refused: sha256:"));
    for f in [
        "provenance.sigstore.json",
        "sbom.sigstore.json",
        "prod/index.json",
    ] {
        assert!(dir.join(f).exists(), "{f} missing");
    }
    let tag_digest = |layout: &str| -> String {
        let index: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dir.join(layout).join("index.json")).expect("index.json"),
        )
        .expect("json");
        index["manifests"]
            .as_array()
            .expect("manifests")
            .iter()
            .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == "1.0")
            .and_then(|m| m["digest"].as_str())
            .expect("tag 1.0")
            .to_string()
    };
    let staged = tag_digest("staging");
    assert_eq!(tag_digest("prod"), staged);
    assert!(stdout.contains(&format!("prod:1.0 = {staged}")), "{stdout}");
    let verify = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["verify", "image", "oci:prod:1.0", "--policy", "policy.yaml"])
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .env_remove("CAIRN_JSON")
        .output()
        .expect("verify prod");
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );

    let canonical = dir.canonicalize().expect("canonical");
    let got = filter(&stdout, &canonical);
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/demo.txt");
    if std::env::var_os("CAIRN_BLESS").is_some() {
        std::fs::write(&golden, &got).expect("bless");
        return;
    }
    let want = std::fs::read_to_string(&golden).expect("golden file (CAIRN_BLESS=1 writes it)");
    if got != want {
        let first = got
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(got.lines().count().min(want.lines().count()));
        panic!(
            "demo transcript differs from tests/golden/demo.txt at line {}:\n got: {:?}\nwant: {:?}\n(CAIRN_BLESS=1 rewrites it)\n\n{got}",
            first + 1,
            got.lines().nth(first),
            want.lines().nth(first),
        );
    }
}

#[test]
fn demo_refuses_a_non_empty_directory() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(tmp.path().join("precious"), "x").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["demo", "--dir"])
        .arg(tmp.path())
        .env("NO_COLOR", "1")
        .output()
        .expect("run cairn demo");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not empty"));
    assert!(tmp.path().join("precious").exists());
}

#[test]
fn filter_replaces_volatile_tokens() {
    assert_eq!(
        filter_line("wrote links/fetch.b3e2da6e.link (signed by b3e2da6e) 2027-11-28T16:05:26Z"),
        "wrote links/fetch.[HEX].link (signed by [HEX]) [TIME]"
    );
    assert_eq!(
        filter_line("recorded 4 products (4 files, 847 B)"),
        "recorded 4 products (4 files, [SIZE] B)"
    );
    assert_eq!(
        filter_line("1 products (1 files, 10.00 KiB)"),
        "1 products (1 files, [SIZE] KiB)"
    );
    assert_eq!(filter_line("step 'package' dead"), "step 'package' dead");
}

#[test]
fn an_unexpected_outcome_exits_2_with_the_failing_command_output() {
    // Without a shell on PATH the first recorded build command cannot start.
    let tmp = tempfile::tempdir().expect("tmp");
    let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["demo", "--dir"])
        .arg(tmp.path().join("d"))
        .env("NO_COLOR", "1")
        .env("PATH", tmp.path())
        .output()
        .expect("run cairn demo");
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the demo expected `cairn run --step fetch"),
        "{stderr}"
    );
    // The failing command's own output is in the transcript.
    assert!(stdout.contains("$ cairn run --step fetch"), "{stdout}");
    assert!(
        stdout.lines().any(|l| l.starts_with("    error:")),
        "{stdout}"
    );
    assert!(stderr.contains("the demo directory is kept"), "{stderr}");
}
