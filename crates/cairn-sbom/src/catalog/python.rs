//! Python: installed distributions (`*.dist-info/METADATA`, `*.egg-info`), `requirements*.txt`,
//! `poetry.lock`, `uv.lock` and `Pipfile.lock`.

use std::collections::HashMap;

use serde::Deserialize;

use super::{Files, Found, text};
use crate::license::{self, DeclaredLicense};
use crate::package::{Ecosystem, Package, Supplier};
use crate::purl::{Purl, normalize_pypi};

fn pkg(name: &str, version: &str) -> Package {
    let purl = Purl::new("pypi", name).with_version(version).to_string();
    Package::new(Ecosystem::Python, name, version, purl)
}

/// Core metadata headers (RFC 822 style, up to the first blank line; the body is the
/// description).
fn headers(t: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in t.lines() {
        if line.is_empty() {
            break;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some((_, v)) = out.last_mut() {
                v.push('\n');
                v.push_str(line.trim());
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

/// An installed distribution: `METADATA` of a `.dist-info`, `PKG-INFO` of an `.egg-info`
/// directory, or an `.egg-info` file.
pub(crate) fn installed(path: &str, bytes: &[u8], _files: &dyn Files) -> Found {
    let mut found = Found::default();
    let t = text(bytes);
    let h = headers(&t);
    let get = |k: &str| {
        h.iter()
            .find(|(hk, _)| hk.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.as_str())
    };
    let (Some(name), Some(version)) = (get("Name"), get("Version")) else {
        found.warn(path, "python metadata without Name or Version");
        return found;
    };
    let mut p = pkg(name, version);
    if let Some(e) = get("License-Expression") {
        p.licenses.push(DeclaredLicense::new(e));
    } else {
        let lic = get("License").map(str::trim).unwrap_or("");
        let usable = !lic.is_empty()
            && !lic.contains('\n')
            && lic.len() <= 100
            && !lic.eq_ignore_ascii_case("UNKNOWN");
        if usable {
            p.licenses.push(DeclaredLicense::new(lic));
        }
        if p.licenses.iter().all(|l| l.expression.is_none()) {
            let from_classifiers: Vec<DeclaredLicense> = h
                .iter()
                .filter(|(k, v)| k == "Classifier" && v.starts_with("License ::"))
                .filter_map(|(_, v)| license::from_classifier(v))
                .map(DeclaredLicense::new)
                .collect();
            if !from_classifiers.is_empty() {
                p.licenses = from_classifiers;
            }
        }
    }
    let author = get("Author")
        .filter(|a| !a.is_empty())
        .or_else(|| get("Author-email").filter(|a| !a.is_empty()))
        .or_else(|| get("Maintainer").filter(|a| !a.is_empty()));
    p.supplier = author.map(|a| Supplier::Person(a.replace('\n', " ")));
    p.homepage = get("Home-page")
        .filter(|u| !u.is_empty())
        .map(str::to_string)
        .or_else(|| {
            h.iter()
                .filter(|(k, _)| k == "Project-URL")
                .find_map(|(_, v)| {
                    let (label, url) = v.split_once(',')?;
                    let l = label.trim().to_ascii_lowercase();
                    matches!(l.as_str(), "homepage" | "home" | "source" | "repository")
                        .then(|| url.trim().to_string())
                })
        });
    for (k, v) in &h {
        if k == "Requires-Dist" && !v.contains("extra ==") && !v.contains("extra==") {
            let n = requirement_name(v);
            if !n.is_empty() {
                p.requires.push(n);
            }
        }
    }
    found.push(p, path, "python-installed");
    found
}

/// The distribution name at the start of a PEP 508 requirement.
fn requirement_name(req: &str) -> String {
    req.trim()
        .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .next()
        .unwrap_or("")
        .to_string()
}

/// `requirements*.txt`: pinned requirements (`name==version`) only; others are not packages
/// with a version and are reported as such.
pub(crate) fn requirements(path: &str, bytes: &[u8]) -> Found {
    let mut found = Found::default();
    let mut unpinned = 0usize;
    let t = text(bytes);
    let mut logical = String::new();
    for raw in t.lines() {
        // Joined continuation lines (`\` at end).
        if let Some(stripped) = raw.strip_suffix('\\') {
            logical.push_str(stripped);
            logical.push(' ');
            continue;
        }
        logical.push_str(raw);
        let line = std::mem::take(&mut logical);
        let line = line.split(" #").next().unwrap_or("").trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('-') {
            continue;
        }
        if line.contains("://") || line.starts_with('.') || line.starts_with('/') {
            unpinned += 1;
            continue;
        }
        let spec = line.split(';').next().unwrap_or("").trim();
        let spec = spec.split(" --").next().unwrap_or("").trim();
        let name = requirement_name(spec);
        let rest = spec[name.len()..].trim_start();
        // Drop extras: `name[a,b]==1`.
        let rest = match rest.strip_prefix('[') {
            Some(r) => r.split_once(']').map(|(_, r)| r.trim_start()).unwrap_or(""),
            None => rest,
        };
        let version = rest
            .strip_prefix("===")
            .or_else(|| rest.strip_prefix("=="))
            .map(str::trim)
            .filter(|v| !v.contains(['*', ',', '<', '>', '!', '~']));
        match (name.is_empty(), version) {
            (false, Some(v)) if !v.is_empty() => {
                found.push(pkg(&name, v), path, "python-requirements");
            }
            _ => unpinned += 1,
        }
    }
    if unpinned > 0 {
        found.warn(
            path,
            format!("{unpinned} requirement(s) without an exact == version not listed"),
        );
    }
    found
}

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<LockPackage>,
    #[serde(default)]
    version: Option<toml::Value>,
}

#[derive(Deserialize)]
struct LockPackage {
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    groups: Option<Vec<String>>,
    #[serde(default)]
    source: Option<toml::Value>,
    #[serde(default)]
    dependencies: Option<toml::Value>,
    #[serde(default)]
    sdist: Option<toml::Value>,
}

/// Adds edges from each package's dependency names (resolved inside the lock file).
fn lock_edges(found: &mut Found, deps: &[Vec<String>]) {
    let by_name: HashMap<String, usize> = found
        .packages
        .iter()
        .enumerate()
        .map(|(i, p)| (normalize_pypi(&p.name), i))
        .collect();
    for (i, ds) in deps.iter().enumerate() {
        for d in ds {
            if let Some(&j) = by_name.get(&normalize_pypi(d))
                && i != j
            {
                found.edges.push((i, j));
            }
        }
    }
}

/// `poetry.lock` (all format versions: dependencies are a table of name -> constraint).
pub(crate) fn poetry_lock(path: &str, bytes: &[u8]) -> Found {
    let mut found = Found::default();
    let lock: Lock = match toml::from_str(&text(bytes)) {
        Ok(l) => l,
        Err(e) => {
            found.warn(path, format!("not a valid poetry.lock: {}", e.message()));
            return found;
        }
    };
    let mut deps = Vec::new();
    for lp in lock.package {
        let Some(version) = lp.version.as_deref() else {
            found.warn(path, format!("package {} without version skipped", lp.name));
            continue;
        };
        let mut p = pkg(&lp.name, version);
        p.dev = lp.category.as_deref() == Some("dev")
            || lp
                .groups
                .as_ref()
                .is_some_and(|g| !g.is_empty() && !g.iter().any(|x| x == "main"));
        if let Some(url) = lp
            .source
            .as_ref()
            .and_then(|s| s.get("url"))
            .and_then(|u| u.as_str())
        {
            p.download = Some(url.to_string());
        }
        found.push(p, path, "python-poetry-lock");
        deps.push(
            lp.dependencies
                .as_ref()
                .and_then(|d| d.as_table())
                .map(|t| t.keys().cloned().collect())
                .unwrap_or_default(),
        );
    }
    lock_edges(&mut found, &deps);
    found
}

/// `uv.lock` (version 1): registry, git, path and URL sources; the project itself (editable or
/// virtual source) is left out since it is what the SBOM describes.
pub(crate) fn uv_lock(path: &str, bytes: &[u8]) -> Found {
    let mut found = Found::default();
    let lock: Lock = match toml::from_str(&text(bytes)) {
        Ok(l) => l,
        Err(e) => {
            found.warn(path, format!("not a valid uv.lock: {}", e.message()));
            return found;
        }
    };
    if let Some(v) = lock.version.as_ref().and_then(|v| v.as_integer())
        && v != 1
    {
        found.warn(
            path,
            format!("uv.lock version {v} is not known; read as version 1"),
        );
    }
    let mut deps = Vec::new();
    for lp in lock.package {
        let src = lp.source.as_ref().and_then(|s| s.as_table());
        if src.is_some_and(|s| s.contains_key("editable") || s.contains_key("virtual")) {
            continue;
        }
        let Some(version) = lp.version.as_deref() else {
            found.warn(path, format!("package {} without version skipped", lp.name));
            continue;
        };
        let mut p = pkg(&lp.name, version);
        if let Some(s) = src.and_then(|s| s.get("registry")).and_then(|u| u.as_str()) {
            p.download = Some(s.to_string());
        }
        if let Some(h) = lp
            .sdist
            .as_ref()
            .and_then(|s| s.get("hash"))
            .and_then(|h| h.as_str())
            .and_then(|h| h.strip_prefix("sha256:"))
        {
            p.digests.push(("SHA-256".into(), h.to_ascii_lowercase()));
        }
        found.push(p, path, "python-uv-lock");
        deps.push(
            lp.dependencies
                .as_ref()
                .and_then(|d| d.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|d| d.get("name").and_then(|n| n.as_str()))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        );
    }
    lock_edges(&mut found, &deps);
    found
}

#[derive(Deserialize)]
struct Pipfile {
    #[serde(default)]
    default: std::collections::BTreeMap<String, PipfileEntry>,
    #[serde(default)]
    develop: std::collections::BTreeMap<String, PipfileEntry>,
}

#[derive(Deserialize)]
struct PipfileEntry {
    #[serde(default)]
    version: Option<String>,
}

/// `Pipfile.lock`: `default` and (as dev) `develop` sections.
pub(crate) fn pipfile_lock(path: &str, bytes: &[u8]) -> Found {
    let mut found = Found::default();
    let lock: Pipfile = match serde_json::from_slice(bytes) {
        Ok(l) => l,
        Err(e) => {
            found.warn(path, format!("not a valid Pipfile.lock: {e}"));
            return found;
        }
    };
    for (dev, section) in [(false, lock.default), (true, lock.develop)] {
        for (name, e) in section {
            let Some(v) = e.version.as_deref().and_then(|v| v.strip_prefix("==")) else {
                continue;
            };
            let mut p = pkg(&name, v);
            p.dev = dev;
            found.push(p, path, "python-pipfile-lock");
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_pins_only() {
        let f = requirements(
            "requirements.txt",
            b"# c\nrequests[socks]==2.31.0 ; python_version > \"3\"\nflask>=2\n-r other.txt\nsix==1.16.0 \\\n  --hash=sha256:abc\n",
        );
        let got: Vec<_> = f
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(got, [("requests", "2.31.0"), ("six", "1.16.0")]);
        assert_eq!(f.warnings.len(), 1);
    }
}
