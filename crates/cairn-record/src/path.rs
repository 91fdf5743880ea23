//! Artifact names: paths relative to the base path, with forward slashes, lexically normalised
//! like python's `os.path.normpath` (what in-toto does), never above the base path; plus
//! in-toto's `--lstrip-paths` and a lossless text form for file names that are not UTF-8.
//!
//! ## Names that are not UTF-8
//!
//! Link files are JSON, whose strings are Unicode. A file name that is not valid UTF-8 is written
//! with every byte that is not part of a valid UTF-8 sequence as `%XX` (two uppercase hex digits),
//! and, in such a name only, `%` itself as `%25`. Valid UTF-8 names are written as they are (as
//! in-toto does), so the encoding is lossless but cannot be told apart from a literal name by
//! looking at it alone: cairn refuses to record a tree in which an encoded name equals another
//! file's literal name ([`Error::NameCollision`]).
//! [`decode_name`] gives the bytes back.

use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use crate::Error;

/// Normalises `arg` (as given on the command line) to a path relative to the base path.
///
/// `base` is the base path made absolute (not resolved through symlinks), `base_real` the same
/// path with symlinks resolved; an absolute `arg` must lie under one of them. `.` components and
/// repeated slashes go away, `..` removes the previous component (lexically, as in-toto's
/// `normpath`), and a path that climbs above the base is rejected. The empty path means the
/// base itself.
pub fn normalize_arg(arg: &Path, base: &Path, base_real: &Path) -> Result<PathBuf, Error> {
    let outside = || Error::OutsideBase {
        path: arg.to_path_buf(),
        base: base.to_path_buf(),
    };
    if arg.is_absolute() {
        let abs = lexical_normalize(arg).ok_or_else(outside)?;
        for root in [base, base_real] {
            if let Ok(rel) = abs.strip_prefix(root) {
                return Ok(rel.to_path_buf());
            }
        }
        return Err(outside());
    }
    lexical_normalize(arg).ok_or_else(outside)
}

/// Lexically normalises a path: drops `.` and empty components, resolves `..` against the
/// previous component. Returns `None` when a relative path climbs above its start (an absolute
/// path cannot: `/..` is `/`).
pub fn lexical_normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    let mut depth = 0usize;
    for comp in path.components() {
        match comp {
            Component::Prefix(p) => out.push(p.as_os_str()),
            Component::RootDir => out.push("/"),
            Component::CurDir => {}
            Component::ParentDir => {
                if depth > 0 {
                    out.pop();
                    depth -= 1;
                } else if !path.is_absolute() {
                    return None;
                }
            }
            Component::Normal(name) => {
                out.push(name);
                depth += 1;
            }
        }
    }
    Some(out)
}

/// The artifact name of a relative path: components joined with `/`, non-UTF-8 bytes encoded
/// (see the module docs). Returns the name and whether it had to be encoded.
pub fn name_of(rel: &Path) -> (String, bool) {
    let mut bytes = Vec::with_capacity(rel.as_os_str().len());
    for (i, comp) in rel.components().enumerate() {
        if i > 0 {
            bytes.push(b'/');
        }
        bytes.extend_from_slice(comp.as_os_str().as_bytes());
    }
    // The common case takes the buffer as it is (no second copy).
    match String::from_utf8(bytes) {
        Ok(text) => (text, false),
        Err(e) => encode_name(e.as_bytes()),
    }
}

/// Encodes raw name bytes as text (see the module docs); the flag says whether encoding was
/// needed (the bytes were not UTF-8).
pub fn encode_name(bytes: &[u8]) -> (String, bool) {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return (text.to_owned(), false);
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                push_escaping_percent(&mut out, valid);
                break;
            }
            Err(err) => {
                let (valid, after) = rest.split_at(err.valid_up_to());
                push_escaping_percent(
                    &mut out,
                    std::str::from_utf8(valid).expect("prefix up to valid_up_to is UTF-8"),
                );
                let bad = err.error_len().unwrap_or(after.len());
                for b in &after[..bad] {
                    write!(out, "%{b:02X}").expect("writing to a String cannot fail");
                }
                rest = &after[bad..];
            }
        }
    }
    (out, true)
}

fn push_escaping_percent(out: &mut String, text: &str) {
    for ch in text.chars() {
        if ch == '%' {
            out.push_str("%25");
        } else {
            out.push(ch);
        }
    }
}

/// Reverses the encoding of a name that [`encode_name`] had to encode: every `%XX` becomes the
/// byte `XX`. (A name that was valid UTF-8 is its own bytes; do not decode it.)
pub fn decode_name(name: &str) -> Vec<u8> {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 3 <= bytes.len()
            && let (Some(hi), Some(lo)) = (hex_value(bytes[i + 1]), hex_value(bytes[i + 2]))
        {
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// in-toto's `--lstrip-paths`: the first prefix that the name starts with (as a string, not
/// per path component) is removed.
pub fn lstrip<'a>(name: &'a str, prefixes: &[String]) -> &'a str {
    prefixes
        .iter()
        .find_map(|p| name.strip_prefix(p.as_str()))
        .unwrap_or(name)
}

/// Rejects prefix lists where one prefix starts with another (in-toto: "left substring error").
pub fn check_prefixes(prefixes: &[String]) -> Result<(), Error> {
    for (i, a) in prefixes.iter().enumerate() {
        for b in &prefixes[i + 1..] {
            if a.starts_with(b.as_str()) || b.starts_with(a.as_str()) {
                return Err(Error::OverlappingPrefixes {
                    first: a.clone(),
                    second: b.clone(),
                });
            }
        }
    }
    Ok(())
}

/// True when `path` (absolute, symlinks resolved) is `root` or lies below it.
pub fn is_within(path: &Path, root: &Path) -> bool {
    path.starts_with(root)
}

#[cfg(test)]
mod tests;
