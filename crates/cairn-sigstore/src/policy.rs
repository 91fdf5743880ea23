//! Who may have signed: certificate identity (exact or anchored pattern) and OIDC issuer, GitHub
//! Actions claims from Fulcio's certificate extensions, or a public key.
//!
//! There is no default policy: a verifier must name a signer.

use regex::Regex;

use crate::error::{Error, Result};

/// How the certificate's SAN (URI or email) must match.
#[derive(Debug, Clone)]
pub enum Identity {
    /// Byte-for-byte equal.
    Exact(String),
    /// A regular expression that must match the whole SAN (it is anchored for you).
    Pattern {
        /// The pattern as the user wrote it.
        source: String,
        /// `^(?:source)$`, compiled.
        regex: Regex,
    },
}

impl Identity {
    /// An exact identity.
    pub fn exact(identity: impl Into<String>) -> Self {
        Self::Exact(identity.into())
    }

    /// A pattern that must match the whole SAN: `a.*` never matches `xa`, `.*@example\.com`
    /// never matches `me@example.com.evil`.
    pub fn pattern(pattern: &str) -> Result<Self> {
        let regex =
            Regex::new(&format!("^(?:{pattern})$")).map_err(|source| Error::IdentityPattern {
                pattern: pattern.to_string(),
                source,
            })?;
        Ok(Self::Pattern {
            source: pattern.to_string(),
            regex,
        })
    }

    /// Whether `san` satisfies this identity.
    pub fn matches(&self, san: &str) -> bool {
        match self {
            Identity::Exact(expected) => san == expected,
            Identity::Pattern { regex, .. } => regex.is_match(san),
        }
    }
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Identity::Exact(s) => write!(f, "{s:?}"),
            Identity::Pattern { source, .. } => write!(f, "/^(?:{source})$/"),
        }
    }
}

/// Checks on the GitHub Actions claims Fulcio copies from the workflow's OIDC token into the
/// certificate (OIDs 1.3.6.1.4.1.57264.1.*). Each set field must match exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GithubClaims {
    /// `owner/repo` (or `https://github.com/owner/repo`): the source repository (.1.12, or the
    /// deprecated .1.5).
    pub repository: Option<String>,
    /// The workflow that signed, `owner/repo/.github/workflows/f.yml@refs/...` (or the full URL):
    /// the build signer URI (.1.9).
    pub workflow_ref: Option<String>,
    /// The commit built (.1.13, or the deprecated .1.3).
    pub sha: Option<String>,
    /// The git ref built, e.g. `refs/tags/v1.2.0` (.1.14, or the deprecated .1.6).
    pub git_ref: Option<String>,
    /// `github-hosted` or `self-hosted` (.1.11).
    pub runner_environment: Option<String>,
}

impl GithubClaims {
    /// Whether no check is requested.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// A keyless signer: certificate identity, issuer and optional GitHub claims.
#[derive(Debug, Clone)]
pub struct CertificatePolicy {
    /// The SAN to accept.
    pub identity: Identity,
    /// The OIDC issuer (Fulcio extension 1.3.6.1.4.1.57264.1.8, or the deprecated .1.1), exact.
    pub issuer: String,
    /// GitHub Actions claims to require.
    pub github: GithubClaims,
}

impl CertificatePolicy {
    /// Accept `identity` issued by `issuer`.
    pub fn new(identity: Identity, issuer: impl Into<String>) -> Self {
        Self {
            identity,
            issuer: issuer.into(),
            github: GithubClaims::default(),
        }
    }

    /// Also require these GitHub claims.
    pub fn with_github(mut self, github: GithubClaims) -> Self {
        self.github = github;
        self
    }
}

/// A signer's public key (DER SubjectPublicKeyInfo).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    der: Vec<u8>,
}

impl PublicKey {
    /// From DER SubjectPublicKeyInfo.
    pub fn from_der(der: Vec<u8>) -> Self {
        Self { der }
    }

    /// From a PEM `PUBLIC KEY` block.
    pub fn from_pem(pem: &str) -> Result<Self> {
        let key =
            sigstore_verify::types::DerPublicKey::from_pem(pem).map_err(|e| Error::PublicKey {
                source: Box::new(e),
            })?;
        Ok(Self {
            der: key.as_bytes().to_vec(),
        })
    }

    /// DER SubjectPublicKeyInfo.
    pub fn as_der(&self) -> &[u8] {
        &self.der
    }
}

/// Who must have signed.
#[derive(Debug, Clone)]
pub enum SignerPolicy {
    /// A Fulcio certificate for this identity (keyless).
    Certificate(CertificatePolicy),
    /// This key (key-based bundles with a public-key hint).
    Key(PublicKey),
}

pub(crate) fn github_repository_uri(repo: &str) -> String {
    if repo.starts_with("https://") {
        repo.to_string()
    } else {
        format!("https://github.com/{repo}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_anchored() {
        let p = Identity::pattern(r".*@example\.com").expect("compiles");
        assert!(p.matches("me@example.com"));
        assert!(!p.matches("me@example.com.evil"));
        let p = Identity::pattern("https://github.com/org/.*").expect("compiles");
        assert!(!p.matches("https://evil.test/https://github.com/org/x"));
        let p = Identity::pattern("a|b").expect("compiles");
        assert!(!p.matches("ab"), "alternation is anchored as a group");
        assert!(Identity::pattern("(").is_err());
    }

    #[test]
    fn exact_is_exact() {
        let id = Identity::exact("a@b.c");
        assert!(id.matches("a@b.c"));
        assert!(!id.matches("a@b.cd"));
    }
}
