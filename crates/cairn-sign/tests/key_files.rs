//! Key files: write/read round trips in every format, a cosign-written key, and bad input
//! giving typed errors (never a panic).
#![allow(clippy::unwrap_used)]

use cairn_sign::{
    KeyError, KeyType, ParsedKey, Password, PrivateKey, Signer, Verifier, is_encrypted, parse_key,
};

fn private(bytes: &[u8], pw: Option<&Password>) -> PrivateKey {
    match parse_key(bytes, pw).unwrap() {
        ParsedKey::Private(k) => k,
        ParsedKey::Public(_) => panic!("expected a private key"),
    }
}

#[test]
fn round_trips_in_every_format() {
    let pw = Password::new("correct horse");
    for kt in [
        KeyType::Ed25519,
        KeyType::EcdsaP256,
        KeyType::EcdsaP384,
        KeyType::Rsa,
    ] {
        let key = PrivateKey::generate(kt).unwrap();
        let plain = key.to_pkcs8_pem(None).unwrap();
        assert!(plain.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert_eq!(
            private(plain.as_bytes(), None).public_key(),
            key.public_key()
        );
        let enc = key.to_pkcs8_pem(Some(&pw)).unwrap();
        assert!(enc.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
        assert!(is_encrypted(enc.as_bytes()));
        assert_eq!(
            private(enc.as_bytes(), Some(&pw)).public_key(),
            key.public_key()
        );
        assert!(matches!(
            parse_key(enc.as_bytes(), Some(&Password::new("wrong"))),
            Err(KeyError::WrongPassword)
        ));
        assert!(matches!(
            parse_key(enc.as_bytes(), None),
            Err(KeyError::PasswordRequired)
        ));
        let cosign = key.to_cosign_pem(&pw).unwrap();
        assert!(cosign.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
        let back = private(cosign.as_bytes(), Some(&pw));
        assert_eq!(back.public_key(), key.public_key());
        let sig = back.sign(b"x").unwrap();
        key.public_key().verify(b"x", &sig).unwrap();
        assert!(matches!(
            parse_key(cosign.as_bytes(), Some(&Password::new("wrong"))),
            Err(KeyError::WrongPassword)
        ));
        // The public PEM reads back as the same key, and a private key file also yields it.
        let spki = key.public_key().to_spki_pem();
        match parse_key(spki.as_bytes(), None).unwrap() {
            ParsedKey::Public(p) => assert_eq!(&p, key.public_key()),
            ParsedKey::Private(_) => panic!("public expected"),
        }
        // securesystemslib JSON form round-trips.
        for rule in cairn_sign::KeyIdRule::ALL {
            let json = key.public_key().to_securesystemslib_json(rule);
            let back = cairn_sign::PublicKey::from_securesystemslib_json(&json).unwrap();
            assert_eq!(&back, key.public_key());
            assert_eq!(back.key_id(rule), key.public_key().key_id(rule));
        }
    }
}

#[test]
fn cosign_written_key_loads() {
    let pem = cairn_testkit::read_testdata("cosign/conforma-test.key");
    assert!(is_encrypted(&pem));
    let key = private(&pem, Some(&Password::new("")));
    assert_eq!(key.key_type(), KeyType::EcdsaP256);
    assert!(matches!(
        parse_key(&pem, Some(&Password::new("x"))),
        Err(KeyError::WrongPassword)
    ));
}

#[test]
fn sec1_and_pkcs1_private_keys() {
    // SEC1 with an EC PARAMETERS block first, as `openssl ecparam -genkey` writes it.
    let sec1 = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n\
-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEINc+xDf9Y0bjYZxev9//D2kWgElVrTKsmsSSsO3h9v+3oAoGCCqGSM49\n\
AwEHoUQDQgAEZ805D3eqNZywjCI19lInBJOp7YMrCrzAH3CVTAOQ0jgMeCvVTiaR\nJaRPRDOv8UMs6U4SvKc6pnrIDOoSYI3fdA==\n-----END EC PRIVATE KEY-----\n";
    let key = private(sec1.as_bytes(), None);
    assert_eq!(key.key_type(), KeyType::EcdsaP256);
    // PKCS#1 RSA private key (in-toto demo bob).
    let bob = cairn_testkit::read_testdata("in-toto-python/tests/demo_files/bob");
    assert_eq!(private(&bob, None).key_type(), KeyType::Rsa);
}

#[test]
fn bad_input_gives_typed_errors() {
    let key = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    let pem = key.to_pkcs8_pem(None).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("whitespace", b"  \n".to_vec()),
        ("garbage text", b"hello, I am not a key".to_vec()),
        ("garbage binary", vec![0xff, 0x00, 0x13, 0x37]),
        ("truncated PEM", pem.as_bytes()[..pem.len() / 2].to_vec()),
        ("bad base64", pem.replace("M", "!").into_bytes()),
        (
            "bad DER",
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".to_vec(),
        ),
        (
            "certificate",
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_vec(),
        ),
        ("DER garbage", vec![0x30, 0x03, 0x02, 0x01]),
        (
            "JSON garbage",
            b"{\"keytype\": \"dsa\", \"scheme\": \"x\", \"keyval\": {}}".to_vec(),
        ),
        (
            "JSON duplicate keys",
            b"{\"keytype\": \"ed25519\", \"keytype\": \"rsa\"}".to_vec(),
        ),
        (
            "deep JSON",
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
        ),
        (
            "too large",
            vec![b'A'; (cairn_sign::MAX_KEY_FILE + 1) as usize],
        ),
    ];
    for (name, bytes) in cases {
        match parse_key(&bytes, None) {
            Ok(k) => panic!("{name}: accepted as {k:?}"),
            Err(e) => {
                let msg = e.to_string();
                assert!(!msg.is_empty() && msg == msg.trim(), "{name}: {msg:?}");
            }
        }
    }
    assert!(matches!(parse_key(b"", None), Err(KeyError::Empty)));
    assert!(matches!(
        parse_key(pem.as_bytes()[..pem.len() / 2].as_ref(), None),
        Err(KeyError::MalformedPem { .. })
    ));
    assert!(matches!(
        parse_key(
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            None
        ),
        Err(KeyError::UnsupportedPemLabel { .. })
    ));
    assert!(matches!(
        parse_key(&vec![b'A'; 2 << 20], None),
        Err(KeyError::TooLarge { .. })
    ));
}

#[test]
fn small_rsa_keys_are_refused() {
    // A real RSA-1024 public key (openssl genrsa 1024; openssl rsa -pubout).
    let small = "-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDEDGNeHBK3fZ2PN67GMKb27aRK
hpIDwIsqAJcIqKM3isMc+gSe3U2pWGhiHpy9YI3aGwi/mm/xeZJ8kT4D48aOtcmT
tYhCcXbbvqs/6uNGZlZAWyvfFDwhWb6LHCWAU3OKjH3FQp2rDJe+lO7eZRwBObp0
+U+yVP7n6ECdLHqiWwIDAQAB
-----END PUBLIC KEY-----
";
    match parse_key(small.as_bytes(), None) {
        Err(
            e @ KeyError::RsaTooSmall {
                bits: 1024,
                min: 2048,
            },
        ) => {
            assert_eq!(
                e.to_string(),
                "RSA key of 1024 bits is too small (minimum 2048)"
            )
        }
        other => panic!("expected a size error, got {other:?}"),
    }
    assert!(matches!(
        PrivateKey::generate_rsa(1024),
        Err(KeyError::RsaTooSmall {
            bits: 1024,
            min: 2048
        })
    ));
}

#[test]
fn unsupported_key_types_are_named() {
    // Ed448 and X25519 SPKI (RFC 8410 example encodings with arbitrary key bytes).
    let mut ed448 = hex::decode("3043300506032b6571033a00").unwrap();
    ed448.extend_from_slice(&[7u8; 57]);
    let mut x25519 = hex::decode("302a300506032b656e032100").unwrap();
    x25519.extend_from_slice(&[9u8; 32]);
    for (der, name) in [(ed448, "Ed448"), (x25519, "X25519")] {
        let pem = pkcs8_pem("PUBLIC KEY", &der);
        match parse_key(pem.as_bytes(), None) {
            Err(KeyError::UnsupportedKeyType { algorithm }) => {
                assert!(algorithm.starts_with(name), "{algorithm}")
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    // An OpenSSH private key is not a format cairn reads.
    let ssh = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
    assert!(matches!(
        parse_key(ssh.as_bytes(), None),
        Err(KeyError::UnsupportedPemLabel { .. })
    ));
    // Legacy OpenSSL PEM encryption is refused with advice.
    let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
    match parse_key(legacy.as_bytes(), None) {
        Err(e @ KeyError::UnsupportedEncryption { .. }) => {
            assert!(e.to_string().contains("openssl pkcs8 -topk8"), "{e}")
        }
        other => panic!("{other:?}"),
    }
}

fn pkcs8_pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    format!("-----BEGIN {label}-----\n{b64}\n-----END {label}-----\n")
}

#[test]
fn openssl_encrypted_pkcs8_variants() {
    let public = cairn_testkit::read_testdata("openssl-keys/ed.pub");
    let public = cairn_sign::PublicKey::from_bytes(&public).unwrap();
    for file in ["ed_sha1.pem", "ed_des3.pem", "ed_scrypt.pem"] {
        let pem = cairn_testkit::read_testdata(&format!("openssl-keys/{file}"));
        let key = private(&pem, Some(&Password::new("pw")));
        assert_eq!(key.public_key(), &public, "{file}");
        assert!(
            matches!(
                parse_key(&pem, Some(&Password::new("px"))),
                Err(KeyError::WrongPassword)
            ),
            "{file}"
        );
    }
}
