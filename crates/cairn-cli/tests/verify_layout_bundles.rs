//! `cairn verify layout --trusted-root`: links in Sigstore bundles signed keyless through the
//! in-process Sigstore stack, authorised by a step's certificate identity.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use cairn_model::Link;
use cairn_model::digest::DigestSet;
use cairn_model::dsse::IN_TOTO_PAYLOAD_TYPE;
use cairn_model::metablock::Metablock;
use cairn_sign::{KeyType, PrivateKey};
use cairn_sigstore::{
    IdentityToken, Payload, Retry, Services, SignOptions, TokenOrigin, TrustConfig, sign_keyless,
};
use cairn_testkit::sigstore::Stack;
use serde_json::{Value, json};

use cairn_testkit::show;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn cairn(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .current_dir(dir)
        .env_remove("CAIRN_TRUSTED_ROOT")
        .args([
            "verify",
            "layout",
            "root.layout",
            "--layout-key",
            "owner.pub",
        ])
        .args(["--links", ".", "--no-inspection-links", "--json"])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn keyless_bundle_links_need_the_trusted_root_they_chain_to() {
    let stack = Stack::start();
    let trust =
        TrustConfig::from_json(&serde_json::to_vec(&stack.trust_config()).unwrap(), None).unwrap();
    let services = Services::from_signing_config(trust.signing_config.as_ref().unwrap());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("trusted_root.json"),
        serde_json::to_vec(&stack.trusted_root()).unwrap(),
    )
    .unwrap();

    // The layout: one step whose functionary is a certificate identity.
    let owner = PrivateKey::generate(KeyType::Ed25519).unwrap();
    std::fs::write(
        dir.path().join("owner.pub"),
        owner.public_key().to_spki_pem(),
    )
    .unwrap();
    let step = json!({"_type": "step", "name": "build", "threshold": 1, "pubkeys": [],
        "cert_constraints": [{"emails": ["builder@cairn.test"], "oidc_issuer": stack.issuer(),
                              "roots": ["*"]}],
        "expected_command": ["make"], "expected_materials": [],
        "expected_products": [["CREATE", "app.bin"], ["DISALLOW", "*"]]});
    let signed = json!({"_type": "layout", "expires": "2099-01-01T00:00:00Z", "readme": "",
                        "keys": {}, "steps": [step], "inspect": []});
    let mut mb = Metablock::unsigned(signed);
    cairn_sign::metablock::sign(&mut mb, &owner).unwrap();
    std::fs::write(dir.path().join("root.layout"), mb.to_pretty_json()).unwrap();

    // The link, keyless, as `cairn run --keyless` files it.
    let mut link = Link::new("build");
    link.command = vec!["make".into()];
    link.products
        .insert("app.bin".into(), DigestSet::sha256(&[7; 32]));
    let statement = link.to_statement().to_vec();
    let token = IdentityToken::from_jwt(
        &stack.token("builder@cairn.test", "sigstore", 600),
        TokenOrigin::Explicit,
    )
    .unwrap();
    let bundle = sign_keyless(
        &services,
        &trust.trusted_root,
        &token,
        Payload::Dsse {
            payload_type: IN_TOTO_PAYLOAD_TYPE,
            payload: &statement,
            subject_sha256: [7; 32],
        },
        &SignOptions {
            retry: Retry {
                attempts: 3,
                backoff: Duration::from_millis(5),
                timeout: Duration::from_secs(10),
            },
            timestamp: false,
            tlog_upload: true,
            now: now(),
        },
    )
    .unwrap();
    std::fs::write(dir.path().join("build.0123abcd.link"), &bundle.json).unwrap();

    let out = cairn(dir.path(), &["--trusted-root", "trusted_root.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdict["outcome"], "pass");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("builder@cairn.test"),
        "{}",
        show(&out)
    );

    // The embedded public-good root does not know the stack's Fulcio CA: exit 1, with why.
    let out = cairn(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Sigstore bundle rejected"),
        "{}",
        show(&out)
    );

    // An unreadable trusted root is an error (exit 2), not a verdict.
    let out = cairn(dir.path(), &["--trusted-root", "missing.json"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot load trusted root"),
        "{}",
        show(&out)
    );
}

/// `cairn run --keyless` for two steps, then `cairn verify layout --trusted-root`: the chain
/// passes; re-recording the second step over a modified input fails at its MATCH rule.
#[test]
fn a_chain_recorded_with_run_keyless_verifies() {
    let stack = Stack::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("trust_config.json"),
        serde_json::to_vec(&stack.trust_config()).unwrap(),
    )
    .unwrap();
    std::fs::write(
        d.join("trusted_root.json"),
        serde_json::to_vec(&stack.trusted_root()).unwrap(),
    )
    .unwrap();
    for sub in ["src", "dist", "pkg", "links"] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
    }
    std::fs::write(d.join("src/a.txt"), b"alpha\n").unwrap();
    let run = |step: &str, identity: &str, io: [&str; 2], cmd: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .current_dir(d)
            .env_remove("CAIRN_KEY")
            .env_remove("CAIRN_LINK_FORMAT")
            .args(["run", "--step", step, "-m", io[0], "-p", io[1], "--keyless"])
            .args(["--no-interactive", "--identity-token"])
            .arg(stack.token(identity, "sigstore", 600))
            .args([
                "--trust-config",
                "trust_config.json",
                "--out",
                "links",
                "--",
            ])
            .args(cmd)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    };
    run(
        "build",
        "builder@cairn.test",
        ["src", "dist"],
        &["cp", "src/a.txt", "dist/a.txt"],
    );
    run(
        "package",
        "packager@cairn.test",
        ["dist", "pkg"],
        &["cp", "dist/a.txt", "pkg/a.txt"],
    );

    let owner = PrivateKey::generate(KeyType::Ed25519).unwrap();
    std::fs::write(d.join("links/owner.pub"), owner.public_key().to_spki_pem()).unwrap();
    let step = |name: &str, identity: &str, materials: Value, products: Value| {
        json!({"_type": "step", "name": name, "threshold": 1, "pubkeys": [],
               "cert_constraints": [{"emails": [identity], "oidc_issuer": stack.issuer(),
                                     "roots": ["*"]}],
               "expected_command": [], "expected_materials": materials,
               "expected_products": products})
    };
    let signed = json!({"_type": "layout", "expires": "2099-01-01T00:00:00Z", "readme": "",
    "keys": {}, "inspect": [], "steps": [
        step("build", "builder@cairn.test",
             json!([["ALLOW", "src/a.txt"], ["DISALLOW", "*"]]),
             json!([["CREATE", "dist/a.txt"], ["DISALLOW", "*"]])),
        step("package", "packager@cairn.test",
             json!([["MATCH", "dist/a.txt", "WITH", "PRODUCTS", "FROM", "build"], ["DISALLOW", "*"]]),
             json!([["CREATE", "pkg/a.txt"], ["DISALLOW", "*"]])),
    ]});
    let mut mb = Metablock::unsigned(signed);
    cairn_sign::metablock::sign(&mut mb, &owner).unwrap();
    std::fs::write(d.join("links/root.layout"), mb.to_pretty_json()).unwrap();

    let links = d.join("links");
    let out = cairn(&links, &["--trusted-root", "../trusted_root.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));

    // The package step re-recorded over a tampered input: its material no longer matches
    // what build produced.
    for entry in std::fs::read_dir(&links).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name.starts_with("package.") {
            std::fs::remove_file(path).unwrap();
        }
    }
    std::fs::write(d.join("dist/a.txt"), b"tampered\n").unwrap();
    std::fs::remove_file(d.join("pkg/a.txt")).unwrap();
    run(
        "package",
        "packager@cairn.test",
        ["dist", "pkg"],
        &["cp", "dist/a.txt", "pkg/a.txt"],
    );
    let out = cairn(&links, &["--trusted-root", "../trusted_root.json"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = serde_json::to_string(&verdict).unwrap();
    assert!(
        text.contains("steps.package.materials.rule[1]") && text.contains("dist/a.txt"),
        "{text}"
    );
}
