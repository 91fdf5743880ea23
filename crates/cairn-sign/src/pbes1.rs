//! Read-only PBES1 `pbeWithMD5AndDES-CBC` (RFC 8018 §6.1): older OpenSSL and Python
//! `cryptography` releases wrote encrypted PKCS#8 keys this way, and in-toto's own test keys
//! use it. DES is broken, so cairn only *reads* such keys (to let users migrate them) and never
//! writes them.

use cbc::cipher::{BlockModeDecrypt, KeyIvInit, block_padding::Pkcs7};
use md5::{Digest, Md5};
use zeroize::Zeroizing;

use crate::error::KeyError;

/// Decrypts `ciphertext` with PBKDF1-MD5 (at most 65,535 iterations: the field is 16-bit) (salt, iterations) + DES-CBC, PKCS#5 padding.
pub(crate) fn decrypt_md5_des(
    password: &[u8],
    salt: &[u8; 8],
    iterations: u16,
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    if iterations == 0 {
        return Err(KeyError::UnsupportedEncryption {
            scheme: "PBES1 with zero iterations".into(),
        });
    }
    // PBKDF1: T1 = MD5(P || S), Ti = MD5(T(i-1)); key = T[0..8], IV = T[8..16].
    let mut t = Zeroizing::new([0u8; 16]);
    let mut hasher = Md5::new();
    hasher.update(password);
    hasher.update(salt);
    t.copy_from_slice(&hasher.finalize());
    for _ in 1..iterations {
        let next = Md5::digest(t.as_ref());
        t.copy_from_slice(&next);
    }
    let (key, iv) = t.split_at(8);
    let mut buf = Zeroizing::new(ciphertext.to_vec());
    let decryptor = cbc::Decryptor::<des::Des>::new_from_slices(key, iv)
        .map_err(|_| KeyError::WrongPassword)?;
    let len = decryptor
        .decrypt_padded::<Pkcs7>(&mut buf)
        .map_err(|_| KeyError::WrongPassword)?
        .len();
    buf.truncate(len);
    Ok(buf)
}
