//! Executables: Go build info and cargo-auditable dependency data (`.dep-v0`).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use object::{Object, ObjectSection};

use super::{Found, cargo, golang};

/// The cargo-auditable JSON is small; this bounds a hostile section's expansion.
const MAX_AUDITABLE_JSON: u64 = 8 << 20;

/// True when the bytes start like an ELF, Mach-O or PE file.
pub(crate) fn is_executable_format(head: &[u8]) -> bool {
    head.starts_with(b"\x7fELF")
        || head.starts_with(b"MZ")
        || matches!(
            head.get(..4),
            Some(
                [0xfe, 0xed, 0xfa, 0xce | 0xcf]
                    | [0xce | 0xcf, 0xfa, 0xed, 0xfe]
                    | [0xca, 0xfe, 0xba, 0xbe]
            )
        )
}

/// Scans an executable on disk. For ELF files only the section headers and the two sections
/// that matter (`.go.buildinfo`, `.dep-v0`) are read, so large binaries cost a few reads;
/// other formats, and ELF files without section headers, are read whole (up to `max`).
pub(crate) fn scan_file(rel: &str, path: &Path, max: u64) -> io::Result<Found> {
    let mut f = File::open(path)?;
    let mut hdr = [0u8; 64];
    let mut n = 0;
    while n < hdr.len() {
        let r = f.read(&mut hdr[n..])?;
        if r == 0 {
            break;
        }
        n += r;
    }
    if !is_executable_format(&hdr[..n]) {
        return Ok(Found::default());
    }
    if n == 64
        && hdr.starts_with(b"\x7fELF")
        && let Some(sections) = elf_sections(&mut f, &hdr)?
    {
        let mut found = Found::default();
        for (name, off, size) in sections {
            if name != ".go.buildinfo" && name != ".dep-v0" {
                continue;
            }
            if size > MAX_SECTION {
                found.warn(rel, format!("{name} section larger than 16 MiB ignored"));
                continue;
            }
            let mut data = Vec::with_capacity(size as usize);
            f.seek(SeekFrom::Start(off))?;
            (&mut f).take(size).read_to_end(&mut data)?;
            if name == ".go.buildinfo" {
                go(rel, &data, &mut found);
            } else {
                auditable(rel, &data, &mut found);
            }
        }
        return Ok(found);
    }
    let len = f.metadata()?.len();
    if len > max {
        let mut found = Found::default();
        found.warn(
            rel,
            format!("{len} bytes is over the {max}-byte limit; not read"),
        );
        return Ok(found);
    }
    f.seek(SeekFrom::Start(0))?;
    let mut bytes = Vec::with_capacity(len as usize);
    f.take(max).read_to_end(&mut bytes)?;
    Ok(scan(rel, &bytes))
}

const MAX_SECTION: u64 = 16 << 20;

/// `(name, file offset, size)` of each section with file content, or `None` when the file has
/// no usable section header table.
fn elf_sections(f: &mut File, h: &[u8; 64]) -> io::Result<Option<Vec<(String, u64, u64)>>> {
    let wide = match h[4] {
        1 => false,
        2 => true,
        _ => return Ok(None),
    };
    let le = match h[5] {
        1 => true,
        2 => false,
        _ => return Ok(None),
    };
    let u16_at = |b: &[u8], o: usize| -> u64 {
        let x = [b[o], b[o + 1]];
        u64::from(if le {
            u16::from_le_bytes(x)
        } else {
            u16::from_be_bytes(x)
        })
    };
    let u32_at = |b: &[u8], o: usize| -> u64 {
        let x = [b[o], b[o + 1], b[o + 2], b[o + 3]];
        u64::from(if le {
            u32::from_le_bytes(x)
        } else {
            u32::from_be_bytes(x)
        })
    };
    let u64_at = |b: &[u8], o: usize| -> u64 {
        let mut x = [0u8; 8];
        x.copy_from_slice(&b[o..o + 8]);
        if le {
            u64::from_le_bytes(x)
        } else {
            u64::from_be_bytes(x)
        }
    };
    let (shoff, shentsize, shnum, shstrndx) = if wide {
        (
            u64_at(h, 0x28),
            u16_at(h, 0x3a),
            u16_at(h, 0x3c),
            u16_at(h, 0x3e),
        )
    } else {
        (
            u32_at(h, 0x20),
            u16_at(h, 0x2e),
            u16_at(h, 0x30),
            u16_at(h, 0x32),
        )
    };
    let min_ent = if wide { 64 } else { 40 };
    // A hostile header could ask for gigabytes of section table: such files are read whole
    // (bounded by the file limit) instead.
    if shoff == 0
        || shnum == 0
        || shentsize < min_ent
        || shstrndx >= shnum
        || shnum * shentsize > 4 << 20
    {
        return Ok(None);
    }
    let mut table = vec![0u8; (shnum * shentsize) as usize];
    f.seek(SeekFrom::Start(shoff))?;
    if f.read_exact(&mut table).is_err() {
        return Ok(None);
    }
    let entry = |i: u64| -> (u64, u64, u64, u64) {
        let b = &table[(i * shentsize) as usize..];
        if wide {
            (u32_at(b, 0), u32_at(b, 4), u64_at(b, 0x18), u64_at(b, 0x20))
        } else {
            (u32_at(b, 0), u32_at(b, 4), u32_at(b, 0x10), u32_at(b, 0x14))
        }
    };
    let (_, _, str_off, str_size) = entry(shstrndx);
    if str_size > MAX_SECTION {
        return Ok(None);
    }
    let mut names = vec![0u8; str_size as usize];
    f.seek(SeekFrom::Start(str_off))?;
    if f.read_exact(&mut names).is_err() {
        return Ok(None);
    }
    const SHT_NOBITS: u64 = 8;
    let mut out = Vec::new();
    for i in 0..shnum {
        let (name, kind, off, size) = entry(i);
        if kind == SHT_NOBITS || name as usize >= names.len() {
            continue;
        }
        let rest = &names[name as usize..];
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        out.push((
            String::from_utf8_lossy(&rest[..end]).into_owned(),
            off,
            size,
        ));
    }
    Ok(Some(out))
}

fn go(path: &str, data: &[u8], found: &mut Found) {
    match golang::buildinfo(data) {
        Ok(Some((v, modinfo))) => found.extend(golang::from_buildinfo(path, &v, &modinfo)),
        Ok(None) => {}
        Err(why) => found.warn(path, why),
    }
}

fn auditable(path: &str, data: &[u8], found: &mut Found) {
    let mut json = Vec::new();
    let mut dec = flate2::read::ZlibDecoder::new(data).take(MAX_AUDITABLE_JSON + 1);
    match dec.read_to_end(&mut json) {
        Ok(_) if json.len() as u64 > MAX_AUDITABLE_JSON => {
            found.warn(path, "cargo-auditable data larger than 8 MiB ignored")
        }
        Ok(_) => found.extend(cargo::auditable(path, &json)),
        Err(e) => found.warn(path, format!("cargo-auditable data does not inflate: {e}")),
    }
}

/// Scans one executable held in memory.
pub(crate) fn scan(path: &str, bytes: &[u8]) -> Found {
    let mut found = Found::default();
    if !is_executable_format(bytes) {
        return found;
    }
    go(path, bytes, &mut found);
    if let Ok(obj) = object::File::parse(bytes) {
        let section = obj.sections().find(|s| {
            s.name()
                .is_ok_and(|n| n == ".dep-v0" || n == "__dep_v0" || n.ends_with(".dep-v0"))
        });
        if let Some(sec) = section {
            match sec.data() {
                Ok(data) => auditable(path, data, &mut found),
                Err(_) => found.warn(path, "cargo-auditable section unreadable"),
            }
        }
    }
    found
}
