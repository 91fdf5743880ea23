//! Shared test support: the official schemas (format assertion on) and fixture helpers.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use jsonschema::{Registry, Validator};
use serde_json::Value;

pub fn testdata() -> PathBuf {
    cairn_testkit::testdata()
}

fn load(rel: &str) -> Value {
    let p = testdata().join(rel);
    let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Builds a validator with formats asserted and the CycloneDX side schemas registered under
/// their relative and absolute names (no network: nothing else resolves).
fn build(schema_rel: &str, with_cdx_refs: bool) -> Validator {
    let schema = load(schema_rel);
    let mut builder = Registry::new();
    if with_cdx_refs {
        for name in ["spdx.schema.json", "jsf-0.82.schema.json"] {
            let doc = load(&format!("cyclonedx/schema/{name}"));
            builder = builder
                .add(format!("http://cyclonedx.org/schema/{name}"), doc)
                .expect("valid uri");
        }
    }
    let registry = Box::leak(Box::new(builder.prepare().expect("registry")));
    jsonschema::options()
        .should_validate_formats(true)
        .with_registry(registry)
        .build(&schema)
        .unwrap_or_else(|e| panic!("schema {schema_rel}: {e}"))
}

pub fn cdx(spec: &str) -> &'static Validator {
    static V15: OnceLock<Validator> = OnceLock::new();
    static V16: OnceLock<Validator> = OnceLock::new();
    match spec {
        "1.5" => V15.get_or_init(|| build("cyclonedx/schema/bom-1.5.schema.json", true)),
        "1.6" => V16.get_or_init(|| build("cyclonedx/schema/bom-1.6.schema.json", true)),
        other => panic!("no schema for {other}"),
    }
}

/// The two SPDX 2.3 schema revisions: `v2.3-tag` (draft-07, as released) and
/// `support-2.3.1` (draft 2019-09, errata).
pub fn spdx(revision: &str) -> &'static Validator {
    static TAG: OnceLock<Validator> = OnceLock::new();
    static SUP: OnceLock<Validator> = OnceLock::new();
    match revision {
        "v2.3-tag" => TAG.get_or_init(|| build("spdx/v2.3-tag/spdx-schema.json", false)),
        "support-2.3.1" => SUP.get_or_init(|| build("spdx/support-2.3.1/spdx-schema.json", false)),
        other => panic!("no schema {other}"),
    }
}

/// All schema errors, one per line (empty when valid).
pub fn errors(v: &Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

pub fn assert_valid_spdx(doc: &Value) {
    for rev in ["v2.3-tag", "support-2.3.1"] {
        let errs = errors(spdx(rev), doc);
        assert!(
            errs.is_empty(),
            "SPDX output invalid against {rev}: {errs:#?}"
        );
    }
}

pub fn assert_valid_cdx(doc: &Value, spec: &str) {
    let errs = errors(cdx(spec), doc);
    assert!(
        errs.is_empty(),
        "CycloneDX {spec} output invalid: {errs:#?}"
    );
}

pub fn fixed_time() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).expect("in range")
}

pub fn write_opts() -> cairn_sbom::WriteOptions {
    cairn_sbom::WriteOptions::new(fixed_time(), "cairn", "0.1.0-test")
}

/// Writes both formats (CycloneDX 1.6 and 1.5) and validates all three documents.
pub fn validate_all(sbom: &cairn_sbom::Sbom) {
    let o = write_opts();
    let spdx = serde_json::to_value(cairn_sbom::spdx::document(sbom, &o)).expect("json");
    assert_valid_spdx(&spdx);
    for (spec, v) in [
        ("1.6", cairn_sbom::cyclonedx::SpecVersion::V1_6),
        ("1.5", cairn_sbom::cyclonedx::SpecVersion::V1_5),
    ] {
        let bom = serde_json::to_value(cairn_sbom::cyclonedx::bom(sbom, &o, v)).expect("json");
        assert_valid_cdx(&bom, spec);
    }
}

/// `purl` of every package, in order.
pub fn purls(sbom: &cairn_sbom::Sbom) -> Vec<String> {
    sbom.packages.iter().map(|p| p.purl.clone()).collect()
}

/// The first path where two JSON values differ (for readable round-trip failures).
pub fn first_diff(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                match (x.get(k), y.get(k)) {
                    (Some(va), Some(vb)) => {
                        if let Some(d) = first_diff(va, vb, &format!("{path}/{k}")) {
                            return Some(d);
                        }
                    }
                    (va, vb) => return Some(format!("{path}/{k}: {va:?} vs {vb:?}")),
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (va, vb))| first_diff(va, vb, &format!("{path}/{i}"))),
        _ if a == b => None,
        _ => Some(format!("{path}: {a} vs {b}")),
    }
}

pub fn assert_same_json(got: &Value, want: &Value, what: &str) {
    if let Some(d) = first_diff(got, want, "") {
        panic!("{what}: round trip differs at {d}");
    }
}

/// Copies a directory tree (symlinks as symlinks).
pub fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let src = entry.path();
        let dst = to.join(entry.file_name());
        let ft = entry.file_type().expect("type");
        if ft.is_symlink() {
            let target = std::fs::read_link(&src).expect("readlink");
            std::os::unix::fs::symlink(target, &dst).expect("symlink");
        } else if ft.is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).expect("copy");
        }
    }
}

/// A zip archive in memory: `(name, bytes)` entries, deflated.
pub fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        w.start_file(*name, opts).expect("start");
        w.write_all(data).expect("write");
    }
    w.finish().expect("finish").into_inner()
}

/// A minimal 64-bit little-endian ELF file with one extra section `name` holding `data`
/// (enough for section lookup; it does not run).
pub fn elf_with_section(name: &str, data: &[u8]) -> Vec<u8> {
    let mut shstr = vec![0u8];
    let name_off = shstr.len() as u32;
    shstr.extend(name.as_bytes());
    shstr.push(0);
    let shstr_name = shstr.len() as u32;
    shstr.extend(b".shstrtab\0");
    let data_off = 64u64;
    let shstr_off = data_off + data.len() as u64;
    let mut sh_off = shstr_off + shstr.len() as u64;
    sh_off = sh_off.div_ceil(8) * 8;
    let mut f = Vec::new();
    f.extend(b"\x7fELF\x02\x01\x01\0");
    f.extend([0u8; 8]);
    f.extend(2u16.to_le_bytes()); // ET_EXEC
    f.extend(62u16.to_le_bytes()); // x86-64
    f.extend(1u32.to_le_bytes());
    f.extend(0u64.to_le_bytes()); // entry
    f.extend(0u64.to_le_bytes()); // phoff
    f.extend(sh_off.to_le_bytes());
    f.extend(0u32.to_le_bytes()); // flags
    f.extend(64u16.to_le_bytes()); // ehsize
    f.extend(56u16.to_le_bytes());
    f.extend(0u16.to_le_bytes()); // phnum
    f.extend(64u16.to_le_bytes()); // shentsize
    f.extend(3u16.to_le_bytes()); // shnum
    f.extend(2u16.to_le_bytes()); // shstrndx
    assert_eq!(f.len(), 64);
    f.extend(data);
    f.extend(&shstr);
    f.resize(sh_off as usize, 0);
    let sh = |f: &mut Vec<u8>, name: u32, kind: u32, off: u64, size: u64| {
        f.extend(name.to_le_bytes());
        f.extend(kind.to_le_bytes());
        f.extend(0u64.to_le_bytes()); // flags
        f.extend(0u64.to_le_bytes()); // addr
        f.extend(off.to_le_bytes());
        f.extend(size.to_le_bytes());
        f.extend(0u32.to_le_bytes());
        f.extend(0u32.to_le_bytes());
        f.extend(1u64.to_le_bytes());
        f.extend(0u64.to_le_bytes());
    };
    sh(&mut f, 0, 0, 0, 0);
    sh(&mut f, name_off, 1, data_off, data.len() as u64);
    sh(&mut f, shstr_name, 3, shstr_off, shstr.len() as u64);
    f
}

/// An ELF file with Go build info (Go 1.18+ inline format) in its `.go.buildinfo` section.
pub fn go_binary(go_version: &str, modinfo: &str) -> Vec<u8> {
    let mut bin = Vec::new();
    bin.extend(b"\xff Go buildinf:");
    bin.push(8);
    bin.push(2);
    bin.resize(32, 0);
    let mut push_str = |s: &[u8]| {
        let mut n = s.len();
        while n >= 0x80 {
            bin.push((n as u8) | 0x80);
            n >>= 7;
        }
        bin.push(n as u8);
        bin.extend(s);
    };
    push_str(go_version.as_bytes());
    let mut mi = b"0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6".to_vec();
    mi.extend(modinfo.as_bytes());
    mi.extend(b"\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2");
    push_str(&mi);
    elf_with_section(".go.buildinfo", &bin)
}

pub fn zlib(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("zlib");
    e.finish().expect("zlib")
}

pub fn write_exec(path: &std::path::Path, bytes: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, bytes).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}
