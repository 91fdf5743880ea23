//! Replays the `key_file` fuzzing regression fixtures (`testdata/fuzz-regressions/`) as
//! `fuzz/fuzz_targets/key_file.rs` calls the parser: no input may panic or hang.
#![allow(clippy::unwrap_used)]

fn key_file(data: &[u8]) {
    let _ = cairn_sign::is_encrypted(data);
    if let Ok(key) = cairn_sign::parse_key(data, None) {
        let _ = key.public_key();
    }
}

#[test]
fn key_file_fixtures() {
    cairn_testkit::fuzz::replay("key_file", key_file);
}

/// With a password, an encrypted key whose KDF parameters are absurd is refused quickly
/// (not derived for hours).
#[test]
fn key_file_fixtures_with_a_password() {
    fn with_password(data: &[u8]) {
        let pw = cairn_sign::Password::new("fuzz");
        let _ = cairn_sign::parse_key(data, Some(&pw));
    }
    cairn_testkit::fuzz::replay("key_file", with_password);
}
