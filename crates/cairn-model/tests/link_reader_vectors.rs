//! The single-pass link reader against the general reader on every link metablock of the
//! third-party vectors: same canonical bytes (what signatures cover), same signatures, same typed
//! link; every other document (DSSE, layouts as links) is handed back to the general reader.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use cairn_model::link_reader::{LinkReadError, read_link_metablock};
use cairn_model::{Link, Metablock};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".link") || n.ends_with(".layout"))
        {
            out.push(path);
        }
    }
}

#[test]
fn canonical_bytes_equal_the_general_reader_on_every_vector() {
    let mut paths = Vec::new();
    for folder in ["in-toto-python", "in-toto-golang", "in-toto-rs", "slsa"] {
        files(&cairn_testkit::testdata().join(folder), &mut paths);
    }
    paths.sort();
    let (mut links, mut others) = (0, 0);
    for path in &paths {
        let bytes = std::fs::read(path).unwrap();
        let general = Metablock::from_slice(&bytes);
        let is_link = general
            .as_ref()
            .is_ok_and(|mb| mb.signed.get("_type").and_then(|t| t.as_str()) == Some("link"));
        match read_link_metablock(&bytes) {
            Ok(fast) => {
                let mb = general.unwrap();
                assert!(is_link, "{}", path.display());
                assert_eq!(
                    fast.signed_bytes(),
                    mb.signed_bytes().unwrap().as_slice(),
                    "{}",
                    path.display()
                );
                assert_eq!(fast.signatures, mb.signatures, "{}", path.display());
                assert_eq!(
                    fast.link.into_link(),
                    Link::from_signed(&mb.signed).unwrap()
                );
                links += 1;
            }
            Err(LinkReadError::NotALinkMetablock) => {
                assert!(!is_link, "{} is a link metablock", path.display());
                others += 1;
            }
            Err(e) => panic!("{}: {e}", path.display()),
        }
    }
    // 14 metablock links (python, golang, rs, slsa) and the layouts and DSSE links around them.
    assert!(links >= 14, "only {links} link metablocks read");
    assert!(others >= 10, "only {others} other documents");
}

/// What both readers make of `bytes`: when the single-pass reader accepts a document, the
/// general reader must too, with the same canonical bytes, signatures and link; when it hands a
/// document back (`NotALinkMetablock`), the general reader must not see a link metablock; when
/// it rejects one, the general reader must not accept it as a well-formed link.
fn differential(bytes: &[u8]) {
    let general = Metablock::from_slice(bytes);
    match read_link_metablock(bytes) {
        Ok(fast) => {
            let mb = general.expect("the general reader accepts what the fast one does");
            assert_eq!(
                fast.signed_bytes(),
                mb.signed_bytes().unwrap().as_slice(),
                "{}",
                String::from_utf8_lossy(bytes)
            );
            assert_eq!(fast.signatures, mb.signatures);
            // The typed view (serde) is stricter about `null` lists; compare where it reads.
            if let Ok(link) = Link::from_signed(&mb.signed) {
                assert_eq!(fast.link.into_link(), link);
            }
        }
        Err(LinkReadError::NotALinkMetablock) => {
            if let Ok(mb) = general {
                assert_ne!(
                    mb.signed.get("_type").and_then(|t| t.as_str()),
                    Some("link"),
                    "{}",
                    String::from_utf8_lossy(bytes)
                );
            }
        }
        Err(_) => {
            if let Ok(mb) = general {
                assert!(
                    mb.signed_bytes().is_err() || Link::from_signed(&mb.signed).is_err(),
                    "only the fast reader rejects {}",
                    String::from_utf8_lossy(bytes)
                );
            }
        }
    }
}

#[test]
fn fuzz_regressions_read_alike() {
    let dir = cairn_testkit::testdata().join("fuzz-regressions/legacy_metadata");
    for entry in std::fs::read_dir(dir).unwrap() {
        differential(&std::fs::read(entry.unwrap().path()).unwrap());
    }
}

mod generated {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    /// Strings with the characters canonical JSON treats specially.
    fn text() -> impl Strategy<Value = String> {
        proptest::string::string_regex("[a-z\"\\\\/\u{1b}\n é\u{ffff}_A-Z0-9]{0,6}").unwrap()
    }

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            text().prop_map(Value::String),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(text(), inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn artifacts() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            proptest::collection::btree_map(
                text(),
                proptest::collection::btree_map(
                    prop_oneof![Just("sha256".to_owned()), Just("sha512".to_owned()), text()],
                    text(),
                    0..3
                ),
                0..5
            )
            .prop_map(|m| json!(m)),
        ]
    }

    fn link() -> impl Strategy<Value = Value> {
        (
            text(),
            artifacts(),
            artifacts(),
            proptest::collection::vec(text(), 0..3),
            value(),
            proptest::collection::btree_map(text(), value(), 0..3),
        )
            .prop_map(|(name, materials, products, command, environment, extra)| {
                let mut signed = json!({"_type": "link", "name": name, "materials": materials,
                    "products": products, "command": command, "environment": environment,
                    "byproducts": {"return-value": 0, "stdout": "x\"y"}});
                for (k, v) in extra {
                    if signed.get(&k).is_none() {
                        signed[k] = v;
                    }
                }
                json!({"signatures": [{"keyid": "k", "sig": "00"}], "signed": signed})
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn generated_links_read_alike(doc in link(), pretty in any::<bool>()) {
            let bytes = if pretty {
                serde_json::to_vec_pretty(&doc).unwrap()
            } else {
                serde_json::to_vec(&doc).unwrap()
            };
            super::differential(&bytes);
        }
    }
}

/// Hostile inputs of the other fuzz targets never panic the bare link and Statement readers.
#[test]
fn fuzz_regressions_do_not_panic_the_bare_readers() {
    use cairn_model::link_reader::{read_link, read_link_statement};
    let mut count = 0;
    for target in [
        "legacy_metadata",
        "statement",
        "dsse_envelope",
        "sigstore_bundle",
    ] {
        let dir = cairn_testkit::testdata()
            .join("fuzz-regressions")
            .join(target);
        for entry in std::fs::read_dir(dir).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            let _ = read_link(&bytes);
            let _ = read_link_statement(&bytes);
            let _ = read_link_metablock(&bytes);
            count += 1;
        }
    }
    assert!(count > 5, "{count} fixtures");
}
