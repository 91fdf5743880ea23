//! Go: `go.mod` and the build information embedded in Go binaries (Go 1.18 and later).

use super::{Files, Found, text};
use crate::package::{Ecosystem, Package};
use crate::purl::Purl;

/// A package for a module path (`github.com/a/b` -> namespace `github.com/a`, name `b`).
pub(crate) fn pkg(module: &str, version: &str) -> Package {
    let (ns, name) = match module.rsplit_once('/') {
        Some((ns, name)) => (Some(ns), name),
        None => (None, module),
    };
    let mut purl = Purl::new("golang", name).with_version(version);
    if let Some(ns) = ns {
        purl = purl.with_namespace(ns);
    }
    let mut p = Package::new(Ecosystem::Go, name, version, purl.to_string());
    p.namespace = ns.map(str::to_string);
    p
}

/// `go.mod`: every `require`d module, with `replace` directives applied.
pub(crate) fn go_mod(path: &str, bytes: &[u8], _files: &dyn Files) -> Found {
    let mut found = Found::default();
    let t = text(bytes);
    let mut requires: Vec<(String, String, bool)> = Vec::new();
    let mut replaces: Vec<(String, Option<String>, String, String)> = Vec::new();
    let mut block: Option<&str> = None;
    for raw in t.lines() {
        let indirect = raw.contains("// indirect");
        let line = raw.split("//").next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if block.is_some() && line == ")" {
            block = None;
            continue;
        }
        let (verb, rest) = match block {
            Some(b) => (b, line),
            None => match line.split_once(char::is_whitespace) {
                Some((v, r)) => (v, r.trim()),
                None => continue,
            },
        };
        if rest == "(" {
            block = Some(verb);
            continue;
        }
        let words: Vec<&str> = rest
            .split_whitespace()
            .map(|w| w.trim_matches('"'))
            .collect();
        match verb {
            "require" if words.len() >= 2 => {
                requires.push((words[0].to_string(), words[1].to_string(), indirect))
            }
            "replace" => {
                if let Some(arrow) = words.iter().position(|w| *w == "=>") {
                    let from = words.first().copied().unwrap_or("").to_string();
                    let from_v = (arrow == 2).then(|| words[1].to_string());
                    let to = words.get(arrow + 1).copied().unwrap_or("").to_string();
                    let to_v = words.get(arrow + 2).copied().unwrap_or("").to_string();
                    replaces.push((from, from_v, to, to_v));
                }
            }
            _ => {}
        }
    }
    for (module, version, _indirect) in requires {
        let rep = replaces
            .iter()
            .find(|(f, fv, _, _)| *f == module && fv.as_ref().is_none_or(|v| *v == version));
        let (m, v) = match rep {
            // A local directory replacement has no version: keep the required one.
            Some((_, _, to, to_v)) if !to_v.is_empty() => (to.clone(), to_v.clone()),
            _ => (module, version),
        };
        found.push(pkg(&m, &v), path, "go-mod");
    }
    found
}

const MAGIC: &[u8] = b"\xff Go buildinf:";

/// Finds the build info blob and returns (go version, modinfo text).
pub(crate) fn buildinfo(bytes: &[u8]) -> Result<Option<(String, String)>, &'static str> {
    // The linker aligns the blob to 16 bytes, and section file offsets keep that alignment.
    let Some(pos) = (0..bytes.len().saturating_sub(MAGIC.len()))
        .step_by(16)
        .find(|&i| &bytes[i..i + MAGIC.len()] == MAGIC)
    else {
        return Ok(None);
    };
    let hdr = bytes
        .get(pos..pos + 32)
        .ok_or("truncated go build info header")?;
    let flags = hdr[15];
    if flags & 2 == 0 {
        return Err("go build info of a binary built before go1.18 is not read");
    }
    let mut rest = &bytes[pos + 32..];
    let version = read_string(&mut rest).ok_or("malformed go build info")?;
    let modinfo = read_string(&mut rest).ok_or("malformed go build info")?;
    // modinfo is wrapped in 16-byte binary sentinels.
    let modinfo = if modinfo.len() >= 33 {
        &modinfo[16..modinfo.len() - 16]
    } else {
        &[][..]
    };
    Ok(Some((
        String::from_utf8_lossy(version).into_owned(),
        String::from_utf8_lossy(modinfo).into_owned(),
    )))
}

fn read_string<'a>(buf: &mut &'a [u8]) -> Option<&'a [u8]> {
    let mut len: u64 = 0;
    let mut shift = 0;
    let mut i = 0;
    loop {
        let b = *buf.get(i)?;
        len |= u64::from(b & 0x7f) << shift;
        i += 1;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
    let len = usize::try_from(len).ok()?;
    let s = buf.get(i..i.checked_add(len)?)?;
    *buf = &buf[i + len..];
    Some(s)
}

/// Packages from a Go binary's build info: the main module, its dependencies (replacements
/// applied) and the standard library.
pub(crate) fn from_buildinfo(path: &str, go_version: &str, modinfo: &str) -> Found {
    let mut found = Found::default();
    let mut last: Option<usize> = None;
    let mut main: Option<usize> = None;
    for line in modinfo.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f.first().copied() {
            Some("mod") if f.len() >= 3 => {
                let i = found.push(pkg(f[1], f[2]), path, "go-binary");
                main = Some(i);
                last = Some(i);
            }
            Some("dep") if f.len() >= 3 => {
                last = Some(found.push(pkg(f[1], f[2]), path, "go-binary"));
            }
            Some("=>") if f.len() >= 3 => {
                if let Some(i) = last {
                    let loc = found.packages[i].locations.clone();
                    let mut p = pkg(f[1], f[2]);
                    p.locations = loc;
                    p.found_by = "go-binary";
                    found.packages[i] = p;
                }
            }
            _ => {}
        }
    }
    let v = go_version.strip_prefix("go").unwrap_or(go_version);
    if !v.is_empty() {
        let purl = Purl::new("golang", "stdlib").with_version(v).to_string();
        found.push(
            Package::new(Ecosystem::Go, "stdlib", v, purl),
            path,
            "go-binary",
        );
    }
    if let Some(m) = main {
        for j in 0..found.packages.len() {
            if j != m {
                found.edges.push((m, j));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoFiles;
    impl Files for NoFiles {
        fn read(&self, _: &str) -> Option<Vec<u8>> {
            None
        }
    }

    #[test]
    fn go_mod_requires_and_replace() {
        let m = b"module example.com/app\n\ngo 1.22\n\nrequire (\n\tgithub.com/pkg/errors v0.9.1\n\tgolang.org/x/text v0.14.0 // indirect\n)\n\nrequire gopkg.in/yaml.v3 v3.0.1\n\nreplace golang.org/x/text => golang.org/x/text v0.13.0\n";
        let f = go_mod("go.mod", m, &NoFiles);
        let got: Vec<_> = f.packages.iter().map(|p| p.purl.as_str()).collect();
        assert_eq!(
            got,
            [
                "pkg:golang/github.com/pkg/errors@v0.9.1",
                "pkg:golang/golang.org/x/text@v0.13.0",
                "pkg:golang/gopkg.in/yaml.v3@v3.0.1"
            ]
        );
    }

    #[test]
    fn buildinfo_inline_format() {
        let mut bin = vec![0u8; 48];
        let mut hdr = MAGIC.to_vec();
        hdr.push(8);
        hdr.push(2);
        hdr.resize(32, 0);
        bin.extend(&hdr);
        let ver = b"go1.22.1";
        bin.push(ver.len() as u8);
        bin.extend(ver);
        let mut mi = vec![b'x'; 16];
        mi.extend(b"path\texample.com/app\nmod\texample.com/app\t(devel)\t\ndep\tgithub.com/a/b\tv1.0.0\th1:x=\n=>\tgithub.com/c/b\tv1.1.0\th1:y=\n");
        mi.extend([b'y'; 16]);
        let mut n = mi.len();
        while n >= 0x80 {
            bin.push((n as u8) | 0x80);
            n >>= 7;
        }
        bin.push(n as u8);
        bin.extend(&mi);
        let (v, m) = buildinfo(&bin).expect("ok").expect("found");
        assert_eq!(v, "go1.22.1");
        let f = from_buildinfo("app", &v, &m);
        let got: Vec<_> = f.packages.iter().map(|p| p.purl.as_str()).collect();
        assert_eq!(
            got,
            [
                "pkg:golang/example.com/app@%28devel%29",
                "pkg:golang/github.com/c/b@v1.1.0",
                "pkg:golang/stdlib@1.22.1"
            ]
        );
    }
}
