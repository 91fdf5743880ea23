//! Truth tables for every requirement kind, anchored identities, the slsa-verifier "wrong
//! signer claims a trusted builder" vector, and policy loading errors.

use std::path::Path;

use cairn_sign::{KeyType, PrivateKey, Signer as _};
use cairn_sigstore::{Payload, Services, SignOptions, TrustedRoot, sign_with_key};
use serde_json::{Value, json};

use super::*;
use crate::verdict::Outcome;

const DIGEST: [u8; 32] = [7u8; 32];
const OTHER: [u8; 32] = [9u8; 32];

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

fn key() -> PrivateKey {
    PrivateKey::generate(KeyType::EcdsaP256).unwrap()
}

fn pem(k: &PrivateKey) -> String {
    k.public_key().to_spki_pem()
}

fn statement(subject: [u8; 32], predicate_type: &str, predicate: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "app", "digest": {"sha256": hex::encode(subject)}}],
        "predicateType": predicate_type,
        "predicate": predicate,
    }))
    .unwrap()
}

fn attest(k: &PrivateKey, subject: [u8; 32], predicate_type: &str, predicate: Value) -> Vec<u8> {
    let payload = statement(subject, predicate_type, predicate);
    // Key-based bundles need a log entry (or a timestamp): the in-process Rekor provides it.
    sign_with_key(
        &stack().services,
        k,
        Payload::Dsse {
            payload_type: cairn_model::dsse::IN_TOTO_PAYLOAD_TYPE,
            payload: &payload,
            subject_sha256: subject,
        },
        &SignOptions {
            retry: Default::default(),
            timestamp: false,
            tlog_upload: true,
            now: now().timestamp(),
        },
    )
    .unwrap()
    .json
}

fn key_signer(name: &str, k: &PrivateKey) -> String {
    let body = pem(k)
        .lines()
        .map(|l| format!("      {l}"))
        .collect::<Vec<_>>()
        .join("\n");
    format!("  - name: {name}\n    keyPem: |\n{body}\n")
}

fn policy(signers: &str, requirements: &str) -> Policy {
    let text = format!("version: 1\nname: test\nsigners:\n{signers}requirements:\n{requirements}");
    Policy::from_yaml(text.as_bytes(), Path::new(".")).unwrap_or_else(|e| {
        panic!(
            "{text}\n{e}: {:?}",
            std::error::Error::source(&e).map(|s| s.to_string())
        )
    })
}

fn run(p: &Policy, bundles: Vec<Vec<u8>>) -> Evaluation {
    let root = &stack().root;
    let inputs: Vec<_> = bundles
        .into_iter()
        .enumerate()
        .map(|(i, b)| BundleInput::new(format!("b{i}"), b))
        .collect();
    evaluate(
        p,
        &Subject::sha256("app", DIGEST),
        &inputs,
        &EvalOptions::new(root, now() + chrono::Duration::seconds(5)),
    )
    .unwrap()
}

fn provenance(builder: &str, repo: &str, git_ref: &str, build_type: &str) -> Value {
    json!({
        "buildDefinition": {
            "buildType": build_type,
            "externalParameters": {"workflow": {"ref": git_ref, "repository": format!("https://{repo}"), "path": ".github/workflows/release.yml"}},
            "internalParameters": {},
            "resolvedDependencies": [{"uri": format!("git+https://{repo}@{git_ref}"), "digest": {"gitCommit": "a".repeat(40)}}]
        },
        "runDetails": {"builder": {"id": builder}, "metadata": {"invocationId": "1"}}
    })
}

const GH_BUILD_TYPE: &str = "https://actions.github.io/buildtypes/workflow/v1";
const BUILDER: &str = "https://cairn.test/builders/ci@v1";

fn slsa_req(extra: &str) -> String {
    format!(
        "  - name: provenance\n    predicateType: slsa\n    slsa:\n      builders:\n        - id: https://cairn.test/builders/ci\n          level: 3\n{extra}"
    )
}

fn spdx(packages: Value) -> Value {
    json!({"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "app", "dataLicense": "CC0-1.0",
           "documentNamespace": "https://cairn.test/spdx/app", "creationInfo": {"created": "2026-01-01T00:00:00Z", "creators": ["Tool: cairn"]},
           "packages": packages})
}

fn assert_outcome(e: &Evaluation, pass: bool) {
    assert_eq!(
        e.verdict.passed(),
        pass,
        "{}",
        crate::render::render_text(&e.verdict, Default::default())
    );
}

// ---- signers -------------------------------------------------------------------------------

#[test]
fn trusted_key_passes_untrusted_key_fails_with_reason() {
    let (good, bad) = (key(), key());
    let p = policy(
        &key_signer("ci", &good),
        "  - name: any\n    predicateType: https://cairn.test/p\n",
    );
    let pass = run(
        &p,
        vec![attest(&good, DIGEST, "https://cairn.test/p", json!({}))],
    );
    assert_outcome(&pass, true);
    assert_eq!(pass.attestations[0].signer.as_deref(), Some("ci"));

    let fail = run(
        &p,
        vec![attest(&bad, DIGEST, "https://cairn.test/p", json!({}))],
    );
    assert_outcome(&fail, false);
    let t = fail.verdict.find("requirements.any.threshold").unwrap();
    assert_eq!(t.outcome, Outcome::Fail);
    let ev = format!("{:?}", t.evidence);
    assert!(ev.contains("not from a trusted signer"), "{ev}");
}

#[test]
fn no_evidence_fails_closed() {
    let k = key();
    let p = policy(
        &key_signer("ci", &k),
        "  - name: any\n    predicateType: slsa\n",
    );
    let e = run(&p, vec![]);
    assert_outcome(&e, false);
    assert!(
        e.verdict
            .find("requirements.any.threshold")
            .unwrap()
            .reason
            .contains("no SLSA provenance")
    );
}

#[test]
fn threshold_counts_distinct_signers() {
    let (a, b) = (key(), key());
    let signers = format!("{}{}", key_signer("a", &a), key_signer("b", &b));
    let req = "  - name: two\n    predicateType: https://cairn.test/p\n    threshold: 2\n";
    let p = policy(&signers, req);
    let ok = run(
        &p,
        vec![
            attest(&a, DIGEST, "https://cairn.test/p", json!({})),
            attest(&b, DIGEST, "https://cairn.test/p", json!({})),
        ],
    );
    assert_outcome(&ok, true);
    let same = run(
        &p,
        vec![
            attest(&a, DIGEST, "https://cairn.test/p", json!({"n": 1})),
            attest(&a, DIGEST, "https://cairn.test/p", json!({"n": 2})),
        ],
    );
    assert_outcome(&same, false);
    assert!(
        same.verdict
            .find("requirements.two.threshold")
            .unwrap()
            .reason
            .contains("1 distinct")
    );
}

#[test]
fn requirement_signer_restriction_is_enforced() {
    let (a, b) = (key(), key());
    let signers = format!("{}{}", key_signer("builder", &a), key_signer("scanner", &b));
    let p = policy(
        &signers,
        "  - name: prov\n    predicateType: https://cairn.test/p\n    signers: [builder]\n",
    );
    assert_outcome(
        &run(
            &p,
            vec![attest(&a, DIGEST, "https://cairn.test/p", json!({}))],
        ),
        true,
    );
    let e = run(
        &p,
        vec![attest(&b, DIGEST, "https://cairn.test/p", json!({}))],
    );
    assert_outcome(&e, false);
    let ev = format!(
        "{:?}",
        e.verdict
            .find("requirements.prov.threshold")
            .unwrap()
            .evidence
    );
    assert!(ev.contains("signer scanner is not accepted"), "{ev}");
}

// ---- predicate type and subject --------------------------------------------------------------

#[test]
fn predicate_type_truth_table() {
    let k = key();
    let p = policy(
        &key_signer("ci", &k),
        "  - name: sbom\n    predicateType: sbom\n",
    );
    let sbom = attest(
        &k,
        DIGEST,
        "https://spdx.dev/Document/v2.3",
        spdx(json!([])),
    );
    let cdx = attest(
        &k,
        DIGEST,
        "https://cyclonedx.org/bom/v1.6",
        json!({"bomFormat": "CycloneDX", "specVersion": "1.6"}),
    );
    let prov = attest(&k, DIGEST, "https://slsa.dev/provenance/v1", json!({}));
    assert_outcome(&run(&p, vec![sbom]), true);
    assert_outcome(&run(&p, vec![cdx]), true);
    let e = run(&p, vec![prov]);
    assert_outcome(&e, false);
    let ev = format!(
        "{:?}",
        e.verdict
            .find("requirements.sbom.threshold")
            .unwrap()
            .evidence
    );
    assert!(ev.contains("is not SBOM"), "{ev}");
}

#[test]
fn attestation_about_another_subject_does_not_count() {
    let k = key();
    let p = policy(
        &key_signer("ci", &k),
        "  - name: p\n    predicateType: https://cairn.test/p\n",
    );
    let e = run(
        &p,
        vec![attest(&k, OTHER, "https://cairn.test/p", json!({}))],
    );
    assert_outcome(&e, false);
    assert!(!e.attestations[0].verified);
}

#[test]
fn tampered_bundle_is_rejected() {
    let k = key();
    let p = policy(
        &key_signer("ci", &k),
        "  - name: p\n    predicateType: https://cairn.test/p\n",
    );
    let b = attest(&k, DIGEST, "https://cairn.test/p", json!({"x": 1}));
    let mut v: Value = serde_json::from_slice(&b).unwrap();
    let payload = statement(DIGEST, "https://cairn.test/p", json!({"x": 2}));
    use base64::Engine;
    v["dsseEnvelope"]["payload"] = json!(base64::engine::general_purpose::STANDARD.encode(payload));
    let e = run(&p, vec![serde_json::to_vec(&v).unwrap()]);
    assert_outcome(&e, false);
}

#[test]
fn key_bundle_without_tlog_needs_explicit_opt_in() {
    let k = key();
    let b = attest(&k, DIGEST, "https://cairn.test/p", json!({}));
    let mut v: Value = serde_json::from_slice(&b).unwrap();
    v["verificationMaterial"]
        .as_object_mut()
        .unwrap()
        .remove("tlogEntries");
    let stripped = serde_json::to_vec(&v).unwrap();
    let req = "  - name: p\n    predicateType: https://cairn.test/p\n";
    let e = run(&policy(&key_signer("ci", &k), req), vec![stripped.clone()]);
    assert_outcome(&e, false);
    let why = &e.attestations[0].reason;
    assert!(
        why.contains("tlog") || why.contains("transparency log"),
        "{why}"
    );
}

// ---- SLSA ----------------------------------------------------------------------------------

#[test]
fn slsa_truth_table() {
    let k = key();
    let signers = key_signer("ci", &k);
    let good = provenance(
        BUILDER,
        "github.com/acme/app",
        "refs/tags/v1.2.0",
        GH_BUILD_TYPE,
    );
    let cases: Vec<(&str, Value, bool)> = vec![
        ("", good.clone(), true),
        (
            "",
            provenance(
                "https://evil.test/builder",
                "github.com/acme/app",
                "refs/tags/v1.2.0",
                GH_BUILD_TYPE,
            ),
            false,
        ),
        (
            "      sourceRepository: github.com/acme/app\n",
            good.clone(),
            true,
        ),
        (
            "      sourceRepository: github.com/acme/other\n",
            good.clone(),
            false,
        ),
        (
            "      sourceRef:\n        pattern: refs/tags/v.*\n",
            good.clone(),
            true,
        ),
        (
            "      sourceRef:\n        pattern: refs/tags/v.*\n",
            provenance(
                BUILDER,
                "github.com/acme/app",
                "refs/heads/main",
                GH_BUILD_TYPE,
            ),
            false,
        ),
        (
            "      buildTypes: [https://actions.github.io/buildtypes/workflow/v1]\n",
            good.clone(),
            true,
        ),
        (
            "      buildTypes: [https://cairn.test/other-build-type]\n",
            good.clone(),
            false,
        ),
        // Key-signed provenance establishes level 1 only: no certificate ties it to the builder.
        ("      minLevel: 1\n", good.clone(), true),
        ("      minLevel: 2\n", good.clone(), false),
    ];
    for (i, (extra, predicate, expected)) in cases.into_iter().enumerate() {
        let p = policy(&signers, &slsa_req(extra));
        let e = run(
            &p,
            vec![attest(
                &k,
                DIGEST,
                "https://slsa.dev/provenance/v1",
                predicate,
            )],
        );
        assert_eq!(
            e.verdict.passed(),
            expected,
            "case {i} ({extra:?}):\n{}",
            crate::render::render_text(&e.verdict, Default::default())
        );
        if expected {
            assert_eq!(e.slsa_level, Some(1), "case {i}");
        }
    }
}

#[test]
fn slsa_level_above_builder_level_fails() {
    let k = key();
    let req = "  - name: provenance\n    predicateType: slsa\n    slsa:\n      builders:\n        - id: https://cairn.test/builders/ci\n          level: 2\n      minLevel: 3\n";
    let p = policy(&key_signer("ci", &k), req);
    let good = provenance(
        BUILDER,
        "github.com/acme/app",
        "refs/tags/v1.2.0",
        GH_BUILD_TYPE,
    );
    assert_outcome(
        &run(
            &p,
            vec![attest(&k, DIGEST, "https://slsa.dev/provenance/v1", good)],
        ),
        false,
    );
}

// ---- SBOM ----------------------------------------------------------------------------------

fn pkg(name: &str, version: &str, purl: &str, license: &str) -> Value {
    json!({"name": name, "SPDXID": format!("SPDXRef-{name}"), "versionInfo": version, "downloadLocation": "NOASSERTION",
           "licenseConcluded": license,
           "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": purl}]})
}

#[test]
fn sbom_truth_table() {
    let k = key();
    let signers = key_signer("ci", &k);
    let req = "  - name: sbom\n    predicateType: sbom\n    sbom:\n      minPackages: 1\n      deniedPackages:\n        - purl: \"pkg:npm/event-stream@3.3.6\"\n          reason: compromised\n        - name: \"log4j-core*\"\n      deniedLicenses: [\"AGPL-*\", GPL-3.0-only]\n";
    let p = policy(&signers, req);
    let clean = spdx(json!([pkg(
        "serde",
        "1.0.0",
        "pkg:cargo/serde@1.0.0",
        "MIT OR Apache-2.0"
    )]));
    let evil_purl = spdx(json!([pkg(
        "event-stream",
        "3.3.6",
        "pkg:npm/event-stream@3.3.6",
        "MIT"
    )]));
    let evil_name = spdx(json!([pkg(
        "log4j-core-2.14",
        "2.14.1",
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
        "Apache-2.0"
    )]));
    let evil_license = spdx(json!([pkg(
        "x",
        "1",
        "pkg:cargo/x@1",
        "(MIT AND AGPL-3.0-or-later)"
    )]));
    let empty = spdx(json!([]));
    let cdx_evil = json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [
        {"type": "library", "name": "a", "purl": "pkg:npm/a@1", "components": [
            {"type": "library", "name": "inner", "licenses": [{"license": {"id": "GPL-3.0-only"}}]}]}]});
    let cases = [
        ("https://spdx.dev/Document/v2.3", clean, true, ""),
        (
            "https://spdx.dev/Document/v2.3",
            evil_purl,
            false,
            "denied-packages",
        ),
        (
            "https://spdx.dev/Document/v2.3",
            evil_name,
            false,
            "denied-packages",
        ),
        (
            "https://spdx.dev/Document/v2.3",
            evil_license,
            false,
            "denied-licenses",
        ),
        ("https://spdx.dev/Document/v2.3", empty, false, "packages"),
        (
            "https://cyclonedx.org/bom/v1.6",
            cdx_evil,
            false,
            "denied-licenses",
        ),
    ];
    for (i, (t, pred, expected, failing)) in cases.into_iter().enumerate() {
        let e = run(&p, vec![attest(&k, DIGEST, t, pred)]);
        assert_eq!(
            e.verdict.passed(),
            expected,
            "case {i}:\n{}",
            crate::render::render_text(&e.verdict, Default::default())
        );
        if !expected {
            let id = format!("requirements.sbom.attestations[0].sbom.{failing}");
            assert_eq!(
                e.verdict.find(&id).map(|c| c.outcome),
                Some(Outcome::Fail),
                "case {i}: {id}"
            );
        }
    }
}

#[test]
fn a_failing_extra_attestation_does_not_fail_a_met_requirement() {
    let (a, b) = (key(), key());
    let signers = format!("{}{}", key_signer("a", &a), key_signer("b", &b));
    let p = policy(
        &signers,
        "  - name: sbom\n    predicateType: sbom\n    sbom:\n      deniedPackages:\n        - name: bad\n",
    );
    let good = attest(
        &a,
        DIGEST,
        "https://spdx.dev/Document/v2.3",
        spdx(json!([pkg("ok", "1", "pkg:cargo/ok@1", "MIT")])),
    );
    let bad = attest(
        &b,
        DIGEST,
        "https://spdx.dev/Document/v2.3",
        spdx(json!([pkg("bad", "1", "pkg:cargo/bad@1", "MIT")])),
    );
    let e = run(&p, vec![good, bad]);
    assert_outcome(&e, true);
    assert!(e.verdict.warnings().count() > 0);
    assert_eq!(e.verdict.failures().count(), 0);
}

// ---- CEL -----------------------------------------------------------------------------------

#[test]
fn cel_truth_table() {
    let k = key();
    let signers = key_signer("ci", &k);
    let pred = json!({"result": "PASSED", "passedTests": ["a", "b"], "failedTests": []});
    let cases = [
        ("predicate.result == 'PASSED'", true),
        (
            "size(predicate.failedTests) == 0 && size(predicate.passedTests) >= 2",
            true,
        ),
        ("predicate.result == 'FAILED'", false),
        ("predicateType.startsWith('https://in-toto.io/')", true),
        (
            "subject[0].digest.sha256 == '0707070707070707070707070707070707070707070707070707070707070707'",
            true,
        ),
        ("signer.name == 'ci'", true),
        ("predicate.result", false),
        ("predicate.missing.field == 1", false),
    ];
    for (expr, expected) in cases {
        let req = format!(
            "  - name: tests\n    predicateType: test-result\n    cel:\n      - name: rule\n        expr: \"{expr}\"\n"
        );
        let p = policy(&signers, &req);
        let e = run(
            &p,
            vec![attest(
                &k,
                DIGEST,
                "https://in-toto.io/attestation/test-result/v0.1",
                pred.clone(),
            )],
        );
        assert_eq!(
            e.verdict.passed(),
            expected,
            "{expr}:\n{}",
            crate::render::render_text(&e.verdict, Default::default())
        );
    }
}

// ---- keyless identities (in-process Sigstore) ------------------------------------------------

struct Keyless {
    stack: cairn_testkit::sigstore::Stack,
    root: TrustedRoot,
    services: Services,
}

fn stack() -> &'static Keyless {
    static STACK: std::sync::OnceLock<Keyless> = std::sync::OnceLock::new();
    STACK.get_or_init(keyless)
}

fn keyless() -> Keyless {
    let stack = cairn_testkit::sigstore::Stack::start();
    let root = TrustedRoot::from_json(&serde_json::to_vec(&stack.trusted_root()).unwrap()).unwrap();
    let config = cairn_sigstore::SigningConfig::from_json(
        &serde_json::to_vec(&stack.signing_config()).unwrap(),
    )
    .unwrap();
    let services = Services::from_signing_config(&config);
    Keyless {
        stack,
        root,
        services,
    }
}

impl Keyless {
    fn attest(&self, who: &str, predicate_type: &str) -> Vec<u8> {
        let jwt = self.stack.token(who, "sigstore", 600);
        let token =
            cairn_sigstore::IdentityToken::from_jwt(&jwt, cairn_sigstore::TokenOrigin::Explicit)
                .unwrap();
        let payload = statement(DIGEST, predicate_type, json!({}));
        cairn_sigstore::sign_keyless(
            &self.services,
            &self.root,
            &token,
            Payload::Dsse {
                payload_type: cairn_model::dsse::IN_TOTO_PAYLOAD_TYPE,
                payload: &payload,
                subject_sha256: DIGEST,
            },
            &SignOptions {
                retry: Default::default(),
                timestamp: false,
                tlog_upload: true,
                now: now().timestamp(),
            },
        )
        .unwrap()
        .json
    }

    fn eval(&self, p: &Policy, bundles: Vec<Vec<u8>>) -> Evaluation {
        let inputs: Vec<_> = bundles
            .into_iter()
            .enumerate()
            .map(|(i, b)| BundleInput::new(format!("b{i}"), b))
            .collect();
        evaluate(
            p,
            &Subject::sha256("app", DIGEST),
            &inputs,
            &EvalOptions::new(&self.root, now() + chrono::Duration::seconds(5)),
        )
        .unwrap()
    }
}

#[test]
fn keyless_identity_patterns_are_anchored() {
    let k = keyless();
    let issuer = k.stack.issuer();
    let signer = |field: &str, value: &str| {
        format!("  - name: dev\n    {field}: '{value}'\n    issuer: {issuer}\n")
    };
    let req = "  - name: p\n    predicateType: https://cairn.test/p\n";
    let cases = [
        ("identity", "dev@cairn.test", "dev@cairn.test", true),
        ("identity", "dev@cairn.test", "xdev@cairn.test", false),
        ("identityRegexp", ".*@cairn\\.test", "dev@cairn.test", true),
        // suffix attack: the pattern must match the whole SAN
        (
            "identityRegexp",
            ".*@cairn\\.test",
            "dev@cairn.test.evil.example",
            false,
        ),
        // prefix attack
        (
            "identityRegexp",
            "dev@cairn\\.test",
            "evil-dev@cairn.test",
            false,
        ),
        // `.*` does not let an alternation escape the anchors
        (
            "identityRegexp",
            "dev@cairn\\.test|.*",
            "dev@cairn.test",
            true,
        ),
        (
            "identityRegexp",
            "dev@cairn\\.test|nobody@x",
            "mallory@cairn.test",
            false,
        ),
        // unescaped dot is still anchored at both ends
        ("identityRegexp", "dev@cairn.test", "dev@cairnxtest", true),
        (
            "identityRegexp",
            "dev@cairn.test",
            "dev@cairn.test.evil",
            false,
        ),
    ];
    for (field, value, who, expected) in cases {
        let p = policy(&signer(field, value), req);
        let e = k.eval(&p, vec![k.attest(who, "https://cairn.test/p")]);
        assert_eq!(
            e.verdict.passed(),
            expected,
            "{field} {value:?} vs {who}:\n{}",
            crate::render::render_text(&e.verdict, Default::default())
        );
    }
}

#[test]
fn keyless_wrong_issuer_is_rejected() {
    let k = keyless();
    let p = policy(
        "  - name: dev\n    identity: dev@cairn.test\n    issuer: https://token.actions.githubusercontent.com\n",
        "  - name: p\n    predicateType: https://cairn.test/p\n",
    );
    let e = k.eval(&p, vec![k.attest("dev@cairn.test", "https://cairn.test/p")]);
    assert_outcome(&e, false);
}

#[test]
fn keyless_threshold_counts_identities() {
    let k = keyless();
    let issuer = k.stack.issuer();
    let p = policy(
        &format!("  - name: team\n    identityRegexp: '.*@cairn\\.test'\n    issuer: {issuer}\n"),
        "  - name: p\n    predicateType: https://cairn.test/p\n    threshold: 2\n",
    );
    let one = k.eval(
        &p,
        vec![
            k.attest("a@cairn.test", "https://cairn.test/p"),
            k.attest("a@cairn.test", "https://cairn.test/p"),
        ],
    );
    assert_outcome(&one, false);
    let two = k.eval(
        &p,
        vec![
            k.attest("a@cairn.test", "https://cairn.test/p"),
            k.attest("b@cairn.test", "https://cairn.test/p"),
        ],
    );
    assert_outcome(&two, true);
}

// ---- slsa-verifier vectors (public-good, offline) -------------------------------------------

fn vector(name: &str) -> Vec<u8> {
    cairn_testkit::read_testdata(&format!(
        "slsa-verifier/cli/slsa-verifier/testdata/bcr/{name}"
    ))
}

fn bcr_eval(policy_yaml: &str, bundle: &str) -> Evaluation {
    let p = Policy::from_yaml(policy_yaml.as_bytes(), Path::new(".")).unwrap();
    let artifact = vector("MODULE.bazel");
    let digest: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&artifact).into();
    let root = TrustedRoot::embedded(cairn_sigstore::Instance::PublicGood);
    evaluate(
        &p,
        &Subject::sha256("MODULE.bazel", digest),
        &[BundleInput::new(bundle, vector(bundle))],
        &EvalOptions::new(&root, now()),
    )
    .unwrap()
}

const BCR_STRICT: &str = r#"version: 1
signers:
  - name: publish-to-bcr
    identityRegexp: 'https://github\.com/bazel-contrib/publish-to-bcr/\.github/workflows/publish\.yaml@refs/tags/v.*'
    issuer: https://token.actions.githubusercontent.com
requirements:
  - name: provenance
    predicateType: slsa
    slsa:
      builders:
        - id: https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml
          level: 3
"#;

const BCR_ANY_GITHUB_SIGNER: &str = r#"version: 1
signers:
  - name: any-github-workflow
    identityRegexp: 'https://github\.com/.*'
    issuer: https://token.actions.githubusercontent.com
requirements:
  - name: provenance
    predicateType: slsa
    slsa:
      builders:
        - id: https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml
          level: 3
"#;

#[test]
fn slsa_verifier_c1_trusted_builder_passes() {
    for policy in [BCR_STRICT, BCR_ANY_GITHUB_SIGNER] {
        let e = bcr_eval(policy, "MODULE.bazel.intoto.jsonl");
        assert_outcome(&e, true);
    }
}

#[test]
fn slsa_verifier_c3_wrong_signer_claiming_trusted_builder_is_rejected() {
    // The predicate claims publish-to-bcr; the certificate says loosebazooka/aa-test.
    let strict = bcr_eval(BCR_STRICT, "MODULE-wrong-signer.bazel.intoto.jsonl");
    assert_outcome(&strict, false);
    assert!(
        !strict.attestations[0].verified,
        "the signer is not trusted"
    );
    // Even when the signer list admits any GitHub workflow, the builder check trusts the
    // certificate identity, not the predicate's builder.id.
    let loose = bcr_eval(
        BCR_ANY_GITHUB_SIGNER,
        "MODULE-wrong-signer.bazel.intoto.jsonl",
    );
    assert_outcome(&loose, false);
    assert!(loose.attestations[0].verified);
    let signer_check = loose
        .verdict
        .find("requirements.provenance.attestations[0].slsa.signer")
        .or_else(|| {
            loose
                .verdict
                .find("requirements.provenance.attestations[0].slsa.builder-id")
        })
        .unwrap();
    assert_eq!(signer_check.outcome, Outcome::Fail, "{signer_check:?}");
}

// ---- VSA -----------------------------------------------------------------------------------

#[test]
fn vsa_for_a_passing_evaluation_is_a_valid_vsa_v1() {
    let k = key();
    let p = policy(&key_signer("ci", &k), &slsa_req(""));
    let good = provenance(
        BUILDER,
        "github.com/acme/app",
        "refs/tags/v1.2.0",
        GH_BUILD_TYPE,
    );
    let e = run(
        &p,
        vec![attest(&k, DIGEST, "https://slsa.dev/provenance/v1", good)],
    );
    assert_outcome(&e, true);
    let st = vsa_statement(
        &p,
        &Subject::sha256("app", DIGEST),
        &e,
        &VsaOptions {
            verifier_id: "https://cairn.test/verifier".into(),
            verifier_version: vec![("cairn".into(), "0.1.0".into())],
            resource_uri: "oci://registry.test/app".into(),
            policy_uri: "policy.yaml".into(),
            time: now(),
        },
    );
    assert_eq!(st.predicate_type, cairn_model::predicate::VSA_V1);
    let vsa =
        cairn_model::predicate::vsa::v1::VerificationSummary::from_value(st.predicate.clone())
            .unwrap();
    assert_eq!(vsa.verified_levels, vec!["SLSA_BUILD_LEVEL_1".to_owned()]);
    assert_eq!(vsa.input_attestations.len(), 1);
    assert_eq!(
        vsa.policy.unwrap().digest.unwrap().get("sha256"),
        Some(hex::encode(p.digest).as_str())
    );
}

// ---- loading -------------------------------------------------------------------------------

fn load_err(text: &str) -> String {
    let e = Policy::from_yaml(text.as_bytes(), Path::new(".")).unwrap_err();
    let mut s = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}

#[test]
fn loading_errors_are_clear() {
    let req = "requirements:\n  - name: p\n    predicateType: slsa\n";
    let signer = "signers:\n  - name: s\n    identity: a@b.c\n    issuer: https://i\n";
    let cases = [
        (
            format!("version: 1\nsigners: []\n{req}"),
            "names no signers",
        ),
        (
            format!("version: 2\n{signer}{req}"),
            "unsupported policy version 2",
        ),
        (
            format!("version: 1\n{signer}{req}  colour: red\n"),
            "colour",
        ),
        (
            format!("version: 1\n{signer}{req}    slsa:\n      builders: []\n      bilders: []\n"),
            "bilders",
        ),
        (
            format!("version: 1\nsigners:\n  - name: s\n    identity: a@b.c\n{req}"),
            "need `issuer`",
        ),
        (
            format!(
                "version: 1\nsigners:\n  - name: s\n    identity: a\n    identityRegexp: b\n    issuer: i\n{req}"
            ),
            "exactly one of",
        ),
        (
            format!(
                "version: 1\nsigners:\n  - name: s\n    identityRegexp: '('\n    issuer: i\n{req}"
            ),
            "bad identityRegexp",
        ),
        (
            format!("version: 1\n{signer}{req}    threshold: 0\n"),
            "threshold 0",
        ),
        (
            format!("version: 1\n{signer}{req}    threshold: 2\n"),
            "threshold 2",
        ),
        (
            format!("version: 1\n{signer}{req}    signers: [nobody]\n"),
            "unknown signer \"nobody\"",
        ),
        (
            format!(
                "version: 1\n{signer}requirements:\n  - name: p\n    predicateType: provenanse\n"
            ),
            "unknown predicate type",
        ),
        (
            format!(
                "version: 1\n{signer}requirements:\n  - name: p\n    predicateType: slsa\n    sbom: {{}}\n"
            ),
            "`sbom` checks need",
        ),
        (
            format!(
                "version: 1\n{signer}requirements:\n  - name: p\n    predicateType: vsa\n    cel:\n      - name: c\n        expr: 'a ++ b'\n"
            ),
            "does not compile",
        ),
        (format!("version: 1\n{signer}"), "would check nothing"),
        (
            format!("version: 1\n{signer}{req}  - name: p\n    predicateType: sbom\n"),
            "duplicate requirement",
        ),
        (
            format!("version: 1\nsigners:\n  - name: k\n    key: /nonexistent/key.pub\n{req}"),
            "cannot load public key",
        ),
        (
            format!("version: 1\nsigners:\n  - name: k\n    keyPem: nope\n    issuer: x\n{req}"),
            "`issuer` does not apply",
        ),
    ];
    for (text, want) in cases {
        let got = load_err(&text);
        assert!(got.contains(want), "{text}\n=> {got}\n(wanted {want:?})");
    }
}

#[test]
fn yaml_alias_bombs_are_bounded() {
    let mut text = String::from("version: 1\nname: &a0 \"lol\"\n");
    let mut prev = "a0".to_owned();
    for i in 1..30 {
        let name = format!("a{i}");
        text.push_str(&format!("x{i}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        prev = name;
    }
    let start = std::time::Instant::now();
    let e = Policy::from_yaml(text.as_bytes(), Path::new("."));
    assert!(e.is_err());
    assert!(
        start.elapsed() < std::time::Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn oversized_policy_is_refused() {
    let text = "#".repeat(MAX_POLICY_SIZE as usize + 1);
    assert!(matches!(
        Policy::from_yaml(text.as_bytes(), Path::new(".")),
        Err(Error::TooLarge { .. })
    ));
}

#[test]
fn wildcard_matches_whole_strings() {
    let w = rules::Wildcard::new("pkg:npm/event-stream@*");
    assert!(w.matches("pkg:npm/event-stream@3.3.6"));
    assert!(!w.matches("xpkg:npm/event-stream@3.3.6"));
    assert!(!rules::Wildcard::new("log4j").matches("log4j-core"));
    assert!(rules::Wildcard::new("*").matches(""));
    assert!(rules::Wildcard::new("a*b*c").matches("aXXbYYc"));
    assert!(!rules::Wildcard::new("a*b*c").matches("aXXbYY"));
    assert_eq!(
        sbom::license_ids("(MIT AND GPL-2.0-only WITH Classpath-exception-2.0) OR Apache-2.0"),
        vec![
            "MIT",
            "GPL-2.0-only",
            "Classpath-exception-2.0",
            "Apache-2.0"
        ]
    );
}

// ---- JSON Schema and examples ----------------------------------------------------------------

fn schema() -> jsonschema::Validator {
    let text = std::fs::read(cairn_testkit::testdata().join("../docs/policy.schema.json")).unwrap();
    let schema: Value = serde_json::from_slice(&text).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn yaml_value(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap()
}

fn schema_errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// The complete policies among the ```yaml blocks of docs/policy.md.
fn doc_examples() -> Vec<String> {
    let md = std::fs::read_to_string(cairn_testkit::testdata().join("../docs/policy.md")).unwrap();
    let mut out = Vec::new();
    let mut rest = md.as_str();
    while let Some(start) = rest.find("```yaml\n") {
        let body = &rest[start + 8..];
        let end = body.find("```").unwrap();
        if body[..end].contains("version: 1") {
            out.push(body[..end].to_owned());
        }
        rest = &body[end + 3..];
    }
    out
}

#[test]
fn every_example_policy_validates_against_the_schema() {
    let v = schema();
    let docs = doc_examples();
    assert!(docs.len() >= 3, "found {} examples", docs.len());
    for (i, text) in docs.iter().enumerate() {
        let errors = schema_errors(&v, &yaml_value(text));
        assert!(
            errors.is_empty(),
            "docs/policy.md example {i}: {errors:?}\n{text}"
        );
    }
    let dir = cairn_testkit::testdata().join("policy");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let errors = schema_errors(&v, &yaml_value(&text));
            assert!(errors.is_empty(), "{}: {errors:?}", path.display());
            // And cairn loads it (keys resolved relative to the file).
            Policy::from_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            n += 1;
        }
    }
    assert!(n >= 4, "{n} example policies");
}

#[test]
fn the_schema_rejects_what_cairn_rejects() {
    let v = schema();
    let signer = "signers:\n  - name: s\n    identity: a@b.c\n    issuer: https://i\n";
    let req = "requirements:\n  - name: p\n    predicateType: slsa\n";
    let bad = [
        format!("version: 1\nsigners: []\n{req}"),
        format!("version: 2\n{signer}{req}"),
        format!("version: 1\n{signer}{req}    colour: red\n"),
        format!("version: 1\nsigners:\n  - name: s\n    identity: a@b.c\n{req}"),
        format!(
            "version: 1\nsigners:\n  - name: s\n    identity: a\n    identityRegexp: b\n    issuer: i\n{req}"
        ),
        format!("version: 1\n{signer}{req}    threshold: 0\n"),
        format!("version: 1\n{signer}requirements:\n  - name: p\n    predicateType: provenanse\n"),
        format!("version: 1\n{signer}"),
        format!("version: 1\n{signer}{req}    slsa:\n      builders: []\n"),
        format!("version: 1\nsigners:\n  - name: k\n    keyPem: x\n    issuer: y\n{req}"),
    ];
    for text in bad {
        let doc = yaml_value(&text);
        assert!(!v.is_valid(&doc), "schema accepted:\n{text}");
        assert!(
            Policy::from_yaml(text.as_bytes(), Path::new(".")).is_err(),
            "cairn accepted:\n{text}"
        );
    }
}

// ---- in-toto layout over link attestations -----------------------------------------------------

struct LayoutCase {
    dir: tempfile::TempDir,
    func: PrivateKey,
    policy: Policy,
}

fn layout_case() -> LayoutCase {
    let dir = tempfile::tempdir().unwrap();
    let func = key();
    let owner = key();
    let mut k = func
        .public_key()
        .to_securesystemslib_json(cairn_sign::KeyIdRule::Securesystemslib1);
    k["keyid"] = json!(func.key_id().as_str());
    let signed = json!({"_type": "layout", "expires": "2099-01-01T00:00:00Z", "readme": "",
        "keys": {func.key_id().as_str(): k},
        "steps": [{"_type": "step", "name": "build", "threshold": 1, "pubkeys": [func.key_id().as_str()],
                   "expected_command": [], "expected_materials": [], "expected_products": [["ALLOW", "*"]]}],
        "inspect": []});
    let mut mb = cairn_model::metablock::Metablock::unsigned(signed);
    cairn_sign::metablock::sign(&mut mb, &owner).unwrap();
    std::fs::write(dir.path().join("root.layout"), mb.to_pretty_json()).unwrap();
    std::fs::write(
        dir.path().join("owner.pub"),
        owner.public_key().to_spki_pem(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("policy.yaml"),
        format!(
            "version: 1\nsigners:\n{}layout:\n  path: root.layout\n  keys: [owner.pub]\n",
            key_signer("func", &func)
        ),
    )
    .unwrap();
    let policy = Policy::from_file(&dir.path().join("policy.yaml")).unwrap();
    LayoutCase { dir, func, policy }
}

fn link(signer: &PrivateKey, step: &str, product: [u8; 32]) -> Vec<u8> {
    attest(
        signer,
        product,
        cairn_model::predicate::LINK_V0_3,
        json!({"name": step, "command": [], "materials": [], "byproducts": {}}),
    )
}

#[test]
fn layout_over_link_attestations() {
    let c = layout_case();
    let e = run(&c.policy, vec![link(&c.func, "build", DIGEST)]);
    assert_outcome(&e, true);
    assert_eq!(
        e.verdict.find("layout.subject").map(|x| x.outcome),
        Some(Outcome::Pass)
    );

    // A link signed by a key the layout does not authorise: the step has no link.
    let e = run(&c.policy, vec![link(&key(), "build", DIGEST)]);
    assert_outcome(&e, false);
    assert_eq!(
        e.verdict.find("layout.subject").map(|x| x.outcome),
        Some(Outcome::Fail)
    );

    // The supply chain produced something else: not this subject.
    let e = run(&c.policy, vec![link(&c.func, "build", OTHER)]);
    assert_outcome(&e, false);
    assert_eq!(
        e.verdict.find("layout.subject").map(|x| x.outcome),
        Some(Outcome::Fail)
    );

    // No links at all.
    assert_outcome(&run(&c.policy, vec![]), false);
    drop(c.dir);
}

// ---- GitHub claims on real actions/attest bundles (gh CLI test data, public-good) ------------

fn gh_eval(signer: &str, bundle: &str, artifact: &str) -> Evaluation {
    let base = "github-attestations/gh-cli/pkg/cmd/attestation/test/data";
    let text = format!(
        "version: 1\nsigners:\n{signer}requirements:\n  - name: provenance\n    predicateType: https://slsa.dev/provenance/v1\n"
    );
    let p = Policy::from_yaml(text.as_bytes(), Path::new(".")).unwrap();
    let bytes = cairn_testkit::read_testdata(&format!("{base}/{artifact}"));
    let digest: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&bytes).into();
    let root = TrustedRoot::embedded(cairn_sigstore::Instance::PublicGood);
    evaluate(
        &p,
        &Subject::sha256(artifact, digest),
        &[BundleInput::new(
            bundle,
            cairn_testkit::read_testdata(&format!("{base}/{bundle}")),
        )],
        &EvalOptions::new(&root, now()),
    )
    .unwrap()
}

#[test]
fn github_claims_on_real_attestations() {
    let reusable = |repo: &str| {
        format!(
            "  - name: attest\n    identityRegexp: 'https://github\\.com/github/artifact-attestations-workflows/\\.github/workflows/attest\\.yml@[0-9a-f]{{40}}'\n    issuer: https://token.actions.githubusercontent.com\n    github:\n      repository: {repo}\n"
        )
    };
    let (b, a) = (
        "reusable-workflow-attestation.sigstore.json",
        "reusable-workflow-artifact",
    );
    assert_outcome(&gh_eval(&reusable("malancas/attest-demo"), b, a), true);
    // The same signer workflow run for another repository is someone else's build.
    let e = gh_eval(&reusable("malancas/other"), b, a);
    assert_outcome(&e, false);
    assert!(!e.attestations[0].verified);

    // GitHub Enterprise-style custom issuer: exact issuer match only.
    let custom = |issuer: &str| {
        format!(
            "  - name: ghe\n    identity: https://github.com/too-legit/attest/.github/workflows/integration.yml@refs/heads/main\n    issuer: {issuer}\n"
        )
    };
    let (b, a) = ("custom-issuer.sigstore.json", "custom-issuer-artifact");
    assert_outcome(
        &gh_eval(
            &custom("https://token.actions.githubusercontent.com/hammer-time"),
            b,
            a,
        ),
        true,
    );
    assert_outcome(
        &gh_eval(&custom("https://token.actions.githubusercontent.com"), b, a),
        false,
    );
}

#[test]
fn lint_flags_patterns_that_trust_too_much() {
    let text = |re: &str| {
        format!(
            "version: 1\nsigners:\n  - name: s\n    identityRegexp: '{re}'\n    issuer: https://token.actions.githubusercontent.com\nrequirements:\n  - name: p\n    predicateType: slsa\n"
        )
    };
    let lint = |re: &str| {
        Policy::from_yaml(text(re).as_bytes(), Path::new("."))
            .unwrap()
            .lint()
    };
    assert!(lint(".*")[0].contains("any identity"));
    assert!(lint("https://github\\.com/.*")[0].contains("any identity"));
    assert!(lint("https://github.com/acme/app/.*")[0].contains("unescaped '.'"));
    assert!(
        lint("https://github\\.com/acme/app/\\.github/workflows/release\\.yml@refs/tags/v.*")
            .is_empty()
    );
    assert!(lint("[a-z.]+@acme\\.example").is_empty());
}

#[test]
fn garbage_evidence_never_panics_and_never_passes() {
    let k = key();
    let p = policy(
        &key_signer("ci", &k),
        "  - name: p\n    predicateType: https://cairn.test/p\n",
    );
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes();
    let not_statement = {
        let b = attest(&k, DIGEST, "https://cairn.test/p", json!({}));
        let mut v: Value = serde_json::from_slice(&b).unwrap();
        use base64::Engine;
        v["dsseEnvelope"]["payload"] =
            json!(base64::engine::general_purpose::STANDARD.encode(b"[1, 2, 3]"));
        serde_json::to_vec(&v).unwrap()
    };
    let inputs = vec![
        Vec::new(),
        b"{}".to_vec(),
        b"not json".to_vec(),
        deep,
        br#"{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": {}, "dsseEnvelope": {"payload": "", "payloadType": "x", "signatures": []}}"#.to_vec(),
        not_statement,
    ];
    let e = run(&p, inputs);
    assert_outcome(&e, false);
    assert_eq!(e.attestations.len(), 6);
    assert!(
        e.attestations
            .iter()
            .all(|a| !a.verified && !a.reason.is_empty())
    );
}

// ---- transparencyLog: required | optional (key signers) ----------------------------------------

/// `b` with its transparency-log entries removed (what a key-signed bundle made without
/// `--tlog-upload` looks like).
fn without_tlog(b: &[u8]) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(b).unwrap();
    v["verificationMaterial"]
        .as_object_mut()
        .unwrap()
        .remove("tlogEntries");
    serde_json::to_vec(&v).unwrap()
}

fn key_signer_with(name: &str, k: &PrivateKey, extra: &str) -> String {
    format!("{}    {extra}\n", key_signer(name, k))
}

#[test]
fn transparency_log_truth_table() {
    let (k, other) = (key(), key());
    let req = "  - name: p\n    predicateType: https://cairn.test/p\n";
    let logged = attest(&k, DIGEST, "https://cairn.test/p", json!({}));
    let unlogged = without_tlog(&logged);
    // A log entry that is present but altered: the SET no longer matches.
    let tampered = {
        let mut v: Value = serde_json::from_slice(&logged).unwrap();
        let t = &mut v["verificationMaterial"]["tlogEntries"][0]["integratedTime"];
        let moved = t.as_str().unwrap().parse::<i64>().unwrap() - 3600;
        *t = json!(moved.to_string());
        serde_json::to_vec(&v).unwrap()
    };
    let default = key_signer("ci", &k);
    let required = key_signer_with("ci", &k, "transparencyLog: required");
    let optional = key_signer_with("ci", &k, "transparencyLog: optional");
    let legacy = key_signer_with("ci", &k, "allowMissingTlog: true");
    let cases: [(&str, &String, &Vec<u8>, bool); 10] = [
        ("default, logged", &default, &logged, true),
        ("default, no entry", &default, &unlogged, false),
        ("required, logged", &required, &logged, true),
        ("required, no entry", &required, &unlogged, false),
        ("optional, logged", &optional, &logged, true),
        ("optional, no entry", &optional, &unlogged, true),
        ("optional, altered entry", &optional, &tampered, false),
        ("default, altered entry", &default, &tampered, false),
        ("allowMissingTlog, no entry", &legacy, &unlogged, true),
        ("allowMissingTlog, logged", &legacy, &logged, true),
    ];
    for (name, signer, bundle, pass) in cases {
        let e = run(&policy(signer, req), vec![bundle.clone()]);
        assert_eq!(
            e.verdict.passed(),
            pass,
            "{name}: {}\n{}",
            e.attestations[0].reason,
            crate::render::render_text(&e.verdict, Default::default())
        );
        if !pass {
            assert!(!e.attestations[0].verified, "{name}");
        }
    }
    // The opt-in is per key: another signer's `optional` does not cover this key.
    let both = format!(
        "{}{}",
        key_signer_with("lax", &other, "transparencyLog: optional"),
        key_signer("ci", &k)
    );
    let e = run(&policy(&both, req), vec![unlogged.clone()]);
    assert_outcome(&e, false);
    let why = &e.attestations[0].reason;
    assert!(why.contains("ci:") && why.contains("lax:"), "{why}");
}

#[test]
fn transparency_log_is_for_key_signers_only_and_must_be_consistent() {
    let k = key();
    let req = "requirements:\n  - name: p\n    predicateType: slsa\n";
    let keyless = "signers:\n  - name: s\n    identity: a@b.c\n    issuer: https://i\n";
    let v = schema();
    let bad = [
        (
            format!("version: 1\n{keyless}    transparencyLog: optional\n{req}"),
            "does not apply to a keyless signer",
        ),
        (
            format!("version: 1\n{keyless}    transparencyLog: required\n{req}"),
            "does not apply to a keyless signer",
        ),
        (
            format!(
                "version: 1\nsigners:\n{}    allowMissingTlog: true\n{req}",
                key_signer_with("k", &k, "transparencyLog: required")
            ),
            "contradicts",
        ),
        (
            format!(
                "version: 1\nsigners:\n{}{req}",
                key_signer_with("k", &k, "transparencyLog: sometimes")
            ),
            "invalid policy",
        ),
    ];
    for (text, want) in bad {
        let err = Policy::from_yaml(text.as_bytes(), Path::new("."))
            .err()
            .unwrap_or_else(|| panic!("cairn accepted:\n{text}"));
        assert!(err.to_string().contains(want), "{err}\n{text}");
        assert!(!v.is_valid(&yaml_value(&text)), "schema accepted:\n{text}");
    }
    for extra in ["transparencyLog: optional", "transparencyLog: required"] {
        let text = format!(
            "version: 1\nsigners:\n{}{req}",
            key_signer_with("k", &k, extra)
        );
        assert!(
            Policy::from_yaml(text.as_bytes(), Path::new(".")).is_ok(),
            "{text}"
        );
        assert!(v.is_valid(&yaml_value(&text)), "schema rejected:\n{text}");
    }
    let lax = format!(
        "version: 1\nsigners:\n{}{req}",
        key_signer_with("k", &k, "transparencyLog: optional")
    );
    let lint = Policy::from_yaml(lax.as_bytes(), Path::new("."))
        .unwrap()
        .lint();
    assert!(
        lint.iter().any(|l| l.contains("transparencyLog: optional")),
        "{lint:?}"
    );
}
