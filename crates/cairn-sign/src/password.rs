//! Passwords for encrypted keys. They come from an environment variable or a file (the CLI can
//! also prompt on a terminal); never from the command line, where other users can read them.

use std::fmt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// The environment variable cairn reads a key password from.
pub const PASSWORD_ENV: &str = "CAIRN_PASSWORD";

/// Longest password file cairn reads.
const MAX_PASSWORD_FILE: u64 = 64 * 1024;

/// A key password, zeroized on drop and never shown by `Debug`.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

/// Why a password could not be obtained.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordError {
    /// The password file could not be read.
    #[error("cannot read password file {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The password file is not UTF-8 text.
    #[error("password file {path} is not UTF-8 text")]
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
    /// The password file is implausibly large.
    #[error("password file {path} is larger than {limit} bytes")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit.
        limit: u64,
    },
    /// The environment variable is set but not valid Unicode.
    #[error("{var} is not valid Unicode")]
    EnvNotUnicode {
        /// The variable.
        var: &'static str,
    },
}

impl Password {
    /// Wraps a password.
    pub fn new(password: impl Into<String>) -> Self {
        Password(Zeroizing::new(password.into()))
    }

    /// The password bytes (UTF-8).
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The password from [`PASSWORD_ENV`] (`CAIRN_PASSWORD`), if set. An empty value is an
    /// empty password (cosign allows those).
    pub fn from_env() -> Result<Option<Self>, PasswordError> {
        match std::env::var(PASSWORD_ENV) {
            Ok(v) => Ok(Some(Password::new(v))),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(PasswordError::EnvNotUnicode { var: PASSWORD_ENV })
            }
        }
    }

    /// The password from the first line of a file (one trailing `\n` or `\r\n` is removed, so
    /// `echo secret > file` works).
    pub fn from_file(path: &Path) -> Result<Self, PasswordError> {
        use std::io::Read;
        let io = |source| PasswordError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let mut bytes = Zeroizing::new(Vec::new());
        file.take(MAX_PASSWORD_FILE + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() as u64 > MAX_PASSWORD_FILE {
            return Err(PasswordError::TooLarge {
                path: path.to_path_buf(),
                limit: MAX_PASSWORD_FILE,
            });
        }
        let text = std::str::from_utf8(&bytes).map_err(|_| PasswordError::NotUtf8 {
            path: path.to_path_buf(),
        })?;
        let text = text
            .strip_suffix("\r\n")
            .or_else(|| text.strip_suffix('\n'))
            .unwrap_or(text);
        Ok(Password::new(text))
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}
