//! Verification cases from slsa-verifier, GitHub's `gh attestation` fixtures and the in-toto
//! attestation Go validators, with their upstream expected outcomes (testdata/slsa/MANIFEST.md).
//! The DSSE payloads are decoded from the bundles here; signatures are checked elsewhere.
#![allow(clippy::unwrap_used)]

mod common;

use cairn_model::dsse::Envelope;
use cairn_slsa::verify::{
    self, BuilderRule, CheckName, Outcome, Policy, RefRule, SignerIdentity, Verdict,
};
use serde_json::Value;
use sha2::{Digest, Sha256, Sha512};

use common::slsa;

const SV: &str = "vectors/slsa-verifier/cli/slsa-verifier/testdata";
const GH: &str = "vectors/github-attestations/pkg/cmd/attestation/test/data";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
const GENERIC: &str = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml";

/// Decodes the in-toto payloads of a bundle, a bare DSSE envelope, or an npm attestations
/// document, keyed by predicateType.
fn payloads(rel: &str) -> Vec<Value> {
    let bytes = std::fs::read(slsa().join(rel)).unwrap();
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    let envelopes: Vec<Value> =
        if let Some(list) = doc.get("attestations").and_then(Value::as_array) {
            list.iter()
                .map(|a| a["bundle"]["dsseEnvelope"].clone())
                .collect()
        } else if let Some(env) = doc.get("dsseEnvelope") {
            vec![env.clone()]
        } else {
            vec![doc]
        };
    envelopes
        .into_iter()
        .map(|e| {
            let env: Envelope = serde_json::from_value(e).unwrap();
            assert_eq!(env.payload_type, "application/vnd.in-toto+json");
            serde_json::from_slice(&env.payload).unwrap()
        })
        .collect()
}

fn provenance(rel: &str) -> Value {
    payloads(rel)
        .into_iter()
        .find(|p| {
            p["predicateType"]
                .as_str()
                .is_some_and(|t| t.starts_with("https://slsa.dev/provenance/"))
        })
        .unwrap()
}

fn signer(san: &str) -> SignerIdentity {
    SignerIdentity {
        san: san.into(),
        issuer: ISSUER.into(),
        ..Default::default()
    }
}

fn policy(builders: &[&str], source: &str) -> Policy {
    let mut p = Policy::new(
        builders
            .iter()
            .map(|b| BuilderRule {
                id: (*b).into(),
                level: 3,
            })
            .collect(),
    );
    p.source_repository = Some(source.into());
    p
}

fn failed(v: &Verdict) -> Vec<CheckName> {
    v.failures().map(|c| c.check).collect()
}

// --- A: slsa-github-generator generic, Statement v0.1 + provenance v0.2 -------------------

fn a1_signer() -> SignerIdentity {
    SignerIdentity {
        source_repository_uri: Some("https://github.com/slsa-framework/example-package".into()),
        source_repository_ref: Some("refs/heads/main".into()),
        source_repository_digest: Some("4d329c75e7ec1725f7c9ce917a8799d408d06be3".into()),
        build_trigger: Some("workflow_dispatch".into()),
        ..signer(&format!("{GENERIC}@refs/tags/v2.1.0"))
    }
}

#[test]
fn a1_generic_generator_workflow_dispatch_is_valid() {
    let st = provenance(&format!(
        "{SV}/gha_generic/v2.1.0/binary-linux-amd64-workflow_dispatch.intoto.jsonl"
    ));
    assert_eq!(st["_type"], "https://in-toto.io/Statement/v0.1");
    for builder in [
        GENERIC.to_owned(),
        format!("{GENERIC}@v2.1.0"),
        format!("{GENERIC}@refs/tags/v2.1.0"),
    ] {
        for branch in [None, Some("main")] {
            let mut p = policy(&[&builder], "github.com/slsa-framework/example-package");
            p.source_ref = branch.map(|b| RefRule::Branch(b.into()));
            p.subject_digest = Some((
                "sha256".into(),
                "376e7e01348585b6e6643bc6663146b9d525d9b41228bf180eaeb4d4a3706caa".into(),
            ));
            let v = verify::verify(&st, Some(&a1_signer()), &p);
            assert!(v.passed, "{builder} {branch:?}: {:#?}", v.checks);
            assert_eq!(v.level, 3);
        }
    }
}

#[test]
fn a2_to_a5_wrong_branch_source_tag_or_builder_are_rejected() {
    let st = provenance(&format!(
        "{SV}/gha_generic/v2.1.0/binary-linux-amd64-workflow_dispatch.intoto.jsonl"
    ));
    let base = || policy(&[GENERIC], "github.com/slsa-framework/example-package");
    // A2
    let mut p = base();
    p.source_ref = Some(RefRule::Branch("master".into()));
    assert_eq!(
        failed(&verify::verify(&st, Some(&a1_signer()), &p)),
        [CheckName::SourceRef]
    );
    // A3
    for src in [
        "github.com/laurentsimon/slsa-verifier-test-gen",
        "github.com/laurentsimon/slsa-verifier-test-genA",
        "github.com/Alaurentsimon/slsa-verifier-test-gen",
    ] {
        let p = policy(&[GENERIC], src);
        assert_eq!(
            failed(&verify::verify(&st, Some(&a1_signer()), &p)),
            [CheckName::SourceRepository],
            "{src}"
        );
    }
    // A4
    for rule in [
        RefRule::Tag("v1.2.3".into()),
        RefRule::VersionedTag("v1".into()),
    ] {
        let mut p = base();
        p.source_ref = Some(rule);
        assert_eq!(
            failed(&verify::verify(&st, Some(&a1_signer()), &p)),
            [CheckName::SourceRef]
        );
    }
    // A5
    let p = policy(
        &[
            "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/not-trusted.yml",
        ],
        "github.com/slsa-framework/example-package",
    );
    assert_eq!(
        failed(&verify::verify(&st, Some(&a1_signer()), &p)),
        [CheckName::BuilderId]
    );
}

fn a6_signer() -> SignerIdentity {
    SignerIdentity {
        source_repository_uri: Some("https://github.com/slsa-framework/example-package".into()),
        source_repository_ref: Some("refs/tags/v13.0.30".into()),
        source_repository_digest: Some("4d329c75e7ec1725f7c9ce917a8799d408d06be3".into()),
        ..signer(&format!("{GENERIC}@refs/tags/v2.1.0"))
    }
}

#[test]
fn a6_to_a8_tags_and_versioned_tags() {
    let st = provenance(&format!(
        "{SV}/gha_generic/v2.1.0/binary-linux-amd64-push-v13.0.30.intoto.jsonl"
    ));
    let check = |rule: RefRule| {
        let mut p = policy(&[GENERIC], "github.com/slsa-framework/example-package");
        p.source_ref = Some(rule);
        verify::verify(&st, Some(&a6_signer()), &p).passed
    };
    // A6 valid
    for t in ["v13", "v13.0", "v13.0.30"] {
        assert!(check(RefRule::VersionedTag(t.into())), "versioned {t}");
    }
    assert!(check(RefRule::Tag("v13.0.30".into())));
    assert!(check(RefRule::pattern(r"refs/tags/v13\..*").unwrap()));
    // A7 exact tag mismatch
    for t in ["v13.0.29", "v13.0", "v13"] {
        assert!(!check(RefRule::Tag(t.into())), "tag {t}");
    }
    // A8 versioned mismatch
    for t in ["v2", "v0", "v13.1", "v12.9", "v13.0.29", "v13.0.31"] {
        assert!(!check(RefRule::VersionedTag(t.into())), "versioned {t}");
    }
    // An unanchored-looking pattern still has to match the whole ref.
    assert!(!check(RefRule::pattern("v13").unwrap()));
}

// --- B: BYOB delegator, Statement v0.1 + provenance v1 ---------------------------------

#[test]
fn b1_delegator_signs_for_the_builder_it_runs() {
    let st = provenance(&format!(
        "{SV}/gha_delegator/v2.1.0/binary-linux-amd64-workflow_dispatch.build.slsa"
    ));
    let id = signer(
        "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/delegator_generic_slsa3.yml@refs/tags/v2.1.0",
    );
    let mut p = policy(
        &[
            "https://github.com/slsa-framework/example-trw/.github/workflows/builder_high-perms_slsa3.yml",
        ],
        "github.com/slsa-framework/example-package",
    );
    // Without trusting the delegator, the signer is not the builder the predicate names.
    assert_eq!(
        failed(&verify::verify(&st, Some(&id), &p)),
        [CheckName::Signer, CheckName::BuilderId]
    );
    p.delegators = vec!["https://github.com/slsa-framework/slsa-github-generator/.github/workflows/delegator_generic_slsa3.yml".into()];
    let artifact = std::fs::read(slsa().join(format!(
        "{SV}/gha_delegator/v2.1.0/binary-linux-amd64-workflow_dispatch"
    )))
    .unwrap();
    assert_eq!(
        hex::encode(Sha256::digest(&artifact)),
        "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
    );
    p.subject_digest = Some((
        "sha256".into(),
        "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03".into(),
    ));
    let v = verify::verify(&st, Some(&id), &p);
    assert!(v.passed, "{:#?}", v.checks);
}

// --- C: BCR GitHub attestations, Statement v1 + provenance v1 --------------------------

const PUBLISH_TO_BCR: &str =
    "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml";

#[test]
fn c1_bcr_attestation_is_valid_and_subject_matches_the_artifact() {
    let st = provenance(&format!("{SV}/bcr/MODULE.bazel.intoto.jsonl"));
    let artifact = std::fs::read(slsa().join(format!("{SV}/bcr/MODULE.bazel"))).unwrap();
    let mut p = policy(&[PUBLISH_TO_BCR], "github.com/aspect-build/rules_lint");
    p.subject_digest = Some(("sha256".into(), hex::encode(Sha256::digest(&artifact))));
    p.build_types = vec!["https://actions.github.io/buildtypes/workflow/v1".into()];
    let v = verify::verify(
        &st,
        Some(&signer(&format!("{PUBLISH_TO_BCR}@refs/tags/v0.0.1"))),
        &p,
    );
    assert!(v.passed, "{:#?}", v.checks);
    assert_eq!(
        v.check(CheckName::RunnerEnvironment).unwrap().outcome,
        Outcome::Pass
    );
}

#[test]
fn c2_no_builder_id_is_rejected() {
    let st = provenance(&format!("{SV}/bcr/MODULE.bazel.intoto.jsonl"));
    let p = policy(&[], "github.com/aspect-build/rules_lint");
    let v = verify::verify(
        &st,
        Some(&signer(&format!("{PUBLISH_TO_BCR}@refs/tags/v0.0.1"))),
        &p,
    );
    assert_eq!(failed(&v), [CheckName::BuilderId]);
}

#[test]
fn c3_wrong_signer_claiming_the_trusted_builder_is_rejected() {
    let st = provenance(&format!("{SV}/bcr/MODULE-wrong-signer.bazel.intoto.jsonl"));
    assert!(
        st["predicate"]["runDetails"]["builder"]["id"]
            .as_str()
            .unwrap()
            .starts_with(PUBLISH_TO_BCR),
        "the predicate lies"
    );
    let p = policy(&[PUBLISH_TO_BCR], "github.com/aspect-build/rules_lint");
    let malicious = signer(
        "https://github.com/loosebazooka/aa-test/.github/workflows/malicious_attestation.yaml@refs/heads/main",
    );
    let v = verify::verify(&st, Some(&malicious), &p);
    assert!(!v.passed);
    assert_eq!(
        failed(&v),
        [CheckName::Signer, CheckName::BuilderId],
        "{:#?}",
        v.checks
    );
    // The same predicate with the genuine signer would pass: it is the certificate that decides.
    assert!(
        verify::verify(
            &st,
            Some(&signer(&format!("{PUBLISH_TO_BCR}@refs/tags/v0.0.1"))),
            &p
        )
        .passed
    );
}

#[test]
fn certificate_source_outranks_the_predicate() {
    let st = provenance(&format!("{SV}/bcr/MODULE.bazel.intoto.jsonl"));
    let p = policy(&[PUBLISH_TO_BCR], "github.com/aspect-build/rules_lint");
    let id = SignerIdentity {
        source_repository_uri: Some("https://github.com/someone-else/rules_lint".into()),
        ..signer(&format!("{PUBLISH_TO_BCR}@refs/tags/v0.0.1"))
    };
    let v = verify::verify(&st, Some(&id), &p);
    assert!(!v.passed);
    assert!(
        failed(&v).iter().all(|c| *c == CheckName::SourceRepository),
        "{:#?}",
        v.checks
    );
}

// --- D: npm provenance (runner builder id) ---------------------------------------------

#[test]
fn d1_to_d4_npm_provenance_builder_ids() {
    let st = provenance(&format!("{SV}/npm/gha/gundam-visor-cli-v1-tag.tgz.json"));
    let tgz =
        std::fs::read(slsa().join(format!("{SV}/npm/gha/gundam-visor-cli-v1-tag.tgz"))).unwrap();
    let id = signer(
        "https://github.com/ramonpetgrave64/gundam-visor/.github/workflows/npm-publish.yml@refs/tags/v1.0.1",
    );
    let run = |builders: &[&str]| {
        let mut p = policy(builders, "github.com/ramonpetgrave64/gundam-visor");
        p.subject_digest = Some(("sha512".into(), hex::encode(Sha512::digest(&tgz))));
        p.source_ref = Some(RefRule::VersionedTag("v1".into()));
        verify::verify(&st, Some(&id), &p)
    };
    let v = run(&["https://github.com/actions/runner/github-hosted"]);
    assert!(v.passed, "D1 {:#?}", v.checks);
    assert!(!run(&["https://github.com/actions/runner"]).passed, "D2");
    assert!(!run(&[]).passed, "D3");
    assert!(
        !run(&["https://github.com/actions/runner/github-hosted2"]).passed,
        "D4"
    );
    // A self-hosted claim contradicted by the certificate fails the signer check.
    let contradicted = SignerIdentity {
        runner_environment: Some("self-hosted".into()),
        ..id.clone()
    };
    let mut p = policy(
        &["https://github.com/actions/runner/github-hosted"],
        "github.com/ramonpetgrave64/gundam-visor",
    );
    p.allow_self_hosted = true;
    assert!(failed(&verify::verify(&st, Some(&contradicted), &p)).contains(&CheckName::Signer));
}

// --- G: untrusted fork of the generator -------------------------------------------------

#[test]
fn g1_untrusted_builder_fork_is_rejected() {
    let st = provenance(&format!(
        "{SV}/binary-linux-amd64-untrusted-builder.intoto.jsonl"
    ));
    let id = signer(
        "https://github.com/asraa/slsa-github-generator/.github/workflows/builder_go_slsa3.yml@refs/tags/v1.4.0",
    );
    let p = policy(
        &[
            "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_go_slsa3.yml",
        ],
        "github.com/asraa/slsa-verifier-test-gen",
    );
    let v = verify::verify(&st, Some(&id), &p);
    assert!(
        failed(&v).contains(&CheckName::BuilderId),
        "{:#?}",
        v.checks
    );
}

// --- gh attestation fixtures -------------------------------------------------------------

#[test]
fn gh_reusable_workflow_and_repository_checks() {
    let st = provenance(&format!("{GH}/reusable-workflow-attestation.sigstore.json"));
    let id = signer(
        "https://github.com/github/artifact-attestations-workflows/.github/workflows/attest.yml@09b495c3f12c7881b3cc17209a327792065c1a1d",
    );
    let artifact = std::fs::read(slsa().join(format!("{GH}/reusable-workflow-artifact"))).unwrap();
    let mut p = policy(
        &["https://github.com/actions/runner/github-hosted"],
        "github.com/malancas/attest-demo",
    );
    p.subject_digest = Some(("sha256".into(), hex::encode(Sha256::digest(&artifact))));
    assert!(verify::verify(&st, Some(&id), &p).passed);
    p.source_repository = Some("https://github.com/malancas/fakerepo".into());
    assert_eq!(
        failed(&verify::verify(&st, Some(&id), &p)),
        [CheckName::SourceRepository]
    );

    let js = provenance(&format!("{GH}/sigstore-js-2.1.0-bundle.json"));
    let id = signer(
        "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
    );
    let ok = policy(
        &["https://github.com/actions/runner/github-hosted"],
        "github.com/sigstore/sigstore-js",
    );
    assert!(verify::verify(&js, Some(&id), &ok).passed);
    let bad = policy(
        &["https://github.com/actions/runner/github-hosted"],
        "github.com/sigstore/fakerepo",
    );
    assert!(!verify::verify(&js, Some(&id), &bad).passed);

    let ci = provenance(&format!("{GH}/custom-issuer.sigstore.json"));
    let san =
        "https://github.com/too-legit/attest/.github/workflows/integration.yml@refs/heads/main";
    let mut p = policy(
        &["https://github.com/too-legit/attest/.github/workflows/integration.yml"],
        "github.com/too-legit/attest",
    );
    p.source_ref = Some(RefRule::Branch("main".into()));
    assert!(verify::verify(&ci, Some(&signer(san)), &p).passed);
}

// --- levels and unauthenticated provenance ----------------------------------------------

#[test]
fn unsigned_provenance_is_level_one_at_most_and_self_hosted_fails_by_default() {
    let st = provenance(&format!("{SV}/bcr/MODULE.bazel.intoto.jsonl"));
    let mut p = policy(&[PUBLISH_TO_BCR], "github.com/aspect-build/rules_lint");
    p.min_level = Some(2);
    let v = verify::verify(&st, None, &p);
    assert_eq!(v.level, 1);
    assert_eq!(failed(&v), [CheckName::BuildLevel]);
    assert_eq!(
        v.check(CheckName::Signer).unwrap().outcome,
        Outcome::Skipped
    );

    let mut self_hosted = st.clone();
    self_hosted["predicate"]["buildDefinition"]["internalParameters"]["github"]["runner_environment"] =
        "self-hosted".into();
    let id = signer(&format!("{PUBLISH_TO_BCR}@refs/tags/v0.0.1"));
    let v = verify::verify(&self_hosted, Some(&id), &p);
    assert_eq!(
        failed(&v),
        [CheckName::RunnerEnvironment, CheckName::BuildLevel]
    );
    p.allow_self_hosted = true;
    p.min_level = Some(1);
    assert!(verify::verify(&self_hosted, Some(&id), &p).passed);
}

#[test]
fn malformed_documents_are_a_failed_verdict_not_an_error() {
    let p = policy(&[GENERIC], "github.com/o/r");
    for doc in [
        serde_json::json!([]),
        serde_json::json!({"_type": "https://in-toto.io/Statement/v1", "subject": [], "predicateType": "x", "predicate": {}}),
    ] {
        let v = verify::verify(&doc, None, &p);
        assert!(!v.passed);
        assert_eq!(failed(&v), [CheckName::Statement]);
    }
    let vsa = payloads(&format!("{SV}/bcr/MODULE.bazel.intoto.jsonl")).remove(0);
    let mut other = vsa.clone();
    other["predicateType"] = "https://slsa.dev/verification_summary/v1".into();
    assert_eq!(
        failed(&verify::verify(&other, None, &p)),
        [CheckName::Statement]
    );
}

// --- in-toto attestation Go validator vectors ---------------------------------------------

fn go_vectors(dir: &str) -> Vec<(String, Value)> {
    let path = slsa()
        .join("vectors/in-toto-attestation/go-test-vectors")
        .join(dir);
    let mut out: Vec<(String, Value)> = std::fs::read_dir(path)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            (
                name,
                serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn in_toto_statement_vectors() {
    let cases = go_vectors("statement");
    assert_eq!(cases.len(), 11);
    for (name, doc) in cases {
        let ok = verify::validate_statement(&doc).is_ok();
        assert_eq!(
            ok,
            name.starts_with("valid-"),
            "{name}: {:?}",
            verify::validate_statement(&doc)
        );
    }
}

#[test]
fn in_toto_resource_descriptor_vectors() {
    let cases = go_vectors("resource_descriptor");
    assert_eq!(cases.len(), 8);
    for (name, doc) in cases {
        let ok = verify::validate_descriptor(&doc, "descriptor").is_ok();
        assert_eq!(ok, name.starts_with("valid-"), "{name}");
    }
}

#[test]
fn slsa_provenance_v1_predicate_vectors() {
    let cases = go_vectors("slsa_provenance_v1_predicate");
    assert_eq!(cases.len(), 7);
    for (name, doc) in cases {
        let ok = verify::validate_provenance_v1(&doc).is_ok();
        assert_eq!(
            ok,
            name.starts_with("valid-"),
            "{name}: {:?}",
            verify::validate_provenance_v1(&doc)
        );
    }
}

#[test]
fn typed_statements_verify_alike() {
    // The v0.1 Statement with a v0.2 predicate, parsed by cairn-model, gives the same verdict.
    let st = provenance(&format!(
        "{SV}/gha_generic/v2.1.0/binary-linux-amd64-push-v13.0.30.intoto.jsonl"
    ));
    let typed = cairn_model::Statement::from_slice(&serde_json::to_vec(&st).unwrap()).unwrap();
    let mut p = policy(&[GENERIC], "github.com/slsa-framework/example-package");
    p.source_ref = Some(RefRule::VersionedTag("v13.0".into()));
    let a = verify::verify(&st, Some(&a6_signer()), &p);
    let b = verify::verify_statement(&typed, Some(&a6_signer()), &p);
    assert!(a.passed && b.passed);
    assert_eq!(a, b);
}
