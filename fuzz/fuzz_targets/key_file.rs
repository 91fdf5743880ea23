//! Key files: PEM (PKCS#8, SPKI, PKCS#1, SEC1, encrypted), securesystemslib JSON, cosign.
//! Only without a password: with one, the file's own KDF parameters are honoured up to the
//! parser's caps, which is slow by design.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cairn_sign::is_encrypted(data);
    if let Ok(key) = cairn_sign::parse_key(data, None) {
        let _ = key.public_key();
    }
});
