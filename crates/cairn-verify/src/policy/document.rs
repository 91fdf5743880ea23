//! The policy file as written (YAML, version 1): plain serde types that reject unknown fields.
//! [`super::Policy::from_yaml`] turns a document into a checked, compiled policy.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A whole policy document.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicyDocument {
    /// Format version; must be `1`.
    pub version: u32,
    /// A name for reports and the VSA's policy descriptor.
    #[serde(default)]
    pub name: Option<String>,
    /// Who may sign attestations (at least one).
    pub signers: Vec<SignerDocument>,
    /// What must be attested.
    #[serde(default)]
    pub requirements: Vec<RequirementDocument>,
    /// An in-toto layout to run over the link attestations.
    #[serde(default)]
    pub layout: Option<LayoutDocument>,
}

/// A trusted signer: a key, or a keyless identity with its issuer.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SignerDocument {
    /// The name requirements use to refer to this signer.
    pub name: String,
    /// A public key file (PEM), relative to the policy file.
    #[serde(default)]
    pub key: Option<String>,
    /// A public key given inline (PEM).
    #[serde(default)]
    pub key_pem: Option<String>,
    /// Key signers: whether bundles need a transparency-log entry (default `required`).
    #[serde(default)]
    pub transparency_log: Option<TransparencyLog>,
    /// Key signers: the older spelling of `transparencyLog: optional`.
    #[serde(default)]
    pub allow_missing_tlog: bool,
    /// Keyless: the exact certificate identity (SAN).
    #[serde(default)]
    pub identity: Option<String>,
    /// Keyless: a regular expression the whole SAN must match (anchored).
    #[serde(default)]
    pub identity_regexp: Option<String>,
    /// Keyless: the OIDC issuer (exact).
    #[serde(default)]
    pub issuer: Option<String>,
    /// Keyless: GitHub Actions claims from the certificate.
    #[serde(default)]
    pub github: Option<GithubDocument>,
}

/// Whether a key signer's bundles must carry a transparency-log entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
#[serde(rename_all = "lowercase")]
pub enum TransparencyLog {
    /// A verified log entry (inclusion proof or promise) is required: the default.
    Required,
    /// Bundles without a log entry are accepted for this key (unsafe: nothing proves when the
    /// signature was made or that it was published). Entries that are present are verified.
    Optional,
}

/// GitHub Actions certificate claims to require (each exact).
#[derive(Debug, Clone, Default, Deserialize)]
#[non_exhaustive]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GithubDocument {
    /// `owner/repo`.
    #[serde(default)]
    pub repository: Option<String>,
    /// `owner/repo/.github/workflows/f.yml@refs/...`.
    #[serde(default)]
    pub workflow_ref: Option<String>,
    /// The commit.
    #[serde(default)]
    pub sha: Option<String>,
    /// The git ref, e.g. `refs/tags/v1.2.0`.
    #[serde(default, rename = "ref")]
    pub git_ref: Option<String>,
    /// `github-hosted` or `self-hosted`.
    #[serde(default)]
    pub runner_environment: Option<String>,
}

/// One requirement: attestations of a predicate type, from some signers, passing some checks.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RequirementDocument {
    /// Its name (check ids use it).
    pub name: String,
    /// `slsa`, `spdx`, `cyclonedx`, `sbom` (either), `vsa`, `link`, `test-result`, or a URI.
    pub predicate_type: String,
    /// Only these signers (by name) count; default: every signer.
    #[serde(default)]
    pub signers: Vec<String>,
    /// Distinct signers whose attestations must pass (default 1).
    #[serde(default)]
    pub threshold: Option<u32>,
    /// SLSA provenance checks.
    #[serde(default)]
    pub slsa: Option<SlsaDocument>,
    /// SBOM checks.
    #[serde(default)]
    pub sbom: Option<SbomDocument>,
    /// CEL expressions over the statement, each must be `true`.
    #[serde(default)]
    pub cel: Vec<CelDocument>,
}

/// A trusted builder.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BuilderDocument {
    /// The builder id (without `@`: any version).
    pub id: String,
    /// The SLSA build level it meets (1-3).
    pub level: u8,
}

/// The source ref rule: exactly one field.
#[derive(Debug, Clone, Default, Deserialize)]
#[non_exhaustive]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RefDocument {
    /// `refs/heads/NAME`.
    #[serde(default)]
    pub branch: Option<String>,
    /// `refs/tags/NAME`.
    #[serde(default)]
    pub tag: Option<String>,
    /// A semver tag prefix (`v1` accepts `v1.4.2`).
    #[serde(default)]
    pub versioned_tag: Option<String>,
    /// An anchored regular expression over the whole ref.
    #[serde(default)]
    pub pattern: Option<String>,
}

/// SLSA provenance checks (cairn-slsa's verifier).
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SlsaDocument {
    /// Trusted builders (at least one).
    pub builders: Vec<BuilderDocument>,
    /// Delegator signer identities (BYOB).
    #[serde(default)]
    pub delegators: Vec<String>,
    /// The source repository.
    #[serde(default)]
    pub source_repository: Option<String>,
    /// The source ref.
    #[serde(default)]
    pub source_ref: Option<RefDocument>,
    /// The source commit.
    #[serde(default)]
    pub source_commit: Option<String>,
    /// Accepted buildTypes (empty: any).
    #[serde(default)]
    pub build_types: Vec<String>,
    /// Minimum SLSA build level.
    #[serde(default)]
    pub min_level: Option<u8>,
    /// Accept self-hosted runners.
    #[serde(default)]
    pub allow_self_hosted: bool,
}

/// A package pattern: by purl or by name (`*` wildcards, whole-string).
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PackagePatternDocument {
    /// Package URL pattern, e.g. `pkg:npm/event-stream@*`.
    #[serde(default)]
    pub purl: Option<String>,
    /// Package name pattern, e.g. `log4j-core`.
    #[serde(default)]
    pub name: Option<String>,
    /// Why it is denied (shown in the verdict).
    #[serde(default)]
    pub reason: Option<String>,
}

/// SBOM checks.
#[derive(Debug, Clone, Default, Deserialize)]
#[non_exhaustive]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SbomDocument {
    /// Packages that must not appear.
    #[serde(default)]
    pub denied_packages: Vec<PackagePatternDocument>,
    /// SPDX licence ids (`*` wildcards) that must not appear.
    #[serde(default)]
    pub denied_licenses: Vec<String>,
    /// At least this many packages (catches empty SBOMs; default 0).
    #[serde(default)]
    pub min_packages: Option<u32>,
}

/// A CEL rule.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CelDocument {
    /// Its name.
    pub name: String,
    /// The expression; variables `predicate`, `predicateType`, `subject`, `statement`, `signer`.
    pub expr: String,
}

/// An in-toto layout over link attestations.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LayoutDocument {
    /// The signed layout file, relative to the policy.
    pub path: String,
    /// Layout owner public keys (PEM files, relative to the policy); each must have signed.
    pub keys: Vec<String>,
    /// Parameter substitution values.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
}
