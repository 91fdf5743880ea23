//! The build environment as data: the CI variables a platform documents, passed in as a map.
//!
//! The library never reads the process environment; the CLI hands it `std::env::vars()`. This
//! keeps provenance a pure function of its inputs (and the golden tests honest).

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// Environment variables, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl Environment {
    /// An empty environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets one variable (builder style).
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.vars.insert(name.into(), value.into());
        self
    }

    /// Sets one variable.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.vars.insert(name.into(), value.into());
    }

    /// A variable's value, treating an empty value as unset (GitHub sets `GITHUB_HEAD_REF=""`
    /// outside pull requests, for example).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// True when the variable is set to `true` (case-insensitive).
    pub fn is_true(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// Which platform this environment belongs to.
    pub fn platform(&self) -> Platform {
        if self.is_true("GITHUB_ACTIONS") {
            Platform::GitHubActions
        } else if self.is_true("GITLAB_CI") {
            Platform::GitLabCi
        } else {
            Platform::Local
        }
    }

    /// `SOURCE_DATE_EPOCH` (seconds since the Unix epoch), when set.
    pub fn source_date_epoch(&self) -> Result<Option<chrono::DateTime<chrono::Utc>>, crate::Error> {
        let Some(text) = self.get("SOURCE_DATE_EPOCH") else {
            return Ok(None);
        };
        let invalid = || crate::Error::SourceDateEpoch {
            value: text.to_owned(),
        };
        let secs: i64 = text.trim().parse().map_err(|_| invalid())?;
        if secs < 0 {
            return Err(invalid());
        }
        chrono::DateTime::from_timestamp(secs, 0)
            .map(Some)
            .ok_or_else(invalid)
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Environment {
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        Environment {
            vars: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

/// The build platforms cairn describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Platform {
    /// GitHub Actions (`GITHUB_ACTIONS=true`).
    GitHubActions,
    /// GitLab CI/CD (`GITLAB_CI=true`).
    GitLabCi,
    /// Anything else: a developer machine or a CI system cairn has no buildType for.
    Local,
}

impl Platform {
    /// A short human name.
    pub fn name(self) -> &'static str {
        match self {
            Platform::GitHubActions => "GitHub Actions",
            Platform::GitLabCi => "GitLab CI",
            Platform::Local => "local",
        }
    }
}

/// The claims of the platform's OIDC ID token (the same token Fulcio turns into a signing
/// certificate). GitHub Actions puts the reusable workflow that runs a job (`job_workflow_ref`)
/// only there, and GitLab puts `runner_environment` only there.
///
/// The token is the build's own credential and is read without checking its signature: its
/// claims are as trustworthy as the environment variables beside it, no more. What a verifier
/// trusts is the certificate issued for it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IdTokenClaims(pub Map<String, Value>);

impl IdTokenClaims {
    /// Decodes the payload of a compact JWT (`header.payload.signature`).
    pub fn from_jwt(token: &str) -> Result<Self, crate::Error> {
        let mut parts = token.trim().split('.');
        let payload = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(_), Some(payload), Some(_), None) => payload,
            _ => {
                return Err(crate::Error::IdToken {
                    reason: "not a compact JWT (three dot-separated parts)",
                });
            }
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .map_err(|_| crate::Error::IdToken {
                reason: "payload is not base64url",
            })?;
        match cairn_model::json::value_from_slice(&bytes) {
            Ok(Value::Object(map)) => Ok(IdTokenClaims(map)),
            _ => Err(crate::Error::IdToken {
                reason: "payload is not a JSON object",
            }),
        }
    }

    /// A string claim.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_platforms_and_treats_empty_as_unset() {
        let env = Environment::new()
            .with("GITHUB_ACTIONS", "true")
            .with("GITHUB_HEAD_REF", "");
        assert_eq!(env.platform(), Platform::GitHubActions);
        assert_eq!(env.get("GITHUB_HEAD_REF"), None);
        assert_eq!(
            Environment::new().with("GITLAB_CI", "true").platform(),
            Platform::GitLabCi
        );
        assert_eq!(
            Environment::new().with("CI", "true").platform(),
            Platform::Local
        );
    }

    #[test]
    fn source_date_epoch_parses_or_fails_clearly() {
        let env = Environment::new().with("SOURCE_DATE_EPOCH", "1700000000");
        assert_eq!(
            env.source_date_epoch().unwrap().unwrap().to_rfc3339(),
            "2023-11-14T22:13:20+00:00"
        );
        let bad = Environment::new().with("SOURCE_DATE_EPOCH", "yesterday");
        assert!(matches!(
            bad.source_date_epoch(),
            Err(crate::Error::SourceDateEpoch { .. })
        ));
        assert_eq!(Environment::new().source_date_epoch().unwrap(), None);
    }

    #[test]
    fn decodes_jwt_claims() {
        let payload = URL_SAFE_NO_PAD
            .encode(br#"{"job_workflow_ref":"o/r/.github/workflows/x.yml@refs/heads/main"}"#);
        let claims = IdTokenClaims::from_jwt(&format!("e30.{payload}.c2ln")).unwrap();
        assert_eq!(
            claims.get("job_workflow_ref"),
            Some("o/r/.github/workflows/x.yml@refs/heads/main")
        );
        assert!(IdTokenClaims::from_jwt("not-a-jwt").is_err());
        assert!(IdTokenClaims::from_jwt("a.W10.c").is_err());
    }
}
