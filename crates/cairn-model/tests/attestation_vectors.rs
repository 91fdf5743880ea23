//! The in-toto/attestation vectors (testdata/in-toto-attestation, see its MANIFEST.md): 13 valid,
//! 18 invalid (each with the reason the MANIFEST gives) and 9 parse-only cases; plus real
//! predicates from slsa-verifier's test data read through `Predicate::parse`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use cairn_model::descriptor::DescriptorError;
use cairn_model::digest::DigestError;
use cairn_model::predicate::{self, Predicate, PredicateError};
use cairn_model::statement::{Statement, StatementError, StatementType};
use cairn_model::{Envelope, ResourceDescriptor, json};
use serde_json::Value;

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(testdata().join("in-toto-attestation").join(rel))
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[derive(Debug)]
enum Expect {
    Valid,
    Invalid(&'static str),
    /// Parses, but strict validation rejects a placeholder digest of this algorithm.
    ParseOnly(&'static str),
}

use Expect::*;

const CASES: &[(&str, Expect)] = &[
    ("go-test-vectors/statement/valid-statement-v1.json", Valid),
    (
        "go-test-vectors/statement/invalid-bad-type.json",
        Invalid("ErrInvalidStatementType"),
    ),
    ("go-test-vectors/statement/valid-type-version-1.json", Valid),
    (
        "go-test-vectors/statement/valid-type-version-0.1.json",
        Valid,
    ),
    (
        "go-test-vectors/statement/invalid-type-version-2.json",
        Invalid("ErrInvalidStatementType"),
    ),
    (
        "go-test-vectors/statement/invalid-type-version-0.2.json",
        Invalid("ErrInvalidStatementType"),
    ),
    (
        "go-test-vectors/statement/invalid-no-subjects.json",
        Invalid("ErrSubjectRequired"),
    ),
    (
        "go-test-vectors/statement/invalid-subject-missing-name-uri-digest.json",
        Invalid("ErrRDRequiredField"),
    ),
    (
        "go-test-vectors/statement/invalid-subject-missing-digest.json",
        Invalid("ErrDigestRequired"),
    ),
    (
        "go-test-vectors/statement/invalid-missing-predicate-type.json",
        Invalid("ErrPredicateTypeRequired"),
    ),
    (
        "go-test-vectors/statement/invalid-missing-predicate.json",
        Invalid("ErrPredicateRequired"),
    ),
    (
        "go-test-vectors/resource_descriptor/valid-full-rd.json",
        Valid,
    ),
    (
        "go-test-vectors/resource_descriptor/valid-supported-digests.json",
        Valid,
    ),
    (
        "go-test-vectors/resource_descriptor/invalid-no-name-uri-digest.json",
        Invalid("ErrRDRequiredField"),
    ),
    (
        "go-test-vectors/resource_descriptor/invalid-digest-encoding.json",
        Invalid("ErrInvalidDigestEncoding sha256"),
    ),
    (
        "go-test-vectors/resource_descriptor/invalid-digest-length.json",
        Invalid("ErrIncorrectDigestLength sha256"),
    ),
    (
        "go-test-vectors/resource_descriptor/valid-gitcommit-sha1.json",
        Valid,
    ),
    (
        "go-test-vectors/resource_descriptor/valid-gitcommit-sha256.json",
        Valid,
    ),
    (
        "go-test-vectors/resource_descriptor/invalid-gitcommit-length.json",
        Invalid("ErrIncorrectDigestLength gitCommit"),
    ),
    (
        "go-test-vectors/slsa_provenance_v1_predicate/valid-provenance.json",
        Valid,
    ),
    (
        "go-test-vectors/slsa_provenance_v1_predicate/invalid-empty-buildDefinition.json",
        Invalid("ErrBuildDefinitionRequired"),
    ),
    (
        "go-test-vectors/slsa_provenance_v1_predicate/invalid-missing-buildType.json",
        Invalid("ErrBuildTypeRequired"),
    ),
    (
        "go-test-vectors/slsa_provenance_v1_predicate/invalid-missing-externalParameters.json",
        Invalid("ErrExternalParamsRequired"),
    ),
    (
        "go-test-vectors/slsa_provenance_v1_predicate/invalid-empty-runDetails.json",
        Invalid("ErrRunDetailsRequired"),
    ),
    (
        "go-test-vectors/slsa_provenance_v1_predicate/invalid-empty-builder.json",
        Invalid("ErrBuilderRequired"),
    ),
    (
        "go-test-vectors/slsa_provenance_v1_predicate/invalid-empty-builder-id.json",
        Invalid("ErrBuilderIdRequired"),
    ),
    ("spec-examples/test-result.block1.statement.json", Valid),
    ("spec-examples/reference.block1.statement.json", Valid),
    ("spec-examples/reference.block2.statement.json", Valid),
    (
        "spec-examples/release.block1.statement.json",
        ParseOnly("sha256"),
    ),
    (
        "spec-examples/release.block3.statement.json",
        ParseOnly("sha256"),
    ),
    (
        "spec-examples/release.block4.statement.json",
        ParseOnly("sha512"),
    ),
    (
        "spec-examples/svr.block1.statement.json",
        ParseOnly("sha256"),
    ),
    (
        "spec-examples/svr.block2.statement.json",
        ParseOnly("sha256"),
    ),
    (
        "spec-examples/svr.block3.statement.json",
        ParseOnly("sha256"),
    ),
    (
        "spec-examples/resource_descriptor.block1.resource-descriptor.json",
        ParseOnly("sha256"),
    ),
    (
        "spec-examples/resource_descriptor.block2.resource-descriptor.json",
        ParseOnly("sha1"),
    ),
    (
        "spec-examples/resource_descriptor.block3.resource-descriptor.json",
        ParseOnly("sha256"),
    ),
    (
        "spec-examples/resource_descriptor.block4.resource-descriptor.json",
        Valid,
    ),
    (
        "spec-examples/resource_descriptor.block5.resource-descriptor.json",
        Valid,
    ),
];

/// Maps cairn's typed errors onto the Go validator's error names used in the MANIFEST.
fn statement_reason(err: &StatementError) -> String {
    match err {
        StatementError::Type { .. } => "ErrInvalidStatementType".into(),
        StatementError::SubjectRequired => "ErrSubjectRequired".into(),
        StatementError::SubjectDigestRequired { .. } => "ErrDigestRequired".into(),
        StatementError::Subject { source, .. } => descriptor_reason(source),
        StatementError::PredicateTypeRequired => "ErrPredicateTypeRequired".into(),
        StatementError::PredicateRequired => "ErrPredicateRequired".into(),
        other => format!("unexpected: {other}"),
    }
}

fn descriptor_reason(err: &DescriptorError) -> String {
    match err {
        DescriptorError::MissingRequiredField => "ErrRDRequiredField".into(),
        DescriptorError::Digest(DigestError::Encoding { algorithm, .. }) => {
            format!("ErrInvalidDigestEncoding {algorithm}")
        }
        DescriptorError::Digest(DigestError::Length { algorithm, .. }) => {
            format!("ErrIncorrectDigestLength {algorithm}")
        }
        other => format!("unexpected: {other}"),
    }
}

fn predicate_reason(err: &PredicateError) -> String {
    match err {
        PredicateError::Required { field, .. } => match *field {
            "buildDefinition" => "ErrBuildDefinitionRequired",
            "buildDefinition.buildType" => "ErrBuildTypeRequired",
            "buildDefinition.externalParameters" => "ErrExternalParamsRequired",
            "runDetails" => "ErrRunDetailsRequired",
            "runDetails.builder" => "ErrBuilderRequired",
            "runDetails.builder.id" => "ErrBuilderIdRequired",
            other => return format!("unexpected field {other}"),
        }
        .into(),
        other => format!("unexpected: {other}"),
    }
}

/// Checks one file strictly; `Ok(())` or the Go-style reason it is invalid.
fn check(rel: &str, bytes: &[u8]) -> Result<(), String> {
    if rel.contains("statement") {
        Statement::from_slice(bytes)
            .map(drop)
            .map_err(|e| statement_reason(&e))
    } else if rel.contains("resource_descriptor") || rel.contains("resource-descriptor") {
        let rd: ResourceDescriptor = json::from_slice(bytes).unwrap();
        rd.validate().map_err(|e| descriptor_reason(&e))
    } else {
        let value = json::value_from_slice(bytes).unwrap();
        Predicate::parse(predicate::SLSA_PROVENANCE_V1, value)
            .map(drop)
            .map_err(|e| predicate_reason(&e))
    }
}

#[test]
fn every_case_gives_the_manifest_result() {
    let (mut valid, mut invalid, mut parse_only) = (0, 0, 0);
    for (rel, expect) in CASES {
        let bytes = read(rel);
        let got = check(rel, &bytes);
        match expect {
            Valid => {
                assert_eq!(got, Ok(()), "{rel}");
                valid += 1;
            }
            Invalid(reason) => {
                assert_eq!(got, Err((*reason).to_owned()), "{rel}");
                invalid += 1;
            }
            ParseOnly(alg) => {
                // The structure reads; strict validation rejects the placeholder digest.
                if rel.contains("statement") {
                    Statement::from_slice_unvalidated(&bytes).unwrap();
                }
                assert_eq!(got, Err(format!("ErrInvalidDigestEncoding {alg}")), "{rel}");
                parse_only += 1;
            }
        }
    }
    assert_eq!((valid, invalid, parse_only), (13, 18, 9));
}

#[test]
fn the_table_covers_every_file() {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, base, out);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let base = testdata().join("in-toto-attestation");
    let mut files = Vec::new();
    walk(&base, &base, &mut files);
    files.sort();
    let mut listed: Vec<String> = CASES.iter().map(|(r, _)| (*r).to_owned()).collect();
    listed.sort();
    assert_eq!(files, listed);
}

#[test]
fn statement_versions_are_recorded_and_round_trip() {
    let v01 = Statement::from_slice(&read(
        "go-test-vectors/statement/valid-type-version-0.1.json",
    ))
    .unwrap();
    assert_eq!(v01.statement_type, StatementType::V0_1);
    let full = read("spec-examples/test-result.block1.statement.json");
    let st = Statement::from_slice(&full).unwrap();
    assert_eq!(st.statement_type, StatementType::V1);
    // Written back, the statement is the same JSON value.
    let back: Value = serde_json::from_slice(&st.to_vec()).unwrap();
    assert_eq!(back, json::value_from_slice(&full).unwrap());
    let Predicate::TestResultV01(tr) = st.typed_predicate().unwrap() else {
        panic!("expected test-result v0.1")
    };
    assert_eq!(tr.result, predicate::test_result::v01::Outcome::Passed);
    assert_eq!(tr.passed_tests.len(), 13);
    assert!(tr.failed_tests.is_empty());
    assert_eq!(
        tr.configuration[0].digests().get("gitBlob"),
        Some("ebe4add40f63c3c98bc9b32ff1e736f04120b023")
    );
    // Empty lists in the document are not written back by the typed view (they are optional).
    let mut expected = st.predicate.clone();
    expected.as_object_mut().unwrap().remove("warnedTests");
    expected.as_object_mut().unwrap().remove("failedTests");
    assert_eq!(serde_json::to_value(&*tr).unwrap(), expected);
}

#[test]
fn full_resource_descriptor_fields() {
    let rd: ResourceDescriptor = json::from_slice(&read(
        "go-test-vectors/resource_descriptor/valid-full-rd.json",
    ))
    .unwrap();
    assert_eq!(rd.name.as_deref(), Some("theName"));
    assert_eq!(rd.content.as_deref(), Some(&b"bytescontent"[..]));
    assert_eq!(
        rd.download_location.as_deref(),
        Some("https://example.com/test.zip")
    );
    assert_eq!(rd.media_type.as_deref(), Some("theMediaType"));
    assert_eq!(rd.annotations.as_ref().unwrap()["a1"]["keyNum"], 13);
}

/// The Statement inside a DSSE envelope, bare or inside a Sigstore bundle (`dsseEnvelope`).
fn statement_of(rel: &str) -> Statement {
    let bytes = std::fs::read(testdata().join("slsa-verifier").join(rel)).unwrap();
    let first_line = bytes.split(|b| *b == b'\n').next().unwrap();
    let mut doc = json::value_from_slice(first_line).unwrap();
    if let Some(env) = doc.get_mut("dsseEnvelope") {
        doc = env.take();
    }
    let env: Envelope = json::from_value(doc).unwrap();
    assert_eq!(env.payload_type, "application/vnd.in-toto+json");
    Statement::from_slice(&env.payload).unwrap()
}

#[test]
fn real_predicates_dispatch_to_their_types() {
    let base = "cli/slsa-verifier/testdata/";
    // A: slsa-github-generator: Statement v0.1 + SLSA provenance v0.2.
    let st = statement_of(&format!(
        "{base}gha_generic/v2.1.0/binary-linux-amd64-push-v13.0.30.intoto.jsonl"
    ));
    assert_eq!(st.statement_type, StatementType::V0_1);
    let Predicate::SlsaProvenanceV02(p) = st.typed_predicate().unwrap() else {
        panic!("expected provenance v0.2")
    };
    assert_eq!(
        p.builder.id,
        "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.1.0"
    );
    let source = p
        .invocation
        .as_ref()
        .unwrap()
        .config_source
        .as_ref()
        .unwrap();
    assert_eq!(
        source.digest.as_ref().unwrap().get("sha1"),
        Some("4d329c75e7ec1725f7c9ce917a8799d408d06be3")
    );
    assert_eq!(serde_json::to_value(&*p).unwrap(), st.predicate);

    // B: BYOB delegator: Statement v0.1 + SLSA provenance v1.
    let st = statement_of(&format!(
        "{base}gha_delegator/v2.1.0/binary-linux-amd64-workflow_dispatch.build.slsa"
    ));
    let Predicate::SlsaProvenanceV1(p) = st.typed_predicate().unwrap() else {
        panic!("expected provenance v1")
    };
    assert_eq!(
        p.run_details.builder.id,
        "https://github.com/slsa-framework/example-trw/.github/workflows/builder_high-perms_slsa3.yml@refs/tags/v2.1.0"
    );
    assert_eq!(serde_json::to_value(&*p).unwrap(), st.predicate);

    // C: GitHub attestation for BCR: Statement v1 + SLSA provenance v1.
    let st = statement_of(&format!("{base}bcr/MODULE.bazel.intoto.jsonl"));
    assert_eq!(st.statement_type, StatementType::V1);
    let Predicate::SlsaProvenanceV1(p) = st.typed_predicate().unwrap() else {
        panic!("expected provenance v1")
    };
    assert_eq!(
        p.build_definition.resolved_dependencies[0]
            .digests()
            .get("gitCommit"),
        Some("8f70009fde0c94ade6ce2a054b94718c819126ec")
    );
    assert_eq!(serde_json::to_value(&*p).unwrap(), st.predicate);

    // E: Google BCID VSA v1.
    let st = statement_of(&format!("{base}vsa/gce/v1/gke-gce-pre.bcid-vsa.jsonl"));
    let Predicate::VsaV1(v) = st.typed_predicate().unwrap() else {
        panic!("expected VSA v1")
    };
    assert_eq!(
        v.verifier.id,
        "https://bcid.corp.google.com/verifier/bcid_package_enforcer/v0.1"
    );
    assert_eq!(v.verified_levels, ["BCID_L1", "SLSA_BUILD_LEVEL_2"]);
    assert_eq!(
        v.time_verified.as_ref().unwrap().as_str(),
        "2024-06-12T07:24:34.351608Z"
    );
    assert_eq!(
        st.subject[0].digests().get("gce_image_id"),
        Some("8970095005306000053")
    );
    assert_eq!(serde_json::to_value(&*v).unwrap(), st.predicate);
}
