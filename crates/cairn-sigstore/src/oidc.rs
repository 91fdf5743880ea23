//! OIDC identity tokens for keyless signing, from the sources CI systems and people use, tried in
//! a fixed order (see [`detect_token`]); the browser sign-in is [`crate::interactive`].

use std::path::PathBuf;

use base64::Engine;

use crate::error::{Error, Result, Service, TokenProblem};
use crate::retry::{Retry, with_retries};

/// The audience Sigstore's Fulcio expects.
pub const SIGSTORE_AUDIENCE: &str = "sigstore";

/// Where a token came from (for messages; the token itself is never printed).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenOrigin {
    /// `--identity-token` or `CAIRN_IDENTITY_TOKEN`.
    Explicit,
    /// A token file.
    File(PathBuf),
    /// GitHub Actions' OIDC endpoint.
    GithubActions,
    /// GitLab CI's `SIGSTORE_ID_TOKEN`.
    GitlabCi,
    /// The interactive browser flow.
    Interactive,
}

/// A raw JWT and its decoded claims (unverified here: Fulcio verifies the signature).
#[derive(Clone)]
pub struct IdentityToken {
    jwt: String,
    claims: serde_json::Value,
    /// Where it came from.
    pub origin: TokenOrigin,
}

impl std::fmt::Debug for IdentityToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityToken")
            .field("origin", &self.origin)
            .field("iss", &self.issuer())
            .field("sub", &self.claims.get("sub"))
            .finish_non_exhaustive()
    }
}

impl IdentityToken {
    /// Parses a JWT's claims (its signature is Fulcio's to check).
    pub fn from_jwt(jwt: &str, origin: TokenOrigin) -> Result<Self> {
        let jwt = jwt.trim().to_string();
        let malformed = || Error::IdentityToken {
            reason: TokenProblem::Malformed,
        };
        let mut parts = jwt.split('.');
        let (Some(_), Some(payload), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .map_err(|_| malformed())?;
        let claims: serde_json::Value =
            cairn_model::json::value_from_slice(&bytes).map_err(|_| malformed())?;
        if !claims.is_object() {
            return Err(malformed());
        }
        Ok(Self {
            jwt,
            claims,
            origin,
        })
    }

    /// The `iss` claim.
    pub fn issuer(&self) -> Option<&str> {
        self.claims.get("iss").and_then(|v| v.as_str())
    }

    /// The audiences (`aud`, a string or a list).
    pub fn audiences(&self) -> Vec<String> {
        match self.claims.get("aud") {
            Some(serde_json::Value::String(s)) => vec![s.clone()],
            Some(serde_json::Value::Array(list)) => list
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The `exp` claim.
    pub fn expires(&self) -> Option<i64> {
        self.claims.get("exp").and_then(|v| v.as_i64())
    }

    /// Refuses a token Fulcio would refuse anyway, with a precise reason: expired (`exp` before
    /// `now`) or not meant for `audience`.
    pub fn check(&self, now: i64, audience: &str) -> Result<()> {
        if let Some(exp) = self.expires()
            && exp <= now
        {
            return Err(Error::IdentityToken {
                reason: TokenProblem::Expired { exp, now },
            });
        }
        let found = self.audiences();
        if !found.iter().any(|a| a == audience) {
            return Err(Error::IdentityToken {
                reason: TokenProblem::Audience {
                    expected: audience.to_string(),
                    found,
                },
            });
        }
        Ok(())
    }

    /// The raw JWT.
    pub fn jwt(&self) -> &str {
        &self.jwt
    }
}

/// The environment a token search looks at (injected, so tests need not touch the process
/// environment).
#[derive(Debug, Clone, Default)]
pub struct TokenEnv {
    /// `--identity-token` or `CAIRN_IDENTITY_TOKEN`.
    pub explicit: Option<String>,
    /// `--identity-token-file` or `CAIRN_IDENTITY_TOKEN_FILE`.
    pub file: Option<PathBuf>,
    /// `ACTIONS_ID_TOKEN_REQUEST_URL`.
    pub github_request_url: Option<String>,
    /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
    pub github_request_token: Option<String>,
    /// `SIGSTORE_ID_TOKEN` (GitLab CI `id_tokens`).
    pub gitlab_token: Option<String>,
}

impl TokenEnv {
    /// Reads the CI variables from the process environment (flags are set by the caller).
    pub fn from_process_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Self {
            explicit: var("CAIRN_IDENTITY_TOKEN"),
            file: var("CAIRN_IDENTITY_TOKEN_FILE").map(PathBuf::from),
            github_request_url: var("ACTIONS_ID_TOKEN_REQUEST_URL"),
            github_request_token: var("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
            gitlab_token: var("SIGSTORE_ID_TOKEN"),
        }
    }
}

/// Finds a token: explicit, then file, then GitHub Actions, then GitLab CI. Returns `Ok(None)`
/// when no source is present (the caller may then start the interactive flow).
pub fn detect_token(env: &TokenEnv, retry: &Retry) -> Result<Option<IdentityToken>> {
    if let Some(jwt) = &env.explicit {
        return IdentityToken::from_jwt(jwt, TokenOrigin::Explicit).map(Some);
    }
    if let Some(path) = &env.file {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        return IdentityToken::from_jwt(&text, TokenOrigin::File(path.clone())).map(Some);
    }
    if let (Some(url), Some(bearer)) = (&env.github_request_url, &env.github_request_token) {
        return github_actions_token(url, bearer, retry).map(Some);
    }
    if let Some(jwt) = &env.gitlab_token {
        return IdentityToken::from_jwt(jwt, TokenOrigin::GitlabCi).map(Some);
    }
    Ok(None)
}

/// GitHub Actions: `GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=sigstore` with the request token
/// as bearer; the answer is `{"value": "<jwt>"}`. Needs `permissions: id-token: write`.
pub fn github_actions_token(url: &str, bearer: &str, retry: &Retry) -> Result<IdentityToken> {
    let sep = if url.contains('?') { '&' } else { '?' };
    let full = format!("{url}{sep}audience={SIGSTORE_AUDIENCE}");
    let client = crate::retry::http_client(retry)?;
    let body: serde_json::Value =
        crate::retry::block_on(with_retries(retry, Service::Oidc, || {
            let req = client.get(&full).bearer_auth(bearer).send();
            async move {
                let resp = req.await.map_err(crate::retry::Attempt::transport)?;
                crate::retry::Attempt::check_status(
                    resp.status().as_u16(),
                    || "GitHub OIDC token request",
                )?;
                resp.json::<serde_json::Value>()
                    .await
                    .map_err(crate::retry::Attempt::transport)
            }
        }))?;
    let jwt = body
        .get("value")
        .and_then(|v| v.as_str())
        .ok_or(Error::IdentityToken {
            reason: TokenProblem::Malformed,
        })?;
    IdentityToken::from_jwt(jwt, TokenOrigin::GithubActions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: serde_json::Value) -> String {
        let e = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        format!(
            "{}.{}.{}",
            e(br#"{"alg":"ES256"}"#),
            e(claims.to_string().as_bytes()),
            e(b"sig")
        )
    }

    #[test]
    fn checks_expiry_and_audience() {
        let t = IdentityToken::from_jwt(
            &jwt(serde_json::json!({"iss":"https://i","sub":"s","aud":"sigstore","exp":100})),
            TokenOrigin::Explicit,
        )
        .expect("parses");
        assert!(t.check(99, SIGSTORE_AUDIENCE).is_ok());
        assert!(matches!(
            t.check(100, SIGSTORE_AUDIENCE),
            Err(Error::IdentityToken {
                reason: TokenProblem::Expired { exp: 100, now: 100 }
            })
        ));
        let t = IdentityToken::from_jwt(
            &jwt(serde_json::json!({"aud":["other"],"exp":1000})),
            TokenOrigin::Explicit,
        )
        .expect("parses");
        assert!(matches!(
            t.check(1, SIGSTORE_AUDIENCE),
            Err(Error::IdentityToken {
                reason: TokenProblem::Audience { .. }
            })
        ));
    }

    #[test]
    fn rejects_non_jwts() {
        for bad in ["", "a.b", "a.b.c.d", "a.!!.c", "a.bnVsbA.c"] {
            assert!(
                IdentityToken::from_jwt(bad, TokenOrigin::Explicit).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn detection_order() {
        let env = TokenEnv {
            explicit: Some(jwt(serde_json::json!({"aud":"sigstore","n":1}))),
            gitlab_token: Some(jwt(serde_json::json!({"aud":"sigstore","n":2}))),
            ..Default::default()
        };
        let t = detect_token(&env, &Retry::default())
            .expect("ok")
            .expect("found");
        assert_eq!(t.origin, TokenOrigin::Explicit);
        let env = TokenEnv {
            gitlab_token: env.gitlab_token,
            ..Default::default()
        };
        let t = detect_token(&env, &Retry::default())
            .expect("ok")
            .expect("found");
        assert_eq!(t.origin, TokenOrigin::GitlabCi);
        assert!(
            detect_token(&TokenEnv::default(), &Retry::default())
                .expect("ok")
                .is_none()
        );
    }
}
