//! Official schemas and documents: the CycloneDX test BOMs (81 valid, 47 invalid), the SPDX 2.3
//! examples and real-world syft output, read by our model types and checked by the schemas
//! with format assertion on.

mod common;

use cairn_model::{cyclonedx::Bom, spdx::Document};
use serde_json::Value;

fn cases(spec: &str) -> Vec<(String, Value)> {
    let dir = common::testdata()
        .join("cyclonedx/tools/src/test/resources")
        .join(spec);
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .expect("test BOMs")
        .map(|e| {
            let p = e.expect("entry").path();
            let v = serde_json::from_slice(&std::fs::read(&p).expect("read")).expect("json");
            (
                p.file_name().expect("name").to_string_lossy().into_owned(),
                v,
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn cyclonedx_official_test_boms_match_the_schema_verdict() {
    let mut valid = 0;
    let mut invalid = 0;
    for spec in ["1.5", "1.6"] {
        for (name, doc) in cases(spec) {
            let errs = common::errors(common::cdx(spec), &doc);
            if name.starts_with("valid-") {
                assert!(errs.is_empty(), "{spec}/{name} should be valid: {errs:#?}");
                valid += 1;
            } else {
                assert!(name.starts_with("invalid-"), "{name}");
                assert!(!errs.is_empty(), "{spec}/{name} should be invalid");
                invalid += 1;
            }
        }
    }
    assert_eq!((valid, invalid), (81, 47));
}

#[test]
fn cyclonedx_valid_boms_are_read_and_written_back_unchanged() {
    let mut n = 0;
    for spec in ["1.5", "1.6"] {
        for (name, doc) in cases(spec)
            .into_iter()
            .filter(|c| c.0.starts_with("valid-"))
        {
            let bom: Bom = serde_json::from_value(doc.clone())
                .unwrap_or_else(|e| panic!("{spec}/{name}: our reader rejects a valid BOM: {e}"));
            let back = serde_json::to_value(&bom).expect("serialise");
            assert_eq!(
                back, doc,
                "{spec}/{name}: fields lost or changed on round trip"
            );
            common::assert_valid_cdx(&back, spec);
            n += 1;
        }
    }
    assert_eq!(n, 81);
}

#[test]
fn spdx_examples_match_the_manifest() {
    let ex23: Value = serde_json::from_slice(&cairn_testkit::read_testdata(
        "spdx/support-2.3.1/SPDXJSONExample-v2.3.spdx.json",
    ))
    .expect("json");
    let ex22: Value = serde_json::from_slice(&cairn_testkit::read_testdata(
        "spdx/v2.3-tag/SPDXJSONExample-v2.2.spdx.json",
    ))
    .expect("json");
    assert!(common::errors(common::spdx("v2.3-tag"), &ex23).is_empty());
    assert!(common::errors(common::spdx("support-2.3.1"), &ex23).is_empty());
    // The 2.2 example spells PACKAGE_MANAGER with an underscore: only the errata schema takes it.
    let errs = common::errors(common::spdx("v2.3-tag"), &ex22);
    assert!(
        errs.iter().any(|e| e.contains("PACKAGE_MANAGER")),
        "{errs:#?}"
    );
    assert!(common::errors(common::spdx("support-2.3.1"), &ex22).is_empty());
    for doc in [ex23, ex22] {
        let d: Document = serde_json::from_value(doc.clone()).expect("our reader");
        common::assert_same_json(
            &serde_json::to_value(&d).expect("json"),
            &doc,
            "spdx example",
        );
    }
}

#[test]
fn real_world_syft_sboms_parse_and_round_trip() {
    let cdx: Value = serde_json::from_slice(&cairn_testkit::read_testdata(
        "real-world-sboms/witness-syft-alpine.cdx-1.5.json",
    ))
    .expect("json");
    common::assert_valid_cdx(&cdx, "1.5");
    let bom: Bom = serde_json::from_value(cdx.clone()).expect("reads");
    assert!(bom.components.as_ref().is_some_and(|c| c.len() > 10));
    common::assert_same_json(&serde_json::to_value(&bom).expect("json"), &cdx, "syft cdx");

    let spdx: Value = serde_json::from_slice(&cairn_testkit::read_testdata(
        "real-world-sboms/witness-syft-alpine.spdx-2.3.json",
    ))
    .expect("json");
    common::assert_valid_spdx(&spdx);
    let doc: Document = serde_json::from_value(spdx.clone()).expect("reads");
    assert!(doc.packages.len() > 10);
    common::assert_same_json(
        &serde_json::to_value(&doc).expect("json"),
        &spdx,
        "syft spdx",
    );
}
