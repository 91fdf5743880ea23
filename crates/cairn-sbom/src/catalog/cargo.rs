//! Rust: `Cargo.lock` (versions 1-4) and the cargo-auditable JSON embedded in binaries.

use std::collections::HashMap;

use serde::Deserialize;

use super::{Found, text};
use crate::package::{Ecosystem, Package};
use crate::purl::Purl;

pub(crate) fn pkg(name: &str, version: &str) -> Package {
    let purl = Purl::new("cargo", name).with_version(version).to_string();
    Package::new(Ecosystem::Cargo, name, version, purl)
}

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    version: Option<i64>,
    #[serde(default)]
    package: Vec<LockPackage>,
}

#[derive(Deserialize)]
struct LockPackage {
    name: String,
    version: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    checksum: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

/// `Cargo.lock`. Packages without `source` are the workspace's own crates; they are listed
/// too (as `cargo metadata` does).
pub(crate) fn lock(path: &str, bytes: &[u8]) -> Found {
    let mut found = Found::default();
    let lock: Lock = match toml::from_str(&text(bytes)) {
        Ok(l) => l,
        Err(e) => {
            found.warn(path, format!("not a valid Cargo.lock: {}", e.message()));
            return found;
        }
    };
    if let Some(v) = lock.version.filter(|v| !(1..=4).contains(v)) {
        found.warn(
            path,
            format!("unknown Cargo.lock version {v}; read as version 4"),
        );
    }
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, lp) in lock.package.iter().enumerate() {
        let mut p = pkg(&lp.name, &lp.version);
        if let Some(src) = &lp.source {
            p.download = Some(src.clone());
        }
        if let Some(c) = lp.checksum.as_ref().filter(|c| c.len() == 64) {
            p.digests.push(("SHA-256".into(), c.to_ascii_lowercase()));
        }
        found.push(p, path, "cargo-lock");
        by_name.entry(lp.name.as_str()).or_default().push(i);
    }
    for (i, lp) in lock.package.iter().enumerate() {
        for d in &lp.dependencies {
            // "name", "name version" or "name version (source)".
            let mut parts = d.split_whitespace();
            let name = parts.next().unwrap_or("");
            let version = parts.next();
            let Some(cands) = by_name.get(name) else {
                continue;
            };
            let j = match version {
                None => cands.first().copied(),
                Some(v) => cands
                    .iter()
                    .copied()
                    .find(|&c| lock.package[c].version == v),
            };
            if let Some(j) = j {
                found.edges.push((i, j));
            }
        }
    }
    found
}

#[derive(Deserialize)]
struct Auditable {
    packages: Vec<AuditablePackage>,
}

#[derive(Deserialize)]
struct AuditablePackage {
    name: String,
    version: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    dependencies: Vec<usize>,
}

/// The JSON of a `.dep-v0` section (already decompressed).
pub(crate) fn auditable(path: &str, json: &[u8]) -> Found {
    let mut found = Found::default();
    let doc: Auditable = match serde_json::from_slice(json) {
        Ok(d) => d,
        Err(e) => {
            found.warn(path, format!("cargo-auditable data is not valid: {e}"));
            return found;
        }
    };
    let n = doc.packages.len();
    for ap in &doc.packages {
        let mut p = pkg(&ap.name, &ap.version);
        if let Some(s) = &ap.source {
            p.download = Some(s.clone());
        }
        p.dev = ap.kind.as_deref() == Some("build");
        found.push(p, path, "cargo-auditable-binary");
    }
    for (i, ap) in doc.packages.iter().enumerate() {
        for &d in &ap.dependencies {
            if d < n && d != i {
                found.edges.push((i, d));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_versions_and_edges() {
        let f = lock(
            "Cargo.lock",
            b"version = 9\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\ndependencies = [\"b 2.0.0\"]\n[[package]]\nname = \"b\"\nversion = \"1.0.0\"\n[[package]]\nname = \"b\"\nversion = \"2.0.0\"\n",
        );
        assert_eq!(f.packages.len(), 3);
        assert_eq!(f.edges, [(0, 2)]);
        assert!(
            f.warnings[0]
                .message
                .contains("unknown Cargo.lock version 9")
        );
        let f = lock("Cargo.lock", b"[[package]]\nname = ");
        assert!(f.packages.is_empty());
        assert!(f.warnings[0].message.starts_with("not a valid Cargo.lock"));
    }
}
