//! docs/threat-model.md names a test for every attack; this keeps those names from going stale.
//! Every `crates/<crate>/<path>.rs::name` (or `::{a, b}`) it cites must be a file defining
//! `fn name(`, every Sigstore conformance case it cites (`…_fail`) must be a directory of
//! `testdata/sigstore-conformance/bundle-verify/`, and every fuzz fixture it cites must exist.
//! (That the tests pass is `cargo test`'s job; this checks that the page points at them.)

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `code spans` of the page.
fn code_spans(doc: &str) -> Vec<&str> {
    doc.split('`').skip(1).step_by(2).collect()
}

/// `a`, or `{a, b}` as `[a, b]`.
fn names(list: &str) -> Vec<&str> {
    list.trim_start_matches('{')
        .trim_end_matches('}')
        .split(',')
        .map(str::trim)
        .collect()
}

fn defines_fn(src: &str, name: &str) -> bool {
    src.match_indices(&format!("fn {name}")).any(|(i, m)| {
        let after = &src[i + m.len()..];
        after.starts_with('(') || after.starts_with('<')
    })
}

#[test]
fn every_test_the_threat_model_names_exists() {
    let root = root();
    let doc = std::fs::read_to_string(root.join("docs/threat-model.md")).expect("read the page");
    let mut problems = Vec::new();
    let (mut tests, mut cases, mut fixtures) = (0, 0, 0);
    for span in code_spans(&doc) {
        if let Some((file, list)) = span.split_once(".rs::")
            && file.starts_with("crates/")
        {
            let path = root.join(format!("{file}.rs"));
            let Ok(src) = std::fs::read_to_string(&path) else {
                problems.push(format!("{span}: no file {}", path.display()));
                continue;
            };
            for name in names(list) {
                tests += 1;
                if !defines_fn(&src, name) {
                    problems.push(format!("{file}.rs defines no fn {name}"));
                }
            }
        } else if span.ends_with("_fail") && !span.contains(' ') {
            cases += 1;
            let dir = root
                .join("testdata/sigstore-conformance/bundle-verify")
                .join(span);
            if !dir.is_dir() {
                problems.push(format!("no conformance case {span}"));
            }
        } else if let Some(rel) = fixture(span) {
            for path in expand(&rel) {
                fixtures += 1;
                if !root.join("testdata/fuzz-regressions").join(&path).is_file() {
                    problems.push(format!("no fixture testdata/fuzz-regressions/{path}"));
                }
            }
        }
    }
    eprintln!("{tests} test names, {cases} conformance cases, {fixtures} fixtures checked");
    assert!(
        problems.is_empty(),
        "docs/threat-model.md is stale:\n{}",
        problems.join("\n")
    );
    // The page cites dozens of each; a parser that finds none would prove nothing.
    assert!(tests >= 40, "only {tests} test names found");
    assert!(cases >= 15, "only {cases} conformance cases found");
    assert!(fixtures >= 8, "only {fixtures} fixtures found");
}

/// A fuzz fixture span (`target/file.ext`, with or without `testdata/fuzz-regressions/`).
fn fixture(span: &str) -> Option<String> {
    let rel = span
        .strip_prefix("testdata/fuzz-regressions/")
        .unwrap_or(span);
    let (dir, file) = rel.split_once('/')?;
    let known = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/fuzz-regressions")
        .join(dir.trim_start_matches("*"));
    (dir != "*" && known.is_dir() && file.contains('.')).then(|| rel.to_string())
}

/// `dir/{a,b}.tar` as `[dir/a.tar, dir/b.tar]`.
fn expand(rel: &str) -> Vec<String> {
    match (rel.find('{'), rel.find('}')) {
        (Some(a), Some(b)) if a < b => rel[a + 1..b]
            .split(',')
            .map(|alt| format!("{}{}{}", &rel[..a], alt.trim(), &rel[b + 1..]))
            .collect(),
        _ => vec![rel.to_string()],
    }
}

#[test]
fn the_checker_notices_a_stale_name() {
    let src = "fn real_test() {}\nfn generic<T>() {}";
    assert!(defines_fn(src, "real_test"));
    assert!(defines_fn(src, "generic"));
    assert!(!defines_fn(src, "real"));
    assert!(!defines_fn(src, "renamed_test"));
    assert_eq!(names("{a, b}"), vec!["a", "b"]);
    assert_eq!(
        expand("image_layer/{traversal,symlink-loop}.tar"),
        vec!["image_layer/traversal.tar", "image_layer/symlink-loop.tar"]
    );
}
