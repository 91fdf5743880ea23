//! Interop with the in-toto python reference (in-toto 3.1.0, securesystemslib 1.x) installed by
//! scripts/install-peers.sh: links signed by cairn verify there, links signed there verify here.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use cairn_model::dsse::Envelope;
use cairn_model::metablock::Metablock;
use cairn_sign::{
    KeyIdRule, KeyMatch, KeyType, PrivateKey, Signer, Verdict, dsse, metablock, parse_key,
};
use serde_json::json;

const VERIFY_PY: &str = r#"
import sys
from in_toto.models.metadata import Metadata
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from securesystemslib.signer import SSlibKey
path, pub, scheme = sys.argv[1], sys.argv[2], sys.argv[3]
key = SSlibKey.from_crypto(load_pem_public_key(open(pub, "rb").read()), scheme=scheme)
d = key.to_dict()
d["keyid"] = key.keyid
Metadata.load(path).verify_signature(d)
print("OK", key.keyid)
"#;

fn python(test: &str) -> Option<PathBuf> {
    let python = cairn_testkit::peers::require(test, "venv/bin/python")?;
    let probe = Command::new(&python)
        .args(["-c", "import in_toto, securesystemslib"])
        .output()
        .expect("run python");
    if !probe.status.success() {
        cairn_testkit::peers::missing(test, "in-toto is not installed in the peers venv")?;
    }
    Some(python)
}

fn link_value() -> serde_json::Value {
    json!({
        "_type": "link",
        "name": "build",
        "command": ["make", "all"],
        "materials": {"src/main.c": {"sha256": "74dc3727c6e89308b39e4dfedf787e37841198b1fa165a27c013544a60502549"}},
        "products": {"app": {"sha256": "52947cb78b91ad01fe81cd6aef42d1f6817e92b9e6936c1e5aabb7c98514f355"}},
        "byproducts": {"return-value": 0, "stdout": "built\n\t\"ok\"\\ done", "stderr": ""},
        "environment": {}
    })
}

fn python_verifies(
    python: &Path,
    doc: &Path,
    public: &Path,
    scheme: &str,
) -> Result<String, String> {
    let out = Command::new(python)
        .args(["-c", VERIFY_PY])
        .arg(doc)
        .arg(public)
        .arg(scheme)
        .output()
        .expect("run python");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn links_signed_by_cairn_verify_in_in_toto_python() {
    let Some(python) = python("links_signed_by_cairn_verify_in_in_toto_python") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for kt in [KeyType::Ed25519, KeyType::EcdsaP256, KeyType::Rsa] {
        let key = PrivateKey::generate(kt).unwrap();
        let public = dir.path().join(format!("{kt}.pub"));
        std::fs::write(&public, key.public_key().to_spki_pem()).unwrap();
        let scheme = key.scheme().name();
        // Legacy metablock.
        let mut mb = Metablock::unsigned(link_value());
        metablock::sign(&mut mb, &key).unwrap();
        let path = dir.path().join(format!("build.{kt}.link"));
        std::fs::write(&path, mb.to_pretty_json()).unwrap();
        let ok = python_verifies(&python, &path, &public, scheme)
            .unwrap_or_else(|e| panic!("{kt}: in-toto rejected cairn's link:\n{e}"));
        assert!(
            ok.contains(key.key_id().as_str()),
            "{kt}: keyid differs: {ok}"
        );
        // A tampered copy must fail there too (the check can fail).
        let mut tampered = mb.clone();
        tampered.signed["name"] = json!("build2");
        let bad = dir.path().join(format!("tampered.{kt}.link"));
        std::fs::write(&bad, tampered.to_pretty_json()).unwrap();
        assert!(
            python_verifies(&python, &bad, &public, scheme).is_err(),
            "{kt}: tampered link verified"
        );
        // DSSE envelope.
        let payload = serde_json::to_vec(&link_value()).unwrap();
        let env = dsse::sign(cairn_model::dsse::IN_TOTO_PAYLOAD_TYPE, payload, &key).unwrap();
        let path = dir.path().join(format!("build.{kt}.dsse.link"));
        std::fs::write(&path, serde_json::to_vec(&env).unwrap()).unwrap();
        python_verifies(&python, &path, &public, scheme)
            .unwrap_or_else(|e| panic!("{kt}: in-toto rejected cairn's DSSE link:\n{e}"));
    }
}

#[test]
fn links_signed_by_in_toto_python_verify_in_cairn() {
    let Some(run) = cairn_testkit::peers::require(
        "links_signed_by_in_toto_python_verify_in_cairn",
        "venv/bin/in-toto-run",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("foo.py"), "print('hi')\n").unwrap();
    for kt in [KeyType::Ed25519, KeyType::EcdsaP256, KeyType::Rsa] {
        let key = PrivateKey::generate(kt).unwrap();
        let key_path = dir.path().join(format!("{kt}.pem"));
        std::fs::write(&key_path, key.to_pkcs8_pem(None).unwrap().as_bytes()).unwrap();
        for dsse_mode in [false, true] {
            let out_dir = dir.path().join(format!("out-{kt}-{dsse_mode}"));
            std::fs::create_dir(&out_dir).unwrap();
            let mut cmd = Command::new(&run);
            cmd.current_dir(dir.path())
                .args(["-n", "write-code", "-p", "foo.py", "--signing-key"])
                .arg(&key_path)
                .arg("-d")
                .arg(&out_dir);
            if dsse_mode {
                cmd.arg("--use-dsse");
            }
            let out = cmd.args(["--", "true"]).output().expect("run in-toto-run");
            assert!(
                out.status.success(),
                "in-toto-run: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let link = std::fs::read_dir(&out_dir)
                .unwrap()
                .next()
                .unwrap()
                .unwrap()
                .path();
            let bytes = std::fs::read(&link).unwrap();
            let other = PrivateKey::generate(kt).unwrap();
            if dsse_mode {
                let env: Envelope = cairn_model::json::from_slice(&bytes).unwrap();
                assert!(
                    dsse::verify(&env, key.public_key()).is_verified(),
                    "{kt} dsse"
                );
                assert!(!dsse::verify(&env, other.public_key()).is_verified());
            } else {
                let mb = Metablock::from_slice(&bytes).unwrap();
                match metablock::verify(&mb, key.public_key()).unwrap() {
                    Verdict::Verified(m) => {
                        assert_eq!(m.matched_by, KeyMatch::KeyId(KeyIdRule::Securesystemslib1))
                    }
                    v => panic!("{kt}: in-toto's link does not verify: {v:?}"),
                }
                assert!(
                    !metablock::verify(&mb, other.public_key())
                        .unwrap()
                        .is_verified()
                );
            }
            // in-toto names the file after the key id it computed: ours agrees.
            let name = link.file_name().unwrap().to_string_lossy().into_owned();
            let short = key.public_key().key_id(KeyIdRule::Securesystemslib1);
            assert!(name.contains(short.short(8)), "{name} vs {short}");
        }
        // The key file in-toto read is a plain PKCS#8 file cairn reads too.
        assert!(parse_key(&std::fs::read(&key_path).unwrap(), None).is_ok());
    }
}

const LOAD_PY: &str = r#"
import sys
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key, Encoding, PublicFormat
key = load_pem_private_key(open(sys.argv[1], "rb").read(), password=sys.argv[2].encode())
ours = load_pem_public_key(open(sys.argv[3], "rb").read())
fmt = (Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
assert key.public_key().public_bytes(*fmt) == ours.public_bytes(*fmt), "public halves differ"
print("OK")
"#;

#[test]
fn encrypted_keys_written_by_cairn_load_in_python_cryptography() {
    let Some(python) = python("encrypted_keys_written_by_cairn_load_in_python_cryptography") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let pw = cairn_sign::Password::new("pässword");
    for kt in [
        KeyType::Ed25519,
        KeyType::EcdsaP256,
        KeyType::EcdsaP384,
        KeyType::Rsa,
    ] {
        let key = PrivateKey::generate(kt).unwrap();
        let path = dir.path().join(format!("{kt}.enc.pem"));
        std::fs::write(&path, key.to_pkcs8_pem(Some(&pw)).unwrap().as_bytes()).unwrap();
        let public = dir.path().join(format!("{kt}.pub"));
        std::fs::write(&public, key.public_key().to_spki_pem()).unwrap();
        let out = Command::new(&python)
            .args(["-c", LOAD_PY])
            .arg(&path)
            .arg("pässword")
            .arg(&public)
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "{kt}: python cannot read cairn's encrypted key: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // And the wrong password fails there too.
        let out = Command::new(&python)
            .args(["-c", LOAD_PY])
            .arg(&path)
            .arg("password")
            .arg(&public)
            .output()
            .expect("run python");
        assert!(
            !out.status.success(),
            "{kt}: wrong password accepted by python"
        );
    }
}

/// A whole supply chain made by cairn (layout signed by cairn with functionary keys embedded in
/// cairn's securesystemslib JSON form, links signed by cairn) passes `in-toto-verify` 3.1.0,
/// with functionary key ids under either rule; a tampered link makes it fail.
#[test]
fn layout_and_links_by_cairn_pass_in_toto_verify() {
    let Some(verify) = cairn_testkit::peers::require(
        "layout_and_links_by_cairn_pass_in_toto_verify",
        "venv/bin/in-toto-verify",
    ) else {
        return;
    };
    for rule in [KeyIdRule::Securesystemslib1, KeyIdRule::Legacy] {
        let dir = tempfile::tempdir().unwrap();
        let owner = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
        let owner_pub = dir.path().join("owner.pub");
        std::fs::write(&owner_pub, owner.public_key().to_spki_pem()).unwrap();
        let functionaries: Vec<PrivateKey> = [KeyType::Ed25519, KeyType::EcdsaP256, KeyType::Rsa]
            .into_iter()
            .map(|kt| PrivateKey::generate(kt).unwrap().with_key_id_rule(rule))
            .collect();
        let mut keys = serde_json::Map::new();
        let mut steps = Vec::new();
        for (i, f) in functionaries.iter().enumerate() {
            let id = f.key_id().to_string();
            keys.insert(id.clone(), f.public_key().to_layout_key_json(rule));
            steps.push(json!({
                "_type": "step", "name": format!("step{i}"), "threshold": 1,
                "pubkeys": [id], "expected_command": ["make", "all"],
                "expected_materials": [], "expected_products": [["ALLOW", "*"]]
            }));
        }
        let mut layout = Metablock::unsigned(json!({
            "_type": "layout", "expires": "2099-01-01T00:00:00Z", "readme": "cairn interop",
            "keys": keys, "steps": steps, "inspect": []
        }));
        metablock::sign(&mut layout, &owner).unwrap();
        let layout_path = dir.path().join("root.layout");
        std::fs::write(&layout_path, layout.to_pretty_json()).unwrap();
        let links = dir.path().join("links");
        std::fs::create_dir(&links).unwrap();
        for (i, f) in functionaries.iter().enumerate() {
            let mut link = Metablock::unsigned(json!({
                "_type": "link", "name": format!("step{i}"), "command": ["make", "all"],
                "materials": {}, "products": {"app": {"sha256": "52947cb78b91ad01fe81cd6aef42d1f6817e92b9e6936c1e5aabb7c98514f355"}},
                "byproducts": {}, "environment": {}
            }));
            metablock::sign(&mut link, f).unwrap();
            let name = format!("step{i}.{}.link", f.key_id().short(8));
            std::fs::write(links.join(name), link.to_pretty_json()).unwrap();
        }
        let run = || {
            Command::new(&verify)
                .current_dir(dir.path())
                .arg("--layout")
                .arg(&layout_path)
                .arg("--verification-keys")
                .arg(&owner_pub)
                .arg("--link-dir")
                .arg(&links)
                .output()
                .expect("run in-toto-verify")
        };
        let out = run();
        assert!(
            out.status.success(),
            "{rule}: in-toto-verify rejected cairn's supply chain:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // Tamper with one link's signed content: in-toto must now fail.
        let victim = std::fs::read_dir(&links)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let mut mb = Metablock::from_slice(&std::fs::read(&victim).unwrap()).unwrap();
        mb.signed["products"]["app"]["sha256"] = json!("0".repeat(64));
        std::fs::write(&victim, mb.to_pretty_json()).unwrap();
        assert!(!run().status.success(), "{rule}: tampered link accepted");
    }
}
