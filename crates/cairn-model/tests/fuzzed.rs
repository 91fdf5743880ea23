//! Replays the fuzzing regression fixtures (`testdata/fuzz-regressions/`) of the targets
//! whose parsers live in this crate, exactly as `fuzz/fuzz_targets/` calls them: no input may
//! panic or run past the time bound.
#![allow(clippy::unwrap_used)]

fn dsse_envelope(data: &[u8]) {
    if let Ok(env) = cairn_model::Envelope::from_slice(data) {
        assert!(env.pae().starts_with(b"DSSEv1 "));
        let _ = cairn_model::Statement::from_slice(&env.payload);
        let again = serde_json::to_vec(&env).expect("an envelope serializes");
        let back = cairn_model::Envelope::from_slice(&again).expect("round trip parses");
        assert_eq!(back.payload, env.payload);
    }
}

const TYPES: &[&str] = &[
    "https://slsa.dev/provenance/v1",
    "https://slsa.dev/provenance/v0.2",
    "https://in-toto.io/attestation/link/v0.3",
    "https://slsa.dev/verification_summary/v1",
    "https://spdx.dev/Document",
    "https://cyclonedx.org/bom",
    "https://in-toto.io/attestation/vulns/v0.1",
    "https://in-toto.io/attestation/test-result/v0.1",
    "https://in-toto.io/attestation/runtime-trace/v0.1",
    "https://in-toto.io/attestation/release/v0.1",
    "https://in-toto.io/attestation/scai/attribute-report/v0.2",
    "https://example.com/unknown/v1",
];

fn statement(data: &[u8]) {
    if let Ok(st) = cairn_model::Statement::from_slice(data) {
        let _ = cairn_model::Predicate::parse(&st.predicate_type, st.predicate.clone());
    }
    if let Some((&pick, rest)) = data.split_first()
        && let Ok(value) = cairn_model::json::value_from_slice(rest)
    {
        let _ = cairn_model::Predicate::parse(TYPES[pick as usize % TYPES.len()], value);
    }
    let _ = cairn_model::Statement::from_slice_unvalidated(data);
}

fn legacy_metadata(data: &[u8]) {
    if let Ok(mb) = cairn_model::Metablock::from_slice(data) {
        let _ = mb.signed_bytes();
        let _ = cairn_model::Link::from_signed(&mb.signed);
        let _ = cairn_model::Layout::from_signed(&mb.signed);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        for line in text.lines().take(64) {
            let words: Vec<&str> = line.split_whitespace().collect();
            let _ = cairn_model::ArtifactRule::parse(&words);
        }
    }
}

#[test]
fn dsse_envelope_fixtures() {
    cairn_testkit::fuzz::replay("dsse_envelope", dsse_envelope);
}

#[test]
fn statement_fixtures() {
    cairn_testkit::fuzz::replay("statement", statement);
}

#[test]
fn legacy_metadata_fixtures() {
    cairn_testkit::fuzz::replay("legacy_metadata", legacy_metadata);
}
