//! The HTTP side of registries: scheme choice (HTTPS, plain HTTP only for loopback or allowed
//! hosts), authentication (basic, bearer token from a `WWW-Authenticate` challenge), and bounded
//! retries with backoff on 429, 5xx, timeouts and dropped connections.
//!
//! Built on `reqwest`'s blocking client (rustls), so callers stay synchronous; reqwest runs its
//! own small tokio runtime on a background thread.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::blocking::{Body, RequestBuilder, Response};
use reqwest::header::{AUTHORIZATION, HeaderMap, RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode, Url};

use crate::auth::{Credential, CredentialProvider, parse_challenge};
use crate::error::Error;
use crate::reference::{DOCKER_HUB, DOCKER_HUB_API};
use crate::registry::RegistryRepo;

/// Tunables of a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Hosts (host\[:port\]) allowed to use plain HTTP besides loopback ones.
    pub insecure_registries: Vec<String>,
    /// Attempts per request (1 = no retries).
    pub max_attempts: u32,
    /// First backoff; doubles per attempt.
    pub initial_backoff: Duration,
    /// Longest single backoff (also caps `Retry-After`).
    pub max_backoff: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Longest wait for response headers or for any read of a body (a stall).
    pub read_timeout: Duration,
    /// Blobs larger than this are uploaded in chunks.
    pub chunk_threshold: u64,
    /// Chunk size of chunked uploads.
    pub chunk_size: u64,
    /// Blobs copied at once.
    pub parallelism: usize,
    /// `User-Agent`.
    pub user_agent: String,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            insecure_registries: Vec::new(),
            max_attempts: 4,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            chunk_threshold: 64 * 1024 * 1024,
            chunk_size: 16 * 1024 * 1024,
            parallelism: 4,
            user_agent: format!("cairn/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// What a request needs access to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Scope {
    pub registry: String,
    pub repository: String,
    pub push: bool,
    /// Another repository to read from (cross-repository mounts).
    pub mount_from: Option<String>,
}

impl Scope {
    fn scopes(&self) -> Vec<String> {
        let mut v = vec![format!(
            "repository:{}:{}",
            self.repository,
            if self.push { "pull,push" } else { "pull" }
        )];
        if let Some(from) = &self.mount_from {
            v.push(format!("repository:{from}:pull"));
        }
        v
    }

    fn action(&self) -> &'static str {
        if self.push { "push" } else { "pull" }
    }
}

/// A request body that can be produced again for a retry.
pub(crate) enum ReqBody<'a> {
    None,
    Bytes(&'a [u8]),
    Blob(&'a crate::blob::Blob),
    Range(&'a crate::blob::Blob, u64, u64),
    /// A one-shot stream (never retried: `send(.., retry = false)` only).
    Stream(Box<dyn std::io::Read + Send + 'static>, u64),
}

impl ReqBody<'_> {
    fn build(&mut self) -> std::io::Result<Option<(Body, u64)>> {
        Ok(match self {
            ReqBody::Stream(r, len) => {
                let r = std::mem::replace(r, Box::new(std::io::empty()));
                Some((Body::sized(r, *len), *len))
            }
            ReqBody::None => None,
            ReqBody::Bytes(b) => Some((Body::from(b.to_vec()), b.len() as u64)),
            ReqBody::Blob(b) => Some((Body::sized(b.reader()?, b.len()), b.len())),
            ReqBody::Range(b, off, len) => {
                let bytes = b.read_range(*off, *len)?;
                let n = bytes.len() as u64;
                Some((Body::from(bytes), n))
            }
        })
    }
}

/// A registry client: connection pool, credentials, token cache. Cheap to share (`Arc`).
#[derive(Debug)]
pub struct Client {
    http: reqwest::blocking::Client,
    config: ClientConfig,
    creds: Arc<dyn CredentialProvider>,
    /// Per registry: basic auth header, or bearer tokens per scope set.
    auth: Mutex<HashMap<(String, Vec<String>), String>>,
    basic_registries: Mutex<HashMap<String, String>>,
}

impl Client {
    /// A client with `config` and credentials from `creds`.
    pub fn new(
        config: ClientConfig,
        creds: Arc<dyn CredentialProvider>,
    ) -> Result<Arc<Client>, Error> {
        let http = reqwest::blocking::Client::builder()
            .user_agent(config.user_agent.clone())
            .connect_timeout(config.connect_timeout)
            .timeout(config.read_timeout)
            .pool_max_idle_per_host(config.parallelism.max(1) * 2)
            .build()
            .map_err(|e| Error::Transport {
                method: "INIT".to_string(),
                url: String::new(),
                source: Box::new(e),
            })?;
        Ok(Arc::new(Client {
            http,
            config,
            creds,
            auth: Mutex::new(HashMap::new()),
            basic_registries: Mutex::new(HashMap::new()),
        }))
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// A repository on `registry`.
    pub fn repository(
        self: &Arc<Self>,
        registry: &str,
        repository: &str,
    ) -> Result<RegistryRepo, Error> {
        let base = self.base_url(registry)?;
        Ok(RegistryRepo::new(
            self.clone(),
            registry.to_string(),
            repository.to_string(),
            base,
        ))
    }

    /// `https://host/` (or `http://` for loopback and allowed hosts; Docker Hub maps to its API
    /// host).
    pub(crate) fn base_url(&self, registry: &str) -> Result<Url, Error> {
        let host = if registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            registry
        };
        let scheme = if is_loopback(host)
            || self
                .config
                .insecure_registries
                .iter()
                .any(|h| h == registry || h == host)
        {
            "http"
        } else {
            "https"
        };
        Url::parse(&format!("{scheme}://{host}/")).map_err(|_| {
            Error::Reference(crate::reference::RefError::BadRegistry(
                registry.to_string(),
            ))
        })
    }

    /// Sends a request with authentication and retries. Responses with statuses other than
    /// 401/429/5xx are returned for the caller to judge. `retry` false sends once (uploads
    /// whose server-side state a blind retry could corrupt).
    pub(crate) fn send(
        &self,
        method: Method,
        url: &Url,
        scope: &Scope,
        headers: &[(&str, String)],
        mut body: ReqBody<'_>,
        retry: bool,
    ) -> Result<Response, Error> {
        let max = if retry {
            self.config.max_attempts.max(1)
        } else {
            1
        };
        let mut attempt = 0u32;
        let mut reauthenticated = false;
        loop {
            attempt += 1;
            let outcome = self.send_once(&method, url, scope, headers, &mut body);
            let (err, wait) = match outcome {
                Ok(resp) => {
                    let status = resp.status();
                    if status == StatusCode::UNAUTHORIZED && !reauthenticated {
                        reauthenticated = true;
                        self.authenticate(resp.headers(), scope)?;
                        attempt -= 1;
                        continue;
                    }
                    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                        let detail = error_detail(resp);
                        return Err(Error::Unauthorized {
                            registry: scope.registry.clone(),
                            repository: scope.repository.clone(),
                            action: scope.action().to_string(),
                            detail,
                        });
                    }
                    if !is_retryable(status) {
                        return Ok(resp);
                    }
                    let wait = retry_after(resp.headers());
                    (status_error(&method, url, resp), wait)
                }
                Err(e) => (e, None),
            };
            if attempt >= max {
                return Err(if max > 1 {
                    Error::RetriesExhausted {
                        attempts: attempt,
                        last: Box::new(err),
                    }
                } else {
                    err
                });
            }
            let backoff = self.backoff(attempt, wait);
            tracing::debug!(%url, attempt, ?backoff, error = %err, "retrying");
            std::thread::sleep(backoff);
        }
    }

    pub(crate) fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .config
            .initial_backoff
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        retry_after.unwrap_or(exp).min(self.config.max_backoff)
    }

    fn send_once(
        &self,
        method: &Method,
        url: &Url,
        scope: &Scope,
        headers: &[(&str, String)],
        body: &mut ReqBody<'_>,
    ) -> Result<Response, Error> {
        let transport = |source: crate::error::BoxError| Error::Transport {
            method: method.to_string(),
            url: url.to_string(),
            source,
        };
        let mut rb: RequestBuilder = self.http.request(method.clone(), url.clone());
        for (k, v) in headers {
            rb = rb.header(*k, v);
        }
        if let Some(h) = self.auth_header(scope) {
            rb = rb.header(AUTHORIZATION, h);
        }
        if let Some((b, len)) = body.build().map_err(|e| transport(Box::new(e)))? {
            // Uploads get time in proportion to their size (at least 1 MiB/s) on top of the
            // stall timeout, since reqwest's blocking timeout covers the whole upload.
            let extra = Duration::from_secs(len / (1024 * 1024));
            rb = rb.timeout(self.config.read_timeout + extra).body(b);
        }
        rb.send().map_err(|e| transport(Box::new(e)))
    }

    fn auth_header(&self, scope: &Scope) -> Option<String> {
        if let Some(h) = self.lock_basic().get(&scope.registry) {
            return Some(h.clone());
        }
        let key = (scope.registry.clone(), scope.scopes());
        self.lock_auth().get(&key).map(|t| format!("Bearer {t}"))
    }

    fn lock_auth(&self) -> std::sync::MutexGuard<'_, HashMap<(String, Vec<String>), String>> {
        self.auth.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_basic(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.basic_registries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Answers a 401 challenge: basic credentials, or a bearer token from the realm.
    fn authenticate(&self, headers: &HeaderMap, scope: &Scope) -> Result<(), Error> {
        let unauthorized = |detail: Option<String>| Error::Unauthorized {
            registry: scope.registry.clone(),
            repository: scope.repository.clone(),
            action: scope.action().to_string(),
            detail,
        };
        let challenge = headers
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_challenge)
            .ok_or_else(|| {
                unauthorized(Some("no usable WWW-Authenticate challenge".to_string()))
            })?;
        let cred = self.creds.credential(&scope.registry)?;
        match challenge.scheme.as_str() {
            "basic" => {
                let Credential::Basic { username, password } = cred else {
                    return Err(unauthorized(Some(
                        "registry wants a user name and password".to_string(),
                    )));
                };
                let h = format!(
                    "Basic {}",
                    STANDARD.encode(format!("{username}:{password}"))
                );
                self.lock_basic().insert(scope.registry.clone(), h);
                Ok(())
            }
            "bearer" => {
                let realm = challenge.params.get("realm").ok_or_else(|| {
                    unauthorized(Some("bearer challenge without realm".to_string()))
                })?;
                let token =
                    self.fetch_token(realm, challenge.params.get("service"), scope, &cred)?;
                self.lock_auth()
                    .insert((scope.registry.clone(), scope.scopes()), token);
                Ok(())
            }
            other => Err(unauthorized(Some(format!(
                "unsupported auth scheme {other}"
            )))),
        }
    }

    fn fetch_token(
        &self,
        realm: &str,
        service: Option<&String>,
        scope: &Scope,
        cred: &Credential,
    ) -> Result<String, Error> {
        let token_err = |source: crate::error::BoxError| Error::Token {
            realm: realm.to_string(),
            source,
        };
        if let Credential::RegistryToken(t) = cred {
            return Ok(t.clone());
        }
        let url = Url::parse(realm).map_err(|e| token_err(Box::new(e)))?;
        // Tokens travel over HTTPS, except to loopback or allowed hosts (tests, labs).
        let realm_host = url.host_str().unwrap_or_default().to_string();
        let realm_hostport = match url.port() {
            Some(p) => format!("{realm_host}:{p}"),
            None => realm_host.clone(),
        };
        if url.scheme() != "https"
            && !is_loopback(&realm_host)
            && !self
                .config
                .insecure_registries
                .iter()
                .any(|h| *h == realm_hostport || *h == realm_host)
        {
            return Err(Error::InsecureRegistry {
                registry: realm_hostport,
            });
        }
        let scopes = scope.scopes();
        // Build the request once per attempt; token endpoints get the same bounded retries.
        let build = || match cred {
            Credential::IdentityToken(refresh) => {
                let mut form = Url::parse("http://form.invalid/").expect("static URL parses");
                {
                    let mut q = form.query_pairs_mut();
                    q.append_pair("grant_type", "refresh_token");
                    q.append_pair("refresh_token", refresh);
                    q.append_pair("client_id", "cairn");
                    if let Some(s) = service {
                        q.append_pair("service", s);
                    }
                    q.append_pair("scope", &scopes.join(" "));
                }
                let body = form.query().unwrap_or_default().to_string();
                self.http
                    .post(url.clone())
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(body)
            }
            _ => {
                let mut u = url.clone();
                {
                    let mut q = u.query_pairs_mut();
                    if let Some(s) = service {
                        q.append_pair("service", s);
                    }
                    for s in &scopes {
                        q.append_pair("scope", s);
                    }
                }
                let mut rb = self.http.get(u);
                if let Credential::Basic { username, password } = cred {
                    rb = rb.basic_auth(username, Some(password));
                }
                rb
            }
        };
        let max = self.config.max_attempts.max(1);
        let mut attempt = 0;
        let resp = loop {
            attempt += 1;
            match build().send() {
                Ok(r) if is_retryable(r.status()) && attempt < max => {}
                Ok(r) => break r,
                Err(e) if attempt >= max => return Err(token_err(Box::new(e))),
                Err(_) => {}
            }
            std::thread::sleep(self.backoff(attempt, None));
        };
        let status = resp.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(Error::Unauthorized {
                registry: scope.registry.clone(),
                repository: scope.repository.clone(),
                action: scope.action().to_string(),
                detail: Some(format!("token endpoint answered {status}")),
            });
        }
        if !status.is_success() {
            return Err(token_err(
                format!("token endpoint answered {status}").into(),
            ));
        }
        let body = read_limited(resp, 1024 * 1024).map_err(|e| token_err(Box::new(e)))?;
        let v: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| token_err(Box::new(e)))?;
        v.get("token")
            .or_else(|| v.get("access_token"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .ok_or_else(|| token_err("token response has no token".into()))
    }
}

/// True for `localhost`, `127.0.0.0/8` and `::1`, with or without a port.
pub fn is_loopback(host: &str) -> bool {
    let h = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        match host.rsplit_once(':') {
            Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !h.contains(':') => h,
            _ => host,
        }
    };
    h == "localhost" || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn is_retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::INTERNAL_SERVER_ERROR
        || status == StatusCode::BAD_GATEWAY
        || status == StatusCode::SERVICE_UNAVAILABLE
        || status == StatusCode::GATEWAY_TIMEOUT
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Reads at most `limit` bytes of a response body; more is an error.
pub(crate) fn read_limited(resp: Response, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    resp.take(limit + 1).read_to_end(&mut out)?;
    if out.len() as u64 > limit {
        return Err(std::io::Error::other(format!(
            "response larger than {limit} bytes"
        )));
    }
    Ok(out)
}

/// The registry's error code and message, from a distribution error body.
pub(crate) fn error_detail(resp: Response) -> Option<String> {
    let body = read_limited(resp, 64 * 1024).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&body).ok()?;
    let first = v.get("errors")?.as_array()?.first()?;
    let code = first.get("code").and_then(|c| c.as_str()).unwrap_or("");
    let msg = first.get("message").and_then(|c| c.as_str()).unwrap_or("");
    let text = match (code.is_empty(), msg.is_empty()) {
        (false, false) => format!("{code}: {msg}"),
        (false, true) => code.to_string(),
        (true, false) => msg.to_string(),
        (true, true) => return None,
    };
    Some(text.chars().take(300).collect())
}

/// An [`Error::Status`] for an unexpected response.
pub(crate) fn status_error(method: &Method, url: &Url, resp: Response) -> Error {
    let status = resp.status().as_u16();
    Error::Status {
        method: method.to_string(),
        url: url.to_string(),
        status,
        detail: error_detail(resp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_detection() {
        assert!(is_loopback("127.0.0.1:5000"));
        assert!(is_loopback("localhost:80"));
        assert!(is_loopback("[::1]:5000"));
        assert!(is_loopback("127.1.2.3"));
        assert!(!is_loopback("ghcr.io"));
        assert!(!is_loopback("10.0.0.1:5000"));
        assert!(!is_loopback("localhost.evil.com"));
    }

    #[test]
    fn schemes() {
        let c = Client::new(
            ClientConfig {
                insecure_registries: vec!["lab.local:5000".into()],
                ..ClientConfig::default()
            },
            Arc::new(crate::auth::Anonymous),
        )
        .expect("client");
        assert_eq!(c.base_url("127.0.0.1:5000").expect("url").scheme(), "http");
        assert_eq!(c.base_url("lab.local:5000").expect("url").scheme(), "http");
        assert_eq!(c.base_url("ghcr.io").expect("url").scheme(), "https");
        assert_eq!(
            c.base_url("docker.io").expect("url").as_str(),
            "https://registry-1.docker.io/"
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let c =
            Client::new(ClientConfig::default(), Arc::new(crate::auth::Anonymous)).expect("client");
        assert_eq!(c.backoff(1, None), Duration::from_millis(250));
        assert_eq!(c.backoff(3, None), Duration::from_millis(1000));
        assert_eq!(c.backoff(30, None), Duration::from_secs(8));
        assert_eq!(
            c.backoff(1, Some(Duration::from_secs(100))),
            Duration::from_secs(8)
        );
    }
}
