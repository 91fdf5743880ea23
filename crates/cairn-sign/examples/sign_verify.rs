//! Generates one key of each type, signs an in-toto link (metablock and DSSE) and verifies it,
//! printing how long each step takes.
//!
//! Run: `cargo run -p cairn-sign --example sign_verify`

use std::time::{Duration, Instant};

use cairn_model::metablock::Metablock;
use cairn_sign::{KeyType, PrivateKey, Signer, dsse, metablock};

fn time<T>(n: u32, mut f: impl FnMut() -> T) -> (T, Duration) {
    let start = Instant::now();
    let mut out = f();
    for _ in 1..n {
        out = f();
    }
    (out, start.elapsed() / n)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let link = serde_json::json!({
        "_type": "link", "name": "build", "command": ["make"],
        "materials": {}, "products": {}, "byproducts": {}, "environment": {}
    });
    println!(
        "{:<12} {:>12} {:>12} {:>12}",
        "key", "generate", "sign", "verify"
    );
    for kt in [
        KeyType::Ed25519,
        KeyType::EcdsaP256,
        KeyType::EcdsaP384,
        KeyType::Rsa,
    ] {
        let runs = if kt == KeyType::Rsa { 3 } else { 20 };
        let (key, gen_time) = time(runs, || PrivateKey::generate(kt));
        let key = key?;
        let (signed, sign_time) = time(100, || {
            let mut mb = Metablock::unsigned(link.clone());
            metablock::sign(&mut mb, &key).map(|()| mb)
        });
        let signed = signed?;
        let (verdict, verify_time) = time(100, || metablock::verify(&signed, key.public_key()));
        assert!(verdict?.is_verified());
        let env = dsse::sign("application/vnd.in-toto+json", b"{}".to_vec(), &key)?;
        assert!(dsse::verify(&env, key.public_key()).is_verified());
        println!(
            "{:<12} {:>12.2?} {:>12.2?} {:>12.2?}   keyid {}",
            kt.name(),
            gen_time,
            sign_time,
            verify_time,
            key.key_id().short(16)
        );
    }
    Ok(())
}
