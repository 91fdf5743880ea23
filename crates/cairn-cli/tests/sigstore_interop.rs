//! Interop on loopback with the @sigstore/mock stack (Fulcio, CT log, Rekor v1, TSA): bundles
//! cairn signs verify with sigstore-python 4.5.1 and sigstore-js; bundles they sign verify with
//! cairn; a tampered artifact is rejected by all three.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cairn_testkit::peers;
use cairn_testkit::sigstore::JsMockStack;

fn cairn() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
}

fn ok(out: &Output) -> bool {
    out.status.success()
}

use cairn_testkit::show;

struct Peers {
    python: PathBuf,
    node_dir: PathBuf,
    js_cli: PathBuf,
    js_verify: PathBuf,
}

fn peers(test: &str) -> Option<Peers> {
    let python = peers::require(test, "venv/bin/sigstore")?;
    let js_cli = peers::require(test, "node/node_modules/.bin/sigstore")?;
    Some(Peers {
        python,
        node_dir: peers::peers_dir().join("node"),
        js_cli,
        js_verify: PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../scripts/sigstore-js-verify.mjs"),
    })
}

struct Ctx<'a> {
    stack: &'a JsMockStack,
    peers: &'a Peers,
    identity: String,
    issuer: String,
}

impl Ctx<'_> {
    fn cairn_verify(&self, file: &Path, bundle: &Path) -> Output {
        cairn()
            .args(["verify", "artifact"])
            .arg(file)
            .arg("--bundle")
            .arg(bundle)
            .args([
                "--certificate-identity",
                &self.identity,
                "--certificate-oidc-issuer",
                &self.issuer,
            ])
            .arg("--trusted-root")
            .arg(self.stack.file("trusted_root.json"))
            .arg("--offline")
            .output()
            .unwrap()
    }

    fn python_verify(&self, file: &Path, bundle: &Path) -> Output {
        Command::new(&self.peers.python)
            .arg("--trust-config")
            .arg(self.stack.file("trust_config.json"))
            .args(["verify", "identity", "--offline", "--bundle"])
            .arg(bundle)
            .args([
                "--cert-identity",
                &self.identity,
                "--cert-oidc-issuer",
                &self.issuer,
            ])
            .arg(file)
            .output()
            .unwrap()
    }

    fn js_verify(&self, file: Option<&Path>, bundle: &Path) -> Output {
        let mut cmd = Command::new("node");
        cmd.arg(&self.peers.js_verify)
            .arg(self.stack.file("trusted_root.json"))
            .arg(bundle);
        if let Some(f) = file {
            cmd.arg(f);
        }
        cmd.args(["--identity", &self.identity, "--issuer", &self.issuer])
            .env("SIGSTORE_NODE_DIR", &self.peers.node_dir)
            .output()
            .unwrap()
    }
}

#[test]
fn sigstore_interop_with_python_and_js() {
    let test = "sigstore_interop_with_python_and_js";
    let Some(peers) = peers(test) else { return };
    let Some(stack) = JsMockStack::start(test) else {
        return;
    };
    let token = stack.token();
    let claims: serde_json::Value = {
        use base64::Engine;
        let part = token.split('.').nth(1).unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .unwrap(),
        )
        .unwrap()
    };
    let ctx = Ctx {
        stack: &stack,
        peers: &peers,
        identity: claims["email"]
            .as_str()
            .or(claims["sub"].as_str())
            .unwrap()
            .to_string(),
        issuer: claims["iss"].as_str().unwrap().to_string(),
    };
    let dir = tempfile::tempdir().unwrap();
    let blob = dir.path().join("blob.bin");
    std::fs::write(&blob, b"interop payload\n".repeat(4096)).unwrap();
    let tampered = dir.path().join("tampered.bin");
    let mut t = std::fs::read(&blob).unwrap();
    t[10] ^= 0x20;
    std::fs::write(&tampered, &t).unwrap();

    // 1. cairn signs a blob; all three verify it and reject the tampered file.
    let bundle = dir.path().join("cairn.sigstore.json");
    let out = cairn()
        .args(["sign"])
        .arg(&blob)
        .args(["--keyless", "--identity-token", &token, "--trust-config"])
        .arg(stack.file("trust_config.json"))
        .arg("--bundle")
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(ok(&out), "cairn sign: {}", show(&out));
    for (who, good, bad) in [
        (
            "cairn",
            ctx.cairn_verify(&blob, &bundle),
            ctx.cairn_verify(&tampered, &bundle),
        ),
        (
            "sigstore-python",
            ctx.python_verify(&blob, &bundle),
            ctx.python_verify(&tampered, &bundle),
        ),
        (
            "sigstore-js",
            ctx.js_verify(Some(&blob), &bundle),
            ctx.js_verify(Some(&tampered), &bundle),
        ),
    ] {
        assert!(ok(&good), "{who} rejected cairn's bundle: {}", show(&good));
        assert!(
            !ok(&bad),
            "{who} accepted a tampered artifact: {}",
            show(&bad)
        );
    }

    // 2. cairn attests (DSSE, Rekor dsse entry); sigstore-python and sigstore-js verify.
    let predicate = dir.path().join("predicate.json");
    std::fs::write(
        &predicate,
        br#"{"buildType":"https://example.com/build/v1","builder":{"id":"https://example.com/b"}}"#,
    )
    .unwrap();
    let att = dir.path().join("cairn.intoto.sigstore.json");
    let out = cairn()
        .args(["attest"])
        .arg(&predicate)
        .args(["--type", "https://example.com/predicate/v1", "--subject"])
        .arg(&blob)
        .args(["--keyless", "--identity-token", &token, "--trust-config"])
        .arg(stack.file("trust_config.json"))
        .arg("--bundle")
        .arg(&att)
        .output()
        .unwrap();
    assert!(ok(&out), "cairn attest: {}", show(&out));
    let out = ctx.cairn_verify(&blob, &att);
    assert!(ok(&out), "cairn: {}", show(&out));
    assert!(!ok(&ctx.cairn_verify(&tampered, &att)));
    let out = ctx.python_verify(&blob, &att);
    assert!(
        ok(&out),
        "sigstore-python rejected cairn's attestation: {}",
        show(&out)
    );
    assert!(!ok(&ctx.python_verify(&tampered, &att)));
    let out = ctx.js_verify(None, &att);
    assert!(
        ok(&out),
        "sigstore-js rejected cairn's attestation: {}",
        show(&out)
    );

    // 3. sigstore-python signs; cairn verifies and rejects the tampered file. The mock's TSA is
    // left out of this trust config: its RFC 3161 tokens carry fractional seconds in genTime
    // (allowed by RFC 3161), which the DER parser of sigstore-tsa 0.15.1 refuses; see
    // docs/sigstore.md. Sigstore's own TSA writes whole seconds.
    let mut tc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(stack.file("trust_config.json")).unwrap()).unwrap();
    tc["signingConfig"]["tsaUrls"] = serde_json::json!([]);
    let tc_path = dir.path().join("trust_config_no_tsa.json");
    std::fs::write(&tc_path, serde_json::to_vec(&tc).unwrap()).unwrap();
    let py_bundle = dir.path().join("python.sigstore.json");
    let out = Command::new(&peers.python)
        .arg("--trust-config")
        .arg(&tc_path)
        .args(["sign", "--identity-token", &token, "--bundle"])
        .arg(&py_bundle)
        .arg(&blob)
        .output()
        .unwrap();
    assert!(ok(&out), "sigstore-python sign: {}", show(&out));
    let out = ctx.cairn_verify(&blob, &py_bundle);
    assert!(
        ok(&out),
        "cairn rejected sigstore-python's bundle: {}",
        show(&out)
    );
    assert!(!ok(&ctx.cairn_verify(&tampered, &py_bundle)));

    // 4. sigstore-js attests over a statement about the blob; cairn verifies with the subject.
    use sha2::Digest;
    let digest = hex::encode(sha2::Sha256::digest(std::fs::read(&blob).unwrap()));
    let statement = dir.path().join("statement.json");
    std::fs::write(
        &statement,
        serde_json::json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "blob.bin", "digest": {"sha256": digest}}],
            "predicateType": "https://example.com/predicate/v1",
            "predicate": {}
        })
        .to_string(),
    )
    .unwrap();
    let js_bundle = dir.path().join("js.sigstore.json");
    let out = Command::new(&peers.js_cli)
        .arg("attest")
        .arg(&statement)
        .args([
            "--fulcio-url",
            &stack.url,
            "--rekor-url",
            &stack.url,
            "--tlog-upload",
            "-o",
        ])
        .arg(&js_bundle)
        .env("CI", "true")
        .env("SIGSTORE_ID_TOKEN", &token)
        .env("SIGSTORE_NODE_DIR", &peers.node_dir)
        .output()
        .unwrap();
    assert!(
        ok(&out),
        "sigstore-js attest: {}",
        show(&out).chars().take(4000).collect::<String>()
    );
    let out = ctx.cairn_verify(&blob, &js_bundle);
    assert!(
        ok(&out),
        "cairn rejected sigstore-js's bundle: {}",
        show(&out)
    );
    assert!(!ok(&ctx.cairn_verify(&tampered, &js_bundle)));
}

/// RFC 3161 timestamps across implementations: the @sigstore/mock TSA (whole-second genTime, as
/// Sigstore's production TSA writes it) timestamps cairn's and sigstore-python's bundles, and each
/// side verifies the other's offline; cairn's in-process TSA (cairn-testkit) timestamps a bundle
/// that sigstore-python verifies, which checks the testkit TSA against an independent parser.
#[test]
fn sigstore_tsa_interop_with_python_and_js() {
    let test = "sigstore_tsa_interop_with_python_and_js";
    let Some(peers) = peers(test) else { return };
    let Some(stack) = JsMockStack::start_with(test, &["--tsa-whole-seconds"]) else {
        return;
    };
    let token = stack.token();
    let claims: serde_json::Value = {
        use base64::Engine;
        let part = token.split('.').nth(1).unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .unwrap(),
        )
        .unwrap()
    };
    let ctx = Ctx {
        stack: &stack,
        peers: &peers,
        identity: claims["email"]
            .as_str()
            .or(claims["sub"].as_str())
            .unwrap()
            .to_string(),
        issuer: claims["iss"].as_str().unwrap().to_string(),
    };
    let dir = tempfile::tempdir().unwrap();
    let blob = dir.path().join("blob.bin");
    std::fs::write(&blob, b"timestamped interop payload\n".repeat(512)).unwrap();
    let timestamps = |bundle: &Path| {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(bundle).unwrap()).unwrap();
        v["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
            .as_array()
            .map_or(0, Vec::len)
    };

    // 1. cairn signs keyless with the signing config's TSA (the mock's); all three verify.
    let bundle = dir.path().join("cairn-tsa.sigstore.json");
    let out = cairn()
        .args(["sign"])
        .arg(&blob)
        .args([
            "--keyless",
            "--timestamp",
            "--identity-token",
            &token,
            "--trust-config",
        ])
        .arg(stack.file("trust_config.json"))
        .arg("--bundle")
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(ok(&out), "cairn sign --timestamp: {}", show(&out));
    assert_eq!(timestamps(&bundle), 1);
    for (who, out) in [
        ("cairn", ctx.cairn_verify(&blob, &bundle)),
        ("sigstore-python", ctx.python_verify(&blob, &bundle)),
        ("sigstore-js", ctx.js_verify(Some(&blob), &bundle)),
    ] {
        assert!(
            ok(&out),
            "{who} rejected cairn's timestamped bundle: {}",
            show(&out)
        );
    }

    // 2. sigstore-python signs with the mock's TSA (its signing config lists it); cairn verifies.
    let py_bundle = dir.path().join("python-tsa.sigstore.json");
    let out = Command::new(&peers.python)
        .arg("--trust-config")
        .arg(stack.file("trust_config.json"))
        .args(["sign", "--identity-token", &token, "--bundle"])
        .arg(&py_bundle)
        .arg(&blob)
        .output()
        .unwrap();
    assert!(ok(&out), "sigstore-python sign: {}", show(&out));
    assert_eq!(timestamps(&py_bundle), 1, "sigstore-python asked the TSA");
    let out = ctx.cairn_verify(&blob, &py_bundle);
    assert!(
        ok(&out),
        "cairn rejected sigstore-python's timestamped bundle: {}",
        show(&out)
    );

    // 3. The in-process stack's TSA, checked by sigstore-python.
    let local = cairn_testkit::sigstore::Stack::start();
    let tc = dir.path().join("local_trust_config.json");
    std::fs::write(&tc, serde_json::to_vec(&local.trust_config()).unwrap()).unwrap();
    let local_bundle = dir.path().join("local-tsa.sigstore.json");
    let local_token = local.token("dev@cairn.test", "sigstore", 600);
    let out = cairn()
        .args(["sign"])
        .arg(&blob)
        .args([
            "--keyless",
            "--timestamp",
            "--identity-token",
            &local_token,
            "--trust-config",
        ])
        .arg(&tc)
        .arg("--bundle")
        .arg(&local_bundle)
        .output()
        .unwrap();
    assert!(ok(&out), "cairn sign (in-process stack): {}", show(&out));
    assert_eq!(timestamps(&local_bundle), 1);
    let out = Command::new(&peers.python)
        .arg("--trust-config")
        .arg(&tc)
        .args(["verify", "identity", "--offline", "--bundle"])
        .arg(&local_bundle)
        .args([
            "--cert-identity",
            "dev@cairn.test",
            "--cert-oidc-issuer",
            &local.issuer(),
        ])
        .arg(&blob)
        .output()
        .unwrap();
    assert!(
        ok(&out),
        "sigstore-python rejected the in-process stack's timestamped bundle: {}",
        show(&out)
    );
}
