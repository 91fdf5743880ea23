//! The in-process OIDC provider's browser endpoints (Dex layout, as `oauth2.sigstore.dev`):
//! `GET /oidc/auth` (authorization request: client `sigstore`, `response_type=code`, PKCE `S256`,
//! loopback `redirect_uri`; answers `302` to the redirect with a single-use code and the state)
//! and `POST /oidc/token` (code exchange: the code, its redirect URI and client, and the PKCE
//! verifier whose SHA-256 must be the challenge; answers an `id_token` for the signed-in user).

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// An authorization waiting for its code exchange.
pub(crate) struct Pending {
    challenge: String,
    redirect_uri: String,
    subject: String,
}

/// Authorizations by code.
#[derive(Default)]
pub(crate) struct Codes(Mutex<HashMap<String, Pending>>);

/// What the browser endpoints answer: status, extra headers, JSON body.
pub(crate) type Reply = (u16, Vec<(&'static str, String)>, Value);

fn error(status: u16, code: &str, description: &str) -> Reply {
    (
        status,
        Vec::new(),
        json!({"error": code, "error_description": description}),
    )
}

/// `application/x-www-form-urlencoded` pairs (also a URL query).
pub(crate) fn form_decode(text: &str) -> HashMap<String, String> {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    match (hex(bytes[i + 1]), bytes.get(i + 2).and_then(|b| hex(*b))) {
                        (Some(h), Some(l)) => {
                            out.push(h << 4 | l);
                            i += 2;
                        }
                        _ => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// How the authorization endpoint misbehaves (fault injection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OidcFault {
    /// Honest.
    #[default]
    None,
    /// Redirects with a state that is not the request's (what a CSRF attempt delivers).
    WrongState,
    /// Redirects with `error=access_denied` (the user declined).
    Deny,
}

/// `GET /oidc/auth?...`.
pub(crate) fn authorize(
    query: &str,
    codes: &Codes,
    subject: &str,
    fault: OidcFault,
    random_hex: impl Fn() -> String,
) -> Reply {
    let q = form_decode(query);
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or_default();
    if get("client_id") != "sigstore" {
        return error(400, "unauthorized_client", "unknown client_id");
    }
    let redirect = get("redirect_uri");
    let loopback = ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"]
        .iter()
        .any(|p| redirect.starts_with(p));
    if !loopback {
        // Never redirect to an unregistered URI (RFC 6749 §4.1.2.1): answer here instead.
        return error(400, "invalid_request", "redirect_uri is not a loopback URI");
    }
    let redirect_with = |params: &str| {
        let sep = if redirect.contains('?') { '&' } else { '?' };
        (
            302,
            vec![("Location", format!("{redirect}{sep}{params}"))],
            Value::Null,
        )
    };
    let state = get("state");
    if get("response_type") != "code" {
        return redirect_with(&format!(
            "error=unsupported_response_type&state={}",
            encode(state)
        ));
    }
    let challenge = get("code_challenge");
    if get("code_challenge_method") != "S256" || challenge.len() != 43 {
        return redirect_with(&format!(
            "error=invalid_request&error_description={}&state={}",
            encode("PKCE with S256 is required"),
            encode(state)
        ));
    }
    if fault == OidcFault::Deny {
        return redirect_with(&format!(
            "error=access_denied&error_description={}&state={}",
            encode("the user declined"),
            encode(state)
        ));
    }
    let code = random_hex();
    codes.0.lock().expect("codes lock").insert(
        code.clone(),
        Pending {
            challenge: challenge.to_string(),
            redirect_uri: redirect.to_string(),
            subject: subject.to_string(),
        },
    );
    let state = if fault == OidcFault::WrongState {
        "forged-by-someone-else"
    } else {
        state
    };
    redirect_with(&format!("code={code}&state={}", encode(state)))
}

/// `POST /oidc/token`: returns the subject to mint an ID token for, or the error reply.
pub(crate) fn exchange(body: &[u8], codes: &Codes) -> Result<String, Reply> {
    let form = form_decode(&String::from_utf8_lossy(body));
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    if get("grant_type") != "authorization_code" {
        return Err(error(
            400,
            "unsupported_grant_type",
            "authorization_code only",
        ));
    }
    // Single use: the code is gone whatever happens next.
    let Some(pending) = codes.0.lock().expect("codes lock").remove(get("code")) else {
        return Err(error(400, "invalid_grant", "unknown or used code"));
    };
    if get("client_id") != "sigstore" || get("redirect_uri") != pending.redirect_uri {
        return Err(error(
            400,
            "invalid_grant",
            "client or redirect_uri differs",
        ));
    }
    let verifier = get("code_verifier");
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if verifier.len() < 43 || computed != pending.challenge {
        return Err(error(
            400,
            "invalid_grant",
            "code_verifier does not match the challenge",
        ));
    }
    Ok(pending.subject)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode() {
        let f = form_decode("a=1+2&b=%2Fx%3D&c&d=%zz");
        assert_eq!(f["a"], "1 2");
        assert_eq!(f["b"], "/x=");
        assert_eq!(f["c"], "");
        assert_eq!(f["d"], "%zz");
        assert_eq!(encode("a b/"), "a%20b%2F");
    }

    #[test]
    fn code_exchange_needs_the_verifier_and_is_single_use() {
        let codes = Codes::default();
        let verifier = "v".repeat(43);
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let query = format!(
            "client_id=sigstore&response_type=code&code_challenge_method=S256&code_challenge={challenge}&state=s1&redirect_uri={}",
            encode("http://127.0.0.1:1/callback")
        );
        let (status, headers, _) =
            authorize(&query, &codes, "me@x", OidcFault::None, || "c0de".into());
        assert_eq!(status, 302);
        assert_eq!(
            headers[0].1,
            "http://127.0.0.1:1/callback?code=c0de&state=s1"
        );
        let body = |v: &str| {
            format!(
                "grant_type=authorization_code&code=c0de&client_id=sigstore&redirect_uri={}&code_verifier={v}",
                encode("http://127.0.0.1:1/callback")
            )
        };
        // An intercepted code without the verifier is useless, and then spent.
        assert!(exchange(body(&"w".repeat(43)).as_bytes(), &codes).is_err());
        assert!(exchange(body(&verifier).as_bytes(), &codes).is_err());
        let (_, headers, _) = authorize(&query, &codes, "me@x", OidcFault::None, || "c0de".into());
        assert!(!headers.is_empty());
        assert_eq!(
            exchange(body(&verifier).as_bytes(), &codes).expect("exchanged"),
            "me@x"
        );
        // Not to a non-loopback redirect.
        let evil = query.replace("127.0.0.1%3A1", "evil.test");
        assert_eq!(
            authorize(&evil, &codes, "me@x", OidcFault::None, || "x".into()).0,
            400
        );
    }
}
