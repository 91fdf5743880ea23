//! Image references: `registry/repo:tag@digest` (docker grammar, docker.io defaults) and OCI image
//! layout directories `oci:DIR[:TAG|@DIGEST]`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::digest::{Digest, DigestError};

/// The registry name docker uses when a reference names none.
pub const DOCKER_HUB: &str = "docker.io";
/// The host that serves Docker Hub's registry API.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// Why a reference was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RefError {
    /// The reference is empty.
    #[error("empty image reference")]
    Empty,
    /// The repository path is not valid (lowercase alphanumerics separated by `.`, `_`, `__`, `-`).
    #[error("invalid repository name `{0}` (lowercase letters, digits and . _ - separators)")]
    BadRepository(String),
    /// The registry host is not valid.
    #[error("invalid registry host `{0}`")]
    BadRegistry(String),
    /// The tag is not valid (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`).
    #[error("invalid tag `{0}`")]
    BadTag(String),
    /// The digest part is not valid.
    #[error("invalid digest in reference")]
    BadDigest(#[source] DigestError),
    /// `oci:` with no directory.
    #[error("`oci:` reference has no directory")]
    EmptyLayoutPath,
    /// The name is longer than 255 characters.
    #[error("repository name is longer than 255 characters")]
    TooLong,
}

/// Where the image lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Location {
    /// A repository on a registry.
    Registry {
        /// Registry host\[:port\], e.g. `ghcr.io`, `127.0.0.1:5000`, `docker.io`.
        registry: String,
        /// Repository path, e.g. `library/alpine`.
        repository: String,
    },
    /// An OCI image layout directory.
    Layout(PathBuf),
}

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OciRef {
    location: Location,
    tag: Option<String>,
    digest: Option<Digest>,
}

/// What to fetch inside a repository: a tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reference {
    /// A tag (mutable).
    Tag(String),
    /// A digest (immutable).
    Digest(Digest),
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Tag(t) => f.write_str(t),
            Reference::Digest(d) => write!(f, "{d}"),
        }
    }
}

impl OciRef {
    /// Parses a reference. Registry references follow the docker grammar: no registry means
    /// `docker.io`, a one-part Docker Hub name gets `library/`. `oci:DIR[:TAG|@DIGEST]` names a
    /// layout directory. A leading `docker://` is accepted (skopeo's spelling).
    pub fn parse(input: &str) -> Result<OciRef, RefError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(RefError::Empty);
        }
        if let Some(rest) = input.strip_prefix("oci:") {
            return parse_layout(rest);
        }
        let input = input.strip_prefix("docker://").unwrap_or(input);
        let (rest, digest) = match input.split_once('@') {
            Some((name, d)) => (name, Some(Digest::parse(d).map_err(RefError::BadDigest)?)),
            None => (input, None),
        };
        // A tag is after the last ':' that comes after the last '/'.
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => {
                let at = last_slash + i;
                (&rest[..at], Some(rest[at + 1..].to_string()))
            }
            None => (rest, None),
        };
        if let Some(t) = &tag {
            check_tag(t)?;
        }
        if name.is_empty() {
            return Err(RefError::Empty);
        }
        if name.len() > 255 {
            return Err(RefError::TooLong);
        }
        let (registry, repository) = match name.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_string(), path.to_string())
            }
            _ => (DOCKER_HUB.to_string(), name.to_string()),
        };
        let registry = match registry.as_str() {
            "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB.to_string(),
            _ => registry,
        };
        check_registry(&registry)?;
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        check_repository(&repository)?;
        // As docker's parser: the limit is on the normalised name (`docker.io/library/...`),
        // so that every accepted reference also parses again once printed.
        if registry.len() + 1 + repository.len() > 255 {
            return Err(RefError::TooLong);
        }
        Ok(OciRef {
            location: Location::Registry {
                registry,
                repository,
            },
            tag,
            digest,
        })
    }

    /// A registry reference from parts (validated).
    pub fn registry(
        registry: &str,
        repository: &str,
        reference: Option<Reference>,
    ) -> Result<OciRef, RefError> {
        check_registry(registry)?;
        check_repository(repository)?;
        let (tag, digest) = split_reference(reference)?;
        Ok(OciRef {
            location: Location::Registry {
                registry: registry.to_string(),
                repository: repository.to_string(),
            },
            tag,
            digest,
        })
    }

    /// A layout reference from parts.
    pub fn layout(
        path: impl Into<PathBuf>,
        reference: Option<Reference>,
    ) -> Result<OciRef, RefError> {
        let path = path.into();
        if path.as_os_str().is_empty() {
            return Err(RefError::EmptyLayoutPath);
        }
        let (tag, digest) = split_reference(reference)?;
        Ok(OciRef {
            location: Location::Layout(path),
            tag,
            digest,
        })
    }

    /// Where the image lives.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The tag, if one was given.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if one was given.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// What to resolve: the digest when given (it wins over a tag), else the tag, else `latest`.
    pub fn reference(&self) -> Reference {
        match (&self.digest, &self.tag) {
            (Some(d), _) => Reference::Digest(d.clone()),
            (None, Some(t)) => Reference::Tag(t.clone()),
            (None, None) => Reference::Tag("latest".to_string()),
        }
    }

    /// The same location with another tag and no digest.
    pub fn with_tag(&self, tag: &str) -> Result<OciRef, RefError> {
        check_tag(tag)?;
        Ok(OciRef {
            location: self.location.clone(),
            tag: Some(tag.to_string()),
            digest: None,
        })
    }

    /// The same location pinned to `digest` (the tag is kept for display).
    pub fn with_digest(&self, digest: Digest) -> OciRef {
        OciRef {
            location: self.location.clone(),
            tag: self.tag.clone(),
            digest: Some(digest),
        }
    }

    /// The same location with neither tag nor digest.
    pub fn repository_ref(&self) -> OciRef {
        OciRef {
            location: self.location.clone(),
            tag: None,
            digest: None,
        }
    }

    /// `registry/repository` or `oci:DIR`, without tag or digest.
    pub fn name(&self) -> String {
        match &self.location {
            Location::Registry {
                registry,
                repository,
            } => format!("{registry}/{repository}"),
            Location::Layout(p) => format!("oci:{}", p.display()),
        }
    }
}

impl fmt::Display for OciRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl FromStr for OciRef {
    type Err = RefError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OciRef::parse(s)
    }
}

fn split_reference(r: Option<Reference>) -> Result<(Option<String>, Option<Digest>), RefError> {
    Ok(match r {
        None => (None, None),
        Some(Reference::Tag(t)) => {
            check_tag(&t)?;
            (Some(t), None)
        }
        Some(Reference::Digest(d)) => (None, Some(d)),
    })
}

fn parse_layout(rest: &str) -> Result<OciRef, RefError> {
    let (path, tag, digest) = if let Some((p, d)) = rest.rsplit_once('@') {
        (
            p,
            None,
            Some(Digest::parse(d).map_err(RefError::BadDigest)?),
        )
    } else {
        // `oci:DIR:TAG`: the tag is after the last ':' when that part is a valid tag and the
        // path part is not empty (so `oci:C:\x` style paths and bare dirs stay paths).
        match rest.rsplit_once(':') {
            Some((p, t)) if !p.is_empty() && !t.contains('/') && !t.contains('\\') => {
                check_tag(t)?;
                (p, Some(t.to_string()), None)
            }
            _ => (rest, None, None),
        }
    };
    if path.is_empty() {
        return Err(RefError::EmptyLayoutPath);
    }
    Ok(OciRef {
        location: Location::Layout(PathBuf::from(path)),
        tag,
        digest,
    })
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub(crate) fn check_tag(t: &str) -> Result<(), RefError> {
    let bytes = t.as_bytes();
    let ok = !bytes.is_empty()
        && bytes.len() <= 128
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(RefError::BadTag(t.to_string()))
    }
}

fn check_registry(r: &str) -> Result<(), RefError> {
    let (host, port) = if let Some(stripped) = r.strip_prefix('[') {
        // [ipv6]:port
        match stripped.split_once(']') {
            Some((h, rest)) => (h, rest.strip_prefix(':')),
            None => return Err(RefError::BadRegistry(r.to_string())),
        }
    } else {
        match r.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (r, None),
        }
    };
    let bracketed = r.starts_with('[');
    // Outside brackets, docker's domain grammar: dot-separated labels of letters, digits and
    // inner hyphens, so `.`, `..`, `./x` and `a..b` are not hosts.
    let label_ok = |l: &str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let host_ok = !host.is_empty()
        && if bracketed {
            host.bytes()
                .all(|b| b.is_ascii_hexdigit() || matches!(b, b'.' | b':'))
        } else {
            host.split('.').all(label_ok)
        };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    if host_ok && port_ok {
        Ok(())
    } else {
        Err(RefError::BadRegistry(r.to_string()))
    }
}

/// Path components: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`, joined by `/`.
fn check_repository(repo: &str) -> Result<(), RefError> {
    let bad = || RefError::BadRepository(repo.to_string());
    if repo.is_empty() || repo.len() > 255 {
        return Err(bad());
    }
    for comp in repo.split('/') {
        let b = comp.as_bytes();
        if b.is_empty() || !is_alnum_lower(b[0]) || !is_alnum_lower(b[b.len() - 1]) {
            return Err(bad());
        }
        let mut i = 0;
        while i < b.len() {
            if is_alnum_lower(b[i]) {
                i += 1;
                continue;
            }
            // a separator run: ".", "_", "__" or "-+"
            let start = i;
            while i < b.len() && !is_alnum_lower(b[i]) {
                i += 1;
            }
            let sep = &comp[start..i];
            let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|c| c == b'-');
            if !ok {
                return Err(bad());
            }
        }
    }
    Ok(())
}

fn is_alnum_lower(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(r: &OciRef) -> (&str, &str) {
        match r.location() {
            Location::Registry {
                registry,
                repository,
            } => (registry, repository),
            Location::Layout(_) => panic!("not a registry ref"),
        }
    }

    #[test]
    fn docker_hub_defaults() {
        let r = OciRef::parse("alpine").expect("valid");
        assert_eq!(reg(&r), ("docker.io", "library/alpine"));
        assert_eq!(r.reference(), Reference::Tag("latest".into()));
        let r = OciRef::parse("user/app:1.0").expect("valid");
        assert_eq!(reg(&r), ("docker.io", "user/app"));
        assert_eq!(r.tag(), Some("1.0"));
        let r = OciRef::parse("index.docker.io/nginx").expect("valid");
        assert_eq!(reg(&r), ("docker.io", "library/nginx"));
    }

    #[test]
    fn registries_ports_and_digests() {
        let d = Digest::sha256_of(b"x");
        let s = format!("127.0.0.1:5000/team/app:v1@{d}");
        let r = OciRef::parse(&s).expect("valid");
        assert_eq!(reg(&r), ("127.0.0.1:5000", "team/app"));
        assert_eq!(r.tag(), Some("v1"));
        assert_eq!(r.reference(), Reference::Digest(d.clone()));
        assert_eq!(r.to_string(), s);
        let r = OciRef::parse("localhost/app").expect("valid");
        assert_eq!(reg(&r), ("localhost", "app"));
        let r = OciRef::parse("docker://ghcr.io/o/r:t").expect("valid");
        assert_eq!(reg(&r), ("ghcr.io", "o/r"));
        let r = OciRef::parse("[::1]:5000/app:x").expect("valid");
        assert_eq!(reg(&r), ("[::1]:5000", "app"));
    }

    #[test]
    fn rejects_bad_references() {
        assert_eq!(OciRef::parse(""), Err(RefError::Empty));
        for path_like in [
            "./app",
            "../app:1",
            ".x/app",
            "a..b/app",
            "-a.io/app",
            "a-.io/app",
        ] {
            assert!(
                matches!(OciRef::parse(path_like), Err(RefError::BadRegistry(_))),
                "{path_like} is not a registry reference"
            );
        }
        assert!(matches!(
            OciRef::parse("Foo/Bar"),
            Err(RefError::BadRepository(_))
        ));
        assert!(matches!(
            OciRef::parse("ghcr.io/a//b"),
            Err(RefError::BadRepository(_))
        ));
        assert!(matches!(
            OciRef::parse("ghcr.io/a-/b"),
            Err(RefError::BadRepository(_))
        ));
        assert!(matches!(
            OciRef::parse("app:-bad"),
            Err(RefError::BadTag(_))
        ));
        assert!(matches!(
            OciRef::parse("app@sha256:xyz"),
            Err(RefError::BadDigest(_))
        ));
        assert!(matches!(
            OciRef::parse("a:b:c/d"),
            Err(RefError::BadRegistry(_))
        ));
        let long = format!("app:{}", "a".repeat(129));
        assert!(matches!(OciRef::parse(&long), Err(RefError::BadTag(_))));
        assert_eq!(OciRef::parse("oci:"), Err(RefError::EmptyLayoutPath));
    }

    #[test]
    fn layout_references() {
        let r = OciRef::parse("oci:/tmp/img:v1").expect("valid");
        assert_eq!(r.location(), &Location::Layout(PathBuf::from("/tmp/img")));
        assert_eq!(r.tag(), Some("v1"));
        let r = OciRef::parse("oci:./img").expect("valid");
        assert_eq!(r.location(), &Location::Layout(PathBuf::from("./img")));
        assert_eq!(r.tag(), None);
        let d = Digest::sha256_of(b"y");
        let r = OciRef::parse(&format!("oci:dir@{d}")).expect("valid");
        assert_eq!(r.digest(), Some(&d));
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        fn component() -> impl Strategy<Value = String> {
            "[a-z0-9]{1,8}([._-][a-z0-9]{1,8}){0,2}"
        }

        proptest! {
            #[test]
            fn parse_never_panics(s in "\\PC{0,80}") {
                let _ = OciRef::parse(&s);
            }

            #[test]
            fn display_round_trips(
                host in "[a-z]{1,8}\\.[a-z]{2,4}(:[0-9]{1,5})?",
                path in proptest::collection::vec(component(), 1..4),
                tag in proptest::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}"),
                digest in proptest::option::of(proptest::collection::vec(any::<u8>(), 1..16)),
            ) {
                let mut s = format!("{host}/{}", path.join("/"));
                if let Some(t) = &tag { s.push(':'); s.push_str(t); }
                let d = digest.map(|b| Digest::sha256_of(&b));
                if let Some(d) = &d { s.push('@'); s.push_str(&d.to_string()); }
                let r = OciRef::parse(&s).expect("generated references are valid");
                prop_assert_eq!(r.to_string(), s.clone());
                prop_assert_eq!(OciRef::parse(&r.to_string()).expect("reparse"), r.clone());
                prop_assert_eq!(r.tag(), tag.as_deref());
                prop_assert_eq!(r.digest(), d.as_ref());
            }
        }
    }
}
