//! Operating-system packages: `etc/os-release`, dpkg and apk (rpm is in `rpm.rs`).

use super::{Files, Found, text};
use crate::license::DeclaredLicense;
use crate::package::{Distro, Ecosystem, Package, Supplier};
use crate::purl::Purl;

/// Parses os-release (`KEY=value`, values optionally quoted with shell escapes).
pub(crate) fn os_release(bytes: &[u8]) -> Option<Distro> {
    let mut d = Distro::default();
    for line in text(bytes).lines() {
        let line = line.trim();
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = unquote(v.trim());
        match k.trim() {
            "ID" => d.id = v.to_ascii_lowercase(),
            "VERSION_ID" => d.version_id = Some(v),
            "VERSION_CODENAME" => d.codename = Some(v),
            "PRETTY_NAME" => d.pretty_name = Some(v),
            "ID_LIKE" => d.id_like = v.split_whitespace().map(str::to_string).collect(),
            "HOME_URL" => d.home_url = Some(v),
            _ => {}
        }
    }
    (!d.id.is_empty()).then_some(d)
}

fn unquote(v: &str) -> String {
    let inner = if v.len() >= 2
        && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')))
    {
        &v[1..v.len() - 1]
    } else {
        v
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits deb822-style text into stanzas of `(field, value)`; continuation lines are joined
/// with `\n`. A line that is neither a field nor a continuation makes the stanza broken
/// (reported with its 1-based line number).
fn stanzas(text: &str) -> Vec<Result<Vec<(String, String)>, usize>> {
    let mut out = Vec::new();
    let mut cur: Vec<(String, String)> = Vec::new();
    let mut broken: Option<usize> = None;
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            if let Some(at) = broken.take() {
                out.push(Err(at));
            } else if !cur.is_empty() {
                out.push(Ok(std::mem::take(&mut cur)));
            }
            cur.clear();
            continue;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            match cur.last_mut() {
                Some((_, v)) => {
                    v.push('\n');
                    v.push_str(line.trim());
                }
                None => broken = broken.or(Some(n + 1)),
            }
            continue;
        }
        match line.split_once(':') {
            Some((k, v)) if !k.is_empty() && !k.contains(' ') => {
                cur.push((k.to_string(), v.trim().to_string()))
            }
            _ => broken = broken.or(Some(n + 1)),
        }
    }
    if let Some(at) = broken {
        out.push(Err(at));
    } else if !cur.is_empty() {
        out.push(Ok(cur));
    }
    out
}

fn field<'a>(st: &'a [(String, String)], name: &str) -> Option<&'a str> {
    st.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// dpkg `status` (all installed packages) or one file of `status.d/` (distroless).
pub(crate) fn dpkg(path: &str, bytes: &[u8], files: &dyn Files, distro: Option<&Distro>) -> Found {
    let mut found = Found::default();
    let status_d = path.contains("/status.d/");
    let ns = distro.map(|d| d.id.as_str()).unwrap_or("debian");
    for st in stanzas(&text(bytes)) {
        let st = match st {
            Ok(st) => st,
            Err(line) => {
                found.warn(path, format!("broken stanza at line {line} skipped"));
                continue;
            }
        };
        let (Some(name), Some(version)) = (field(&st, "Package"), field(&st, "Version")) else {
            let what = field(&st, "Package").unwrap_or("?");
            // Packages that were removed but whose config files remain have no version.
            if field(&st, "Status").is_some_and(|s| !s.ends_with(" installed")) {
                continue;
            }
            found.warn(
                path,
                format!("stanza for {what} has no Package or Version field"),
            );
            continue;
        };
        if let Some(status) = field(&st, "Status") {
            if status.split_whitespace().nth(2) != Some("installed") {
                continue;
            }
        } else if !status_d {
            continue;
        }
        let arch = field(&st, "Architecture").unwrap_or("");
        let mut purl = Purl::new("deb", name)
            .with_namespace(ns)
            .with_version(version)
            .with_qualifier("arch", arch);
        if let Some(src) = field(&st, "Source") {
            let src_name = src.split_whitespace().next().unwrap_or("");
            if src_name != name {
                purl = purl.with_qualifier("upstream", src_name);
            }
        }
        if let Some(d) = distro {
            purl = purl.with_qualifier("distro", &d.qualifier());
        }
        let mut pkg = Package::new(Ecosystem::Deb, name, version, purl.to_string());
        pkg.supplier = field(&st, "Maintainer").map(|m| Supplier::Person(m.to_string()));
        pkg.homepage = field(&st, "Homepage").map(str::to_string);
        for f in ["Pre-Depends", "Depends"] {
            if let Some(deps) = field(&st, f) {
                pkg.requires.extend(deb_relations(deps));
            }
        }
        let copyright = format!("usr/share/doc/{name}/copyright");
        if let Some(c) = files.read(&copyright) {
            pkg.licenses = dep5_licenses(&text(&c));
        }
        found.push(pkg, path, "dpkg");
    }
    found
}

/// `a (>= 1), b | c:any` -> `["a", "b|c"]`.
fn deb_relations(s: &str) -> Vec<String> {
    s.split(',')
        .filter_map(|rel| {
            let alts: Vec<&str> = rel
                .split('|')
                .filter_map(|a| {
                    let n = a.split_whitespace().next()?;
                    let n = n.split(':').next().unwrap_or(n);
                    let n = n.split('(').next().unwrap_or(n);
                    (!n.is_empty()).then_some(n)
                })
                .collect();
            (!alts.is_empty()).then(|| alts.join("|"))
        })
        .collect()
}

/// `License:` fields of a machine-readable (DEP-5) copyright file, distinct, in order.
fn dep5_licenses(text: &str) -> Vec<DeclaredLicense> {
    let mut out: Vec<DeclaredLicense> = Vec::new();
    if !text.starts_with("Format:") && !text.starts_with("Format-Specification:") {
        return out;
    }
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("License:") {
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            // Debian short names: GPL-2+ etc.; "or"/"and" between them.
            let lic = DeclaredLicense::new(v);
            if !out.contains(&lic) {
                out.push(lic);
            }
        }
    }
    out
}

/// apk `lib/apk/db/installed`.
pub(crate) fn apk(path: &str, bytes: &[u8], distro: Option<&Distro>) -> Found {
    let mut found = Found::default();
    let ns = distro.map(|d| d.id.as_str()).unwrap_or("alpine");
    let t = text(bytes);
    // provides name -> package index, and each package's raw D: entries.
    let mut provides: std::collections::HashMap<String, usize> = Default::default();
    let mut deps: Vec<Vec<String>> = Vec::new();
    for block in t.split("\n\n") {
        let mut f: std::collections::HashMap<&str, String> = Default::default();
        let mut bad = None;
        for line in block.lines() {
            if line.is_empty() {
                continue;
            }
            match line.split_once(':') {
                Some((k, v)) if k.len() == 1 => {
                    // Repeated keys (file listings F:/R:) are irrelevant; keep the first.
                    f.entry(k).or_insert_with(|| v.to_string());
                }
                _ => bad = Some(line.to_string()),
            }
        }
        if f.is_empty() {
            continue;
        }
        if let Some(line) = bad {
            found.warn(path, format!("malformed line {line:?} in package entry"));
        }
        let (Some(name), Some(version)) = (f.get("P"), f.get("V")) else {
            found.warn(path, "package entry without P: or V: skipped");
            continue;
        };
        let mut purl = Purl::new("apk", name)
            .with_namespace(ns)
            .with_version(version)
            .with_qualifier("arch", f.get("A").map(String::as_str).unwrap_or(""));
        if let Some(o) = f.get("o").filter(|o| *o != name) {
            purl = purl.with_qualifier("upstream", o);
        }
        if let Some(d) = distro {
            purl = purl.with_qualifier("distro", &d.qualifier());
        }
        let mut pkg = Package::new(Ecosystem::Apk, name, version, purl.to_string());
        if let Some(l) = f.get("L") {
            pkg.licenses.push(DeclaredLicense::new(&apk_license(l)));
        }
        pkg.supplier = f.get("m").map(|m| Supplier::Person(m.clone()));
        pkg.homepage = f.get("U").cloned();
        let idx = found.push(pkg, path, "apk");
        provides.insert(name.clone(), idx);
        if let Some(p) = f.get("p") {
            for prov in p.split_whitespace() {
                let n = prov.split('=').next().unwrap_or(prov);
                provides.entry(n.to_string()).or_insert(idx);
            }
        }
        deps.push(
            f.get("D")
                .map(|d| {
                    d.split_whitespace()
                        .filter(|x| !x.starts_with('!'))
                        .map(|x| {
                            x.split(['=', '<', '>', '~'])
                                .next()
                                .unwrap_or(x)
                                .to_string()
                        })
                        .collect()
                })
                .unwrap_or_default(),
        );
    }
    for (i, ds) in deps.iter().enumerate() {
        for d in ds {
            if let Some(&j) = provides.get(d)
                && i != j
            {
                found.edges.push((i, j));
            }
        }
    }
    found
}

/// apk licence fields are SPDX-ish but use lowercase operators and spaces as separators in
/// old packages ("MIT BSD"); only the operator spelling is fixed here.
fn apk_license(l: &str) -> String {
    l.split_whitespace()
        .map(|w| match w {
            "and" => "AND",
            "or" => "OR",
            "with" => "WITH",
            _ => w,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relations() {
        assert_eq!(
            deb_relations("libc6 (>= 2.34), debconf (>= 0.5) | debconf-2.0, perl:any"),
            vec!["libc6", "debconf|debconf-2.0", "perl"]
        );
    }

    #[test]
    fn os_release_quoting() {
        let d = os_release(
            b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n",
        )
        .expect("parses");
        assert_eq!(d.qualifier(), "debian-12");
        assert_eq!(
            d.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
    }

    #[test]
    fn broken_stanza_is_reported_and_skipped() {
        struct NoFiles;
        impl Files for NoFiles {
            fn read(&self, _: &str) -> Option<Vec<u8>> {
                None
            }
        }
        let status = b"Package: a\nStatus: install ok installed\nVersion: 1\n\ngarbage line\nPackage: b\n\nPackage: c\nStatus: install ok installed\nVersion: 2\nArchitecture: all\n";
        let f = dpkg("var/lib/dpkg/status", status, &NoFiles, None);
        let names: Vec<_> = f.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "c"]);
        assert_eq!(f.warnings.len(), 1);
        assert!(f.warnings[0].message.contains("line 5"), "{:?}", f.warnings);
    }
}
