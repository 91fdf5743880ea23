//! The interactive browser sign-in (OAuth 2.0 code flow with PKCE) against the in-process OIDC
//! provider, with a fake browser that follows the authorization URL to the loopback redirect:
//! the token it yields signs keylessly; a redirect with another state, a declined sign-in and no
//! redirect at all fail with precise reasons, and a refused redirect's code is never exchanged.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::time::Duration;

use cairn_sigstore::{
    Artifact, Browser, CertificatePolicy, Error, Identity, InteractiveFlow, OAuthProblem, Payload,
    Retry, Services, SignOptions, SignerPolicy, TokenOrigin, TrustConfig, VerifyOptions,
    interactive_token, sign_keyless, verify_bundle,
};
use cairn_testkit::sigstore::{OidcFault, Stack};

/// One HTTP/1.1 GET to a loopback `http://` URL: (status, Location header).
fn get(url: &str) -> (u16, Option<String>) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut conn = TcpStream::connect(host).unwrap();
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    conn.read_to_string(&mut text).unwrap();
    let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let location = text
        .lines()
        .find_map(|l| l.strip_prefix("Location: "))
        .map(str::to_string);
    (status, location)
}

/// A browser: asks for a favicon on the loopback port first (as browsers do), then follows the
/// authorization URL's redirect to the loopback callback. Runs on its own thread, like a browser.
fn fake_browser(url: &str) -> std::io::Result<()> {
    let url = url.to_string();
    std::thread::spawn(move || {
        let (status, location) = get(&url);
        assert_eq!(status, 302, "the provider redirects");
        let location = location.unwrap();
        let origin = &location[..location.find("/callback").unwrap()];
        assert_eq!(get(&format!("{origin}/favicon.ico")).0, 404);
        get(&location);
    });
    Ok(())
}

fn flow<'a>(issuer: &'a str, browser: Browser<'a>) -> InteractiveFlow<'a> {
    InteractiveFlow {
        issuer,
        client_id: "sigstore",
        browser,
        timeout: Duration::from_secs(10),
        retry: Retry {
            attempts: 1,
            backoff: Duration::from_millis(5),
            timeout: Duration::from_secs(10),
        },
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn browser_sign_in_yields_a_token_that_signs() {
    let stack = Stack::start();
    stack.set_browser_user("alice@cairn.test");
    let issuer = stack.issuer();
    let mut shown = Vec::new();
    let token = interactive_token(&flow(&issuer, Browser::Function(&fake_browser)), &mut |u| {
        shown.push(u.to_string())
    })
    .unwrap();
    assert_eq!(token.origin, TokenOrigin::Interactive);
    assert_eq!(token.issuer(), Some(issuer.as_str()));
    assert_eq!(stack.faults.oidc_token_requests.load(Ordering::SeqCst), 1);
    // The URL shown asks for a code with an S256 challenge and a state.
    let url = &shown[0];
    for part in [
        "/oidc/auth?",
        "client_id=sigstore",
        "response_type=code",
        "code_challenge_method=S256",
        "state=",
        "redirect_uri=http%3A%2F%2F127.0.0.1%3A",
    ] {
        assert!(url.contains(part), "{part} in {url}");
    }

    // And it is a real identity: Fulcio certifies it, the bundle verifies for alice.
    let trust =
        TrustConfig::from_json(&serde_json::to_vec(&stack.trust_config()).unwrap(), None).unwrap();
    let services = Services::from_signing_config(trust.signing_config.as_ref().unwrap());
    let signed = sign_keyless(
        &services,
        &trust.trusted_root,
        &token,
        Payload::Blob(b"signed after a browser sign-in"),
        &SignOptions {
            retry: Retry::default(),
            timestamp: false,
            tlog_upload: true,
            now: now(),
        },
    )
    .unwrap();
    assert_eq!(signed.identity.as_deref(), Some("alice@cairn.test"));
    let v = verify_bundle(
        &signed.json,
        Artifact::Bytes(b"signed after a browser sign-in"),
        &SignerPolicy::Certificate(CertificatePolicy::new(
            Identity::exact("alice@cairn.test"),
            issuer.clone(),
        )),
        &trust.trusted_root,
        VerifyOptions {
            now: now() + 60,
            allow_missing_tlog: false,
        },
    )
    .unwrap();
    assert!(v.verified, "{v:?}");
}

fn failure(stack: &Stack, browser: Browser<'_>, timeout: Duration) -> OAuthProblem {
    let issuer = stack.issuer();
    let mut f = flow(&issuer, browser);
    f.timeout = timeout;
    match interactive_token(&f, &mut |_| {}) {
        Err(Error::Interactive { reason }) => reason,
        other => panic!("expected an interactive failure, got {other:?}"),
    }
}

#[test]
fn a_redirect_with_another_state_is_refused_and_its_code_never_exchanged() {
    let stack = Stack::start();
    *stack.faults.oidc_fault.lock().unwrap() = OidcFault::WrongState;
    let reason = failure(
        &stack,
        Browser::Function(&fake_browser),
        Duration::from_secs(10),
    );
    assert_eq!(reason, OAuthProblem::StateMismatch);
    assert_eq!(stack.faults.oidc_token_requests.load(Ordering::SeqCst), 0);

    // A forged redirect straight to the loopback port (an attacker's page): the same.
    *stack.faults.oidc_fault.lock().unwrap() = OidcFault::None;
    let forger = |url: &str| {
        let redirect = url
            .split("redirect_uri=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .replace("%3A", ":")
            .replace("%2F", "/");
        std::thread::spawn(move || get(&format!("{redirect}?code=stolen&state=guess")));
        Ok(())
    };
    let reason = failure(&stack, Browser::Function(&forger), Duration::from_secs(10));
    assert_eq!(reason, OAuthProblem::StateMismatch);
    assert_eq!(stack.faults.oidc_token_requests.load(Ordering::SeqCst), 0);
}

#[test]
fn a_declined_sign_in_and_a_missing_redirect_fail_clearly() {
    let stack = Stack::start();
    *stack.faults.oidc_fault.lock().unwrap() = OidcFault::Deny;
    let reason = failure(
        &stack,
        Browser::Function(&fake_browser),
        Duration::from_secs(10),
    );
    assert!(
        matches!(&reason, OAuthProblem::Denied { error } if error.contains("declined")),
        "{reason:?}"
    );
    // A browser that never comes back: bounded by the timeout.
    let started = std::time::Instant::now();
    let reason = failure(
        &stack,
        Browser::Function(&|_| Ok(())),
        Duration::from_millis(600),
    );
    assert_eq!(reason, OAuthProblem::TimedOut { secs: 0 });
    assert!(started.elapsed() < Duration::from_secs(5));
    // A browser command that does not exist still leaves the URL to the user: same timeout.
    let reason = failure(
        &stack,
        Browser::Command("/nonexistent/browser --flag"),
        Duration::from_millis(300),
    );
    assert!(
        matches!(reason, OAuthProblem::TimedOut { .. }),
        "{reason:?}"
    );
}
