//! Replays the OCI fuzzing regression fixtures (`testdata/fuzz-regressions/`) as
//! `fuzz/fuzz_targets/` calls the parsers: references, manifests and indexes, and the
//! bundle summary of `cairn attestations`. No input may panic or hang.
#![allow(clippy::unwrap_used)]

use cairn_oci::manifest::{Manifest, media};

fn oci_reference(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = cairn_oci::OciRef::parse(text) {
        let shown = r.to_string();
        let again = cairn_oci::OciRef::parse(&shown).expect("a printed reference parses");
        assert_eq!(again.to_string(), shown);
        let _ = r.repository_ref();
        let _ = r.name();
        let _ = r.with_tag("latest");
    }
    let _ = text.parse::<cairn_oci::Digest>();
}

const TYPES: &[&str] = &[
    "",
    "application/json",
    media::OCI_MANIFEST,
    media::OCI_INDEX,
    media::DOCKER_MANIFEST,
    media::DOCKER_MANIFEST_LIST,
    media::DOCKER_SCHEMA1_SIGNED,
];

fn oci_manifest(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    if let Ok(m) = Manifest::parse(TYPES[pick as usize % TYPES.len()], rest) {
        let _ = m.subject();
        let _ = m.artifact_type();
        let _ = m.annotations();
    }
}

#[test]
fn oci_reference_fixtures() {
    cairn_testkit::fuzz::replay("oci_reference", oci_reference);
}

#[test]
fn oci_manifest_fixtures() {
    cairn_testkit::fuzz::replay("oci_manifest", oci_manifest);
}

#[test]
fn sigstore_bundle_fixtures_summarize() {
    cairn_testkit::fuzz::replay("sigstore_bundle", |data| {
        let _ = cairn_oci::bundle::summarize("fixture", data);
    });
}
