//! Times the life of a large in-toto link through the public API: write, strict read, typed
//! view (with digest validation), canonical bytes.
//!
//! `cargo run --release -p cairn-model --example large_link -- 100000`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use cairn_model::{DigestSet, Link, Metablock};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(100_000, |a| a.parse().expect("artifact count"));
    let mut link = Link::new("build");
    for i in 0..n {
        let mut digest = [0u8; 32];
        digest[..8].copy_from_slice(&(i as u64).to_le_bytes());
        let path = format!("src/module{:03}/file{i:07}.rs", i % 1000);
        link.materials
            .insert(path.clone(), DigestSet::sha256(&digest));
        link.products
            .insert(format!("target/{path}.o"), DigestSet::sha256(&digest));
    }

    let t = Instant::now();
    let file = Metablock::unsigned(link.to_signed_value()).to_pretty_json();
    let write = t.elapsed();

    // Baseline: serde_json's own (non-strict) parser on the same bytes.
    let t = Instant::now();
    let plain: serde_json::Value = serde_json::from_slice(&file).unwrap();
    let baseline = t.elapsed();
    drop(plain);
    let t = Instant::now();
    let block = Metablock::from_slice(&file).unwrap();
    let read = t.elapsed();

    let t = Instant::now();
    let typed = Link::from_signed(&block.signed).unwrap();
    let view = t.elapsed();

    let t = Instant::now();
    let canonical = block.signed_bytes().unwrap();
    let canon = t.elapsed();

    assert_eq!(typed, link);
    println!(
        "{} artifacts ({} materials + {} products): file {:.1} MiB, canonical {:.1} MiB",
        2 * n,
        n,
        n,
        file.len() as f64 / 1048576.0,
        canonical.len() as f64 / 1048576.0
    );
    println!(
        "write {write:.2?}, strict read {read:.2?} (serde_json alone {baseline:.2?}), typed view + digest checks {view:.2?}, canonical JSON {canon:.2?}"
    );
}
