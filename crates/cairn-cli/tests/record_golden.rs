//! Golden links: `cairn run` over a fixture tree, in both formats, signed with a fixed Ed25519
//! test key, for every path option (`--base-path`, `--lstrip`, `--exclude`, `--exclude-from`,
//! `--follow-symlinks`, `--normalize-line-endings`, several `--hash`), compared byte for byte
//! with the files under `tests/golden/record/`.
//!
//! Nothing in these links is volatile: Ed25519 signatures are deterministic (RFC 8032), the
//! command's output is fixed, and no environment is recorded by default. Every byte is
//! therefore compared, signatures included. Independently of the golden bytes, each scenario's
//! artifact maps are checked against digests the test computes from the fixture contents, and
//! its recorded options against the expected `cairn-record-options`, so a golden file
//! regenerated with a bug in it still fails.
//!
//! `CAIRN_BLESS=1 cargo test -p cairn-cli --test record_golden` rewrites the golden files.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use serde_json::{Value, json};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/record")
}

/// The fixture: `ws/project` is the project, `ws/excludes.txt` an exclude file outside it.
fn fixture() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("project");
    let files: &[(&str, &[u8])] = &[
        ("src/main.c", b"int main(void) { return 0; }\n"),
        ("src/util/strings.c", b"/* strings */\r\nchar *s;\r\n"),
        ("src/util/old.c~", b"backup, excluded by default"),
        ("src/gen.pyc", b"excluded by default"),
        ("src/notes.tmp", b"excluded by --exclude '*.tmp'"),
        ("docs/readme.md", b"classic mac\rline endings\r"),
        ("docs/draft/wip.md", b"excluded by the exclude file"),
        ("dist/app.tar", &[0u8, 1, 2, 3, 255, 254, b'\r', b'\n']),
        ("dist/lib/x.so", b"\x7fELF"),
        ("dist/lib/x.o", b"excluded by the exclude file"),
        (".git/HEAD", b"ref: refs/heads/main\n"),
        ("earlier.link", b"excluded by default"),
        ("name with spaces & \"quotes\".txt", b"unusual name\n"),
    ];
    for (rel, data) in files {
        let path = p.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    }
    std::os::unix::fs::symlink("src/main.c", p.join("main-link.c")).unwrap();
    std::os::unix::fs::symlink("docs", p.join("docs-link")).unwrap();
    std::fs::write(
        t.path().join("excludes.txt"),
        "# gitignore syntax\n*.o\n/docs/draft/\n",
    )
    .unwrap();
    t
}

fn sha(alg: &str, data: &[u8]) -> String {
    let alg: cairn_record::HashAlgorithm = alg.parse().unwrap();
    cairn_record::hash::hash_bytes(data, &[alg], false)[0]
        .1
        .clone()
}

/// in-toto's line-ending rule, written out independently of cairn's streaming version.
fn normalized(data: &[u8]) -> Vec<u8> {
    let text = data
        .iter()
        .map(|&b| b as char)
        .collect::<String>()
        .replace("\r\n", "\n")
        .replace('\r', "\n");
    text.chars().map(|c| c as u8).collect()
}

struct Scenario {
    name: &'static str,
    /// Arguments after `run --step NAME`, before the format and key.
    args: &'static [&'static str],
    /// Working directory, relative to the fixture root.
    cwd: &'static str,
    /// Base path of the recorded names, relative to the fixture root.
    base: &'static str,
    /// Expected materials: name -> file under the base path.
    materials: &'static [(&'static str, &'static str)],
    /// Expected products.
    products: &'static [(&'static str, &'static str)],
    hashes: &'static [&'static str],
    normalize: bool,
    options: Value,
}

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            // Default options, a command with output and a non-zero exit; symlink to a file
            // recorded, symlink to a directory not followed, default excludes applied.
            name: "defaults",
            args: &[
                "-m",
                ".",
                "-p",
                "dist",
                "--",
                "sh",
                "-c",
                "echo built; echo 'a warning' >&2; exit 3",
            ],
            cwd: "project",
            base: "project",
            materials: &[
                ("dist/app.tar", "dist/app.tar"),
                ("dist/lib/x.o", "dist/lib/x.o"),
                ("dist/lib/x.so", "dist/lib/x.so"),
                ("docs/draft/wip.md", "docs/draft/wip.md"),
                ("docs/readme.md", "docs/readme.md"),
                ("main-link.c", "src/main.c"),
                (
                    "name with spaces & \"quotes\".txt",
                    "name with spaces & \"quotes\".txt",
                ),
                ("src/main.c", "src/main.c"),
                ("src/notes.tmp", "src/notes.tmp"),
                ("src/util/strings.c", "src/util/strings.c"),
            ],
            products: &[
                ("dist/app.tar", "dist/app.tar"),
                ("dist/lib/x.o", "dist/lib/x.o"),
                ("dist/lib/x.so", "dist/lib/x.so"),
            ],
            hashes: &["sha256"],
            normalize: false,
            options: Value::Null,
        },
        Scenario {
            // Names: --base-path from another directory, --lstrip (two prefixes), --exclude,
            // --exclude-from a file outside the project.
            name: "paths",
            args: &[
                "--base-path",
                "project",
                "-m",
                "src",
                "-m",
                "docs",
                "-p",
                "dist",
                "--lstrip",
                "dist/",
                "--lstrip",
                "src/util/",
                "--exclude",
                "*.tmp",
                "--exclude-from",
                "excludes.txt",
                "--no-command",
            ],
            cwd: ".",
            base: "project",
            materials: &[
                ("docs/readme.md", "docs/readme.md"),
                ("src/main.c", "src/main.c"),
                ("strings.c", "src/util/strings.c"),
            ],
            products: &[("app.tar", "dist/app.tar"), ("lib/x.so", "dist/lib/x.so")],
            hashes: &["sha256"],
            normalize: false,
            options: json!({
                "exclude": ["*.link*", ".git", "*.pyc", "*~", "*.tmp", "*.o", "/docs/draft/"],
                "lstrip": ["dist/", "src/util/"],
            }),
        },
        Scenario {
            // Digests: --follow-symlinks, --normalize-line-endings, three algorithms.
            name: "digests",
            args: &[
                "--base-path",
                "project",
                "-m",
                ".",
                "--follow-symlinks",
                "--normalize-line-endings",
                "--hash",
                "sha512,sha256,sha384",
                "--exclude",
                "dist/",
                "--no-command",
            ],
            cwd: ".",
            base: "project",
            materials: &[
                ("docs-link/draft/wip.md", "docs/draft/wip.md"),
                ("docs-link/readme.md", "docs/readme.md"),
                ("docs/draft/wip.md", "docs/draft/wip.md"),
                ("docs/readme.md", "docs/readme.md"),
                ("main-link.c", "src/main.c"),
                (
                    "name with spaces & \"quotes\".txt",
                    "name with spaces & \"quotes\".txt",
                ),
                ("src/main.c", "src/main.c"),
                ("src/notes.tmp", "src/notes.tmp"),
                ("src/util/strings.c", "src/util/strings.c"),
            ],
            products: &[],
            hashes: &["sha256", "sha384", "sha512"],
            normalize: true,
            options: json!({
                "exclude": ["*.link*", ".git", "*.pyc", "*~", "dist/"],
                "follow-symlinks": true,
                "hash": ["sha256", "sha384", "sha512"],
                "normalize-line-endings": true,
            }),
        },
    ]
}

fn expected_map(
    root: &Path,
    s: &Scenario,
    entries: &[(&str, &str)],
) -> BTreeMap<String, BTreeMap<String, String>> {
    entries
        .iter()
        .map(|(name, file)| {
            let data = std::fs::read(root.join(s.base).join(file)).unwrap();
            let data = if s.normalize { normalized(&data) } else { data };
            let digests = s
                .hashes
                .iter()
                .map(|alg| ((*alg).to_owned(), sha(alg, &data)))
                .collect();
            ((*name).to_owned(), digests)
        })
        .collect()
}

fn map_of(v: &Value) -> BTreeMap<String, BTreeMap<String, String>> {
    serde_json::from_value(v.clone()).unwrap()
}

fn descriptors_map(v: &Value) -> BTreeMap<String, BTreeMap<String, String>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["name"].as_str().unwrap().to_owned(),
                serde_json::from_value(d["digest"].clone()).unwrap(),
            )
        })
        .collect()
}

/// The parts every format shares, taken out of a link file.
struct Parts {
    materials: BTreeMap<String, BTreeMap<String, String>>,
    products: BTreeMap<String, BTreeMap<String, String>>,
    options: Value,
    byproducts: Value,
    command: Value,
}

fn parts(format: &str, bytes: &[u8]) -> Parts {
    let v: Value = serde_json::from_slice(bytes).unwrap();
    match format {
        "legacy" => {
            let s = &v["signed"];
            Parts {
                materials: map_of(&s["materials"]),
                products: map_of(&s["products"]),
                options: s["environment"]["cairn-record-options"].clone(),
                byproducts: s["byproducts"].clone(),
                command: s["command"].clone(),
            }
        }
        _ => {
            assert_eq!(v["payloadType"], "application/vnd.in-toto+json");
            let payload = base64::engine::general_purpose::STANDARD
                .decode(v["payload"].as_str().unwrap())
                .unwrap();
            let st: Value = serde_json::from_slice(&payload).unwrap();
            assert_eq!(
                st["predicateType"],
                "https://in-toto.io/attestation/link/v0.3"
            );
            let p = &st["predicate"];
            Parts {
                materials: descriptors_map(&p["materials"]),
                products: descriptors_map(&st["subject"]),
                options: p["environment"]["cairn-record-options"].clone(),
                byproducts: p["byproducts"].clone(),
                command: p["command"].clone(),
            }
        }
    }
}

#[test]
fn links_over_the_fixture_tree_match_the_golden_files() {
    let t = fixture();
    let root = t.path();
    let key = golden_dir().join("test-key.pem");
    let bless = std::env::var_os("CAIRN_BLESS").is_some();
    let mut failures = Vec::new();
    for s in scenarios() {
        for format in ["legacy", "statement"] {
            let out = root.join(format!("out-{}-{format}", s.name));
            std::fs::create_dir(&out).unwrap();
            let mut args: Vec<&str> = vec!["-q", "run", "--step", s.name];
            // Options before `--` (a command, if any, stays last).
            let split = s
                .args
                .iter()
                .position(|a| *a == "--")
                .unwrap_or(s.args.len());
            args.extend(&s.args[..split]);
            args.extend(["--format", format, "--key", key.to_str().unwrap()]);
            args.extend(["--out", out.to_str().unwrap()]);
            args.extend(&s.args[split..]);
            let o = Command::new(env!("CARGO_BIN_EXE_cairn"))
                .args(&args)
                .current_dir(root.join(s.cwd))
                .env_remove("CAIRN_KEY")
                .env_remove("CAIRN_JSON")
                .env_remove("CAIRN_HASH")
                .env_remove("CAIRN_BASE_PATH")
                .env_remove("CAIRN_LINK_FORMAT")
                .output()
                .unwrap();
            let expected_code = if s.name == "defaults" { 3 } else { 0 };
            assert_eq!(
                o.status.code(),
                Some(expected_code),
                "{} {format}: {}",
                s.name,
                String::from_utf8_lossy(&o.stderr)
            );
            let written: Vec<PathBuf> = std::fs::read_dir(&out)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            assert_eq!(written.len(), 1, "{written:?}");
            let file_name = written[0].file_name().unwrap().to_str().unwrap().to_owned();
            // `<step>.<first 8 hex digits of the key id>.link`, as in-toto names links.
            assert!(
                file_name.starts_with(&format!("{}.", s.name))
                    && file_name.ends_with(".link")
                    && file_name.len() == s.name.len() + 1 + 8 + 5,
                "{file_name}"
            );
            let got = std::fs::read(&written[0]).unwrap();

            // Independent of the golden bytes: artifact maps and recorded options.
            let p = parts(format, &got);
            let ctx = format!("{} ({format})", s.name);
            assert_eq!(p.materials, expected_map(root, &s, s.materials), "{ctx}");
            assert_eq!(p.products, expected_map(root, &s, s.products), "{ctx}");
            assert_eq!(p.options, s.options, "{ctx}: recorded options");
            if s.name == "defaults" {
                assert_eq!(
                    p.command,
                    json!(["sh", "-c", "echo built; echo 'a warning' >&2; exit 3"])
                );
                assert_eq!(
                    p.byproducts,
                    json!({"return-value": 3, "stderr": "a warning\n", "stdout": "built\n"}),
                    "{ctx}"
                );
            } else {
                assert_eq!(p.command, json!([]), "{ctx}");
            }

            let golden = golden_dir().join(s.name).join(format).join(&file_name);
            if bless {
                std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
                std::fs::write(&golden, &got).unwrap();
                continue;
            }
            match std::fs::read(&golden) {
                Ok(want) if want == got => {}
                Ok(want) => failures.push(format!(
                    "{} differs from the golden file:\n--- golden\n{}\n--- got\n{}",
                    golden.display(),
                    String::from_utf8_lossy(&want),
                    String::from_utf8_lossy(&got)
                )),
                Err(e) => failures.push(format!("{}: {e}", golden.display())),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n(CAIRN_BLESS=1 rewrites the golden files)",
        failures.join("\n\n")
    );
}
