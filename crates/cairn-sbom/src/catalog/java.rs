//! Java archives (jar, war, ear, ...): `META-INF/maven/*/*/pom.properties`, `MANIFEST.MF`, and
//! archives nested inside (WEB-INF/lib, BOOT-INF/lib, ...), read from memory.

use std::io::{Cursor, Read};

use sha2::{Digest, Sha256};

use super::{Found, text};
use crate::license::DeclaredLicense;
use crate::package::{Ecosystem, Package, Supplier};
use crate::purl::Purl;

/// Nested archives deeper than this are not opened (a zip quine cannot recurse forever).
const MAX_DEPTH: usize = 4;

fn pkg(group: Option<&str>, artifact: &str, version: &str) -> Package {
    let mut purl = Purl::new("maven", artifact).with_version(version);
    if let Some(g) = group {
        purl = purl.with_namespace(g);
    }
    let mut p = Package::new(Ecosystem::Maven, artifact, version, purl.to_string());
    p.namespace = group.map(str::to_string);
    p
}

/// One archive file.
pub(crate) fn archive(path: &str, bytes: &[u8], limits: &crate::Limits) -> Found {
    let mut found = Found::default();
    let sha = hex::encode(Sha256::digest(bytes));
    read_archive(path, bytes, Some(sha), 0, limits, &mut found);
    found
}

fn properties(t: &str) -> std::collections::HashMap<String, String> {
    t.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim_start().starts_with('!'))
        .filter_map(|l| {
            let (k, v) = l.split_once(['=', ':'])?;
            Some((k.trim().to_string(), v.trim().to_string()))
        })
        .collect()
}

/// MANIFEST.MF main section (continuation lines start with one space).
fn manifest(t: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in t.lines() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            break;
        }
        if let Some(cont) = line.strip_prefix(' ') {
            if let Some((_, v)) = out.last_mut() {
                v.push_str(cont);
            }
        } else if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

/// `<licenses><license><name>..</name>` entries of a pom.xml (a plain text scan; no XML
/// entities or namespaces are needed for these).
fn pom_licenses(t: &str) -> Vec<DeclaredLicense> {
    let Some(start) = t.find("<licenses>") else {
        return Vec::new();
    };
    let end = t[start..]
        .find("</licenses>")
        .map_or(t.len(), |e| start + e);
    let mut out = Vec::new();
    let mut rest = &t[start..end];
    while let Some(i) = rest.find("<name>") {
        let after = &rest[i + 6..];
        let Some(j) = after.find("</name>") else {
            break;
        };
        out.push(DeclaredLicense::new(after[..j].trim()));
        rest = &after[j..];
    }
    out
}

fn stem_version(file: &str) -> (String, Option<String>) {
    let stem = file.rsplit('/').next().unwrap_or(file);
    let stem = stem.rsplit_once('.').map_or(stem, |(s, _)| s);
    // name-1.2.3 or name-1.2.3-SNAPSHOT: the version starts at the first "-<digit>".
    let b = stem.as_bytes();
    for i in 0..b.len().saturating_sub(1) {
        if b[i] == b'-' && b[i + 1].is_ascii_digit() {
            return (stem[..i].to_string(), Some(stem[i + 1..].to_string()));
        }
    }
    (stem.to_string(), None)
}

fn read_archive(
    path: &str,
    bytes: &[u8],
    sha256: Option<String>,
    depth: usize,
    limits: &crate::Limits,
    found: &mut Found,
) {
    let mut zip = match zip::ZipArchive::new(Cursor::new(bytes)) {
        Ok(z) => z,
        Err(e) => {
            found.warn(path, format!("not a readable java archive: {e}"));
            return;
        }
    };
    let mut poms: Vec<(String, std::collections::HashMap<String, String>)> = Vec::new();
    let mut pom_xml: std::collections::HashMap<String, String> = Default::default();
    let mut mf: Option<Vec<(String, String)>> = None;
    let mut nested: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..zip.len() {
        let mut entry = match zip.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                found.warn(path, format!("unreadable archive entry: {e}"));
                continue;
            }
        };
        if entry.is_dir() {
            continue;
        }
        let Ok(name) = entry.name().map(|n| n.to_string()) else {
            found.warn(path, "archive entry with an unreadable name skipped");
            continue;
        };
        let size = entry.size();
        let small = size <= 4 << 20;
        let is_nested = super::is_java_archive(&name);
        let wanted = (name.starts_with("META-INF/maven/")
            && (name.ends_with("/pom.properties") || name.ends_with("/pom.xml")))
            || name == "META-INF/MANIFEST.MF"
            || is_nested;
        if !wanted {
            continue;
        }
        if is_nested && (depth + 1 > MAX_DEPTH || size > limits.max_file_bytes) {
            found.warn(
                &format!("{path}:{name}"),
                "nested archive not opened (too deep or too large)",
            );
            continue;
        }
        if !is_nested && !small {
            continue;
        }
        let mut buf = Vec::with_capacity(size.min(1 << 20) as usize);
        // `size` comes from the archive's directory and may lie: bound the read itself.
        if let Err(e) = (&mut entry)
            .take(limits.max_file_bytes)
            .read_to_end(&mut buf)
        {
            found.warn(&format!("{path}:{name}"), format!("cannot inflate: {e}"));
            continue;
        }
        if is_nested {
            nested.push((name, buf));
        } else if name == "META-INF/MANIFEST.MF" {
            mf = Some(manifest(&text(&buf)));
        } else if name.ends_with("/pom.xml") {
            pom_xml.insert(
                name.trim_end_matches("pom.xml").to_string(),
                text(&buf).into_owned(),
            );
        } else {
            poms.push((
                name.trim_end_matches("pom.properties").to_string(),
                properties(&text(&buf)),
            ));
        }
    }
    let (stem_name, stem_ver) = stem_version(path);
    let mf_get = |k: &str| {
        mf.as_ref()
            .and_then(|m| m.iter().find(|(mk, _)| mk.eq_ignore_ascii_case(k)))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let mut primary: Option<usize> = None;
    poms.sort_by(|a, b| a.0.cmp(&b.0));
    for (dir, props) in &poms {
        let (Some(a), Some(v)) = (props.get("artifactId"), props.get("version")) else {
            found.warn(
                &format!("{path}:{dir}pom.properties"),
                "pom.properties without artifactId or version",
            );
            continue;
        };
        let mut p = pkg(props.get("groupId").map(String::as_str), a, v);
        if let Some(x) = pom_xml.get(dir) {
            p.licenses = pom_licenses(x);
        }
        let idx = found.push(p, path, "java-archive");
        if *a == stem_name || poms.len() == 1 {
            primary = primary.or(Some(idx));
        }
    }
    if poms.is_empty() {
        let name = mf_get("Bundle-SymbolicName")
            .map(|s| s.split(';').next().unwrap_or(s).trim())
            .or(mf_get("Implementation-Title"))
            .or(mf_get("Specification-Title"))
            .map(str::to_string)
            .unwrap_or(stem_name.clone());
        let version = mf_get("Implementation-Version")
            .or(mf_get("Bundle-Version"))
            .or(mf_get("Specification-Version"))
            .map(str::to_string)
            .or(stem_ver);
        if let Some(v) = version {
            let group = mf_get("Implementation-Vendor-Id");
            let mut p = pkg(group, &name, &v);
            if let Some(l) = mf_get("Bundle-License") {
                p.licenses
                    .push(DeclaredLicense::new(l.split(';').next().unwrap_or(l)));
            }
            p.supplier = mf_get("Implementation-Vendor")
                .or(mf_get("Bundle-Vendor"))
                .map(|s| Supplier::Organization(s.to_string()));
            primary = Some(found.push(p, path, "java-archive"));
        } else if depth == 0 && nested.is_empty() {
            found.warn(
                path,
                "java archive without pom.properties or a version in MANIFEST.MF",
            );
        }
    }
    if let (Some(i), Some(sha)) = (primary, sha256) {
        found.packages[i].digests.push(("SHA-256".into(), sha));
    }
    for (name, buf) in nested {
        let sha = hex::encode(Sha256::digest(&buf));
        let inner = format!("{path}:{name}");
        let before = found.packages.len();
        read_archive(&inner, &buf, Some(sha), depth + 1, limits, found);
        if let Some(p) = primary {
            for j in before..found.packages.len() {
                found.edges.push((p, j));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stem() {
        assert_eq!(
            stem_version("lib/commons-lang3-3.12.0.jar"),
            ("commons-lang3".into(), Some("3.12.0".into()))
        );
        assert_eq!(stem_version("app.war"), ("app".into(), None));
    }
}
