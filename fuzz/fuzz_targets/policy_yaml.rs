//! Verification policies (YAML): anchors/aliases, requirement kinds, CEL expressions.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cairn_verify::policy::Policy::from_yaml(
        data,
        std::path::Path::new("/nonexistent-fuzz-base"),
    );
});
