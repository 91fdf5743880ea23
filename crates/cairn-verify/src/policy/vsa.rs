//! A SLSA Verification Summary Attestation (v1) for a passing evaluation: an in-toto Statement
//! about the subject that later gates can trust instead of re-verifying everything.

use cairn_model::predicate::vsa::v1::{VerificationResult, VerificationSummary, Verifier};
use cairn_model::{DigestSet, ResourceDescriptor, Statement, Timestamp};
use chrono::{DateTime, Utc};

use super::evaluate::{Evaluation, Subject};
use super::load::Policy;

/// What the VSA says about its producer.
#[derive(Debug, Clone)]
pub struct VsaOptions {
    /// `verifier.id` (a URI naming this verifier deployment).
    pub verifier_id: String,
    /// `verifier.version` entries, e.g. `("cairn", "0.1.0")`.
    pub verifier_version: Vec<(String, String)>,
    /// `resourceUri`: the artifact or image as users name it.
    pub resource_uri: String,
    /// `policy.uri`.
    pub policy_uri: String,
    /// `timeVerified`.
    pub time: DateTime<Utc>,
}

/// The VSA Statement for `evaluation` of `subject` (PASSED or FAILED as the verdict says).
pub fn vsa_statement(
    policy: &Policy,
    subject: &Subject,
    evaluation: &Evaluation,
    opts: &VsaOptions,
) -> Statement {
    let mut levels = Vec::new();
    if evaluation.verdict.passed() {
        levels.push(format!(
            "SLSA_BUILD_LEVEL_{}",
            evaluation.slsa_level.unwrap_or(0)
        ));
    } else {
        levels.push("SLSA_BUILD_LEVEL_0".to_owned());
    }
    let mut policy_rd =
        ResourceDescriptor::subject(policy.name.clone(), DigestSet::sha256(&policy.digest));
    policy_rd.name = None;
    policy_rd.uri = Some(opts.policy_uri.clone());
    let input_attestations = evaluation
        .attestations
        .iter()
        .filter(|a| a.verified)
        .filter_map(|a| {
            let hexd = a.bundle_digest.strip_prefix("sha256:")?;
            let digest = DigestSet::with("sha256", hexd).ok()?;
            let mut rd = ResourceDescriptor::subject(a.source.clone(), digest);
            rd.name = None;
            rd.uri = Some(a.source.clone());
            Some(rd)
        })
        .collect();
    let summary = VerificationSummary {
        verifier: Verifier {
            id: opts.verifier_id.clone(),
            version: opts.verifier_version.iter().cloned().collect(),
            extra: Default::default(),
        },
        time_verified: Some(Timestamp::from_datetime(opts.time)),
        resource_uri: opts.resource_uri.clone(),
        policy: Some(policy_rd),
        input_attestations,
        verification_result: if evaluation.verdict.passed() {
            VerificationResult::Passed
        } else {
            VerificationResult::Failed
        },
        verified_levels: levels,
        dependency_levels: Default::default(),
        slsa_version: Some("1.0".to_owned()),
        extra: Default::default(),
    };
    let predicate = serde_json::to_value(&summary).expect("a VSA always serialises");
    Statement::new(
        vec![ResourceDescriptor::subject(
            subject.name.clone(),
            DigestSet::sha256(&subject.sha256),
        )],
        cairn_model::predicate::VSA_V1,
        predicate,
    )
}
