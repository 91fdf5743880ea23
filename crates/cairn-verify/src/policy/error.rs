//! Why a policy could not be loaded or evaluated (as opposed to a failing verdict).

use std::path::PathBuf;

/// A policy error: the policy is unusable, or the evaluation could not be carried out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The policy file is larger than [`super::MAX_POLICY_SIZE`].
    #[error("policy is {size} bytes, more than the {limit} allowed")]
    TooLarge {
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The YAML does not parse, or does not have the policy's shape (the cause names the field).
    #[error("invalid policy")]
    Yaml {
        /// The parser's explanation (line, column, field).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// `version` is not one this cairn understands.
    #[error("unsupported policy version {found} (this cairn reads version 1)")]
    Version {
        /// The version found.
        found: u32,
    },
    /// `signers` is empty: nothing could ever be trusted, and cairn has no default signer.
    #[error("the policy names no signers; cairn has no default signer, list at least one")]
    NoSigners,
    /// Neither requirements nor a layout: the policy would check nothing.
    #[error("the policy has no requirements and no layout; it would check nothing")]
    NothingRequired,
    /// Two signers or requirements share a name.
    #[error("duplicate {kind} name {name:?}")]
    DuplicateName {
        /// `signer` or `requirement`.
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// A signer is not exactly one of key, keyPem, identity, identityRegexp.
    #[error("signer {name:?}: give exactly one of `key`, `keyPem`, `identity`, `identityRegexp`")]
    SignerKind {
        /// The signer.
        name: String,
    },
    /// A keyless signer without an issuer.
    #[error(
        "signer {name:?}: keyless signers need `issuer` (e.g. https://token.actions.githubusercontent.com)"
    )]
    MissingIssuer {
        /// The signer.
        name: String,
    },
    /// A field that only applies to the other kind of signer.
    #[error("signer {name:?}: `{field}` does not apply to a {kind} signer")]
    MisplacedField {
        /// The signer.
        name: String,
        /// The field.
        field: &'static str,
        /// `key` or `keyless`.
        kind: &'static str,
    },
    /// Two fields of a signer that contradict each other.
    #[error("signer {name:?}: `{first}` contradicts `{second}`")]
    ConflictingFields {
        /// The signer.
        name: String,
        /// One field as written.
        first: &'static str,
        /// The other.
        second: &'static str,
    },
    /// An identity pattern does not compile.
    #[error("signer {name:?}: bad identityRegexp")]
    IdentityPattern {
        /// The signer.
        name: String,
        /// Why.
        #[source]
        source: cairn_sigstore::Error,
    },
    /// A key cannot be loaded.
    #[error("signer {name:?}: cannot load public key {key}")]
    Key {
        /// The signer (or `layout`).
        name: String,
        /// The key file or `keyPem`.
        key: String,
        /// Why.
        #[source]
        source: cairn_sign::KeyError,
    },
    /// A requirement names a signer the policy does not define.
    #[error("requirement {requirement:?}: unknown signer {signer:?}")]
    UnknownSigner {
        /// The requirement.
        requirement: String,
        /// The name.
        signer: String,
    },
    /// The threshold is 0 or more than the signers available.
    #[error("requirement {requirement:?}: threshold {threshold} needs 1..={available} signers")]
    Threshold {
        /// The requirement.
        requirement: String,
        /// The threshold.
        threshold: u32,
        /// Signers that may count.
        available: usize,
    },
    /// An unknown predicate type shorthand.
    #[error(
        "requirement {requirement:?}: unknown predicate type {value:?} (use slsa, spdx, cyclonedx, sbom, vsa, link, test-result or a URI)"
    )]
    PredicateType {
        /// The requirement.
        requirement: String,
        /// The value.
        value: String,
    },
    /// Checks given for a predicate type they cannot apply to.
    #[error("requirement {requirement:?}: `{field}` checks need predicateType {needs}")]
    ChecksMismatch {
        /// The requirement.
        requirement: String,
        /// `slsa` or `sbom`.
        field: &'static str,
        /// What the checks need.
        needs: &'static str,
    },
    /// An SLSA rule is malformed.
    #[error("requirement {requirement:?}: slsa: {problem}")]
    Slsa {
        /// The requirement.
        requirement: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// An SLSA ref pattern does not compile.
    #[error("requirement {requirement:?}: slsa.sourceRef.pattern")]
    RefPattern {
        /// The requirement.
        requirement: String,
        /// Why.
        #[source]
        source: cairn_slsa::Error,
    },
    /// A package pattern names neither purl nor name.
    #[error("requirement {requirement:?}: each deniedPackages entry needs `purl` or `name`")]
    PackagePattern {
        /// The requirement.
        requirement: String,
    },
    /// A CEL expression does not compile.
    #[error("requirement {requirement:?}: CEL rule {rule:?} does not compile: {message}")]
    Cel {
        /// The requirement.
        requirement: String,
        /// The rule.
        rule: String,
        /// The parser's message.
        message: String,
    },
    /// A layout owner key list is empty.
    #[error("layout: at least one layout key is required")]
    NoLayoutKeys,
    /// The layout engine could not run.
    #[error("cannot run the in-toto layout")]
    Layout {
        /// Why.
        #[source]
        source: crate::layout::Error,
    },
}
