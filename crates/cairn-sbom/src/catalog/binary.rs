//! Executables: Go build info and cargo-auditable dependency data (`.dep-v0`).

use std::io::Read;

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

/// Scans one executable.
pub(crate) fn scan(path: &str, bytes: &[u8]) -> Found {
    let mut found = Found::default();
    if !is_executable_format(bytes) {
        return found;
    }
    match golang::buildinfo(bytes) {
        Ok(Some((v, modinfo))) => found.extend(golang::from_buildinfo(path, &v, &modinfo)),
        Ok(None) => {}
        Err(why) => found.warn(path, why),
    }
    if let Ok(obj) = object::File::parse(bytes) {
        let section = obj.sections().find(|s| {
            s.name()
                .is_ok_and(|n| n == ".dep-v0" || n == "__dep_v0" || n.ends_with(".dep-v0"))
        });
        if let Some(sec) = section {
            match sec.data() {
                Ok(data) => {
                    let mut json = Vec::new();
                    let mut dec = flate2::read::ZlibDecoder::new(data).take(MAX_AUDITABLE_JSON + 1);
                    match dec.read_to_end(&mut json) {
                        Ok(_) if json.len() as u64 > MAX_AUDITABLE_JSON => {
                            found.warn(path, "cargo-auditable data larger than 8 MiB ignored")
                        }
                        Ok(_) => found.extend(cargo::auditable(path, &json)),
                        Err(e) => {
                            found.warn(path, format!("cargo-auditable data does not inflate: {e}"))
                        }
                    }
                }
                Err(_) => found.warn(path, "cargo-auditable section unreadable"),
            }
        }
    }
    found
}
