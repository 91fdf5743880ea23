//! npm: `package-lock.json` (lockfileVersion 1-3), installed `node_modules/*/package.json`,
//! `yarn.lock` (classic and berry) and `pnpm-lock.yaml` (5.x, 6.x, 9.x).

use std::collections::HashMap;

use base64::Engine as _;
use serde_json::Value;

use super::{Found, text};
use crate::license::DeclaredLicense;
use crate::package::{Ecosystem, Package, Supplier};
use crate::purl::Purl;

/// A package from a full npm name (`@scope/name` or `name`).
pub(crate) fn pkg(full: &str, version: &str) -> Package {
    let (ns, name) = match full.strip_prefix('@').and_then(|r| r.split_once('/')) {
        Some((scope, name)) => (Some(format!("@{scope}")), name),
        None => (None, full),
    };
    let mut purl = Purl::new("npm", name).with_version(version);
    if let Some(ns) = &ns {
        purl = purl.with_namespace(ns);
    }
    let mut p = Package::new(Ecosystem::Npm, name, version, purl.to_string());
    p.namespace = ns;
    p
}

/// `sha512-BASE64` -> (`SHA-512`, hex).
pub(crate) fn integrity(s: &str) -> Option<(String, String)> {
    let first = s.split_whitespace().next()?;
    let (alg, b64) = first.split_once('-')?;
    let alg = match alg {
        "sha512" => "SHA-512",
        "sha384" => "SHA-384",
        "sha256" => "SHA-256",
        "sha1" => "SHA-1",
        _ => return None,
    };
    let raw = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    Some((alg.to_string(), hex::encode(raw)))
}

fn license_of(v: &Value) -> Vec<DeclaredLicense> {
    match v.get("license") {
        Some(Value::String(s)) => vec![DeclaredLicense::new(s)],
        Some(Value::Object(o)) => o
            .get("type")
            .and_then(Value::as_str)
            .map(|s| vec![DeclaredLicense::new(s)])
            .unwrap_or_default(),
        _ => match v.get("licenses") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|l| l.get("type").and_then(Value::as_str).or(l.as_str()))
                .map(DeclaredLicense::new)
                .collect(),
            _ => Vec::new(),
        },
    }
}

fn apply_common(p: &mut Package, v: &Value) {
    if let Some(r) = v.get("resolved").and_then(Value::as_str) {
        p.download = Some(r.to_string());
    }
    if let Some(d) = v
        .get("integrity")
        .and_then(Value::as_str)
        .and_then(integrity)
    {
        p.digests.push(d);
    }
    p.dev = v.get("dev").and_then(Value::as_bool).unwrap_or(false);
    p.licenses = license_of(v);
}

/// The package name from a `packages` key: the part after the last `node_modules/`.
fn name_from_key(key: &str) -> &str {
    match key.rfind("node_modules/") {
        Some(i) => &key[i + "node_modules/".len()..],
        None => key,
    }
}

fn dep_names(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for f in ["dependencies", "optionalDependencies", "requires"] {
        if let Some(o) = v.get(f).and_then(Value::as_object) {
            out.extend(o.keys().cloned());
        }
    }
    out
}

/// `package-lock.json` / `npm-shrinkwrap.json`.
pub(crate) fn package_lock(path: &str, bytes: &[u8]) -> Found {
    let mut found = Found::default();
    let doc: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            found.warn(path, format!("not valid JSON: {e}"));
            return found;
        }
    };
    let version = doc.get("lockfileVersion").and_then(Value::as_u64);
    match version {
        Some(1) => lock_v1(path, &doc, &mut found),
        Some(2 | 3) => lock_v2(path, &doc, &mut found),
        other => {
            let shown = other.map_or("missing".to_string(), |v| v.to_string());
            if doc.get("packages").is_some() {
                found.warn(
                    path,
                    format!("unknown lockfileVersion {shown}; read as version 3"),
                );
                lock_v2(path, &doc, &mut found);
            } else {
                found.warn(
                    path,
                    format!("unknown lockfileVersion {shown}; file not read"),
                );
            }
        }
    }
    found
}

fn lock_v2(path: &str, doc: &Value, found: &mut Found) {
    let Some(pkgs) = doc.get("packages").and_then(Value::as_object) else {
        found.warn(path, "lock file has no packages object");
        return;
    };
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut deps: Vec<(&str, Vec<String>)> = Vec::new();
    for (key, v) in pkgs {
        if key.is_empty() || !key.contains("node_modules/") {
            continue; // the root project and workspace members
        }
        if v.get("link").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let name = v
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_else(|| name_from_key(key));
        let Some(version) = v.get("version").and_then(Value::as_str) else {
            found.warn(path, format!("{key} has no version"));
            continue;
        };
        let mut p = pkg(name, version);
        apply_common(&mut p, v);
        let i = found.push(p, path, "npm-package-lock");
        index.insert(key.as_str(), i);
        deps.push((key.as_str(), dep_names(v)));
    }
    for (i, (key, names)) in deps.iter().enumerate() {
        for n in names {
            if let Some(j) = resolve_node(key, n, &index)
                && i != j
            {
                found.edges.push((i, j));
            }
        }
    }
}

/// Node's resolution: `KEY/node_modules/N`, then each parent `.../node_modules/N`, then the top.
fn resolve_node(key: &str, name: &str, index: &HashMap<&str, usize>) -> Option<usize> {
    let mut base = key.to_string();
    loop {
        let cand = if base.is_empty() {
            format!("node_modules/{name}")
        } else {
            format!("{base}/node_modules/{name}")
        };
        if let Some(&i) = index.get(cand.as_str()) {
            return Some(i);
        }
        if base.is_empty() {
            return None;
        }
        base = match base.rfind("/node_modules/") {
            Some(i) => base[..i].to_string(),
            None => String::new(),
        };
    }
}

fn lock_v1(path: &str, doc: &Value, found: &mut Found) {
    // scopes: each nested `dependencies` object is a scope whose parent is the enclosing one.
    struct Entry {
        scope: usize,
        requires: Vec<String>,
    }
    let mut scopes: Vec<(Option<usize>, HashMap<String, usize>)> = vec![(None, HashMap::new())];
    let mut entries: Vec<Entry> = Vec::new();
    let mut stack: Vec<(usize, &serde_json::Map<String, Value>)> = Vec::new();
    if let Some(d) = doc.get("dependencies").and_then(Value::as_object) {
        stack.push((0, d));
    }
    while let Some((scope, deps)) = stack.pop() {
        for (name, v) in deps {
            let Some(version) = v.get("version").and_then(Value::as_str) else {
                found.warn(path, format!("{name} has no version"));
                continue;
            };
            let mut p = pkg(name, version);
            apply_common(&mut p, v);
            let i = found.push(p, path, "npm-package-lock");
            scopes[scope].1.insert(name.clone(), i);
            entries.push(Entry {
                scope,
                requires: v
                    .get("requires")
                    .and_then(Value::as_object)
                    .map(|o| o.keys().cloned().collect())
                    .unwrap_or_default(),
            });
            if let Some(nested) = v.get("dependencies").and_then(Value::as_object) {
                scopes.push((Some(scope), HashMap::new()));
                let child = scopes.len() - 1;
                // The package's own nested scope is searched first for its requires.
                entries[i].scope = child;
                stack.push((child, nested));
            }
        }
    }
    for (i, e) in entries.iter().enumerate() {
        for r in &e.requires {
            let mut s = Some(e.scope);
            while let Some(cur) = s {
                if let Some(&j) = scopes[cur].1.get(r) {
                    if i != j {
                        found.edges.push((i, j));
                    }
                    break;
                }
                s = scopes[cur].0;
            }
        }
    }
}

/// An installed package: `node_modules/NAME/package.json`.
pub(crate) fn installed(path: &str, bytes: &[u8]) -> Found {
    let mut found = Found::default();
    let v: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            found.warn(path, format!("not valid JSON: {e}"));
            return found;
        }
    };
    let (Some(name), Some(version)) = (
        v.get("name").and_then(Value::as_str),
        v.get("version").and_then(Value::as_str),
    ) else {
        return found; // test fixtures and stubs inside packages carry no name/version
    };
    let mut p = pkg(name, version);
    p.licenses = license_of(&v);
    p.supplier = match v.get("author") {
        Some(Value::String(s)) if !s.is_empty() => Some(Supplier::Person(s.clone())),
        Some(Value::Object(o)) => o
            .get("name")
            .and_then(Value::as_str)
            .map(|s| Supplier::Person(s.to_string())),
        _ => None,
    };
    p.homepage = v
        .get("homepage")
        .and_then(Value::as_str)
        .map(str::to_string);
    p.requires = v
        .get("dependencies")
        .and_then(Value::as_object)
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    found.push(p, path, "npm-installed");
    found
}

fn unquote(s: &str) -> &str {
    s.trim().trim_matches('"').trim_matches('\'')
}

/// Splits `name@range` at the `@` that is not a scope's.
fn split_descriptor(d: &str) -> Option<(&str, &str)> {
    // The first character may be a scope's `@`; the separator is the next `@`.
    let first = d.chars().next()?.len_utf8();
    let at = d[first..].find('@')? + first;
    Some((&d[..at], &d[at + 1..]))
}

/// descriptors, version, resolved, integrity, dependency descriptors.
type YarnEntry = (
    Vec<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Vec<String>,
);

/// `yarn.lock`, classic (v1) or berry (`__metadata`, YAML).
pub(crate) fn yarn_lock(path: &str, bytes: &[u8]) -> Found {
    let mut found = Found::default();
    let t = text(bytes);
    // descriptor -> entry index; each entry's dependency descriptors.
    let mut by_desc: HashMap<String, usize> = HashMap::new();
    let mut deps: Vec<Vec<String>> = Vec::new();
    let mut cur: Option<YarnEntry> = None;
    let mut in_deps = false;
    let flush = |cur: &mut Option<YarnEntry>,
                 found: &mut Found,
                 by_desc: &mut HashMap<String, usize>,
                 deps: &mut Vec<Vec<String>>| {
        let Some((descs, version, resolved, integ, ds)) = cur.take() else {
            return;
        };
        let Some(first) = descs.first() else { return };
        if first == "__metadata"
            || descs
                .iter()
                .any(|d| d.contains("@workspace:") || d.contains("@link:"))
        {
            return;
        }
        let Some((name, _)) = split_descriptor(first) else {
            found.warn(path, format!("cannot read entry {first:?}"));
            return;
        };
        let Some(version) = version else {
            found.warn(path, format!("entry {first:?} has no version"));
            return;
        };
        let mut p = pkg(name, &version);
        p.download = resolved;
        if let Some(d) = integ.as_deref().and_then(integrity) {
            p.digests.push(d);
        }
        let i = found.push(p, path, "yarn-lock");
        for d in descs {
            by_desc.insert(d, i);
        }
        deps.push(ds);
    };
    for line in t.lines() {
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let body = line.trim();
        if indent == 0 {
            flush(&mut cur, &mut found, &mut by_desc, &mut deps);
            in_deps = false;
            let key = body.trim_end_matches(':');
            let descs = key.split(", ").map(|d| unquote(d).to_string()).collect();
            cur = Some((descs, None, None, None, Vec::new()));
            continue;
        }
        let Some(c) = cur.as_mut() else { continue };
        if indent == 2 {
            in_deps = matches!(
                body.trim_end_matches(':'),
                "dependencies" | "optionalDependencies"
            ) && body.ends_with(':');
            let (k, v) = match body.split_once(": ") {
                Some((k, v)) => (k, v),
                None => match body.split_once(' ') {
                    Some((k, v)) => (k, v),
                    None => continue,
                },
            };
            let v = unquote(v).to_string();
            match unquote(k) {
                "version" => c.1 = Some(v),
                "resolved" => c.2 = Some(v),
                "integrity" => c.3 = Some(v),
                _ => {}
            }
        } else if indent >= 4 && in_deps {
            let (k, v) = match body.split_once(": ") {
                Some((k, v)) => (k, v),
                None => match body.split_once(' ') {
                    Some((k, v)) => (k, v),
                    None => continue,
                },
            };
            c.4.push(format!("{}@{}", unquote(k), unquote(v)));
        }
    }
    flush(&mut cur, &mut found, &mut by_desc, &mut deps);
    for (i, ds) in deps.iter().enumerate() {
        for d in ds {
            if let Some(&j) = by_desc.get(d)
                && i != j
            {
                found.edges.push((i, j));
            }
        }
    }
    found
}

/// `pnpm-lock.yaml`: the keys of the `packages:` section (formats 5.x `/name/1.0.0`, 6.x
/// `/name@1.0.0`, 9.x `name@1.0.0`, with peer suffixes removed).
pub(crate) fn pnpm_lock(path: &str, bytes: &[u8]) -> Found {
    let mut found = Found::default();
    let t = text(bytes);
    let mut lock_version: Option<String> = None;
    let mut in_packages = false;
    let mut seen = std::collections::HashSet::new();
    let mut last: Option<usize> = None;
    for line in t.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if indent == 0 {
            in_packages = line.trim_end() == "packages:";
            if let Some(v) = line.strip_prefix("lockfileVersion:") {
                lock_version = Some(unquote(v).to_string());
            }
            last = None;
            continue;
        }
        if !in_packages {
            continue;
        }
        if indent == 2 && line.trim_end().ends_with(':') {
            let key = unquote(line.trim().trim_end_matches(':'));
            let key = key.strip_prefix('/').unwrap_or(key);
            let key = key.split('(').next().unwrap_or(key);
            let v5 = lock_version.as_deref().is_some_and(|v| v.starts_with('5'));
            let parsed = if v5 {
                // 5.x: `name/1.0.0` or `@scope/name/1.0.0_peer`.
                key.rsplit_once('/')
                    .map(|(n, v)| (n.to_string(), v.split('_').next().unwrap_or(v).to_string()))
            } else {
                split_descriptor(key).map(|(n, v)| (n.to_string(), v.to_string()))
            };
            match parsed {
                Some((n, v)) if !n.is_empty() && !v.is_empty() => {
                    if seen.insert((n.clone(), v.clone())) {
                        last = Some(found.push(pkg(&n, &v), path, "pnpm-lock"));
                    } else {
                        last = None;
                    }
                }
                _ => found.warn(path, format!("cannot read package key {key:?}")),
            }
        } else if let Some(i) = last {
            let body = line.trim();
            if let Some(rest) = body.strip_prefix("resolution: {integrity: ") {
                if let Some(d) = integrity(rest.trim_end_matches('}').trim()) {
                    found.packages[i].digests.push(d);
                }
            } else if body == "dev: true" {
                found.packages[i].dev = true;
            }
        }
    }
    match lock_version
        .as_deref()
        .map(|v| v.split('.').next().unwrap_or(""))
    {
        Some("5" | "6" | "7" | "9") => {}
        Some(v) => found.warn(path, format!("unknown pnpm lockfileVersion {v}; read as 9")),
        None => found.warn(path, "no lockfileVersion"),
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yarn_classic_and_berry() {
        let classic = br#"# yarn lockfile v1

"@babel/code-frame@^7.0.0", "@babel/code-frame@^7.10.4":
  version "7.12.13"
  resolved "https://registry.yarnpkg.com/@babel/code-frame/-/code-frame-7.12.13.tgz"
  dependencies:
    "@babel/highlight" "^7.12.13"

"@babel/highlight@^7.12.13":
  version "7.13.10"
"#;
        let f = yarn_lock("yarn.lock", classic);
        let got: Vec<_> = f.packages.iter().map(|p| p.purl.as_str()).collect();
        assert_eq!(
            got,
            [
                "pkg:npm/%40babel/code-frame@7.12.13",
                "pkg:npm/%40babel/highlight@7.13.10"
            ]
        );
        assert_eq!(f.edges, [(0, 1)]);
        let berry = br#"__metadata:
  version: 6

"left-pad@npm:^1.3.0":
  version: 1.3.0
  resolution: "left-pad@npm:1.3.0"
  dependencies:
    once: "npm:^1.4.0"

"once@npm:^1.4.0":
  version: 1.4.0
  resolution: "once@npm:1.4.0"

"app@workspace:.":
  version: 0.0.0-use.local
"#;
        let f = yarn_lock("yarn.lock", berry);
        let got: Vec<_> = f.packages.iter().map(|p| p.purl.as_str()).collect();
        assert_eq!(got, ["pkg:npm/left-pad@1.3.0", "pkg:npm/once@1.4.0"]);
        assert_eq!(f.edges, [(0, 1)]);
    }

    #[test]
    fn unknown_lockfile_versions_warn() {
        let f = package_lock(
            "package-lock.json",
            br#"{"lockfileVersion": 9, "packages": {"node_modules/a": {"version": "1.0.0"}}}"#,
        );
        assert_eq!(f.packages.len(), 1);
        assert!(
            f.warnings[0].message.contains("unknown lockfileVersion 9"),
            "{:?}",
            f.warnings
        );
        let f = package_lock("package-lock.json", br#"{"name": "x"}"#);
        assert!(f.packages.is_empty());
        assert!(
            f.warnings[0].message.contains("file not read"),
            "{:?}",
            f.warnings
        );
        let f = package_lock("package-lock.json", b"{not json");
        assert!(f.warnings[0].message.starts_with("not valid JSON"));
        let f = package_lock(
            "package-lock.json",
            br#"{"lockfileVersion": 1, "dependencies": {"a": {"version": "1.0.0", "requires": {"b": "^2"}, "dependencies": {"b": {"version": "2.0.0"}}}, "b": {"version": "3.0.0"}}}"#,
        );
        let got: Vec<_> = f.packages.iter().map(|p| p.purl.as_str()).collect();
        assert_eq!(
            got,
            ["pkg:npm/a@1.0.0", "pkg:npm/b@3.0.0", "pkg:npm/b@2.0.0"]
        );
        // a requires its own nested b (2.0.0), not the top-level one.
        assert_eq!(f.edges, [(0, 2)]);
    }

    #[test]
    fn descriptors_never_panic() {
        assert_eq!(split_descriptor(""), None);
        assert_eq!(split_descriptor("@"), None);
        assert_eq!(split_descriptor("é@1"), Some(("é", "1")));
        assert_eq!(split_descriptor("@s/n@npm:1"), Some(("@s/n", "npm:1")));
        let f = yarn_lock("yarn.lock", "\"\":\n  version \"1\"\n\u{e9}:\n".as_bytes());
        assert!(f.packages.is_empty());
        let f = pnpm_lock(
            "pnpm-lock.yaml",
            b"lockfileVersion: '9.0'\npackages:\n  '':\n  '@':\n",
        );
        assert!(f.packages.is_empty());
    }

    #[test]
    fn pnpm_versions() {
        let v9 = b"lockfileVersion: '9.0'\n\nimporters:\n  .:\n    dependencies: {}\n\npackages:\n\n  '@types/node@20.1.0':\n    resolution: {integrity: sha512-AAAA}\n\n  react@18.2.0(x@1):\n    resolution: {integrity: sha1-AAAA}\n";
        let f = pnpm_lock("pnpm-lock.yaml", v9);
        let got: Vec<_> = f.packages.iter().map(|p| p.purl.as_str()).collect();
        assert_eq!(
            got,
            ["pkg:npm/%40types/node@20.1.0", "pkg:npm/react@18.2.0"]
        );
        let v5 = b"lockfileVersion: 5.4\npackages:\n  /@types/node/20.1.0:\n    dev: true\n  /react/18.2.0_x@1:\n    dev: false\n";
        let f = pnpm_lock("pnpm-lock.yaml", v5);
        let got: Vec<_> = f.packages.iter().map(|p| p.purl.as_str()).collect();
        assert_eq!(
            got,
            ["pkg:npm/%40types/node@20.1.0", "pkg:npm/react@18.2.0"]
        );
        assert!(f.packages[0].dev);
        assert!(f.warnings.is_empty());
    }
}
