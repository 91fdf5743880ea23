//! cosign / Sigstore encrypted private keys.
//!
//! PEM label `ENCRYPTED SIGSTORE PRIVATE KEY` (cosign ≥ 2) or `ENCRYPTED COSIGN PRIVATE KEY`
//! (older cosign); the body is JSON, as go-securesystemslib's `encrypted` package writes it:
//!
//! ```json
//! {"kdf": {"name": "scrypt", "params": {"N": 65536, "r": 8, "p": 1}, "salt": "<base64 32 bytes>"},
//!  "cipher": {"name": "nacl/secretbox", "nonce": "<base64 24 bytes>"},
//!  "ciphertext": "<base64 tag ‖ ciphertext>"}
//! ```
//!
//! The key is scrypt(password, salt, N, r, p, 32 bytes); the plaintext is the PKCS#8 DER of the
//! private key. Reading accepts the three scrypt settings the reference accepts (N = 2^15,
//! 2^16, 2^17 with r = 8, p = 1), which also bounds memory use; writing uses N = 2^16.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use poly1305::Poly1305;
use poly1305::universal_hash::KeyInit;
use salsa20::XSalsa20;
use salsa20::cipher::{KeyIvInit, StreamCipher};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::KeyError;
use crate::password::Password;

/// The PEM label cosign 2.x writes.
pub const SIGSTORE_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// The PEM label older cosign wrote.
pub const COSIGN_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";

const WRITE_LOG_N: u8 = 16;
const TAG_LEN: usize = 16;

#[derive(Serialize, Deserialize)]
struct Encrypted {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: KdfParams,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct KdfParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

fn malformed(reason: &'static str) -> KeyError {
    KeyError::MalformedCosignKey { reason }
}

fn derive_key(
    password: &Password,
    salt: &[u8],
    log_n: u8,
) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let params =
        scrypt::Params::new(log_n, 8, 1).map_err(|_| malformed("bad scrypt parameters"))?;
    let mut key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(password.as_bytes(), salt, &params, key.as_mut())
        .map_err(|_| malformed("bad scrypt output length"))?;
    Ok(key)
}

/// XSalsa20 keystream: the first 32 bytes key Poly1305, the rest encrypt (NaCl secretbox).
fn keystream(key: &[u8; 32], nonce: &[u8; 24]) -> (XSalsa20, Zeroizing<[u8; 32]>) {
    let mut cipher = XSalsa20::new(key.into(), nonce.into());
    let mut mac_key = Zeroizing::new([0u8; 32]);
    cipher.apply_keystream(mac_key.as_mut());
    (cipher, mac_key)
}

fn tag(mac_key: &[u8; 32], ciphertext: &[u8]) -> [u8; TAG_LEN] {
    Poly1305::new(mac_key.into())
        .compute_unpadded(ciphertext)
        .into()
}

/// Decrypts the JSON body of a cosign encrypted key into PKCS#8 DER.
pub(crate) fn decrypt(body: &[u8], password: &Password) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let enc: Encrypted =
        serde_json::from_slice(body).map_err(|_| malformed("body is not the expected JSON"))?;
    if enc.kdf.name != "scrypt" {
        return Err(KeyError::UnsupportedEncryption {
            scheme: format!("cosign kdf {}", enc.kdf.name),
        });
    }
    if enc.cipher.name != "nacl/secretbox" {
        return Err(KeyError::UnsupportedEncryption {
            scheme: format!("cosign cipher {}", enc.cipher.name),
        });
    }
    let log_n = match (enc.kdf.params.n, enc.kdf.params.r, enc.kdf.params.p) {
        (32768, 8, 1) => 15,
        (65536, 8, 1) => 16,
        (131072, 8, 1) => 17,
        _ => {
            return Err(KeyError::UnsupportedEncryption {
                scheme: format!(
                    "scrypt parameters N={} r={} p={} (supported: N=32768/65536/131072, r=8, p=1)",
                    enc.kdf.params.n, enc.kdf.params.r, enc.kdf.params.p
                ),
            });
        }
    };
    let salt = STANDARD
        .decode(&enc.kdf.salt)
        .map_err(|_| malformed("salt is not base64"))?;
    let nonce: [u8; 24] = STANDARD
        .decode(&enc.cipher.nonce)
        .map_err(|_| malformed("nonce is not base64"))?
        .try_into()
        .map_err(|_| malformed("nonce is not 24 bytes"))?;
    let sealed = STANDARD
        .decode(&enc.ciphertext)
        .map_err(|_| malformed("ciphertext is not base64"))?;
    if sealed.len() < TAG_LEN {
        return Err(malformed("ciphertext is shorter than its tag"));
    }
    let (expected_tag, ciphertext) = sealed.split_at(TAG_LEN);
    let key = derive_key(password, &salt, log_n)?;
    let (mut cipher, mac_key) = keystream(&key, &nonce);
    let actual = tag(&mac_key, ciphertext);
    if !bool::from(actual.ct_eq(expected_tag)) {
        return Err(KeyError::WrongPassword);
    }
    let mut plain = Zeroizing::new(ciphertext.to_vec());
    cipher.apply_keystream(&mut plain);
    Ok(plain)
}

/// Encrypts `plaintext` (PKCS#8 DER) into the JSON body of a cosign encrypted key.
pub(crate) fn encrypt(plaintext: &[u8], password: &Password) -> Result<Vec<u8>, KeyError> {
    let mut salt = [0u8; 32];
    let mut nonce = [0u8; 24];
    getrandom::fill(&mut salt).map_err(|_| KeyError::Rng)?;
    getrandom::fill(&mut nonce).map_err(|_| KeyError::Rng)?;
    let key = derive_key(password, &salt, WRITE_LOG_N)?;
    let (mut cipher, mac_key) = keystream(&key, &nonce);
    let mut ciphertext = plaintext.to_vec();
    cipher.apply_keystream(&mut ciphertext);
    let mut sealed = tag(&mac_key, &ciphertext).to_vec();
    sealed.extend_from_slice(&ciphertext);
    let enc = Encrypted {
        kdf: Kdf {
            name: "scrypt".into(),
            params: KdfParams {
                n: 1 << WRITE_LOG_N,
                r: 8,
                p: 1,
            },
            salt: STANDARD.encode(salt),
        },
        cipher: Cipher {
            name: "nacl/secretbox".into(),
            nonce: STANDARD.encode(nonce),
        },
        ciphertext: STANDARD.encode(&sealed),
    };
    Ok(serde_json::to_vec(&enc).expect("a struct of strings and numbers serialises"))
}

/// PEM `ENCRYPTED SIGSTORE PRIVATE KEY` of a PKCS#8 DER private key.
pub(crate) fn encrypt_pem(
    pkcs8_der: &[u8],
    password: &Password,
) -> Result<Zeroizing<String>, KeyError> {
    let body = encrypt(pkcs8_der, password)?;
    let pem = pkcs8::der::pem::encode_string(SIGSTORE_LABEL, pkcs8::LineEnding::LF, &body)
        .expect("base64 of in-memory bytes always encodes");
    Ok(Zeroizing::new(pem))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    // Vectors from go-securesystemslib `encrypted/encrypted_test.go` (MIT): passphrase
    // "supersecret", plaintext "reallyimportant", one per accepted scrypt setting.
    const VECTORS: [&str; 4] = [
        r#"{"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":"N9a7x5JFGbrtB2uBR81jPwp0eiLR4A7FV3mjVAQrg1g="},"cipher":{"name":"nacl/secretbox","nonce":"2h8HxMmgRfuYdpswZBQaU3xJ1nkA/5Ik"},"ciphertext":"SEW6sUh0jf2wfdjJGPNS9+bkk2uB+Cxamf32zR8XkQ=="}"#,
        r#"{"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":"WO3mVvyTwJ9vwT5/Tk5OW5WPIBUofMjcpEfrLnfY4uA="},"cipher":{"name":"nacl/secretbox","nonce":"tCy7HcTFr4uxv4Nrg/DWmncuZ148U1MX"},"ciphertext":"08n43p5G5yviPEZpO7tPPF4aZQkWiWjkv4taFdhDBA0tamKH4nw="}"#,
        r#"{"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"FhzPOt9/bJG4PTq6lQ6ecG6GzaOuOy/ynG5+yRiFlNs="},"cipher":{"name":"nacl/secretbox","nonce":"aw1ng1jHaDz/tQ7V2gR9O2+IGQ8xJEuE"},"ciphertext":"HycvuLZL4sYH0BrYTh4E/H20VtAW6u5zL5Pr+IBjYLYnCPzDkq8="}"#,
        r#"{"kdf":{"name":"scrypt","params":{"N":131072,"r":8,"p":1},"salt":"m38E3kouJTtiheLQN22NQ8DTito5hrjpUIskqcd375k="},"cipher":{"name":"nacl/secretbox","nonce":"Y6PM13yA+o44pE/W1ZBwczeGnTV/m9Zc"},"ciphertext":"6H8sqj1K6B6yDjtH5AQ6lbFigg/C2yDDJc4rYJ79w9aVPImFIPI="}"#,
    ];

    #[test]
    fn decrypts_reference_vectors() {
        let pw = Password::new("supersecret");
        assert_eq!(
            &decrypt(VECTORS[0].as_bytes(), &pw).unwrap()[..],
            b"reallyimportant"
        );
        // The KDF-strength vectors come from upstream's `Marshal`, which JSON-encodes the
        // plaintext first: a JSON string holding base64("reallyimportant").
        for v in &VECTORS[1..] {
            assert_eq!(
                &decrypt(v.as_bytes(), &pw).unwrap()[..],
                br#""cmVhbGx5aW1wb3J0YW50""#
            );
        }
    }

    #[test]
    fn wrong_password_and_tampering_fail() {
        let v = VECTORS[0].as_bytes();
        assert!(matches!(
            decrypt(v, &Password::new("supersecreT")),
            Err(KeyError::WrongPassword)
        ));
        let tampered = VECTORS[0].replace("SEW6", "SEW7");
        assert!(matches!(
            decrypt(tampered.as_bytes(), &Password::new("supersecret")),
            Err(KeyError::WrongPassword)
        ));
    }

    #[test]
    fn rejects_unsupported_scrypt_parameters() {
        // From the same upstream test: N=99 r=99 p=99 must be refused, not attempted.
        let v = r#"{"kdf":{"name":"scrypt","params":{"N":99,"r":99,"p":99},"salt":"cZFcQJdwPhPyhU1R4qkl0qVOIjZd4V/7LYYAavq166k="},"cipher":{"name":"nacl/secretbox","nonce":"7vhRS7j0hEPBWV05skAdgLj81AkGeE7U"},"ciphertext":"6WYU/YSXVbYzl/NzaeAzmjLyfFhOOjLc0d8/GFV0aBFdJvyCcXc="}"#;
        assert!(matches!(
            decrypt(v.as_bytes(), &Password::new("supersecret")),
            Err(KeyError::UnsupportedEncryption { .. })
        ));
    }

    #[test]
    fn round_trip() {
        let pw = Password::new("pw");
        let body = encrypt(b"secret bytes", &pw).unwrap();
        assert_eq!(&decrypt(&body, &pw).unwrap()[..], b"secret bytes");
        assert!(matches!(
            decrypt(&body, &Password::new("nope")),
            Err(KeyError::WrongPassword)
        ));
    }
}
