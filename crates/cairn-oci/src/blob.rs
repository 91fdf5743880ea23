//! Verified blob contents: small blobs in memory, large ones spooled to a temporary file.
//!
//! A [`Blob`] only exists once its bytes hashed to the digest and matched the size of the
//! descriptor it was fetched for, so everything pushed onwards has been checked.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};

use crate::digest::{Digest, Hasher};
use crate::error::Error;
use crate::manifest::Descriptor;

/// Blobs up to this size stay in memory.
pub const MEMORY_LIMIT: u64 = 8 * 1024 * 1024;

/// Verified content.
#[derive(Debug)]
pub struct Blob {
    data: Data,
    len: u64,
    digest: Digest,
}

#[derive(Debug)]
enum Data {
    Memory(Vec<u8>),
    File(tempfile::NamedTempFile),
}

impl Blob {
    /// Content held in memory (hashes it; used when pushing bytes cairn made itself).
    pub fn from_vec(bytes: Vec<u8>) -> Blob {
        let digest = Digest::sha256_of(&bytes);
        Blob {
            len: bytes.len() as u64,
            data: Data::Memory(bytes),
            digest,
        }
    }

    /// Size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True for the zero-length blob.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The verified digest.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// The bytes, when held in memory.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match &self.data {
            Data::Memory(v) => Some(v),
            Data::File(_) => None,
        }
    }

    /// A fresh reader over the whole content (the blob can be read any number of times, so a
    /// failed upload can be retried).
    pub fn reader(&self) -> std::io::Result<Box<dyn Read + Send + 'static>> {
        match &self.data {
            Data::Memory(v) => Ok(Box::new(std::io::Cursor::new(v.clone()))),
            Data::File(f) => Ok(Box::new(f.reopen()?)),
        }
    }

    /// `len` bytes from `offset`.
    pub fn read_range(&self, offset: u64, len: u64) -> std::io::Result<Vec<u8>> {
        match &self.data {
            Data::Memory(v) => {
                let start = usize::try_from(offset).unwrap_or(usize::MAX).min(v.len());
                let end = usize::try_from(offset.saturating_add(len))
                    .unwrap_or(usize::MAX)
                    .min(v.len());
                Ok(v[start..end].to_vec())
            }
            Data::File(f) => {
                let mut file = f.reopen()?;
                file.seek(SeekFrom::Start(offset))?;
                let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
                file.take(len).read_to_end(&mut buf)?;
                Ok(buf)
            }
        }
    }

    /// Copies the content into `out`.
    pub fn write_to(&self, out: &mut dyn Write) -> std::io::Result<()> {
        match &self.data {
            Data::Memory(v) => out.write_all(v),
            Data::File(f) => {
                let mut file: File = f.reopen()?;
                std::io::copy(&mut file, out).map(|_| ())
            }
        }
    }

    /// The whole content as a vector (reads the spool file when large).
    pub fn to_vec(&self) -> std::io::Result<Vec<u8>> {
        match &self.data {
            Data::Memory(v) => Ok(v.clone()),
            Data::File(_) => {
                let mut out = Vec::new();
                self.write_to(&mut out)?;
                Ok(out)
            }
        }
    }
}

/// Receives a blob's bytes, hashing and counting them, and refuses more than the descriptor's
/// size; [`BlobWriter::finish`] checks size and digest.
#[derive(Debug)]
pub struct BlobWriter {
    expected: Descriptor,
    hasher: Hasher,
    written: u64,
    data: Data,
}

impl BlobWriter {
    /// A writer for the content of `desc`.
    pub fn new(desc: &Descriptor) -> Result<BlobWriter, Error> {
        let data = if desc.size <= MEMORY_LIMIT {
            Data::Memory(Vec::with_capacity(usize::try_from(desc.size).unwrap_or(0)))
        } else {
            let tmp = std::env::temp_dir();
            Data::File(tempfile::NamedTempFile::new().map_err(|e| Error::io(tmp, e))?)
        };
        Ok(BlobWriter {
            expected: desc.clone(),
            hasher: Hasher::new(desc.digest.algorithm()),
            written: 0,
            data,
        })
    }

    /// Appends bytes; fails once more than the descriptor's size arrives.
    pub fn write_chunk(&mut self, chunk: &[u8]) -> Result<(), Error> {
        self.written += chunk.len() as u64;
        if self.written > self.expected.size {
            return Err(Error::SizeMismatch {
                digest: self.expected.digest.clone(),
                expected: self.expected.size,
                actual: self.written,
            });
        }
        self.hasher.update(chunk);
        match &mut self.data {
            Data::Memory(v) => v.extend_from_slice(chunk),
            Data::File(f) => {
                let path = f.path().to_path_buf();
                f.write_all(chunk).map_err(|e| Error::io(path, e))?
            }
        }
        Ok(())
    }

    /// Reads `src` to the end into the blob.
    pub fn read_from(&mut self, src: &mut dyn Read) -> Result<(), ReadError> {
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = match src.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ReadError::Read(e)),
            };
            self.write_chunk(&buf[..n]).map_err(ReadError::Content)?;
        }
    }

    /// Checks size and digest.
    pub fn finish(mut self, what: &str) -> Result<Blob, Error> {
        if self.written != self.expected.size {
            return Err(Error::SizeMismatch {
                digest: self.expected.digest.clone(),
                expected: self.expected.size,
                actual: self.written,
            });
        }
        let actual = self.hasher.finish();
        if actual != self.expected.digest {
            return Err(Error::DigestMismatch {
                what: what.to_string(),
                expected: self.expected.digest.clone(),
                actual,
            });
        }
        if let Data::File(f) = &mut self.data {
            let path = f.path().to_path_buf();
            f.flush().map_err(|e| Error::io(path, e))?;
        }
        Ok(Blob {
            data: self.data,
            len: self.written,
            digest: actual,
        })
    }
}

/// A failure while reading a blob stream: the source failed (maybe retryable) or the content
/// is wrong (never retryable).
#[derive(Debug)]
pub enum ReadError {
    /// The source failed.
    Read(std::io::Error),
    /// The content broke the descriptor.
    Content(Error),
}

/// A blob being streamed: the reader fails with `InvalidData` at the end unless the bytes
/// matched the descriptor, and `verdict` then holds the precise error.
pub struct BlobStream {
    /// The bytes.
    pub reader: Box<dyn Read + Send + 'static>,
    /// Set when the content broke its descriptor.
    pub verdict: std::sync::Arc<std::sync::Mutex<Option<Error>>>,
}

impl std::fmt::Debug for BlobStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlobStream")
    }
}

impl BlobStream {
    /// Wraps `inner` so that it is checked against `desc` as it is read.
    pub fn verifying(
        inner: Box<dyn Read + Send + 'static>,
        desc: &Descriptor,
        what: String,
    ) -> BlobStream {
        let verdict = std::sync::Arc::new(std::sync::Mutex::new(None));
        let reader = VerifyingReader {
            inner,
            expected: desc.clone(),
            hasher: Some(Hasher::new(desc.digest.algorithm())),
            read: 0,
            what,
            verdict: verdict.clone(),
        };
        BlobStream {
            reader: Box::new(reader),
            verdict,
        }
    }

    /// The content error recorded while reading, if any.
    pub fn content_error(&self) -> Option<Error> {
        self.verdict
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }
}

struct VerifyingReader {
    inner: Box<dyn Read + Send + 'static>,
    expected: Descriptor,
    hasher: Option<Hasher>,
    read: u64,
    what: String,
    verdict: std::sync::Arc<std::sync::Mutex<Option<Error>>>,
}

impl VerifyingReader {
    fn fail(&mut self, e: Error) -> std::io::Error {
        let msg = e.to_string();
        *self.verdict.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
        std::io::Error::new(std::io::ErrorKind::InvalidData, msg)
    }
}

impl Read for VerifyingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            let Some(h) = self.hasher.take() else {
                return Ok(0);
            };
            if self.read != self.expected.size {
                return Err(self.fail(Error::SizeMismatch {
                    digest: self.expected.digest.clone(),
                    expected: self.expected.size,
                    actual: self.read,
                }));
            }
            let actual = h.finish();
            if actual != self.expected.digest {
                let what = self.what.clone();
                return Err(self.fail(Error::DigestMismatch {
                    what,
                    expected: self.expected.digest.clone(),
                    actual,
                }));
            }
            return Ok(0);
        }
        self.read += n as u64;
        if self.read > self.expected.size {
            let (digest, expected, actual) =
                (self.expected.digest.clone(), self.expected.size, self.read);
            return Err(self.fail(Error::SizeMismatch {
                digest,
                expected,
                actual,
            }));
        }
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        // Check as soon as the last byte arrives: consumers that know the length (sized
        // request bodies) never read to EOF, and the last chunk must not be handed on if the
        // content is wrong.
        if self.read == self.expected.size
            && let Some(h) = self.hasher.take()
        {
            let actual = h.finish();
            if actual != self.expected.digest {
                let what = self.what.clone();
                return Err(self.fail(Error::DigestMismatch {
                    what,
                    expected: self.expected.digest.clone(),
                    actual,
                }));
            }
        }
        Ok(n)
    }
}
