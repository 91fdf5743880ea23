//! rpm databases: `rpmdb.sqlite` (rpm 4.16+, Fedora 33+, RHEL 9+) is read with the built-in
//! SQLite reader; Berkeley DB `Packages` and ndb `Packages.db` are recognised from their first
//! bytes and reported in a warning as not supported (never silently skipped).

use std::collections::HashMap;

use super::Found;
use super::sqlite::{Db, Value, record};
use crate::license::DeclaredLicense;
use crate::package::{Distro, Ecosystem, Package, Supplier};
use crate::purl::Purl;

const NAME: u32 = 1000;
const VERSION: u32 = 1001;
const RELEASE: u32 = 1002;
const EPOCH: u32 = 1003;
const VENDOR: u32 = 1011;
const LICENSE: u32 = 1014;
const PACKAGER: u32 = 1015;
const URL: u32 = 1020;
const ARCH: u32 = 1022;
const SOURCERPM: u32 = 1044;
const PROVIDENAME: u32 = 1047;
const REQUIRENAME: u32 = 1049;

/// One header's tags that matter here.
#[derive(Default)]
struct Header {
    strings: HashMap<u32, String>,
    arrays: HashMap<u32, Vec<String>>,
    epoch: Option<u32>,
}

/// Parses a header blob as stored in the database: index count, data length, 16-byte index
/// entries, then the data store.
fn header(blob: &[u8]) -> Option<Header> {
    let il = u32::from_be_bytes(blob.get(0..4)?.try_into().ok()?) as usize;
    let dl = u32::from_be_bytes(blob.get(4..8)?.try_into().ok()?) as usize;
    let store_at = 8usize.checked_add(il.checked_mul(16)?)?;
    let store = blob.get(store_at..store_at.checked_add(dl)?)?;
    let mut h = Header::default();
    for i in 0..il {
        let e = blob.get(8 + 16 * i..8 + 16 * i + 16)?;
        let tag = u32::from_be_bytes(e[0..4].try_into().ok()?);
        let kind = u32::from_be_bytes(e[4..8].try_into().ok()?);
        let off = u32::from_be_bytes(e[8..12].try_into().ok()?) as usize;
        let count = u32::from_be_bytes(e[12..16].try_into().ok()?) as usize;
        let cstr = |at: usize| -> Option<(String, usize)> {
            let rest = store.get(at..)?;
            let end = rest.iter().position(|&b| b == 0)?;
            Some((
                String::from_utf8_lossy(&rest[..end]).into_owned(),
                at + end + 1,
            ))
        };
        match (tag, kind) {
            (EPOCH, 4) => {
                h.epoch = Some(u32::from_be_bytes(
                    store.get(off..off + 4)?.try_into().ok()?,
                ));
            }
            // STRING (6) and I18NSTRING (9): the first string.
            (
                NAME | VERSION | RELEASE | VENDOR | LICENSE | PACKAGER | URL | ARCH | SOURCERPM,
                6 | 9,
            ) => {
                h.strings.insert(tag, cstr(off)?.0);
            }
            (PROVIDENAME | REQUIRENAME, 8) => {
                let mut at = off;
                let mut v = Vec::with_capacity(count.min(4096));
                for _ in 0..count.min(65536) {
                    let (s, next) = cstr(at)?;
                    v.push(s);
                    at = next;
                }
                h.arrays.insert(tag, v);
            }
            _ => {}
        }
    }
    Some(h)
}

/// How many bytes of an unsupported database are read to name its format.
pub(crate) const HEAD_BYTES: u64 = 64;

/// The format of an rpm database cairn does not read, from its first bytes.
fn legacy_format(head: &[u8]) -> Option<&'static str> {
    // ndb (rpm 4.15+, SUSE): the package blob file starts with "RpmP" (little-endian magic).
    if head.starts_with(b"RpmP") {
        return Some("ndb (openSUSE/SLES)");
    }
    // Berkeley DB: the metadata page has its magic at offset 12, in the writer's byte order.
    let magic = head.get(12..16)?;
    let le = u32::from_le_bytes(magic.try_into().ok()?);
    let be = u32::from_be_bytes(magic.try_into().ok()?);
    const HASH: u32 = 0x0006_1561;
    const BTREE: u32 = 0x0005_3162;
    [le, be]
        .iter()
        .any(|m| *m == HASH || *m == BTREE)
        .then_some("Berkeley DB (rpm before 4.16: RHEL/CentOS 7 and 8, Amazon Linux 2)")
}

/// Reports an rpm database in a format cairn does not read: `head` is its first bytes.
pub(crate) fn unsupported(path: &str, head: &[u8]) -> Found {
    let mut found = Found::default();
    let message = match legacy_format(head) {
        Some(format) => format!(
            "rpm database in {format} format is not supported (only rpmdb.sqlite is read): the rpm packages are missing from this SBOM"
        ),
        None if head.is_empty() => {
            "empty rpm database file, not read (only rpmdb.sqlite is read)".to_string()
        }
        None => "rpm database in an unrecognised format is not supported (only rpmdb.sqlite is read): the rpm packages are missing from this SBOM".to_string(),
    };
    found.warn(path, message);
    found
}

/// Reads an rpm database file.
pub(crate) fn catalog(path: &str, bytes: &[u8], distro: Option<&Distro>) -> Found {
    let mut found = Found::default();
    let blobs = match read_blobs(bytes) {
        Ok(b) => b,
        Err(why) => {
            found.warn(
                path,
                format!(
                    "rpm database not readable: {why} (rpm packages are missing from this SBOM)"
                ),
            );
            return found;
        }
    };
    let ns = distro.map(|d| d.id.as_str()).unwrap_or("redhat");
    let mut provides: HashMap<String, usize> = HashMap::new();
    let mut requires: Vec<Vec<String>> = Vec::new();
    for (i, blob) in blobs.iter().enumerate() {
        let Some(h) = header(blob) else {
            found.warn(path, format!("rpm header {} is malformed; skipped", i + 1));
            continue;
        };
        let (Some(name), Some(version)) = (h.strings.get(&NAME), h.strings.get(&VERSION)) else {
            found.warn(
                path,
                format!("rpm header {} has no name or version; skipped", i + 1),
            );
            continue;
        };
        let release = h.strings.get(&RELEASE).map(String::as_str).unwrap_or("");
        let vr = if release.is_empty() {
            version.clone()
        } else {
            format!("{version}-{release}")
        };
        let mut purl = Purl::new("rpm", name)
            .with_namespace(ns)
            .with_version(&vr)
            .with_qualifier(
                "arch",
                h.strings.get(&ARCH).map(String::as_str).unwrap_or(""),
            );
        if let Some(e) = h.epoch {
            purl = purl.with_qualifier("epoch", &e.to_string());
        }
        if let Some(src) = h.strings.get(&SOURCERPM) {
            purl = purl.with_qualifier("upstream", src);
        }
        if let Some(d) = distro {
            purl = purl.with_qualifier("distro", &d.qualifier());
        }
        let shown = match h.epoch {
            Some(e) => format!("{e}:{vr}"),
            None => vr.clone(),
        };
        let mut p = Package::new(Ecosystem::Rpm, name, &shown, purl.to_string());
        if let Some(l) = h.strings.get(&LICENSE) {
            p.licenses.push(DeclaredLicense::new(l));
        }
        p.supplier = h
            .strings
            .get(&VENDOR)
            .map(|v| Supplier::Organization(v.clone()))
            .or_else(|| {
                h.strings
                    .get(&PACKAGER)
                    .map(|v| Supplier::Person(v.clone()))
            });
        p.homepage = h.strings.get(&URL).cloned();
        let idx = found.push(p, path, "rpm-db");
        for prov in h.arrays.get(&PROVIDENAME).into_iter().flatten() {
            provides.entry(prov.clone()).or_insert(idx);
        }
        provides.entry(name.clone()).or_insert(idx);
        requires.push(h.arrays.get(&REQUIRENAME).cloned().unwrap_or_default());
    }
    for (i, reqs) in requires.iter().enumerate() {
        for r in reqs {
            if let Some(&j) = provides.get(r)
                && i != j
                && !found.edges.contains(&(i, j))
            {
                found.edges.push((i, j));
            }
        }
    }
    found
}

fn read_blobs(bytes: &[u8]) -> Result<Vec<Vec<u8>>, &'static str> {
    let db = Db::open(bytes).map_err(|m| m.0)?;
    let root = db
        .table_root("Packages")
        .map_err(|m| m.0)?
        .ok_or("no Packages table")?;
    let mut out = Vec::new();
    db.scan(root, &mut |rec| {
        let cols = record(rec)?;
        if let Some(Value::Blob(b)) = cols.get(1) {
            out.push(b.to_vec());
        }
        Ok(())
    })
    .map_err(|m| m.0)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Vec<u8> {
        let p = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/sbom-fixtures/rootfs-fedora/usr/lib/sysimage/rpm/rpmdb.sqlite"
        );
        std::fs::read(p).expect("fixture")
    }

    #[test]
    fn reads_the_fixture() {
        let f = catalog("usr/lib/sysimage/rpm/rpmdb.sqlite", &fixture(), None);
        let names: Vec<_> = f.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["libfoo", "foo-tools", "hello"]);
        assert!(
            f.packages[0]
                .purl
                .starts_with("pkg:rpm/redhat/libfoo@1.0.5-1.fc39?")
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn mutated_databases_never_panic(edits in proptest::collection::vec((0usize..237_568, proptest::num::u8::ANY), 1..40)) {
            let mut db = fixture();
            for (at, b) in edits {
                let n = db.len();
                db[at % n] = b;
            }
            let _ = catalog("var/lib/rpm/rpmdb.sqlite", &db, None);
        }
    }
}
