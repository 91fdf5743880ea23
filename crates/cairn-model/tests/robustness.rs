//! Hostile input never panics: every reader of cairn-model gets truncated, bit-flipped and
//! spliced versions of the real vectors, deep nesting and duplicate keys, and must return
//! either a value or an error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use cairn_model::{
    ArtifactRule, Envelope, Layout, Link, Metablock, Predicate, ResourceDescriptor, Statement,
    canonical, json, predicate,
};
use proptest::prelude::*;
use serde_json::Value;

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

fn seeds() -> Vec<Vec<u8>> {
    [
        "in-toto-golang/test/data/demo.layout",
        "in-toto-golang/test/data/demo.dsse.layout",
        "in-toto-golang/test/data/package.d3ffd108.link",
        "in-toto-golang/test/data/canonical-test.link",
        "in-toto-python/tests/demo_files_gpg/demo.layout.template",
        "in-toto-rs/tests/test_verifylib/workdir/root.layout",
        "in-toto-attestation/spec-examples/test-result.block1.statement.json",
        "in-toto-attestation/go-test-vectors/resource_descriptor/valid-full-rd.json",
        "in-toto-attestation/go-test-vectors/slsa_provenance_v1_predicate/valid-provenance.json",
        "slsa-verifier/cli/slsa-verifier/testdata/vsa/gce/v1/gke-gce-pre.bcid-vsa.jsonl",
    ]
    .iter()
    .flat_map(|rel| {
        let bytes = std::fs::read(testdata().join(rel)).unwrap();
        // DSSE payloads (links, layouts, statements) are seeds of their own.
        let first_line = bytes
            .split(|b| *b == b'\n')
            .next()
            .unwrap_or(&bytes)
            .to_vec();
        let payload = Envelope::from_slice(&bytes)
            .or_else(|_| Envelope::from_slice(&first_line))
            .ok()
            .map(|e| e.payload);
        std::iter::once(bytes).chain(payload)
    })
    .collect()
}

/// Runs every reader over `bytes`; only panics matter.
fn read_everything(bytes: &[u8]) {
    let _ = Statement::from_slice(bytes);
    let _ = Envelope::from_slice(bytes).map(|e| Statement::from_envelope(&e));
    let _ = json::from_slice::<ResourceDescriptor>(bytes).map(|rd| rd.validate());
    if let Ok(block) = Metablock::from_slice(bytes) {
        let _ = block.signed_bytes();
        let _ = Link::from_signed(&block.signed);
        if let Ok(layout) = Layout::from_signed(&block.signed) {
            let _ = layout.validate();
            let _ = layout.to_signed_value();
        }
    }
    if let Ok(value) = json::value_from_slice(bytes) {
        let _ = canonical::to_vec(&value);
        let _ = Link::from_signed(&value);
        let _ = Layout::from_signed(&value);
        let _ = ArtifactRule::from_value(&value);
        for t in [
            predicate::SLSA_PROVENANCE_V1,
            predicate::SLSA_PROVENANCE_V0_2,
            predicate::LINK_V0_3,
            predicate::VSA_V1,
            predicate::TEST_RESULT_V0_1,
        ] {
            let _ = Predicate::parse(t, value.clone());
        }
    }
}

#[test]
fn the_unmodified_seeds_read() {
    let seeds = seeds();
    assert_eq!(seeds.len(), 12, "10 files + 2 DSSE payloads");
    for seed in seeds {
        read_everything(&seed);
    }
}

#[test]
fn deep_nesting_and_duplicates_are_errors_everywhere() {
    let deep = format!(
        r#"{{"_type":"https://in-toto.io/Statement/v1","predicate":{}1{}}}"#,
        "[".repeat(5000),
        "]".repeat(5000)
    );
    assert!(Statement::from_slice(deep.as_bytes()).is_err());
    assert!(
        Metablock::from_slice(format!(r#"{{"signed":{deep},"signatures":[]}}"#).as_bytes())
            .is_err()
    );
    let dup = br#"{"signatures":[],"signed":{"_type":"link","name":"a","products":{"f":{"sha256":"00","sha256":"11"}}}}"#;
    assert!(Metablock::from_slice(dup).is_err());
    let dup = br#"{"payload":"e30=","payloadType":"a","payloadType":"b","signatures":[]}"#;
    assert!(Envelope::from_slice(dup).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn mutated_vectors_never_panic(
        which in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut all = seeds();
        let mut bytes = all.swap_remove(which.index(all.len()));
        for (at, byte) in flips {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        read_everything(&bytes);
    }

    #[test]
    fn spliced_json_values_never_panic(
        which in any::<prop::sample::Index>(),
        path_choice in any::<prop::sample::Index>(),
        replacement in prop_oneof![
            Just(Value::Null),
            Just(Value::from(-1)),
            Just(Value::from(u64::MAX)),
            Just(Value::from(1.5)),
            Just(Value::from("")),
            Just(serde_json::json!([])),
            Just(serde_json::json!({})),
            Just(serde_json::json!([["MATCH"]])),
            Just(serde_json::json!({"sha256": "zz"})),
        ],
    ) {
        // Replace one value anywhere in a real document by something of another type.
        let mut all = seeds();
        let seed = all.swap_remove(which.index(all.len()));
        let first_line = seed.split(|b| *b == b'\n').next().unwrap_or(&seed);
        let Ok(mut doc) = json::value_from_slice(&seed).or_else(|_| json::value_from_slice(first_line)) else {
            return Ok(());
        };
        let mut pointers = Vec::new();
        collect_pointers(&doc, String::new(), &mut pointers);
        let pointer = &pointers[path_choice.index(pointers.len())];
        if let Some(slot) = doc.pointer_mut(pointer) {
            *slot = replacement;
        }
        read_everything(&serde_json::to_vec(&doc).unwrap());
        if let Some(signed) = doc.get("signed") {
            read_everything(&serde_json::to_vec(signed).unwrap());
        }
    }
}

fn collect_pointers(v: &Value, here: String, out: &mut Vec<String>) {
    out.push(here.clone());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let key = k.replace('~', "~0").replace('/', "~1");
                collect_pointers(child, format!("{here}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                collect_pointers(child, format!("{here}/{i}"), out);
            }
        }
        _ => {}
    }
}
