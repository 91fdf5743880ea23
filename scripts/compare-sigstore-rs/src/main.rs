//! Runs the sigstore-conformance bundle-verify cases through the older `sigstore` crate (0.15.0).
use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use sigstore::bundle::verify::{blocking::Verifier, policy::Identity};
use sigstore::bundle::Bundle;
use sigstore::trust::ManualTrustRoot;
use sha2::{Digest, Sha256};

const ID: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISS: &str = "https://token.actions.githubusercontent.com";

fn root(path: &Path) -> ManualTrustRoot<'static> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let b64 = |s: &serde_json::Value| base64::engine::general_purpose::STANDARD.decode(s.as_str().unwrap()).unwrap();
    let mut r = ManualTrustRoot::default();
    for ca in v["certificateAuthorities"].as_array().unwrap() {
        for c in ca["certChain"]["certificates"].as_array().unwrap() {
            r.fulcio_certs.push(b64(&c["rawBytes"]).into());
        }
    }
    let keys = |name: &str| -> BTreeMap<String, Vec<u8>> {
        v[name].as_array().unwrap().iter().map(|l| (hex::encode(b64(&l["logId"]["keyId"])), b64(&l["publicKey"]["rawBytes"]))).collect()
    };
    r.rekor_keys = keys("tlogs");
    r.ctfe_keys = keys("ctlogs");
    r
}

fn main() {
    let suite = Path::new(&std::env::args().nth(1).unwrap()).to_path_buf();
    let prod = Path::new(&std::env::args().nth(2).unwrap()).to_path_buf();
    let mut dirs: Vec<_> = std::fs::read_dir(&suite).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    let (mut right, mut wrong, mut skipped) = (0, 0, 0);
    for d in dirs {
        let name = d.file_name().unwrap().to_string_lossy().to_string();
        let expect = !name.ends_with("_fail");
        if d.join("key.pub").exists() && !std::fs::read_to_string(d.join("key.pub")).unwrap().trim().is_empty() {
            println!("SKIP  {name}: no key-based verification in this crate");
            skipped += 1;
            continue;
        }
        let read = |f: &str| std::fs::read_to_string(d.join(f)).ok().map(|s| s.trim().to_string());
        let artifact = std::fs::read(d.join("artifact")).unwrap_or_else(|_| std::fs::read(suite.join("a.txt")).unwrap());
        let tr = if d.join("trusted_root.json").exists() { d.join("trusted_root.json") } else { prod.clone() };
        let got = (|| -> Result<(), String> {
            let bundle: Bundle = serde_json::from_slice(&std::fs::read(d.join("bundle.sigstore.json")).unwrap()).map_err(|e| format!("parse: {e}"))?;
            let v = Verifier::new(Default::default(), root(&tr)).map_err(|e| format!("verifier: {e}"))?;
            let policy = Identity::new(read("identity").unwrap_or(ID.into()), read("issuer").unwrap_or(ISS.into()));
            let mut h = Sha256::new();
            h.update(&artifact);
            v.verify_digest(h, bundle, &policy, true).map_err(|e| format!("{e}"))
        })();
        let ok = got.is_ok();
        if ok == expect { right += 1 } else { wrong += 1 }
        println!("{} {name}: {}", if ok == expect { "OK   " } else { "WRONG" }, match &got { Ok(()) => "accepted".into(), Err(e) => format!("rejected: {e}") });
    }
    println!("older sigstore crate 0.15.0: {right} right, {wrong} wrong, {skipped} skipped (key-based)");
}
