//! Trust material refreshed through TUF from the in-process stack's repository: the fetched
//! trusted root verifies the stack's bundles; a tampered target, a bootstrap root that did not
//! sign the repository, and metadata expired at the given time are refused.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use cairn_sigstore::{
    Artifact, CertificatePolicy, Error, Identity, IdentityToken, Payload, Retry, Service, Services,
    SignOptions, SignerPolicy, TokenOrigin, TrustConfig, TufSource, VerifyOptions,
    refresh_through_tuf, sign_keyless, verify_bundle,
};
use cairn_testkit::sigstore::Stack;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn retry() -> Retry {
    Retry {
        attempts: 1,
        backoff: Duration::from_millis(5),
        timeout: Duration::from_secs(10),
    }
}

#[test]
fn refreshed_trust_material_verifies_the_stacks_bundles() {
    let stack = Stack::start();
    let root = stack.tuf_root();
    let url = stack.tuf_url();
    let (trust, json) = refresh_through_tuf(
        TufSource::Custom {
            url: &url,
            root: &root,
        },
        &retry(),
        now(),
    )
    .unwrap();
    // The written ClientTrustConfig loads as --trust-config would load it.
    let reloaded = TrustConfig::from_json(&json, None).unwrap();
    let services = Services::from_signing_config(reloaded.signing_config.as_ref().unwrap());
    assert_eq!(services.fulcio.as_deref(), Some(stack.url.as_str()));
    assert_eq!(services.tsa, Some(stack.tsa_url()));

    let token = IdentityToken::from_jwt(
        &stack.token("dev@cairn.test", "sigstore", 600),
        TokenOrigin::Explicit,
    )
    .unwrap();
    let signed = sign_keyless(
        &services,
        &trust.trusted_root,
        &token,
        Payload::Blob(b"refreshed"),
        &SignOptions {
            retry: retry(),
            timestamp: true,
            tlog_upload: true,
            now: now(),
        },
    )
    .unwrap();
    let v = verify_bundle(
        &signed.json,
        Artifact::Bytes(b"refreshed"),
        &SignerPolicy::Certificate(CertificatePolicy::new(
            Identity::exact("dev@cairn.test"),
            stack.issuer(),
        )),
        &reloaded.trusted_root,
        VerifyOptions {
            now: now() + 60,
            allow_missing_tlog: false,
        },
    )
    .unwrap();
    assert!(v.verified, "{v:?}");
    assert_eq!(v.signing_times.len(), 2);
}

fn refused(stack: &Stack, root: &[u8], at: i64) -> String {
    let url = stack.tuf_url();
    match refresh_through_tuf(TufSource::Custom { url: &url, root }, &retry(), at) {
        Err(
            e @ Error::Service {
                service: Service::Tuf,
                ..
            },
        ) => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                text.push_str(": ");
                text.push_str(&s.to_string());
                source = s.source();
            }
            text
        }
        other => panic!("expected a TUF failure, got {other:?}"),
    }
}

#[test]
fn tampered_unsigned_or_expired_material_is_refused() {
    let stack = Stack::start();
    let root = stack.tuf_root();
    // A target that does not match its hash in the signed targets metadata.
    stack
        .faults
        .tuf_tamper_target
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let why = refused(&stack, &root, now());
    assert!(why.contains("sha256 mismatch"), "{why}");
    stack
        .faults
        .tuf_tamper_target
        .store(false, std::sync::atomic::Ordering::SeqCst);
    // A bootstrap root whose keys did not sign this repository.
    let other = Stack::start();
    let why = refused(&stack, &other.tuf_root(), now());
    assert!(why.contains("signature threshold not met"), "{why}");
    // Metadata expired at the time given (two years on).
    let why = refused(&stack, &root, now() + 2 * 365 * 86400);
    assert!(why.contains("expired"), "{why}");
    // And the honest repository still works afterwards.
    let url = stack.tuf_url();
    assert!(
        refresh_through_tuf(
            TufSource::Custom {
                url: &url,
                root: &root
            },
            &retry(),
            now()
        )
        .is_ok()
    );
}
