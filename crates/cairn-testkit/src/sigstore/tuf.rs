//! A TUF repository (spec 1.0, consistent snapshots) publishing the stack's `trusted_root.json`
//! and `signing_config.v0.2.json`, as Sigstore's TUF CDN does: `1.root.json`, `timestamp.json`,
//! `1.snapshot.json`, `1.targets.json` and `targets/<sha256>.<name>`, every role signed (threshold
//! 1) by one ECDSA P-256 key over the OLPC canonical JSON of `signed`.

use std::collections::HashMap;

use p256::ecdsa::{Signature, SigningKey, signature::Signer};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::x509;

/// The repository's files by path below its base URL.
pub(crate) struct Repo {
    pub files: HashMap<String, Vec<u8>>,
}

fn signed(key: &SigningKey, keyid: &str, body: Value) -> Vec<u8> {
    let canonical = cairn_model::canonical::to_vec(&body).expect("canonical JSON");
    let sig: Signature = key.sign(&canonical);
    let doc = json!({
        "signatures": [{"keyid": keyid, "sig": hex::encode(sig.to_der().as_bytes())}],
        "signed": body
    });
    serde_json::to_vec_pretty(&doc).expect("JSON")
}

impl Repo {
    /// Builds the repository for `targets` (name, bytes), metadata expiring at `expires`
    /// (RFC 3339).
    pub(crate) fn build(key: &SigningKey, targets: &[(&str, Vec<u8>)], expires: &str) -> Self {
        let public = x509::pem("PUBLIC KEY", &x509::spki_der(key.verifying_key()));
        let key_json = json!({"keytype": "ecdsa", "scheme": "ecdsa-sha2-nistp256", "keyval": {"public": public}});
        let keyid = hex::encode(Sha256::digest(
            cairn_model::canonical::to_vec(&key_json).expect("canonical"),
        ));
        let role = json!({"keyids": [keyid], "threshold": 1});
        let mut files = HashMap::new();
        let root = signed(
            key,
            &keyid,
            json!({
                "_type": "root", "spec_version": "1.0", "version": 1, "expires": expires,
                "consistent_snapshot": true,
                "keys": {keyid.clone(): key_json},
                "roles": {"root": role, "snapshot": role, "targets": role, "timestamp": role}
            }),
        );
        files.insert("1.root.json".to_string(), root);
        let mut listed = serde_json::Map::new();
        for (name, bytes) in targets {
            let sha = hex::encode(Sha256::digest(bytes));
            listed.insert(
                name.to_string(),
                json!({"length": bytes.len(), "hashes": {"sha256": sha}}),
            );
            files.insert(format!("targets/{sha}.{name}"), bytes.clone());
        }
        let targets_doc = signed(
            key,
            &keyid,
            json!({"_type": "targets", "spec_version": "1.0", "version": 1, "expires": expires,
                   "targets": listed}),
        );
        files.insert("1.targets.json".to_string(), targets_doc);
        let snapshot = signed(
            key,
            &keyid,
            json!({"_type": "snapshot", "spec_version": "1.0", "version": 1, "expires": expires,
                   "meta": {"targets.json": {"version": 1}}}),
        );
        files.insert("1.snapshot.json".to_string(), snapshot);
        let timestamp = signed(
            key,
            &keyid,
            json!({"_type": "timestamp", "spec_version": "1.0", "version": 1, "expires": expires,
                   "meta": {"snapshot.json": {"version": 1}}}),
        );
        files.insert("timestamp.json".to_string(), timestamp);
        Self { files }
    }
}
