//! Replays the policy fuzzing regression fixtures (`testdata/fuzz-regressions/policy_yaml`)
//! as `fuzz/fuzz_targets/policy_yaml.rs` does: no input may panic or hang.
#![allow(clippy::unwrap_used)]

#[test]
fn policy_yaml_fixtures() {
    cairn_testkit::fuzz::replay("policy_yaml", |data| {
        let _ = cairn_verify::policy::Policy::from_yaml(
            data,
            std::path::Path::new("/nonexistent-fuzz-base"),
        );
    });
}
