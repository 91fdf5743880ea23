//! Atomic output files: written to a temporary file in the same directory, flushed to disk, then
//! renamed over the destination, so a reader (or a crash, or a full disk) never leaves a
//! partial link behind.

use std::io::Write;
use std::path::Path;

use crate::Error;

/// Writes `bytes` to `path` atomically. On any error nothing is left at `path` (an existing
/// file there is untouched) and the temporary file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let err = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let file_name = path.file_name().ok_or_else(|| {
        err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "no file name",
        ))
    })?;
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(file_name);
    prefix.push(".");
    let mut tmp = tempfile_in(dir, &prefix).map_err(err)?;
    let result = tmp
        .file
        .write_all(bytes)
        .and_then(|()| tmp.file.sync_all())
        .and_then(|()| std::fs::rename(&tmp.path, path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp.path);
        return Err(err(e));
    }
    tmp.keep = true;
    Ok(())
}

struct TempFile {
    file: std::fs::File,
    path: std::path::PathBuf,
    keep: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn tempfile_in(dir: &Path, prefix: &std::ffi::OsStr) -> std::io::Result<TempFile> {
    use std::os::unix::fs::OpenOptionsExt;
    let pid = std::process::id();
    for attempt in 0u32..100 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let mut name = prefix.to_owned();
        name.push(format!("{pid}.{nanos:x}.{attempt}.tmp"));
        let path = dir.join(name);
        match std::fs::File::options()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&path)
        {
            Ok(file) => {
                return Ok(TempFile {
                    file,
                    path,
                    keep: false,
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        "cannot create a temporary file",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_atomically_and_leaves_no_temp_files() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("a.link");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(t.path()).unwrap().count(), 1);
        let missing = t.path().join("no/such/dir/x.link");
        assert!(matches!(
            write_atomic(&missing, b"x"),
            Err(Error::Write { .. })
        ));
    }
}
