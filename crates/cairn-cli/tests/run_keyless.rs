//! `cairn run --keyless` and `cairn record start|stop --keyless` end to end against the
//! in-process Sigstore stack (Fulcio, Rekor, OIDC; no network): the link is a Sigstore bundle
//! (v0.3) of the DSSE-signed link Statement, named `<step>.<keyid8>.link` after cairn's key id
//! of the ephemeral signing key, and it verifies with the Sigstore library path and with
//! `cairn verify artifact` against the products.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use cairn_sigstore::{
    Artifact, CertificatePolicy, Identity, SignerPolicy, TrustConfig, VerifyOptions, verify_bundle,
};
use cairn_testkit::sigstore::Stack;
use serde_json::Value;

const IDENTITY: &str = "builder@cairn.test";

fn cairn(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cairn"));
    c.current_dir(dir);
    for var in [
        "CAIRN_IDENTITY_TOKEN",
        "CAIRN_IDENTITY_TOKEN_FILE",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "SIGSTORE_ID_TOKEN",
        "CAIRN_KEY",
        "CAIRN_KEYLESS",
        "CAIRN_BROWSER",
        "CAIRN_JSON",
        "CAIRN_LINK_FORMAT",
    ] {
        c.env_remove(var);
    }
    c
}

use cairn_testkit::show;

struct Env {
    stack: Stack,
    dir: tempfile::TempDir,
    trust: PathBuf,
    token: String,
}

fn env() -> Env {
    let stack = Stack::start();
    let dir = tempfile::tempdir().unwrap();
    let trust = dir.path().join("trust_config.json");
    std::fs::write(&trust, serde_json::to_vec(&stack.trust_config()).unwrap()).unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::create_dir_all(dir.path().join("dist")).unwrap();
    std::fs::create_dir_all(dir.path().join("out")).unwrap();
    std::fs::write(dir.path().join("src/a.txt"), b"alpha\n").unwrap();
    let token = stack.token(IDENTITY, "sigstore", 600);
    Env {
        stack,
        dir,
        trust,
        token,
    }
}

impl Env {
    fn keyless_args(&self) -> Vec<String> {
        vec![
            "--keyless".into(),
            "--no-interactive".into(),
            "--identity-token".into(),
            self.token.clone(),
            "--trust-config".into(),
            self.trust.to_str().unwrap().into(),
            "--out".into(),
            "out".into(),
        ]
    }

    fn out_files(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("out"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    }

    /// Library verification, as `cairn verify artifact` does it: the bundle against the
    /// product's SHA-256, the certificate identity and issuer, the stack's trusted root.
    fn verify(&self, bundle: &[u8], product: &[u8], identity: &str) -> bool {
        let trust = TrustConfig::from_file(&self.trust, None).unwrap();
        let digest: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(product).into();
        let policy = SignerPolicy::Certificate(CertificatePolicy::new(
            Identity::exact(identity),
            self.stack.issuer(),
        ));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let verdict = verify_bundle(
            bundle,
            Artifact::Sha256(digest),
            &policy,
            &trust.trusted_root,
            VerifyOptions {
                now: now + 60,
                allow_missing_tlog: false,
            },
        )
        .unwrap();
        verdict.verified
    }
}

/// cairn's key id of the bundle's certificate key, computed the way `cairn key id` computes
/// it for a key file: the certificate's public key written as a PEM file and asked about.
fn key_id_via_cli(dir: &Path, bundle: &Value) -> String {
    use x509_cert::der::{Decode, Encode};
    let raw = bundle["verificationMaterial"]["certificate"]["rawBytes"]
        .as_str()
        .unwrap();
    let der = base64::engine::general_purpose::STANDARD
        .decode(raw)
        .unwrap();
    let cert = x509_cert::Certificate::from_der(&der).unwrap();
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .unwrap();
    let public = cairn_sign::PublicKey::from_spki_der(&spki).unwrap();
    let pem = dir.join("ephemeral.pub");
    std::fs::write(&pem, public.to_spki_pem()).unwrap();
    let o = cairn(dir).args(["key", "id"]).arg(&pem).output().unwrap();
    assert!(o.status.success(), "{}", show(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    text.split_whitespace()
        .find(|w| w.len() == 64 && w.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(|| panic!("no key id in {text:?}"))
        .to_owned()
}

fn statement(bundle: &Value) -> Value {
    let env = &bundle["dsseEnvelope"];
    assert_eq!(env["payloadType"], "application/vnd.in-toto+json");
    let payload = base64::engine::general_purpose::STANDARD
        .decode(env["payload"].as_str().unwrap())
        .unwrap();
    serde_json::from_slice(&payload).unwrap()
}

fn check_link(e: &Env, step: &str, product: &[u8]) -> Value {
    let files = e.out_files();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_str().unwrap().to_owned();
    let bytes = std::fs::read(&files[0]).unwrap();
    let bundle: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        bundle["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    // `<step>.<first 8 hex of cairn's key id of the ephemeral key>.link`.
    let keyid = key_id_via_cli(e.dir.path(), &bundle);
    assert_eq!(name, format!("{step}.{}.link", &keyid[..8]));
    let st = statement(&bundle);
    assert_eq!(st["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(
        st["predicateType"],
        "https://in-toto.io/attestation/link/v0.3"
    );
    assert_eq!(st["predicate"]["name"], step);
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(product));
    assert_eq!(st["subject"][0]["name"], "dist/a.txt");
    assert_eq!(st["subject"][0]["digest"]["sha256"], digest);
    assert!(
        bundle["verificationMaterial"]["tlogEntries"][0]["logIndex"].is_string()
            || bundle["verificationMaterial"]["tlogEntries"][0]["logIndex"].is_number()
    );
    // Verifies for the signer, and for nobody else.
    assert!(e.verify(&bytes, product, IDENTITY));
    assert!(!e.verify(&bytes, product, "someone-else@cairn.test"));
    assert!(!e.verify(&bytes, b"other bytes", IDENTITY));
    bundle
}

#[test]
fn run_keyless_writes_a_verifiable_bundle_named_after_the_ephemeral_key() {
    let e = env();
    let o = cairn(e.dir.path())
        .args(["run", "--step", "build", "-m", "src", "-p", "dist"])
        .args(e.keyless_args())
        .args(["--", "cp", "src/a.txt", "dist/a.txt"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(&format!("signed keyless as {IDENTITY}")),
        "{}",
        show(&o)
    );
    let bundle = check_link(&e, "build", b"alpha\n");
    let st = statement(&bundle);
    assert_eq!(st["predicate"]["command"][0], "cp");
    assert_eq!(
        st["predicate"]["materials"][0]["digest"]["sha256"],
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"alpha\n"))
    );
    assert_eq!(e.stack.log_size(), 1);

    // The same check through the CLI: the product verifies against the link bundle.
    let link = e.out_files().remove(0);
    let o = cairn(e.dir.path())
        .args(["verify", "artifact", "dist/a.txt", "--bundle"])
        .arg(&link)
        .args(["--certificate-identity", IDENTITY])
        .args(["--certificate-oidc-issuer", &e.stack.issuer()])
        .arg("--trust-config")
        .arg(&e.trust)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
}

#[test]
fn record_start_stop_keyless() {
    let e = env();
    let o = cairn(e.dir.path())
        .args(["record", "start", "--step", "pkg", "-m", "src"])
        .args(e.keyless_args())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    // The state is unsigned (the ephemeral key exists only at stop) and hidden.
    assert!(e.dir.path().join("out/.pkg.link-unfinished").exists());
    assert_eq!(e.stack.log_size(), 0);
    std::fs::write(e.dir.path().join("dist/a.txt"), b"alpha\n").unwrap();
    let o = cairn(e.dir.path())
        .args(["record", "stop", "--step", "pkg", "-p", "dist"])
        .args(e.keyless_args())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let files: Vec<PathBuf> = e.out_files();
    assert!(!e.dir.path().join("out/.pkg.link-unfinished").exists());
    assert_eq!(files.len(), 1, "{files:?}");
    let bundle = check_link(&e, "pkg", b"alpha\n");
    assert_eq!(
        statement(&bundle)["predicate"]["command"],
        Value::Array(vec![])
    );
}

#[test]
fn keyless_refusals_leave_no_link() {
    let e = env();
    // Legacy metablocks have no keyless form.
    let o = cairn(e.dir.path())
        .args(["run", "--step", "x", "-p", "dist", "--format", "legacy"])
        .args(e.keyless_args())
        .args(["--", "true"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--keyless writes a Sigstore bundle"));
    // A bundle is checked against a subject: no products, no keyless link.
    let o = cairn(e.dir.path())
        .args(["run", "--step", "x", "-m", "src", "--no-command"])
        .args(e.keyless_args())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("needs at least one product"));
    // Products named but none recorded (empty directory): refused after recording.
    let o = cairn(e.dir.path())
        .args(["run", "--step", "x", "-p", "dist", "--no-command"])
        .args(e.keyless_args())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    // --key and --keyless together.
    let o = cairn(e.dir.path())
        .args([
            "run",
            "--step",
            "x",
            "-p",
            "dist",
            "--key",
            "k.pem",
            "--no-command",
        ])
        .args(e.keyless_args())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    // A token for another audience: the service refuses; still no link.
    std::fs::write(e.dir.path().join("dist/a.txt"), b"alpha\n").unwrap();
    let bad = e.stack.token(IDENTITY, "not-sigstore", 600);
    let o = cairn(e.dir.path())
        .args(["run", "--step", "x", "-p", "dist", "--no-command"])
        .args(e.keyless_args())
        .args(["--identity-token", &bad])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(e.out_files().is_empty(), "{:?}", e.out_files());
    assert_eq!(e.stack.log_size(), 0);
}
