use super::*;
use crate::command::{Captured, CommandOutcome, Exit};
use crate::hash::HashAlgorithm;
use crate::link::{StepInfo, build_link, link_statement};
use cairn_model::Metablock;
use std::time::Duration;

fn artifacts(entries: &[(&str, bool)]) -> Artifacts {
    let mut a = Artifacts::default();
    for (i, (n, two)) in entries.iter().enumerate() {
        let mut d = vec![(HashAlgorithm::Sha256, format!("{i:064x}"))];
        if *two {
            d.push((HashAlgorithm::Sha512, format!("{i:0128x}")));
        }
        a.map.insert((*n).into(), d);
    }
    a
}

fn sample() -> (StepInfo, Artifacts, Artifacts) {
    let step = StepInfo {
        name: "büild \"x\"".into(),
        command: vec!["sh".into(), "-c".into(), "echo \"hi\"\n\tdone\\".into()],
        outcome: Some(CommandOutcome {
            exit: Exit::Code(3),
            stdout: Captured {
                bytes: "out \u{1b}[1m\r\n\"q\"".as_bytes().to_vec(),
                total: 12,
                left_open: false,
            },
            stderr: Captured::default(),
            duration: Duration::from_secs(1),
        }),
        variables: [("CI".to_owned(), "true".to_owned())].into_iter().collect(),
        options: Some(serde_json::json!({"lstrip": ["a/"]})),
    };
    let m = artifacts(&[
        ("src/a.c", false),
        ("new\nline", true),
        ("Z", false),
        ("é/ü", false),
        ("q\"uote\\", true),
    ]);
    let p = artifacts(&[("out.bin", true), ("\u{7f}del", false)]);
    (step, m, p)
}

#[test]
fn canonical_bytes_equal_the_value_path() {
    let (step, m, p) = sample();
    let link = build_link(&step, &m, &p);
    let doc = LinkDocument {
        name: &link.name,
        command: &link.command,
        byproducts: &link.byproducts,
        environment: &link.environment,
        materials: ArtifactsRef::Recorded(&m),
        products: ArtifactsRef::Recorded(&p),
    };
    let expected = Metablock::unsigned(link.to_signed_value())
        .signed_bytes()
        .unwrap();
    assert_eq!(
        String::from_utf8(doc.canonical_signed().unwrap()).unwrap(),
        String::from_utf8(expected.clone()).unwrap()
    );
    // Same from a link's own maps (the record stop path).
    let doc2 = LinkDocument {
        materials: ArtifactsRef::Map(&link.materials),
        products: ArtifactsRef::Map(&link.products),
        ..doc
    };
    assert_eq!(doc2.canonical_signed().unwrap(), expected);
}

#[test]
fn metablock_and_statement_equal_the_value_path() {
    let (step, m, p) = sample();
    let link = build_link(&step, &m, &p);
    let doc = LinkDocument {
        name: &link.name,
        command: &link.command,
        byproducts: &link.byproducts,
        environment: &link.environment,
        materials: ArtifactsRef::Recorded(&m),
        products: ArtifactsRef::Recorded(&p),
    };
    let sigs = [SignatureRef {
        keyid: "ab",
        sig: "cd",
    }];
    let file: Value = serde_json::from_slice(&doc.metablock_json(&sigs)).unwrap();
    assert_eq!(file["signed"], link.to_signed_value());
    assert_eq!(
        file["signatures"],
        serde_json::json!([{"keyid": "ab", "sig": "cd"}])
    );
    let mb = Metablock::from_slice(&doc.metablock_json(&[])).unwrap();
    assert_eq!(cairn_model::Link::from_signed(&mb.signed).unwrap(), link);
    let st: Value = serde_json::from_slice(&doc.statement_json()).unwrap();
    assert_eq!(st, link_statement(&link));
}

proptest::proptest! {
    #[test]
    fn canonical_strings_match_the_model(s in "\\PC*|[\"\\\\\n\t\u{0}-\u{1f}a-z]*") {
        let mut ours = Vec::new();
        push_canonical_str(&mut ours, &s);
        let model = cairn_model::canonical::to_vec(&Value::String(s.clone())).unwrap();
        proptest::prop_assert_eq!(ours, model);
    }
}
