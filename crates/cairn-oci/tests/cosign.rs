//! cosign v2 layers to Sigstore bundles (`cairn_oci::cosign::to_bundle`): the shape of what is
//! produced, and malformed annotations as errors (never panics, never a bundle). End-to-end
//! verification of converted layers is in `crates/cairn-cli/tests/cosign_tags.rs`.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cairn_oci::Descriptor;
use cairn_oci::bundle::SignerClaim;
use cairn_oci::cosign::{ConversionError, to_bundle};
use cairn_oci::discover::{EvidenceFormat, Found, Origin};
use serde_json::{Value, json};

fn found(format: EvidenceFormat, content: &[u8], ann: &[(&str, String)]) -> Found {
    let mut layer = Descriptor::for_bytes("application/vnd.dsse.envelope.v1+json", content);
    layer.annotations = ann
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect::<BTreeMap<_, _>>();
    Found {
        origin: Origin::CosignAttestationTag {
            tag: "sha256-00.att".into(),
        },
        manifest: layer.digest.clone(),
        layer,
        format,
        predicate_type: None,
        bundle: None,
        signer: SignerClaim::default(),
        verified: false,
        problem: None,
        content: content.to_vec(),
    }
}

fn rekor(body: &Value) -> String {
    json!({
        "SignedEntryTimestamp": STANDARD.encode(b"set"),
        "Payload": {
            "body": STANDARD.encode(serde_json::to_vec(body).expect("json")),
            "integratedTime": 1_700_000_000,
            "logIndex": 42,
            "logID": "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d",
        }
    })
    .to_string()
}

const ENVELOPE: &[u8] = br#"{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"","sig":"AAAA"}]}"#;

#[test]
fn att_with_rekor_bundle_becomes_a_v0_1_bundle_with_an_inclusion_promise() {
    let body = json!({"apiVersion": "0.0.2", "kind": "intoto", "spec": {}});
    let f = found(
        EvidenceFormat::DsseEnvelope,
        ENVELOPE,
        &[
            ("dev.cosignproject.cosign/signature", String::new()),
            ("dev.sigstore.cosign/bundle", rekor(&body)),
        ],
    );
    let c = to_bundle(&f).expect("converts");
    assert!(c.has_tlog_entry);
    assert_eq!(c.signed_payload, None);
    let b: Value = serde_json::from_slice(&c.bundle).expect("json");
    assert_eq!(
        b["mediaType"],
        "application/vnd.dev.sigstore.bundle+json;version=0.1"
    );
    let e = &b["verificationMaterial"]["tlogEntries"][0];
    assert_eq!(e["logIndex"], "42");
    assert_eq!(e["integratedTime"], "1700000000");
    assert_eq!(
        e["kindVersion"],
        json!({"kind": "intoto", "version": "0.0.2"})
    );
    assert_eq!(
        STANDARD
            .decode(e["logId"]["keyId"].as_str().expect("b64"))
            .expect("b64")[0],
        0xc0
    );
    assert_eq!(
        e["inclusionPromise"]["signedEntryTimestamp"],
        STANDARD.encode(b"set")
    );
    // Key signature (no certificate annotation): a public-key hint.
    assert!(b["verificationMaterial"]["publicKey"].is_object());
    // The envelope is carried as received.
    assert_eq!(
        b["dsseEnvelope"],
        serde_json::from_slice::<Value>(ENVELOPE).expect("json")
    );
}

#[test]
fn sig_becomes_a_message_signature_over_the_payload() {
    let payload = br#"{"critical":{"identity":{"docker-reference":"x"},"image":{"docker-manifest-digest":"sha256:00"},"type":"cosign container image signature"},"optional":null}"#;
    let f = found(
        EvidenceFormat::CosignSimpleSigning,
        payload,
        &[(
            "dev.cosignproject.cosign/signature",
            STANDARD.encode(b"sig"),
        )],
    );
    let c = to_bundle(&f).expect("converts");
    assert!(!c.has_tlog_entry);
    assert_eq!(c.signed_payload.as_deref(), Some(&payload[..]));
    let b: Value = serde_json::from_slice(&c.bundle).expect("json");
    assert_eq!(
        b["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    use sha2::Digest;
    assert_eq!(
        b["messageSignature"]["messageDigest"]["digest"],
        STANDARD.encode(sha2::Sha256::digest(payload))
    );
    assert_eq!(b["messageSignature"]["signature"], STANDARD.encode(b"sig"));
}

#[test]
fn timestamp_annotation_becomes_timestamp_verification_data() {
    let f = found(
        EvidenceFormat::DsseEnvelope,
        ENVELOPE,
        &[(
            "dev.sigstore.cosign/rfc3161timestamp",
            json!({"SignedRFC3161Timestamp": STANDARD.encode(b"tst")}).to_string(),
        )],
    );
    let c = to_bundle(&f).expect("converts");
    assert!(!c.has_tlog_entry);
    let b: Value = serde_json::from_slice(&c.bundle).expect("json");
    assert_eq!(
        b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]["signedTimestamp"],
        STANDARD.encode(b"tst")
    );
    assert_eq!(
        b["verificationMaterial"]["tlogEntries"],
        json!([]),
        "no log entry without a Rekor bundle annotation"
    );
}

#[test]
fn malformed_annotations_are_errors() {
    let sig = ("dev.cosignproject.cosign/signature", STANDARD.encode(b"s"));
    type Case<'a> = (EvidenceFormat, &'a [u8], Vec<(&'a str, String)>);
    let cases: Vec<Case> = vec![
        (EvidenceFormat::CosignSimpleSigning, b"{}", vec![]),
        (
            EvidenceFormat::CosignSimpleSigning,
            b"{}",
            vec![("dev.cosignproject.cosign/signature", "not base64!".into())],
        ),
        (EvidenceFormat::DsseEnvelope, b"not json", vec![]),
        (EvidenceFormat::DsseEnvelope, b"[1]", vec![]),
        (
            EvidenceFormat::DsseEnvelope,
            ENVELOPE,
            vec![("dev.sigstore.cosign/bundle", "{".into())],
        ),
        (
            EvidenceFormat::DsseEnvelope,
            ENVELOPE,
            vec![("dev.sigstore.cosign/bundle", rekor(&json!({"spec": {}})))],
        ),
        (
            EvidenceFormat::DsseEnvelope,
            ENVELOPE,
            vec![(
                "dev.sigstore.cosign/certificate",
                "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n".into(),
            )],
        ),
        (
            EvidenceFormat::DsseEnvelope,
            ENVELOPE,
            vec![("dev.sigstore.cosign/certificate", "garbage".into())],
        ),
        (
            EvidenceFormat::DsseEnvelope,
            ENVELOPE,
            vec![("dev.sigstore.cosign/rfc3161timestamp", "{}".into())],
        ),
        (EvidenceFormat::SigstoreBundle, b"{}", vec![sig.clone()]),
    ];
    for (i, (format, content, ann)) in cases.into_iter().enumerate() {
        let err = to_bundle(&found(format, content, &ann))
            .err()
            .unwrap_or_else(|| panic!("case {i} converted"));
        let text = err.to_string();
        assert!(!text.is_empty(), "case {i}");
        if i == 0 {
            assert!(matches!(err, ConversionError::MissingSignature), "{err}");
        }
    }
}
