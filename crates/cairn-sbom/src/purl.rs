//! Package URLs (package-url/purl-spec): building and canonical encoding.

use std::fmt::Write as _;

/// A package URL under construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purl {
    kind: String,
    namespace: Option<String>,
    name: String,
    version: Option<String>,
    qualifiers: Vec<(String, String)>,
    subpath: Option<String>,
}

impl Purl {
    /// `pkg:TYPE/NAME`; the type and name are normalised as the spec says for known types
    /// (lowercase pypi names with `-`, lowercase deb/apk/npm/golang... where required).
    pub fn new(kind: &str, name: &str) -> Self {
        let kind = kind.to_ascii_lowercase();
        let name = match kind.as_str() {
            "pypi" => normalize_pypi(name),
            "deb" | "apk" | "bitbucket" | "github" | "generic-lower" => name.to_ascii_lowercase(),
            _ => name.to_string(),
        };
        Purl {
            kind,
            namespace: None,
            name,
            version: None,
            qualifiers: Vec::new(),
            subpath: None,
        }
    }

    /// Sets the namespace (`/`-separated segments are encoded one by one).
    pub fn with_namespace(mut self, ns: &str) -> Self {
        let ns = ns.trim_matches('/');
        if !ns.is_empty() {
            let ns = match self.kind.as_str() {
                "deb" | "apk" | "rpm" | "github" | "bitbucket" => ns.to_ascii_lowercase(),
                _ => ns.to_string(),
            };
            self.namespace = Some(ns);
        }
        self
    }

    /// Sets the version.
    pub fn with_version(mut self, version: &str) -> Self {
        if !version.is_empty() {
            self.version = Some(version.to_string());
        }
        self
    }

    /// Adds a qualifier (empty values are dropped, as the spec says).
    pub fn with_qualifier(mut self, key: &str, value: &str) -> Self {
        if !value.is_empty() {
            self.qualifiers
                .push((key.to_ascii_lowercase(), value.to_string()));
        }
        self
    }

    /// Sets the subpath.
    pub fn with_subpath(mut self, subpath: &str) -> Self {
        let s = subpath.trim_matches('/');
        if !s.is_empty() {
            self.subpath = Some(s.to_string());
        }
        self
    }
}

impl std::fmt::Display for Purl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pkg:{}/", self.kind)?;
        if let Some(ns) = &self.namespace {
            for seg in ns.split('/').filter(|s| !s.is_empty()) {
                write!(f, "{}/", encode(seg, false))?;
            }
        }
        f.write_str(&encode(&self.name, false))?;
        if let Some(v) = &self.version {
            write!(f, "@{}", encode(v, false))?;
        }
        if !self.qualifiers.is_empty() {
            let mut q = self.qualifiers.clone();
            q.sort();
            q.dedup_by(|a, b| a.0 == b.0);
            let mut first = true;
            for (k, v) in q {
                f.write_char(if first { '?' } else { '&' })?;
                first = false;
                write!(f, "{}={}", k, encode(&v, true))?;
            }
        }
        if let Some(s) = &self.subpath {
            f.write_char('#')?;
            let segs: Vec<String> = s
                .split('/')
                .filter(|x| !x.is_empty() && *x != "." && *x != "..")
                .map(|x| encode(x, false))
                .collect();
            f.write_str(&segs.join("/"))?;
        }
        Ok(())
    }
}

/// PEP 503 normalisation: lowercase, runs of `-`, `_`, `.` become one `-`.
pub fn normalize_pypi(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// Percent-encodes everything but unreserved characters (and `:` which the spec leaves bare;
/// `/` is encoded in qualifier values only when `qualifier` is false... it is encoded in
/// segments and kept in qualifier values, as the reference implementations do).
fn encode(s: &str, qualifier: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~' | b':')
            || (qualifier && b == b'/');
        if keep {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_examples() {
        let p = Purl::new("deb", "curl")
            .with_namespace("debian")
            .with_version("7.50.3-1")
            .with_qualifier("distro", "jessie")
            .with_qualifier("arch", "i386");
        assert_eq!(
            p.to_string(),
            "pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie"
        );
        let p = Purl::new("npm", "core")
            .with_namespace("@angular")
            .with_version("1.0.0");
        assert_eq!(p.to_string(), "pkg:npm/%40angular/core@1.0.0");
        let p = Purl::new("pypi", "Django_Rest.Framework").with_version("3.0");
        assert_eq!(p.to_string(), "pkg:pypi/django-rest-framework@3.0");
        let p = Purl::new("golang", "bar")
            .with_namespace("github.com/foo")
            .with_version("v1.2.3+incompatible");
        assert_eq!(
            p.to_string(),
            "pkg:golang/github.com/foo/bar@v1.2.3%2Bincompatible"
        );
        let p = Purl::new("maven", "commons-lang3")
            .with_namespace("org.apache.commons")
            .with_version("3.12.0");
        assert_eq!(
            p.to_string(),
            "pkg:maven/org.apache.commons/commons-lang3@3.12.0"
        );
        let p = Purl::new("rpm", "openssl")
            .with_namespace("fedora")
            .with_version("1:3.0-1.fc38")
            .with_qualifier("epoch", "1");
        assert_eq!(p.to_string(), "pkg:rpm/fedora/openssl@1:3.0-1.fc38?epoch=1");
    }
}
