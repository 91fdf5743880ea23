//! Streaming file hashing: one or more SHA-2 digests in a single pass, optional line-ending
//! normalisation, and detection of files that change while they are read.
//!
//! `sha2` 0.11 detects the CPU's SHA extensions (SHA-NI on x86-64, the ARMv8 crypto
//! extensions) at run time; on this machine it hashes at the same speed as ring and aws-lc.

use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::str::FromStr;

use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::Error;

/// A hash algorithm cairn records, named as in-toto DigestSets name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HashAlgorithm {
    /// SHA-256 (`sha256`), the default.
    Sha256,
    /// SHA-384 (`sha384`).
    Sha384,
    /// SHA-512 (`sha512`).
    Sha512,
}

impl HashAlgorithm {
    /// The DigestSet key.
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "sha256",
            HashAlgorithm::Sha384 => "sha384",
            HashAlgorithm::Sha512 => "sha512",
        }
    }

    /// Parses a comma-separated list (`sha256,sha512`), keeping each algorithm once.
    pub fn parse_list(list: &str) -> Result<Vec<HashAlgorithm>, Error> {
        let mut out = Vec::new();
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let alg = name.parse()?;
            if !out.contains(&alg) {
                out.push(alg);
            }
        }
        if out.is_empty() {
            return Err(Error::UnknownAlgorithm {
                name: list.to_owned(),
            });
        }
        out.sort();
        Ok(out)
    }
}

impl FromStr for HashAlgorithm {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_lowercase().replace('-', "").as_str() {
            "sha256" => Ok(HashAlgorithm::Sha256),
            "sha384" => Ok(HashAlgorithm::Sha384),
            "sha512" => Ok(HashAlgorithm::Sha512),
            _ => Err(Error::UnknownAlgorithm { name: s.to_owned() }),
        }
    }
}

impl std::fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The digests of one file: `(algorithm, lowercase hex)` in algorithm order.
pub type Digests = Vec<(HashAlgorithm, String)>;

/// Several hashers fed from one stream.
pub(crate) struct MultiHasher {
    sha256: Option<Sha256>,
    sha384: Option<Sha384>,
    sha512: Option<Sha512>,
}

impl MultiHasher {
    pub(crate) fn new(algorithms: &[HashAlgorithm]) -> Self {
        let has = |a| algorithms.contains(&a);
        MultiHasher {
            sha256: has(HashAlgorithm::Sha256).then(Sha256::new),
            sha384: has(HashAlgorithm::Sha384).then(Sha384::new),
            sha512: has(HashAlgorithm::Sha512).then(Sha512::new),
        }
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        if let Some(h) = &mut self.sha256 {
            h.update(data);
        }
        if let Some(h) = &mut self.sha384 {
            h.update(data);
        }
        if let Some(h) = &mut self.sha512 {
            h.update(data);
        }
    }

    pub(crate) fn finish(self) -> Digests {
        let mut out = Vec::with_capacity(3);
        if let Some(h) = self.sha256 {
            out.push((HashAlgorithm::Sha256, hex::encode(h.finalize())));
        }
        if let Some(h) = self.sha384 {
            out.push((HashAlgorithm::Sha384, hex::encode(h.finalize())));
        }
        if let Some(h) = self.sha512 {
            out.push((HashAlgorithm::Sha512, hex::encode(h.finalize())));
        }
        out
    }
}

/// Line-ending normalisation as in-toto (python and Go) does it: `\r\n` becomes `\n`, then any
/// remaining `\r` becomes `\n`. Streaming: a `\r` at the end of one chunk and a `\n` at the
/// start of the next are one line ending.
#[derive(Debug, Default)]
pub(crate) struct LineEndings {
    after_cr: bool,
}

impl LineEndings {
    /// Normalises `input` into `out` (cleared first).
    pub(crate) fn convert(&mut self, input: &[u8], out: &mut Vec<u8>) {
        out.clear();
        let mut rest = input;
        if self.after_cr && rest.first() == Some(&b'\n') {
            rest = &rest[1..];
        }
        self.after_cr = false;
        while let Some(pos) = rest.iter().position(|&b| b == b'\r') {
            out.extend_from_slice(&rest[..pos]);
            out.push(b'\n');
            rest = &rest[pos + 1..];
            match rest.first() {
                Some(b'\n') => rest = &rest[1..],
                Some(_) => {}
                None => self.after_cr = true,
            }
        }
        out.extend_from_slice(rest);
    }
}

/// Per-thread scratch space for hashing.
pub(crate) struct Scratch {
    buf: Vec<u8>,
    converted: Vec<u8>,
}

/// Read size: large enough that syscall overhead vanishes next to SHA-256, small enough to stay
/// in L2 cache.
const CHUNK: usize = 128 * 1024;

thread_local! {
    /// One scratch buffer per worker thread for the life of the thread: allocating it per
    /// file (or per rayon split) costs a fresh zeroed 128 KiB mapping each time.
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::new());
}

/// Runs `f` with this thread's scratch buffer.
pub(crate) fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    SCRATCH.with(|s| f(&mut s.borrow_mut()))
}

impl Scratch {
    pub(crate) fn new() -> Self {
        Scratch {
            buf: vec![0; CHUNK],
            converted: Vec::new(),
        }
    }
}

/// What hashing one path found.
pub(crate) enum FileOutcome {
    /// The digests and the number of bytes read.
    Hashed(Digests, u64),
    /// The path no longer exists.
    Vanished,
    /// The path is no longer a regular file (replaced by a FIFO, socket, device or directory).
    NotRegular(std::fs::FileType),
}

/// How often a file that changes during hashing is retried before giving up.
const ATTEMPTS: u32 = 3;

/// Hashes one regular file. The file is opened non-blocking, so a FIFO swapped in after the
/// walk cannot hang the recording; its type is checked on the open descriptor.
pub(crate) fn hash_file(
    path: &Path,
    algorithms: &[HashAlgorithm],
    normalize_line_endings: bool,
    scratch: &mut Scratch,
) -> Result<FileOutcome, Error> {
    let read_err = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    for _ in 0..ATTEMPTS {
        let mut file = match File::options()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileOutcome::Vanished),
            Err(e) => return Err(read_err(e)),
        };
        let before = file.metadata().map_err(read_err)?;
        if !before.is_file() {
            return Ok(FileOutcome::NotRegular(before.file_type()));
        }
        let mut hasher = MultiHasher::new(algorithms);
        let mut endings = LineEndings::default();
        let mut total = 0u64;
        loop {
            let n = match file.read(&mut scratch.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(read_err(e)),
            };
            total += n as u64;
            if normalize_line_endings {
                endings.convert(&scratch.buf[..n], &mut scratch.converted);
                hasher.update(&scratch.converted);
            } else {
                hasher.update(&scratch.buf[..n]);
            }
            // A short read that reaches the size seen at open is the end of a regular file;
            // skip the read that would return 0 (one syscall of five per small file). Growth
            // after this point shows in the size check below.
            if n < scratch.buf.len() && total == before.len() {
                break;
            }
        }
        let after = file.metadata().map_err(read_err)?;
        if unchanged(&before, &after, total) {
            return Ok(FileOutcome::Hashed(hasher.finish(), total));
        }
    }
    Err(Error::Changed {
        path: path.to_path_buf(),
        attempts: ATTEMPTS,
    })
}

fn unchanged(before: &Metadata, after: &Metadata, read: u64) -> bool {
    before.len() == read
        && after.len() == read
        && before.mtime() == after.mtime()
        && before.mtime_nsec() == after.mtime_nsec()
        && before.ctime() == after.ctime()
        && before.ctime_nsec() == after.ctime_nsec()
}

/// Hashes bytes in memory (for tests and for callers that hold the content).
pub fn hash_bytes(
    data: &[u8],
    algorithms: &[HashAlgorithm],
    normalize_line_endings: bool,
) -> Digests {
    let mut hasher = MultiHasher::new(algorithms);
    if normalize_line_endings {
        let mut out = Vec::new();
        LineEndings::default().convert(data, &mut out);
        hasher.update(&out);
    } else {
        hasher.update(data);
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalize_in_chunks(input: &[u8], chunk: usize) -> Vec<u8> {
        let mut le = LineEndings::default();
        let mut out = Vec::new();
        let mut tmp = Vec::new();
        for c in input.chunks(chunk.max(1)) {
            le.convert(c, &mut tmp);
            out.extend_from_slice(&tmp);
        }
        out
    }

    fn reference(input: &[u8]) -> Vec<u8> {
        // in-toto: replace CRLF first, then lone CR.
        let s: Vec<u8> = input.to_vec();
        let mut a = Vec::new();
        let mut i = 0;
        while i < s.len() {
            if s[i] == b'\r' && s.get(i + 1) == Some(&b'\n') {
                a.push(b'\n');
                i += 2;
            } else {
                a.push(s[i]);
                i += 1;
            }
        }
        a.into_iter()
            .map(|b| if b == b'\r' { b'\n' } else { b })
            .collect()
    }

    #[test]
    fn line_endings_match_in_toto_for_every_split() {
        let samples: &[&[u8]] = &[
            b"this\r\nis\ra\ntest\n",
            b"\r\r\n\n\r",
            b"\r",
            b"\r\n",
            b"abc",
            b"",
            b"a\r\r\r\nb\n\rc",
        ];
        for s in samples {
            for chunk in 1..=s.len().max(1) {
                assert_eq!(
                    normalize_in_chunks(s, chunk),
                    reference(s),
                    "{s:?} in chunks of {chunk}"
                );
            }
        }
    }

    #[test]
    fn parse_algorithm_lists() {
        assert_eq!(
            HashAlgorithm::parse_list("sha512, sha256,sha512").unwrap(),
            vec![HashAlgorithm::Sha256, HashAlgorithm::Sha512]
        );
        assert_eq!(
            HashAlgorithm::parse_list("SHA-384").unwrap(),
            vec![HashAlgorithm::Sha384]
        );
        assert!(matches!(
            HashAlgorithm::parse_list("md5"),
            Err(Error::UnknownAlgorithm { name }) if name == "md5"
        ));
        assert!(HashAlgorithm::parse_list(",").is_err());
    }

    #[test]
    fn vanished_files_and_swapped_in_fifos_do_not_hash_or_block() {
        let t = tempfile::tempdir().unwrap();
        let mut scratch = Scratch::new();
        let gone = t.path().join("gone");
        let r = hash_file(&gone, &[HashAlgorithm::Sha256], false, &mut scratch).unwrap();
        assert!(matches!(r, FileOutcome::Vanished));
        // A FIFO where the walk saw a file: opened non-blocking, recognised, never read.
        let fifo = t.path().join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let r = hash_file(&fifo, &[HashAlgorithm::Sha256], false, &mut scratch).unwrap();
        assert!(matches!(r, FileOutcome::NotRegular(ft) if !ft.is_file()));
        let file = t.path().join("f");
        std::fs::write(&file, vec![7u8; 300_000]).unwrap();
        match hash_file(&file, &[HashAlgorithm::Sha256], false, &mut scratch).unwrap() {
            FileOutcome::Hashed(d, n) => {
                assert_eq!(n, 300_000);
                assert_eq!(
                    d,
                    hash_bytes(&[7u8; 300_000], &[HashAlgorithm::Sha256], false)
                );
            }
            _ => panic!("not hashed"),
        }
    }

    #[test]
    fn known_answers() {
        let d = hash_bytes(
            b"abc",
            &[HashAlgorithm::Sha256, HashAlgorithm::Sha512],
            false,
        );
        assert_eq!(
            d[0].1,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(d[1].1.starts_with("ddaf35a193617aba"));
    }
}
