//! Hostile key files and signatures: parsing and verifying never panic, whatever the bytes.
#![allow(clippy::unwrap_used)]

use std::sync::OnceLock;

use cairn_sign::{KeyType, Password, PrivateKey, PublicKey, Signer, Verifier, parse_key};
use proptest::prelude::*;

fn samples() -> &'static Vec<(String, PublicKey)> {
    static SAMPLES: OnceLock<Vec<(String, PublicKey)>> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        [
            KeyType::Ed25519,
            KeyType::EcdsaP256,
            KeyType::EcdsaP384,
            KeyType::Rsa,
        ]
        .into_iter()
        .map(|kt| {
            let k = PrivateKey::generate(kt).unwrap();
            (
                k.to_pkcs8_pem(None).unwrap().to_string(),
                k.public_key().clone(),
            )
        })
        .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_key(&bytes, None);
        let _ = parse_key(&bytes, Some(&Password::new("pw")));
    }

    #[test]
    fn mutated_pem_never_panics(which in 0usize..4, pos in any::<usize>(), byte in any::<u8>(), cut in any::<usize>()) {
        let (pem, public) = &samples()[which];
        let mut bytes = pem.as_bytes().to_vec();
        let i = pos % bytes.len();
        bytes[i] = byte;
        let _ = parse_key(&bytes, None);
        bytes.truncate(cut % (bytes.len() + 1));
        if let Ok(cairn_sign::ParsedKey::Private(k)) = parse_key(&bytes, None) {
            // Whatever still parses must be a consistent key.
            let sig = k.sign(b"m").unwrap();
            prop_assert!(k.public_key().verify(b"m", &sig).is_ok());
        }
        let _ = public;
    }

    #[test]
    fn random_signatures_never_verify_or_panic(which in 0usize..4, sig in proptest::collection::vec(any::<u8>(), 0..600)) {
        let (_, public) = &samples()[which];
        prop_assert!(public.verify(b"message", &sig).is_err());
    }

    #[test]
    fn random_json_keys_never_panic(keytype in "[a-z0-9-]{0,20}", scheme in "[a-z0-9-]{0,24}", public in ".{0,80}") {
        let v = serde_json::json!({"keytype": keytype, "scheme": scheme, "keyval": {"public": public}});
        let _ = PublicKey::from_securesystemslib_json(&v);
        let _ = parse_key(v.to_string().as_bytes(), None);
    }
}
