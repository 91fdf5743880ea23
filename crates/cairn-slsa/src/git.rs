//! The source checkout, read with gitoxide (pure Rust, no network, no `git` process).

use std::path::{Path, PathBuf};

use crate::uri::{RepoUrl, UrlError};

/// What cairn learnt about the source checkout a build ran in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSource {
    /// The work tree (or bare repository) directory.
    pub root: PathBuf,
    /// The commit `HEAD` points at (hex object id: 40 for SHA-1, 64 for SHA-256 repositories).
    pub commit: String,
    /// The full ref `HEAD` is on (`refs/heads/main`), or the single tag pointing at a detached
    /// `HEAD` (`refs/tags/v1.2.0`); `None` when `HEAD` is detached and no single tag names it.
    pub git_ref: Option<String>,
    /// True when `HEAD` is detached.
    pub detached: bool,
    /// True for a shallow clone (CI checkouts usually are; the commit id is exact regardless).
    pub shallow: bool,
    /// The normalised URL of the remote `HEAD`'s branch tracks, else of `origin`, else of the
    /// only remote; `None` when the repository has no remote.
    pub remote: Option<RepoUrl>,
}

/// Why the source checkout could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GitError {
    /// No git repository at or above the directory.
    #[error("{} is not inside a git checkout", path.display())]
    NotACheckout {
        /// The directory searched from.
        path: PathBuf,
    },
    /// The repository has no commit yet (`HEAD` is unborn).
    #[error("the git repository at {} has no commits yet (HEAD is unborn)", path.display())]
    Unborn {
        /// The repository.
        path: PathBuf,
    },
    /// The repository exists but could not be read.
    #[error("cannot read the git repository at {}", path.display())]
    Read {
        /// The repository.
        path: PathBuf,
        /// What gitoxide reported.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// A remote URL could not be normalised.
    #[error("remote {remote:?} has an unusable url")]
    RemoteUrl {
        /// The remote's name.
        remote: String,
        /// Why.
        #[source]
        source: UrlError,
    },
}

impl GitSource {
    /// Reads the checkout containing `dir` (searching upwards, as `git` does).
    ///
    /// Environment overrides such as `GIT_DIR` are not consulted: the library reads only what it
    /// is given.
    pub fn read(dir: &Path) -> Result<Self, GitError> {
        let read_err = |source: Box<dyn std::error::Error + Send + Sync>| GitError::Read {
            path: dir.to_path_buf(),
            source,
        };
        let repo = match gix::discover(dir) {
            Ok(repo) => repo,
            Err(e) if no_repository(&e) => {
                return Err(GitError::NotACheckout {
                    path: dir.to_path_buf(),
                });
            }
            Err(e) => return Err(read_err(Box::new(e))),
        };
        let root = repo
            .workdir()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| repo.git_dir().to_path_buf());
        let head = repo.head().map_err(|e| read_err(Box::new(e)))?;
        if head.is_unborn() {
            return Err(GitError::Unborn { path: root });
        }
        let detached = head.is_detached();
        let commit_id = repo.head_id().map_err(|e| read_err(Box::new(e)))?.detach();
        let commit = commit_id.to_string();
        let branch = repo
            .head_name()
            .map_err(|e| read_err(Box::new(e)))?
            .map(|name| name.as_bstr().to_string());
        let git_ref = match branch {
            Some(b) if !detached => Some(b),
            _ => single_tag_at(&repo, commit_id).map_err(read_err)?,
        };
        let shallow = repo.is_shallow().map_err(|e| read_err(Box::new(e)))?;
        let remote = pick_remote(&repo)?;
        Ok(GitSource {
            root,
            commit,
            git_ref,
            detached,
            shallow,
            remote,
        })
    }
}

/// True when gitoxide's discovery found no repository (as opposed to failing to read one).
fn no_repository(err: &gix::Error) -> bool {
    use gix::discover::upwards::Error as Upwards;
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err.error());
    while let Some(e) = current {
        if let Some(inner) = e.downcast_ref::<gix::Error>() {
            current = Some(inner.error());
            continue;
        }
        if let Some(up) = e.downcast_ref::<Upwards>() {
            return matches!(
                up,
                Upwards::NoGitRepository { .. }
                    | Upwards::NoGitRepositoryWithinCeiling { .. }
                    | Upwards::NoGitRepositoryWithinFs { .. }
            );
        }
        current = e.source();
    }
    false
}

/// The only tag (lightweight or annotated) whose target peels to `commit`, as `refs/tags/NAME`.
fn single_tag_at(
    repo: &gix::Repository,
    commit: gix::ObjectId,
) -> Result<Option<String>, Box<dyn std::error::Error + Send + Sync>> {
    let platform = repo.references()?;
    let mut found = Vec::new();
    for reference in platform.tags()? {
        let mut reference = reference?;
        let name = reference.name().as_bstr().to_string();
        if let Ok(id) = reference.peel_to_id() {
            let target = id.detach();
            let peeled = match repo.find_object(target) {
                Ok(obj) => match obj.peel_to_commit() {
                    Ok(c) => c.id,
                    Err(_) => target,
                },
                Err(_) => target,
            };
            if peeled == commit {
                found.push(name);
            }
        }
    }
    found.sort();
    found.dedup();
    Ok(if found.len() == 1 { found.pop() } else { None })
}

fn pick_remote(repo: &gix::Repository) -> Result<Option<RepoUrl>, GitError> {
    let names: Vec<String> = repo.remote_names().iter().map(|n| n.to_string()).collect();
    let chosen = match repo.find_default_remote(gix::remote::Direction::Fetch) {
        Some(Ok(remote)) => remote
            .name()
            .map(|n| n.as_bstr().to_string())
            .or_else(|| names.first().cloned()),
        _ => {
            if names.iter().any(|n| n == "origin") {
                Some("origin".to_owned())
            } else if names.len() == 1 {
                names.first().cloned()
            } else {
                None
            }
        }
    };
    let Some(name) = chosen else {
        return Ok(None);
    };
    let Ok(remote) = repo.find_remote(name.as_str()) else {
        return Ok(None);
    };
    let Some(url) = remote.url(gix::remote::Direction::Fetch) else {
        return Ok(None);
    };
    let text = url.to_bstring().to_string();
    RepoUrl::parse(&text)
        .map(Some)
        .map_err(|source| GitError::RemoteUrl {
            remote: name,
            source,
        })
}
