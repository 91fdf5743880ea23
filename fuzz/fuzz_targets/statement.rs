//! in-toto statements (v0.1 and v1) and every known predicate type.
#![no_main]
use libfuzzer_sys::fuzz_target;

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

fuzz_target!(|data: &[u8]| {
    if let Ok(st) = cairn_model::Statement::from_slice(data) {
        let _ = cairn_model::Predicate::parse(&st.predicate_type, st.predicate.clone());
    }
    // The same bytes as the predicate of each type (the first byte picks the type).
    if let Some((&pick, rest)) = data.split_first() {
        if let Ok(value) = cairn_model::json::value_from_slice(rest) {
            let ty = TYPES[pick as usize % TYPES.len()];
            let _ = cairn_model::Predicate::parse(ty, value);
        }
    }
    let _ = cairn_model::Statement::from_slice_unvalidated(data);
});
