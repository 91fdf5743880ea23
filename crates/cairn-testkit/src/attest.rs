//! Signed attestation fixtures (feature `signing`): in-toto Statements and key-signed DSSE
//! Sigstore bundles logged in the in-process Rekor of a [`Stack`], as `cairn attest` would make
//! them, so tests can hand real, verifiable evidence to `cairn verify`, `attach` and `promote`.

use serde_json::{Value, json};

use crate::sigstore::Stack;

/// The DSSE payload type of in-toto Statements.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// The 32 bytes of a SHA-256 given as 64 hex digits (an `sha256:` prefix is allowed).
pub fn sha256_bytes(hex: &str) -> [u8; 32] {
    let hex = hex.strip_prefix("sha256:").unwrap_or(hex);
    let v = hex::decode(hex).expect("sha256 hex digits");
    v.try_into().expect("a SHA-256 is 32 bytes")
}

/// An in-toto Statement v1 (its JSON bytes) about one subject `name` with `sha256` (hex, with or
/// without the `sha256:` prefix).
pub fn statement(name: &str, sha256: &str, predicate_type: &str, predicate: &Value) -> Vec<u8> {
    let hex = sha256.strip_prefix("sha256:").unwrap_or(sha256);
    serde_json::to_vec(&json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": name, "digest": {"sha256": hex}}],
        "predicateType": predicate_type,
        "predicate": predicate,
    }))
    .expect("json")
}

/// A SLSA v1 provenance predicate from a GitHub release workflow (`acme/app`, tag `v1`) built by
/// `builder_id`.
pub fn slsa_provenance(builder_id: &str) -> Value {
    json!({
        "buildDefinition": {
            "buildType": "https://actions.github.io/buildtypes/workflow/v1",
            "externalParameters": {"workflow": {"ref": "refs/tags/v1", "repository": "https://github.com/acme/app", "path": ".github/workflows/release.yml"}},
            "resolvedDependencies": [{"uri": "git+https://github.com/acme/app@refs/tags/v1", "digest": {"gitCommit": "a".repeat(40)}}]
        },
        "runDetails": {"builder": {"id": builder_id}, "metadata": {"invocationId": "1"}}
    })
}

/// Signs `statement` (about a subject with SHA-256 `subject_sha256`) with `signer` into a DSSE
/// Sigstore bundle, uploaded to the stack's Rekor (no timestamp authority); returns the bundle
/// JSON. The signing time is now.
pub fn key_signed_dsse_bundle(
    stack: &Stack,
    signer: &dyn cairn_sign::Signer,
    statement: &[u8],
    subject_sha256: [u8; 32],
) -> Vec<u8> {
    let config = cairn_sigstore::SigningConfig::from_json(
        &serde_json::to_vec(&stack.signing_config()).expect("json"),
    )
    .expect("the stack's signing config parses");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    cairn_sigstore::sign_with_key(
        &cairn_sigstore::Services::from_signing_config(&config),
        signer,
        cairn_sigstore::Payload::Dsse {
            payload_type: IN_TOTO_PAYLOAD_TYPE,
            payload: statement,
            subject_sha256,
        },
        &cairn_sigstore::SignOptions {
            retry: Default::default(),
            timestamp: false,
            tlog_upload: true,
            now: i64::try_from(now).expect("seconds fit i64"),
        },
    )
    .expect("sign with the in-process stack")
    .json
}

/// [`key_signed_dsse_bundle`] over a fresh [`statement`] about `name` with `sha256`.
pub fn attestation_bundle(
    stack: &Stack,
    signer: &dyn cairn_sign::Signer,
    name: &str,
    sha256: &str,
    predicate_type: &str,
    predicate: &Value,
) -> Vec<u8> {
    let st = statement(name, sha256, predicate_type, predicate);
    key_signed_dsse_bundle(stack, signer, &st, sha256_bytes(sha256))
}
