#![allow(clippy::unwrap_used)]
//! The sigstore-conformance `bundle-verify` suite: every case, valid ones accepted, `_fail` ones
//! rejected, once with the artifact's bytes and once with its SHA-256 only (as upstream runs it).

use std::path::Path;

use cairn_sigstore::{
    Artifact, CertificatePolicy, Identity, Instance, PublicKey, SignerPolicy, TrustedRoot,
    VerifyOptions, verify_bundle,
};
use sha2::Digest;

const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// 2026-11-28: after every bundle in the suite was made.
const NOW: i64 = 1_795_824_000;

struct Outcome {
    name: String,
    expect_ok: bool,
    bytes_ok: Result<bool, String>,
    digest_ok: Result<bool, String>,
    reason: String,
}

fn run_case(dir: &Path) -> Outcome {
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    let expect_ok = !name.ends_with("_fail");
    let read_opt = |f: &str| {
        std::fs::read_to_string(dir.join(f))
            .ok()
            .map(|s| s.trim().to_string())
    };
    let artifact = std::fs::read(dir.join("artifact"))
        .unwrap_or_else(|_| std::fs::read(dir.parent().unwrap().join("a.txt")).unwrap());
    let bundle = std::fs::read(dir.join("bundle.sigstore.json")).unwrap();
    let root = if dir.join("trusted_root.json").exists() {
        TrustedRoot::from_file(&dir.join("trusted_root.json"))
    } else {
        Ok(TrustedRoot::embedded(Instance::PublicGood))
    };
    let signer = match read_opt("key.pub").filter(|k| !k.is_empty()) {
        // A key that does not parse (managed-key-wrong-key_fail) must reject, not panic.
        Some(pem) => PublicKey::from_pem(&pem)
            .map(SignerPolicy::Key)
            .map_err(|e| e.to_string()),
        None => Ok(SignerPolicy::Certificate(CertificatePolicy::new(
            Identity::exact(read_opt("identity").unwrap_or_else(|| DEFAULT_IDENTITY.into())),
            read_opt("issuer").unwrap_or_else(|| DEFAULT_ISSUER.into()),
        ))),
    };
    let opts = VerifyOptions {
        now: NOW,
        allow_missing_tlog: false,
    };
    let mut reason = String::new();
    let mut run = |a: Artifact<'_>| -> Result<bool, String> {
        let root = root.as_ref().map_err(|e| e.to_string())?;
        let signer = signer.as_ref().map_err(|e| e.clone())?;
        match verify_bundle(&bundle, a, signer, root, opts) {
            Ok(v) => {
                if let Some(f) = v.first_failure() {
                    reason = format!("{:?}: {}", f.check, f.detail);
                }
                Ok(v.verified)
            }
            Err(e) => Err(format!(
                "{e}: {:?}",
                std::error::Error::source(&e).map(|s| s.to_string())
            )),
        }
    };
    let bytes_ok = run(Artifact::Bytes(&artifact));
    let digest: [u8; 32] = sha2::Sha256::digest(&artifact).into();
    let digest_ok = run(Artifact::Sha256(digest));
    Outcome {
        name,
        expect_ok,
        bytes_ok,
        digest_ok,
        reason,
    }
}

#[test]
fn sigstore_conformance_bundle_verify() {
    let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/sigstore-conformance/bundle-verify");
    let mut dirs: Vec<_> = std::fs::read_dir(&base)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert_eq!(dirs.len(), 70, "the suite has 70 cases");
    let mut wrong = Vec::new();
    let (mut valid, mut invalid) = (0, 0);
    for dir in &dirs {
        let o = run_case(dir);
        if o.expect_ok {
            valid += 1
        } else {
            invalid += 1
        }
        for (mode, got) in [("bytes", &o.bytes_ok), ("digest", &o.digest_ok)] {
            let accepted = matches!(got, Ok(true));
            if accepted != o.expect_ok {
                wrong.push(format!(
                    "{} [{mode}]: expected {}, got {:?} {}",
                    o.name,
                    if o.expect_ok { "accept" } else { "reject" },
                    got,
                    o.reason
                ));
            }
        }
        if !o.expect_ok {
            eprintln!(
                "{}: rejected: {}",
                o.name,
                if o.reason.is_empty() {
                    format!("{:?}", o.bytes_ok)
                } else {
                    o.reason.clone()
                }
            );
        }
    }
    assert_eq!((valid, invalid), (21, 49));
    assert!(
        wrong.is_empty(),
        "{} wrong outcomes:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
