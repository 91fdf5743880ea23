//! Interop with the in-toto python reference (in-toto 3.1.0, installed by
//! scripts/install-peers.sh): links and layouts written by cairn load and validate in python and
//! give the same signable (canonical) bytes there; links and layouts written by python read into
//! cairn's typed views with the same bytes. Skips with a reason when the peer is missing
//! (fails instead with CAIRN_REQUIRE_PEERS=1).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use cairn_model::{
    ArtifactRule, DestinationType, DigestSet, Inspection, KeyId, Layout, LayoutKey, Link,
    Metablock, Step, Timestamp, canonical,
};
use serde_json::Value;

fn python(test: &str) -> Option<PathBuf> {
    let marker = cairn_testkit::peers::require(test, "venv/bin/in-toto-run")?;
    Some(marker.with_file_name("python"))
}

fn run_python(python: &Path, script: &str, args: &[&Path]) -> String {
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "python failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Loads each metablock file with in-toto's own loader, validates the payload (python checks
/// every field, every rule through rulelib, the keys and expiry format) and prints the hex of
/// its signable bytes, one line per file.
const LOAD_AND_VALIDATE: &str = r#"
import sys
from in_toto.models.metadata import Metadata
for path in sys.argv[1:]:
    payload = Metadata.load(path).get_payload()
    payload.validate()
    print(payload.signable_bytes.hex())
"#;

fn python_key() -> (KeyId, LayoutKey) {
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/in-toto-python/generated-by-reference-impl/root.layout"),
    )
    .unwrap();
    let block = Metablock::from_slice(&bytes).unwrap();
    let layout = Layout::from_signed(&block.signed).unwrap();
    layout.keys.into_iter().next().unwrap()
}

#[test]
fn cairn_links_and_layouts_load_in_python_with_the_same_bytes() {
    let Some(python) = python("cairn_links_and_layouts_load_in_python_with_the_same_bytes") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();

    let mut link = Link::new("package");
    link.materials.insert(
        "src/foo.py".into(),
        DigestSet::with("sha256", &"74".repeat(32)).unwrap(),
    );
    let mut both = DigestSet::sha256(&[0x52; 32]);
    both.insert("sha512", &"0f".repeat(64)).unwrap();
    link.products.insert("foo.tar.gz".into(), both);
    link.command = vec![
        "tar".into(),
        "zcvf".into(),
        "foo.tar.gz".into(),
        "src".into(),
    ];
    link.set_command_byproducts(0, "a src/foo.py\n", "");
    link.environment
        .insert("workdir".into(), Value::from("/build\tdir"));

    let (keyid, key) = python_key();
    let expires = Timestamp::parse("2031-01-01T00:00:00Z").unwrap();
    let mut layout = Layout::new(expires);
    layout.readme = "a \"quoted\" readme\nwith a newline".into();
    layout.keys.insert(keyid.clone(), key);
    let mut write = Step::new("write-code");
    write.pubkeys.push(keyid.clone());
    write.expected_products = vec![
        ArtifactRule::Create("src/foo.py".into()),
        ArtifactRule::Disallow("*".into()),
    ];
    let mut package = Step::new("package");
    package.pubkeys.push(keyid);
    package.threshold = 1;
    package.expected_command = vec!["tar".into(), "zcvf".into(), "foo.tar.gz".into()];
    package.expected_materials = vec![
        ArtifactRule::Match {
            pattern: "foo.py".into(),
            source_prefix: Some("src".into()),
            destination_type: DestinationType::Products,
            destination_prefix: Some("src".into()),
            destination_step: "write-code".into(),
        },
        ArtifactRule::Require("src/foo.py".into()),
        ArtifactRule::Disallow("*".into()),
    ];
    package.expected_products = vec![
        ArtifactRule::Create("foo.tar.gz".into()),
        ArtifactRule::Modify("none".into()),
        ArtifactRule::Delete("gone".into()),
        ArtifactRule::Allow("*".into()),
    ];
    layout.steps = vec![write, package];
    let mut untar = Inspection::new(
        "untar",
        vec!["tar".into(), "xfz".into(), "foo.tar.gz".into()],
    );
    untar.expected_materials = vec![ArtifactRule::Match {
        pattern: "foo.tar.gz".into(),
        source_prefix: None,
        destination_type: DestinationType::Products,
        destination_prefix: None,
        destination_step: "package".into(),
    }];
    layout.inspect.push(untar);
    layout.validate().unwrap();

    let link_path = dir.path().join("package.link");
    let layout_path = dir.path().join("root.layout");
    let link_block = Metablock::unsigned(link.to_signed_value());
    let layout_block = Metablock::unsigned(layout.to_signed_value());
    std::fs::write(&link_path, link_block.to_pretty_json()).unwrap();
    std::fs::write(&layout_path, layout_block.to_pretty_json()).unwrap();

    let out = run_python(&python, LOAD_AND_VALIDATE, &[&link_path, &layout_path]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(
        lines[0],
        hex::encode(link_block.signed_bytes().unwrap()),
        "python re-serialises cairn's link to other bytes"
    );
    assert_eq!(
        lines[1],
        hex::encode(layout_block.signed_bytes().unwrap()),
        "python re-serialises cairn's layout to other bytes"
    );
}

/// Writes a link and a layout with in-toto's own model classes, plus the hex of their signable
/// bytes.
const WRITE: &str = r#"
import sys, os
from in_toto.models.link import Link
from in_toto.models.layout import Layout, Step, Inspection
from in_toto.models.metadata import Metablock
out = sys.argv[1]
link = Link(name="build", materials={"a.c": {"sha256": "ab" * 32}},
            products={"a.out": {"sha256": "cd" * 32, "sha512": "ef" * 64}},
            command=["cc", "a.c"], byproducts={"return-value": 0, "stdout": "", "stderr": "warn\n"},
            environment={"variables": "x"})
Metablock(signed=link).dump(os.path.join(out, "build.link"))
layout = Layout(expires="2031-02-03T04:05:06Z", readme="r")
step = Step(name="build", expected_command=["cc", "a.c"], threshold=1,
            expected_materials=[["match", "*.c", "in", "src", "with", "materials", "from", "fetch"],
                                ["ALLOW", "*"]],
            expected_products=[["CREATE", "a.out"], ["require", "a.out"],
                               ["MATCH", "*", "WITH", "PRODUCTS", "IN", "x", "FROM", "fetch"]])
layout.steps.append(step)
layout.inspect.append(Inspection(name="check", run=["./a.out"],
                                 expected_materials=[["DELETE", "tmp"], ["MODIFY", "log"], ["DISALLOW", "*"]]))
Metablock(signed=layout).dump(os.path.join(out, "root.layout"))
print(link.signable_bytes.hex())
print(layout.signable_bytes.hex())
"#;

#[test]
fn python_links_and_layouts_read_into_cairn_with_the_same_bytes() {
    let Some(python) = python("python_links_and_layouts_read_into_cairn_with_the_same_bytes")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = run_python(&python, WRITE, &[dir.path()]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");

    let bytes = std::fs::read(dir.path().join("build.link")).unwrap();
    let block = Metablock::from_slice(&bytes).unwrap();
    let link = Link::from_signed(&block.signed).unwrap();
    assert_eq!(link.name, "build");
    assert_eq!(link.return_value(), Some(0));
    assert_eq!(link.products["a.out"].len(), 2);
    assert_eq!(hex::encode(block.signed_bytes().unwrap()), lines[0]);
    assert_eq!(
        hex::encode(canonical::to_vec(&link.to_signed_value()).unwrap()),
        lines[0]
    );

    let bytes = std::fs::read(dir.path().join("root.layout")).unwrap();
    let block = Metablock::from_slice(&bytes).unwrap();
    let layout = Layout::from_signed(&block.signed).unwrap();
    assert_eq!(
        layout.expires.as_ref().unwrap().as_str(),
        "2031-02-03T04:05:06Z"
    );
    let step = layout.step("build").unwrap();
    assert_eq!(
        step.expected_materials[0],
        ArtifactRule::Match {
            pattern: "*.c".into(),
            source_prefix: Some("src".into()),
            destination_type: DestinationType::Materials,
            destination_prefix: None,
            destination_step: "fetch".into(),
        }
    );
    assert_eq!(
        step.expected_products[1],
        ArtifactRule::Require("a.out".into())
    );
    assert_eq!(layout.inspect[0].expected_materials.len(), 3);
    assert_eq!(hex::encode(block.signed_bytes().unwrap()), lines[1]);
    // Python keeps keywords as written ("match", "in"); cairn's typed view writes them upper
    // case. Apart from that normalisation the typed view writes back what python wrote.
    let typed = layout.to_signed_value();
    assert_ne!(
        canonical::to_vec(&typed).unwrap(),
        block.signed_bytes().unwrap()
    );
    assert_eq!(
        normalise_rules(typed),
        normalise_rules(block.signed.clone())
    );
}

fn normalise_rules(mut layout: Value) -> Value {
    for list in ["steps", "inspect"] {
        for item in layout[list].as_array_mut().unwrap() {
            for rules in ["expected_materials", "expected_products"] {
                for rule in item[rules].as_array_mut().unwrap() {
                    *rule = serde_json::to_value(ArtifactRule::from_value(rule).unwrap()).unwrap();
                }
            }
        }
    }
    layout
}

/// Prints, for each JSON line of the file, the hex of securesystemslib's canonical encoding.
const ENCODE_CANONICAL: &str = r#"
import sys, json
from securesystemslib.formats import encode_canonical
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        print(encode_canonical(json.loads(line)).encode("utf-8").hex())
"#;

/// Random documents (control characters, quotes, backslashes, non-BMP characters, big
/// integers, keys that sort differently escaped and unescaped): cairn's canonical JSON equals
/// securesystemslib's `encode_canonical`, byte for byte.
#[test]
fn canonical_json_matches_securesystemslib_on_random_documents() {
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let Some(python) = python("canonical_json_matches_securesystemslib_on_random_documents") else {
        return;
    };
    let chars = prop_oneof![
        any::<char>(),
        prop::sample::select(vec![
            '"', '\\', '\n', '\t', '\u{1b}', '\u{7f}', 'é', '\u{ffff}', '😀', 'a', 'A', '#'
        ]),
    ];
    let text = prop::collection::vec(chars, 0..8).prop_map(String::from_iter);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        text.clone().prop_map(Value::String),
    ];
    let doc = leaf.prop_recursive(4, 40, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(text.clone(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    let mut runner = TestRunner::deterministic();
    let docs: Vec<Value> = (0..400)
        .map(|_| doc.new_tree(&mut runner).unwrap().current())
        .collect();

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("docs.jsonl");
    let mut lines = Vec::new();
    for d in &docs {
        lines.extend_from_slice(&serde_json::to_vec(d).unwrap());
        lines.push(b'\n');
    }
    std::fs::write(&path, lines).unwrap();
    let out = run_python(&python, ENCODE_CANONICAL, &[&path]);
    let theirs: Vec<&str> = out.lines().collect();
    assert_eq!(theirs.len(), docs.len());
    for (doc, theirs) in docs.iter().zip(theirs) {
        assert_eq!(
            hex::encode(canonical::to_vec(doc).unwrap()),
            theirs,
            "canonical JSON differs from securesystemslib for {doc}"
        );
    }
}
