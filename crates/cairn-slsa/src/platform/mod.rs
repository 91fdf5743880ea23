//! What each build platform contributes to provenance: buildType, parameters, builder, invocation
//! and the source it was asked to build. One module per platform, each following the buildType
//! its documentation names (see `docs/buildtypes/`).

pub mod github;
pub mod gitlab;
pub mod local;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::env::{Environment, IdTokenClaims, Platform};
use crate::git::GitSource;
use crate::{Error, Warning};

/// The cairn documentation base for buildTypes and builder ids cairn defines.
pub const CAIRN_DOCS: &str = "https://github.com/cairn-dev/cairn/blob/main/docs/buildtypes";

/// The source a platform says it built: repository, ref and commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRef {
    /// SPDX download location, `git+https://host/owner/repo@refs/...`.
    pub uri: String,
    /// The commit (hex object id).
    pub commit: String,
}

/// Everything a platform contributes to a provenance document.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildContext {
    /// Which platform.
    pub platform: Platform,
    /// `buildDefinition.buildType`.
    pub build_type: String,
    /// `buildDefinition.externalParameters`.
    pub external_parameters: Map<String, Value>,
    /// `buildDefinition.internalParameters` (omitted when empty).
    pub internal_parameters: Map<String, Value>,
    /// `runDetails.builder.id`.
    pub builder_id: String,
    /// `runDetails.builder.version` (omitted when empty).
    pub builder_version: BTreeMap<String, String>,
    /// `runDetails.metadata.invocationId`.
    pub invocation_id: Option<String>,
    /// When the job started, as the platform reports it (RFC 3339).
    pub started_on: Option<chrono::DateTime<chrono::Utc>>,
    /// The source the platform was asked to build.
    pub source: Option<SourceRef>,
    /// Things the user should know (the provenance is still produced).
    pub warnings: Vec<Warning>,
}

/// Inputs to a platform.
#[derive(Debug, Clone, Copy)]
pub struct PlatformInput<'a> {
    /// The environment variables.
    pub env: &'a Environment,
    /// The OIDC ID token claims, when the caller has them.
    pub claims: Option<&'a IdTokenClaims>,
    /// The checkout, when there is one.
    pub git: Option<&'a GitSource>,
}

/// Describes the build for the platform `env` belongs to (or `platform`, when forced).
pub fn describe(input: PlatformInput<'_>, platform: Platform) -> Result<BuildContext, Error> {
    match platform {
        Platform::GitHubActions => github::describe(input),
        Platform::GitLabCi => gitlab::describe(input),
        Platform::Local => local::describe(input),
    }
}

/// Collects the values of `names` or reports every missing one at once.
pub(crate) fn require<'a, const N: usize>(
    env: &'a Environment,
    platform: Platform,
    names: [&'static str; N],
) -> Result<[&'a str; N], Error> {
    let missing: Vec<&'static str> = names
        .iter()
        .copied()
        .filter(|n| env.get(n).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(Error::MissingVariables {
            platform,
            names: missing,
        });
    }
    Ok(names.map(|n| env.get(n).expect("checked above")))
}

/// Checks that the ID token describes the same job as the environment: a token from another
/// job (or repository) must not lend its claims to this provenance.
pub(crate) fn check_claims(
    claims: Option<&IdTokenClaims>,
    pairs: &[(&'static str, &str)],
) -> Result<(), Error> {
    let Some(claims) = claims else {
        return Ok(());
    };
    for (claim, env) in pairs {
        let token = match claims.0.get(*claim) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => continue,
        };
        if token != *env {
            return Err(Error::ClaimsMismatch {
                claim,
                token,
                env: (*env).to_owned(),
            });
        }
    }
    Ok(())
}

/// A warning when the checkout's `HEAD` is not the commit the platform says it built.
pub(crate) fn check_checkout(
    git: Option<&GitSource>,
    commit: &str,
    variable: &'static str,
) -> Option<Warning> {
    let git = git?;
    (!git.commit.eq_ignore_ascii_case(commit)).then(|| Warning::CheckoutDiffers {
        variable,
        expected: commit.to_owned(),
        actual: git.commit.clone(),
    })
}
