//! The interactive sign-in for people at a terminal: OAuth 2.0 authorization code flow with PKCE
//! (RFC 7636, `S256`) against the instance's OIDC provider (Dex layout: `{issuer}/auth`,
//! `{issuer}/token`, client id `sigstore`, as Sigstore's public-good `oauth2.sigstore.dev`), with
//! the redirect received on a loopback port (RFC 8252 §7.3).
//!
//! How the authorization URL is opened is the caller's choice ([`Browser`]): the platform's
//! opener, a command (cairn: `--browser` / `CAIRN_BROWSER`), or a function; the URL is also
//! handed to the caller to show, for when no browser opens. The redirect must carry the `state`
//! this flow generated (else: refused, possible CSRF) and the code is exchanged together with the
//! PKCE verifier, so an intercepted code alone is useless.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use base64::Engine;
use sha2::Digest;
use sigstore_sign::reqwest;

use crate::error::{Error, Result};
use crate::oidc::{IdentityToken, TokenOrigin};
use crate::retry::{Retry, block_on, http_client};

/// How to open the authorization URL.
#[derive(Clone, Copy)]
pub enum Browser<'a> {
    /// The platform's opener: `xdg-open` (Linux, BSD), `open` (macOS), `cmd /c start` (Windows).
    System,
    /// A command line, split on whitespace; the URL is appended as the last argument.
    Command(&'a str),
    /// A function (tests, embedding applications).
    Function(&'a dyn Fn(&str) -> std::io::Result<()>),
}

impl std::fmt::Debug for Browser<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Browser::System => f.write_str("System"),
            Browser::Command(c) => f.debug_tuple("Command").field(c).finish(),
            Browser::Function(_) => f.write_str("Function(..)"),
        }
    }
}

impl Browser<'_> {
    fn open(&self, url: &str) -> std::io::Result<()> {
        let spawn = |program: &str, args: &[&str]| {
            std::process::Command::new(program)
                .args(args)
                .arg(url)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .map(drop)
        };
        match self {
            Browser::Function(f) => f(url),
            Browser::Command(line) => {
                let mut words = line.split_whitespace();
                let program = words.next().ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::InvalidInput, "empty browser command")
                })?;
                spawn(program, &words.collect::<Vec<_>>())
            }
            Browser::System if cfg!(target_os = "macos") => spawn("open", &[]),
            Browser::System if cfg!(windows) => spawn("cmd", &["/c", "start", ""]),
            Browser::System => spawn("xdg-open", &[]),
        }
    }
}

/// Why the interactive flow failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthProblem {
    /// The OIDC URL does not parse.
    #[error("the OIDC provider URL {url:?} is not a URL")]
    BadUrl {
        /// The URL given.
        url: String,
    },
    /// No loopback port for the redirect.
    #[error("cannot listen on a loopback port for the redirect")]
    CannotListen,
    /// No redirect came back in time.
    #[error("no redirect from the browser within {secs} s")]
    TimedOut {
        /// The timeout.
        secs: u64,
    },
    /// The redirect's `state` is not this flow's.
    #[error("the redirect's state does not match this sign-in (possible CSRF); refused")]
    StateMismatch,
    /// The provider answered with an error (e.g. the user declined).
    #[error("the provider refused: {error}")]
    Denied {
        /// `error` / `error_description` from the redirect.
        error: String,
    },
    /// The redirect carried no code.
    #[error("the redirect carries no authorization code")]
    MissingCode,
    /// The token endpoint could not be reached.
    #[error("the token endpoint could not be reached: {reason}")]
    TokenTransport {
        /// The transport error.
        reason: String,
    },
    /// The token endpoint refused the code (or the PKCE verifier).
    #[error("the token endpoint answered HTTP {status}")]
    TokenExchange {
        /// The HTTP status.
        status: u16,
    },
    /// The token response has no usable `id_token`.
    #[error("the token response has no id_token")]
    NoIdToken,
}

fn problem(reason: OAuthProblem) -> Error {
    Error::Interactive { reason }
}

/// One interactive sign-in.
#[derive(Debug, Clone, Copy)]
pub struct InteractiveFlow<'a> {
    /// The provider's issuer URL (Dex layout: `/auth`, `/token` below it), e.g. the signing
    /// config's OIDC URL.
    pub issuer: &'a str,
    /// The OAuth client id (`sigstore` for Sigstore's providers).
    pub client_id: &'a str,
    /// How to open the URL.
    pub browser: Browser<'a>,
    /// How long to wait for the redirect.
    pub timeout: Duration,
    /// Timeout of the token request (one attempt: an authorization code is single-use).
    pub retry: Retry,
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn random(n: usize) -> Result<Vec<u8>> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).map_err(|e| Error::Signing {
        source: Box::new(std::io::Error::other(e.to_string())),
    })?;
    Ok(b)
}

/// Runs the flow: shows the URL through `show_url` (always, so a person can open it by hand),
/// opens it with the browser, waits for the loopback redirect, checks `state`, exchanges the code
/// with the PKCE verifier and returns the ID token.
pub fn interactive_token(
    flow: &InteractiveFlow<'_>,
    show_url: &mut dyn FnMut(&str),
) -> Result<IdentityToken> {
    let base = flow.issuer.trim_end_matches('/');
    let bad_url = || {
        problem(OAuthProblem::BadUrl {
            url: flow.issuer.to_string(),
        })
    };
    let mut auth_url = reqwest::Url::parse(&format!("{base}/auth")).map_err(|_| bad_url())?;
    let token_url = reqwest::Url::parse(&format!("{base}/token")).map_err(|_| bad_url())?;
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|_| problem(OAuthProblem::CannotListen))?;
    let port = listener
        .local_addr()
        .map_err(|_| problem(OAuthProblem::CannotListen))?
        .port();
    let redirect_uri = format!("http://127.0.0.1:{port}/callback");
    let verifier = b64url(&random(32)?);
    let challenge = b64url(&sha2::Sha256::digest(verifier.as_bytes()));
    let state = b64url(&random(16)?);
    let nonce = b64url(&random(16)?);
    auth_url
        .query_pairs_mut()
        .append_pair("client_id", flow.client_id)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid email")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", &state)
        .append_pair("nonce", &nonce);
    show_url(auth_url.as_str());
    // A browser that does not open is not fatal: the URL was shown.
    let _ = flow.browser.open(auth_url.as_str());
    let code = wait_for_code(&listener, &state, flow.timeout)?;

    let mut form = reqwest::Url::parse("http://form.invalid/").expect("static URL parses");
    form.query_pairs_mut()
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", &code)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("client_id", flow.client_id)
        .append_pair("code_verifier", &verifier);
    let body = form.query().unwrap_or_default().to_string();
    let client = http_client(&flow.retry)?;
    let response = block_on(async {
        let resp = client
            .post(token_url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| {
                problem(OAuthProblem::TokenTransport {
                    reason: e.to_string(),
                })
            })?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(problem(OAuthProblem::TokenExchange { status }));
        }
        resp.bytes().await.map_err(|e| {
            problem(OAuthProblem::TokenTransport {
                reason: e.to_string(),
            })
        })
    })?;
    let json: serde_json::Value = cairn_model::json::value_from_slice(&response)
        .map_err(|_| problem(OAuthProblem::NoIdToken))?;
    let jwt = json
        .get("id_token")
        .and_then(|t| t.as_str())
        .ok_or(problem(OAuthProblem::NoIdToken))?;
    IdentityToken::from_jwt(jwt, TokenOrigin::Interactive)
}

/// Accepts loopback connections until one is the `/callback` redirect (other requests, e.g. a
/// favicon, get a 404), or the deadline passes.
fn wait_for_code(listener: &TcpListener, state: &str, timeout: Duration) -> Result<String> {
    let deadline = Instant::now() + timeout;
    listener
        .set_nonblocking(true)
        .map_err(|_| problem(OAuthProblem::CannotListen))?;
    loop {
        match listener.accept() {
            Ok((conn, _)) => {
                if let Some(outcome) = callback(conn, state) {
                    return outcome;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    return Err(problem(OAuthProblem::TimedOut {
                        secs: timeout.as_secs(),
                    }));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(_) => return Err(problem(OAuthProblem::CannotListen)),
        }
    }
}

/// Handles one connection: `None` when it was not the redirect.
fn callback(mut conn: TcpStream, state: &str) -> Option<Result<String>> {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 8192 {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head);
    let mut words = text.lines().next().unwrap_or_default().split_whitespace();
    let (method, target) = (words.next(), words.next().unwrap_or_default());
    let reply = |conn: &mut TcpStream, status: &str, message: &str| {
        let body = format!("<!doctype html><title>cairn</title><p>{message}</p>\n");
        let _ = write!(
            conn,
            "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    };
    let url = reqwest::Url::parse(&format!("http://127.0.0.1{target}")).ok();
    let Some(url) = url.filter(|u| method == Some("GET") && u.path() == "/callback") else {
        reply(&mut conn, "404 Not Found", "not found");
        return None;
    };
    let get = |key: &str| {
        url.query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    };
    // The state is checked first: nothing from a forged redirect is believed, not even its error.
    if get("state").as_deref() != Some(state) {
        reply(
            &mut conn,
            "400 Bad Request",
            "Sign-in refused: this redirect does not belong to the sign-in cairn started.",
        );
        return Some(Err(problem(OAuthProblem::StateMismatch)));
    }
    if let Some(error) = get("error") {
        let error = get("error_description").unwrap_or(error);
        reply(
            &mut conn,
            "400 Bad Request",
            "Sign-in failed; see the terminal.",
        );
        return Some(Err(problem(OAuthProblem::Denied { error })));
    }
    match get("code").filter(|c| !c.is_empty()) {
        Some(code) => {
            reply(
                &mut conn,
                "200 OK",
                "Signed in. You can close this window and return to the terminal.",
            );
            Some(Ok(code))
        }
        None => {
            reply(&mut conn, "400 Bad Request", "No authorization code.");
            Some(Err(problem(OAuthProblem::MissingCode)))
        }
    }
}
