//! Git remote URLs in the form SLSA provenance uses: `git+https://host/owner/repo@refs/...`.
//!
//! Remotes come in many spellings (`git@host:o/r.git`, `ssh://git@host:2222/o/r`,
//! `https://user:token@host/o/r.git`). Provenance needs one stable, credential-free spelling of
//! the repository, so that a verifier comparing "the source repository" compares like with like
//! and no CI token (GitLab puts one in `CI_REPOSITORY_URL`) ever lands in a signed document.

use std::fmt;

/// A repository location normalised to `scheme://host[:port]/path`, without user info, query,
/// fragment, trailing slash or `.git` suffix.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RepoUrl(String);

/// Why a remote URL could not be normalised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// The URL is empty.
    #[error("repository url is empty")]
    Empty,
    /// The URL has no host or path cairn can make sense of.
    #[error("repository url {url:?} has no host and path")]
    Unrecognised {
        /// The URL as given, with any credentials removed.
        url: String,
    },
}

impl RepoUrl {
    /// Normalises a git remote URL.
    ///
    /// - `https://` and `http://` keep their scheme and explicit port;
    /// - `ssh://`, `git://` and scp-like `user@host:path` become `https://host/path` (the web
    ///   and clone URL of every forge cairn targets; an ssh port says nothing about https);
    /// - `file://` URLs and absolute paths stay `file://` URLs;
    /// - user info (`user:token@`), `.git`, trailing `/`, query and fragment are dropped.
    pub fn parse(input: &str) -> Result<Self, UrlError> {
        let text = input.trim();
        if text.is_empty() {
            return Err(UrlError::Empty);
        }
        let text = text.strip_prefix("git+").unwrap_or(text);
        let (scheme, rest) = match text.split_once("://") {
            Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
            None => {
                if text.starts_with('/') {
                    return Ok(RepoUrl(format!("file://{}", trim_path(text))));
                }
                // scp-like: [user@]host:path (a colon before any slash).
                match text.split_once(':') {
                    Some((host, path)) if !host.contains('/') && !host.is_empty() => {
                        let host = strip_userinfo(host);
                        let path = trim_path(path.trim_start_matches('/'));
                        if host.is_empty() || path.is_empty() {
                            return Err(unrecognised(text));
                        }
                        return Ok(RepoUrl(format!(
                            "https://{}/{}",
                            host.to_ascii_lowercase(),
                            path
                        )));
                    }
                    _ => return Err(unrecognised(text)),
                }
            }
        };
        let rest = rest.split(['?', '#']).next().unwrap_or_default();
        if scheme == "file" {
            let path = trim_path(rest);
            if path.is_empty() {
                return Err(unrecognised(text));
            }
            return Ok(RepoUrl(format!("file://{path}")));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        let host_port = strip_userinfo(authority).to_ascii_lowercase();
        let path = trim_path(path);
        if host_port.is_empty() || path.is_empty() {
            return Err(unrecognised(text));
        }
        let out = match scheme.as_str() {
            "https" | "http" => {
                let host_port = match (scheme.as_str(), host_port.rsplit_once(':')) {
                    ("https", Some((h, "443"))) | ("http", Some((h, "80"))) => h.to_owned(),
                    _ => host_port,
                };
                format!("{scheme}://{host_port}/{path}")
            }
            _ => {
                // ssh, git, git+ssh, ...: keep the host, drop the port.
                let host = match host_port.rsplit_once(':') {
                    Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h.to_owned(),
                    _ => host_port,
                };
                format!("https://{host}/{path}")
            }
        };
        Ok(RepoUrl(out))
    }

    /// The normalised URL, e.g. `https://github.com/owner/repo`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The SPDX download location of a git ref in this repository, as SLSA's
    /// `resolvedDependencies` writes it: `git+https://host/owner/repo@refs/heads/main`.
    /// Without a ref it is `git+https://host/owner/repo`.
    pub fn git_uri(&self, git_ref: Option<&str>) -> String {
        match git_ref {
            Some(r) if !r.is_empty() => format!("git+{}@{}", self.0, r),
            _ => format!("git+{}", self.0),
        }
    }

    /// The repository without its scheme (`github.com/owner/repo`), the form slsa-verifier's
    /// `--source-uri` takes.
    pub fn without_scheme(&self) -> &str {
        self.0.split_once("://").map(|(_, r)| r).unwrap_or(&self.0)
    }
}

impl fmt::Display for RepoUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Splits a `git+<repo>@<ref>` source URI (SPDX download location) into repository and ref.
/// The ref is whatever follows the first `@` after the host, so `@` in user info is not
/// mistaken for it; returns `None` for the ref when there is none.
pub fn split_git_uri(uri: &str) -> (String, Option<String>) {
    let body = uri.strip_prefix("git+").unwrap_or(uri);
    let path_start = body.find("://").map(|i| i + 3).unwrap_or(0);
    let after_host = body[path_start..]
        .find('/')
        .map(|i| path_start + i)
        .unwrap_or(body.len());
    match body[after_host..].find('@') {
        Some(i) => {
            let at = after_host + i;
            (body[..at].to_owned(), Some(body[at + 1..].to_owned()))
        }
        None => (body.to_owned(), None),
    }
}

fn strip_userinfo(authority: &str) -> &str {
    authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority)
}

fn trim_path(path: &str) -> String {
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    path.trim_end_matches('/').to_owned()
}

fn unrecognised(text: &str) -> UrlError {
    // Never echo credentials back, even in an error.
    let shown = match text.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            format!("{scheme}://{}/{path}", strip_userinfo(authority))
        }
        None => strip_userinfo(text).to_owned(),
    };
    UrlError::Unrecognised { url: shown }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        RepoUrl::parse(s).expect(s).as_str().to_owned()
    }

    #[test]
    fn spellings_of_one_repository_agree() {
        for s in [
            "https://github.com/Owner/repo",
            "https://github.com/Owner/repo.git",
            "https://github.com/Owner/repo/",
            "https://x-access-token:ghs_secret@github.com/Owner/repo.git",
            "git@github.com:Owner/repo.git",
            "ssh://git@github.com/Owner/repo.git",
            "ssh://git@github.com:22/Owner/repo",
            "git://github.com/Owner/repo.git",
            "git+https://github.com/Owner/repo",
            "https://GitHub.com:443/Owner/repo",
        ] {
            assert_eq!(norm(s), "https://github.com/Owner/repo", "{s}");
        }
    }

    #[test]
    fn gitlab_ci_token_is_removed() {
        assert_eq!(
            norm(
                "https://gitlab-ci-token:glcbt-64_secret@gitlab.example.com/group/sub/project.git"
            ),
            "https://gitlab.example.com/group/sub/project"
        );
    }

    #[test]
    fn http_port_and_file_urls_are_kept() {
        assert_eq!(
            norm("http://git.local:8080/a/b.git"),
            "http://git.local:8080/a/b"
        );
        assert_eq!(norm("/srv/git/project.git"), "file:///srv/git/project");
        assert_eq!(norm("file:///srv/git/project/"), "file:///srv/git/project");
    }

    #[test]
    fn rejects_what_is_not_a_repository_and_hides_credentials() {
        assert_eq!(RepoUrl::parse("  "), Err(UrlError::Empty));
        let err = RepoUrl::parse("https://user:secret@host").unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(RepoUrl::parse("relative/path").is_err());
    }

    #[test]
    fn git_uri_and_split_round_trip() {
        let url = RepoUrl::parse("https://github.com/o/r").unwrap();
        let uri = url.git_uri(Some("refs/tags/v1@beta"));
        assert_eq!(uri, "git+https://github.com/o/r@refs/tags/v1@beta");
        assert_eq!(
            split_git_uri(&uri),
            (
                "https://github.com/o/r".to_owned(),
                Some("refs/tags/v1@beta".to_owned())
            )
        );
        assert_eq!(
            split_git_uri("git+https://github.com/o/r"),
            ("https://github.com/o/r".to_owned(), None)
        );
        assert_eq!(url.without_scheme(), "github.com/o/r");
    }
}
