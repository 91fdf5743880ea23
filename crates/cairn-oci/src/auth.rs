//! Registry credentials: docker `config.json` (`auths`, `credHelpers`, `credsStore`), credential
//! helpers (`docker-credential-<name> get`), and `WWW-Authenticate` challenge parsing.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use crate::error::Error;
use crate::reference::DOCKER_HUB;

/// A credential for one registry.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credential {
    /// No credential: anonymous pulls (and token requests without authentication).
    Anonymous,
    /// Username and password (or personal access token).
    Basic {
        /// User name.
        username: String,
        /// Password or token.
        password: String,
    },
    /// An identity (refresh) token, exchanged at the token endpoint with OAuth2.
    IdentityToken(String),
    /// A registry bearer token used as is.
    RegistryToken(String),
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Anonymous => f.write_str("Anonymous"),
            Credential::Basic { username, .. } => write!(f, "Basic({username}, <redacted>)"),
            Credential::IdentityToken(_) => f.write_str("IdentityToken(<redacted>)"),
            Credential::RegistryToken(_) => f.write_str("RegistryToken(<redacted>)"),
        }
    }
}

/// Where the client gets credentials from.
pub trait CredentialProvider: Send + Sync + fmt::Debug {
    /// The credential for `registry` (host\[:port\], `docker.io` for Docker Hub).
    fn credential(&self, registry: &str) -> Result<Credential, Error>;
}

/// Always anonymous.
#[derive(Debug, Clone, Copy, Default)]
pub struct Anonymous;

impl CredentialProvider for Anonymous {
    fn credential(&self, _registry: &str) -> Result<Credential, Error> {
        Ok(Credential::Anonymous)
    }
}

/// A fixed credential per registry (tests, or credentials passed on the command line).
#[derive(Debug, Clone, Default)]
pub struct StaticCredentials(pub BTreeMap<String, Credential>);

impl CredentialProvider for StaticCredentials {
    fn credential(&self, registry: &str) -> Result<Credential, Error> {
        Ok(self
            .0
            .get(&normalize_key(registry))
            .cloned()
            .unwrap_or(Credential::Anonymous))
    }
}

#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(rename = "credHelpers", default)]
    cred_helpers: BTreeMap<String, String>,
    #[serde(rename = "credsStore", default)]
    creds_store: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(rename = "identitytoken", default)]
    identity_token: Option<String>,
    #[serde(rename = "registrytoken", default)]
    registry_token: Option<String>,
}

/// Credentials from a docker `config.json`, as docker, skopeo and cosign read it: a
/// `credHelpers` entry for the registry wins, then an `auths` entry, then `credsStore`.
#[derive(Debug, Default)]
pub struct DockerConfig {
    path: Option<PathBuf>,
    auths: BTreeMap<String, AuthEntry>,
    cred_helpers: BTreeMap<String, String>,
    creds_store: Option<String>,
    helper_dir: Option<PathBuf>,
}

impl DockerConfig {
    /// Looks credential helpers up in `dir` instead of `PATH`.
    pub fn with_helper_dir(mut self, dir: impl Into<PathBuf>) -> DockerConfig {
        self.helper_dir = Some(dir.into());
        self
    }

    /// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`.
    pub fn default_path() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
            return Some(PathBuf::from(dir).join("config.json"));
        }
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".docker").join("config.json"))
    }

    /// Loads `path`; a missing file is an empty configuration.
    pub fn load(path: &Path) -> Result<DockerConfig, Error> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(DockerConfig {
                    path: Some(path.to_path_buf()),
                    ..DockerConfig::default()
                });
            }
            Err(e) => return Err(Error::io(path, e)),
        };
        let file: ConfigFile =
            cairn_model::json::from_slice(&bytes).map_err(|e| Error::DockerConfig {
                path: path.to_path_buf(),
                source: Box::new(e),
            })?;
        Ok(DockerConfig {
            path: Some(path.to_path_buf()),
            auths: file
                .auths
                .into_iter()
                .map(|(k, v)| (normalize_key(&k), v))
                .collect(),
            cred_helpers: file
                .cred_helpers
                .into_iter()
                .map(|(k, v)| (normalize_key(&k), v))
                .collect(),
            creds_store: file.creds_store.filter(|s| !s.is_empty()),
            helper_dir: None,
        })
    }

    /// Loads the default file (see [`DockerConfig::default_path`]); none means empty.
    pub fn load_default() -> Result<DockerConfig, Error> {
        match DockerConfig::default_path() {
            Some(p) => DockerConfig::load(&p),
            None => Ok(DockerConfig::default()),
        }
    }

    fn config_error(&self, why: String) -> Error {
        Error::DockerConfig {
            path: self.path.clone().unwrap_or_default(),
            source: why.into(),
        }
    }
}

impl CredentialProvider for DockerConfig {
    fn credential(&self, registry: &str) -> Result<Credential, Error> {
        let key = normalize_key(registry);
        if let Some(helper) = self.cred_helpers.get(&key) {
            return run_helper(self.helper_dir.as_deref(), helper, registry);
        }
        if let Some(entry) = self.auths.get(&key) {
            if let Some(t) = entry.identity_token.as_deref().filter(|t| !t.is_empty()) {
                return Ok(Credential::IdentityToken(t.to_string()));
            }
            if let Some(t) = entry.registry_token.as_deref().filter(|t| !t.is_empty()) {
                return Ok(Credential::RegistryToken(t.to_string()));
            }
            if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
                let decoded = STANDARD
                    .decode(auth.trim())
                    .map_err(|_| self.config_error(format!("auths.{key}.auth is not base64")))?;
                let text = String::from_utf8(decoded)
                    .map_err(|_| self.config_error(format!("auths.{key}.auth is not UTF-8")))?;
                let (u, p) = text.split_once(':').ok_or_else(|| {
                    self.config_error(format!("auths.{key}.auth is not user:password"))
                })?;
                return Ok(Credential::Basic {
                    username: u.to_string(),
                    password: p.to_string(),
                });
            }
            if let (Some(u), Some(p)) = (&entry.username, &entry.password) {
                return Ok(Credential::Basic {
                    username: u.clone(),
                    password: p.clone(),
                });
            }
            // An empty entry (docker writes these next to credsStore): fall through.
        }
        if let Some(store) = &self.creds_store {
            return run_helper(self.helper_dir.as_deref(), store, registry);
        }
        Ok(Credential::Anonymous)
    }
}

/// The key a registry is filed under: scheme and path dropped, Docker Hub's aliases folded.
pub fn normalize_key(s: &str) -> String {
    let s = s.trim();
    let s = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .unwrap_or(s);
    let host = s.split('/').next().unwrap_or(s).to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            DOCKER_HUB.to_string()
        }
        _ => host,
    }
}

/// The server URL credential helpers file a registry under.
fn helper_server_url(registry: &str) -> String {
    if normalize_key(registry) == DOCKER_HUB {
        "https://index.docker.io/v1/".to_string()
    } else {
        registry.to_string()
    }
}

#[derive(Deserialize)]
struct HelperReply {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

fn run_helper(dir: Option<&Path>, helper: &str, registry: &str) -> Result<Credential, Error> {
    let fail = |source: crate::error::BoxError| Error::CredentialHelper {
        helper: helper.to_string(),
        registry: registry.to_string(),
        source,
    };
    if helper.is_empty()
        || !helper
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return Err(fail("helper name is not a plain name".into()));
    }
    let program = format!("docker-credential-{helper}");
    let program = match dir {
        Some(d) => d.join(program),
        None => PathBuf::from(program),
    };
    let mut child = Command::new(program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(Box::new(e)))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(helper_server_url(registry).as_bytes())
            .map_err(|e| fail(Box::new(e)))?;
    }
    let out = child.wait_with_output().map_err(|e| fail(Box::new(e)))?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        // The helper protocol's "no credentials for this server" answer.
        if msg.to_ascii_lowercase().contains("credentials not found") {
            return Ok(Credential::Anonymous);
        }
        return Err(fail(
            format!("exited with {}: {}", out.status, msg.trim()).into(),
        ));
    }
    let reply: HelperReply = serde_json::from_slice(&out.stdout).map_err(|e| fail(Box::new(e)))?;
    if reply.username == "<token>" {
        return Ok(Credential::IdentityToken(reply.secret));
    }
    if reply.username.is_empty() && reply.secret.is_empty() {
        return Ok(Credential::Anonymous);
    }
    Ok(Credential::Basic {
        username: reply.username,
        password: reply.secret,
    })
}

/// One parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `bearer` or `basic` (lowercased).
    pub scheme: String,
    /// Parameters (`realm`, `service`, `scope`, ...), keys lowercased.
    pub params: BTreeMap<String, String>,
}

/// Parses the first challenge of a `WWW-Authenticate` value (RFC 7235 auth-params, quoted
/// strings with backslash escapes).
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, mut rest) = match header.find(char::is_whitespace) {
        Some(i) => (&header[..i], header[i..].trim_start()),
        None => (header, ""),
    };
    if scheme.is_empty() {
        return None;
    }
    let mut params = BTreeMap::new();
    while !rest.is_empty() {
        let eq = rest.find('=')?;
        let key = rest[..eq]
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        rest = rest[eq + 1..].trim_start();
        let value;
        if let Some(q) = rest.strip_prefix('"') {
            let mut out = String::new();
            let mut chars = q.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            out.push(n);
                        }
                    }
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    c => out.push(c),
                }
            }
            let end = end?;
            value = out;
            rest = q[end + 1..].trim_start();
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            value = rest[..end].trim().to_string();
            rest = &rest[end..];
        }
        rest = rest.trim_start().trim_start_matches(',').trim_start();
        if !key.is_empty() {
            params.insert(key, value);
        }
    }
    Some(Challenge {
        scheme: scheme.to_ascii_lowercase(),
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_challenge() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull,push""#,
        )
        .expect("parses");
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.params["realm"], "https://auth.docker.io/token");
        assert_eq!(c.params["service"], "registry.docker.io");
        assert_eq!(c.params["scope"], "repository:library/alpine:pull,push");
        let c = parse_challenge(r#"Basic realm="a \"q\" b""#).expect("parses");
        assert_eq!(c.scheme, "basic");
        assert_eq!(c.params["realm"], r#"a "q" b"#);
        assert!(parse_challenge(r#"Bearer realm="unterminated"#).is_none());
    }

    #[test]
    fn docker_config_auths() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.json");
        let auth = STANDARD.encode("alice:s3cret");
        std::fs::write(
            &path,
            format!(
                r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{auth}"}},"ghcr.io":{{"identitytoken":"tok"}},"bad.io":{{"auth":"%%%"}}}},"credHelpers":{{"gcr.io":"definitely-missing-helper"}}}}"#
            ),
        )
        .expect("write");
        let cfg = DockerConfig::load(&path).expect("loads");
        assert_eq!(
            cfg.credential("docker.io").expect("ok"),
            Credential::Basic {
                username: "alice".into(),
                password: "s3cret".into()
            }
        );
        assert_eq!(
            cfg.credential("ghcr.io").expect("ok"),
            Credential::IdentityToken("tok".into())
        );
        assert_eq!(
            cfg.credential("quay.io").expect("ok"),
            Credential::Anonymous
        );
        assert!(matches!(
            cfg.credential("bad.io"),
            Err(Error::DockerConfig { .. })
        ));
        assert!(matches!(
            cfg.credential("gcr.io"),
            Err(Error::CredentialHelper { .. })
        ));
        let missing = DockerConfig::load(&dir.path().join("nope.json")).expect("missing is empty");
        assert_eq!(
            missing.credential("ghcr.io").expect("ok"),
            Credential::Anonymous
        );
        assert!(!format!("{:?}", cfg.credential("docker.io")).contains("s3cret"));
    }

    #[test]
    fn credential_helper_protocol() {
        let dir = tempfile::tempdir().expect("tempdir");
        let helper = dir.path().join("docker-credential-cairntest");
        std::fs::write(
            &helper,
            "#!/bin/sh\nread url\nif [ \"$url\" = \"reg.example\" ]; then echo '{\"ServerURL\":\"reg.example\",\"Username\":\"bob\",\"Secret\":\"pw\"}'; else echo 'credentials not found in native keychain'; exit 1; fi\n",
        )
        .expect("write helper");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755))
                .expect("chmod");
        }
        let cfg_path = dir.path().join("config.json");
        std::fs::write(&cfg_path, r#"{"credsStore":"cairntest"}"#).expect("write");
        let cfg = DockerConfig::load(&cfg_path)
            .expect("loads")
            .with_helper_dir(dir.path());
        let got = cfg.credential("reg.example");
        assert_eq!(
            got.expect("ok"),
            Credential::Basic {
                username: "bob".into(),
                password: "pw".into()
            }
        );
        let got = cfg.credential("other.example");
        assert_eq!(got.expect("ok"), Credential::Anonymous);
    }
}
