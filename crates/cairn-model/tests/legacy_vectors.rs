//! Every in-toto link and layout of the in-toto python, golang and rs vectors (testdata/) reads
//! into the typed views, re-serialises to exactly what was signed, and its rules round-trip;
//! plus the in-toto-golang canonical-JSON vector, byte for byte.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use cairn_model::metablock::{MetadataError, MetadataType};
use cairn_model::{ArtifactRule, Envelope, Layout, LayoutKey, Link, Metablock, canonical, json};
use serde_json::Value;

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
            [".link", ".layout", ".template"]
                .iter()
                .any(|e| n.ends_with(e))
        }) {
            out.push(path);
        }
    }
}

fn vector_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for folder in ["in-toto-python", "in-toto-golang", "in-toto-rs"] {
        collect(&testdata().join(folder), &mut files);
    }
    files.sort();
    files
}

/// The signed object of a metablock, or the decoded payload of a DSSE envelope.
fn signed_value(path: &Path) -> (Value, bool) {
    let bytes = std::fs::read(path).unwrap();
    let doc = json::value_from_slice(&bytes).unwrap();
    if doc.get("payload").is_some() {
        let env: Envelope = json::from_value(doc).unwrap();
        assert_eq!(env.payload_type, "application/vnd.in-toto+json");
        (json::value_from_slice(&env.payload).unwrap(), true)
    } else {
        (Metablock::from_slice(&bytes).unwrap().signed, false)
    }
}

fn rel(path: &Path) -> String {
    path.strip_prefix(testdata())
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

fn check_rules(rules: &[ArtifactRule], raw: &Value, what: &str) {
    let raw = raw.as_array().unwrap();
    assert_eq!(rules.len(), raw.len(), "{what}");
    for (rule, raw) in rules.iter().zip(raw) {
        let strings: Vec<String> = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(
            rule.to_vec(),
            strings,
            "{what}: rule written back differently"
        );
        assert_eq!(
            ArtifactRule::parse(&rule.to_vec()).as_ref(),
            Ok(rule),
            "{what}"
        );
    }
}

#[test]
fn every_link_and_layout_reads_into_the_typed_views() {
    let files = vector_files();
    assert_eq!(files.len(), 29, "{files:#?}");
    let (mut links, mut layouts, mut dsse) = (0, 0, 0);
    for path in &files {
        let name = rel(path);
        let (signed, is_dsse) = signed_value(path);
        dsse += usize::from(is_dsse);
        match signed["_type"].as_str() {
            Some("link") => {
                links += 1;
                let link = Link::from_signed(&signed).unwrap_or_else(|e| panic!("{name}: {e}"));
                // The typed view writes back exactly what was signed.
                assert_eq!(link.to_signed_value(), signed, "{name}");
                assert!(matches!(
                    Layout::from_signed(&signed),
                    Err(MetadataError::WrongType {
                        expected: MetadataType::Layout,
                        ..
                    })
                ));
            }
            Some("layout") => {
                layouts += 1;
                let layout = Layout::from_signed(&signed).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(layout.to_signed_value(), signed, "{name}");
                assert_eq!(
                    canonical::to_vec(&layout.to_signed_value()).unwrap(),
                    canonical::to_vec(&signed).unwrap()
                );
                for (i, step) in layout.steps.iter().enumerate() {
                    let raw = &signed["steps"][i];
                    check_rules(&step.expected_materials, &raw["expected_materials"], &name);
                    check_rules(&step.expected_products, &raw["expected_products"], &name);
                }
                for (i, insp) in layout.inspect.iter().enumerate() {
                    let raw = &signed["inspect"][i];
                    check_rules(&insp.expected_materials, &raw["expected_materials"], &name);
                    check_rules(&insp.expected_products, &raw["expected_products"], &name);
                }
                // The spec requires `expires`; only the unsigned python templates and the DSSE
                // layout the reference signed from one lack it.
                let expect_missing = signed.get("expires").is_none();
                assert_eq!(
                    expect_missing,
                    name.ends_with(".template") || name.ends_with("root.dsse.layout"),
                    "{name}"
                );
                match layout.validate() {
                    Ok(()) => assert!(!expect_missing, "{name}"),
                    Err(MetadataError::MissingExpires) => assert!(expect_missing, "{name}"),
                    Err(e) => panic!("{name}: {e}"),
                }
            }
            other => panic!("{name}: unexpected _type {other:?}"),
        }
    }
    assert_eq!((links, layouts, dsse), (17, 12, 9));
}

#[test]
fn go_only_fields_survive_the_typed_view() {
    let (signed, _) = signed_value(&testdata().join("in-toto-golang/test/data/demo.layout"));
    let layout = Layout::from_signed(&signed).unwrap();
    assert!(layout.extra.contains_key("rootcas"));
    assert!(layout.extra.contains_key("intermediatecas"));
    assert!(layout.steps[0].extra.contains_key("cert_constraints"));
    assert_eq!(
        layout.expires.as_ref().unwrap().to_datetime().to_rfc3339(),
        "2030-11-18T16:06:36+00:00"
    );
    assert_eq!(
        layout.steps[1].expected_command,
        ["tar", "zcvf", "foo.tar.gz", "foo.py"]
    );
}

#[test]
fn sublayout_link_is_a_layout() {
    let (signed, _) =
        signed_value(&testdata().join("in-toto-golang/test/data/sub_layout.70ca5750.link"));
    assert!(matches!(
        Link::from_signed(&signed),
        Err(MetadataError::WrongType {
            expected: MetadataType::Link,
            found: Some(ref t)
        }) if t == "layout"
    ));
    assert_eq!(Layout::from_signed(&signed).unwrap().steps.len(), 2);
}

#[test]
fn gpg_layout_keys_are_kept_as_openpgp_objects() {
    let (signed, _) =
        signed_value(&testdata().join("in-toto-python/tests/demo_files_gpg/demo.layout.template"));
    let layout = Layout::from_signed(&signed).unwrap();
    assert_eq!(layout.keys.len(), 2);
    assert!(
        layout
            .keys
            .values()
            .all(|k| matches!(k, LayoutKey::OpenPgp(_)))
    );
}

#[test]
fn python_link_fields_are_read() {
    let (signed, _) =
        signed_value(&testdata().join("in-toto-python/tests/demo_files/package.2f89b927.link"));
    let link = Link::from_signed(&signed).unwrap();
    assert_eq!(link.name, "package");
    assert_eq!(link.command, ["tar", "zcvf", "foo.tar.gz", "foo.py"]);
    assert_eq!(link.return_value(), Some(0));
    assert_eq!(
        link.products["foo.tar.gz"].get("sha256"),
        Some("52947cb78b91ad01fe81cd6aef42d1f6817e92b9e6936c1e5aabb7c98514f355")
    );
    assert_eq!(
        link.materials["foo.py"].get("sha256"),
        Some("74dc3727c6e89308b39e4dfedf787e37841198b1fa165a27c013544a60502549")
    );
}

/// in-toto-golang MANIFEST case 9 (`TestMetablockGetSignableRepresentation`).
#[test]
fn golang_canonical_json_vector_is_byte_exact() {
    const EXPECTED: &str = "7b225f74797065223a226c696e6b222c22627970726f6475637473223a7b7d2c22636f6d6d616e64223a5b5d2c22656e7669726f6e6d656e74223a7b2261223a22575446222c2262223a747275652c2263223a66616c73652c2264223a6e756c6c2c2265223a312c2266223a221befbfbf465c5c6e5c22227d2c226d6174657269616c73223a7b7d2c226e616d65223a2274657374222c2270726f6475637473223a7b7d7d";
    let bytes =
        std::fs::read(testdata().join("in-toto-golang/test/data/canonical-test.link")).unwrap();
    let block = Metablock::from_slice(&bytes).unwrap();
    assert_eq!(hex::encode(block.signed_bytes().unwrap()), EXPECTED);
    // The same bytes through the typed view.
    let link = Link::from_signed(&block.signed).unwrap();
    assert_eq!(
        hex::encode(canonical::to_vec(&link.to_signed_value()).unwrap()),
        EXPECTED
    );
}
