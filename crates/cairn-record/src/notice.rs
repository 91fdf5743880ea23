//! Things worth telling the user that do not stop a recording.

use std::fmt;
use std::path::PathBuf;

/// How much a [`Notice`] matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Expected in ordinary trees; show when asked for detail.
    Info,
    /// Something is not recorded that the user may expect; always show.
    Warning,
}

/// The kind of a file that is never opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialKind {
    /// A named pipe (opening it could block forever).
    Fifo,
    /// A Unix domain socket.
    Socket,
    /// A block device.
    BlockDevice,
    /// A character device.
    CharDevice,
    /// Anything else that is neither a file nor a directory.
    Other,
}

impl SpecialKind {
    pub(crate) fn of(ft: std::fs::FileType) -> SpecialKind {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            SpecialKind::Fifo
        } else if ft.is_socket() {
            SpecialKind::Socket
        } else if ft.is_block_device() {
            SpecialKind::BlockDevice
        } else if ft.is_char_device() {
            SpecialKind::CharDevice
        } else {
            SpecialKind::Other
        }
    }
}

impl fmt::Display for SpecialKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SpecialKind::Fifo => "named pipe",
            SpecialKind::Socket => "socket",
            SpecialKind::BlockDevice => "block device",
            SpecialKind::CharDevice => "character device",
            SpecialKind::Other => "special file",
        })
    }
}

/// Something found while recording artifacts that left a path out of the link, or changed how
/// it is named. Paths are relative to the base path.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice {
    /// A path named on the command line does not exist (in-toto skips it too).
    Missing {
        /// The path.
        path: PathBuf,
    },
    /// A FIFO, socket or device: never opened, not recorded.
    SpecialFile {
        /// The path.
        path: PathBuf,
        /// What it is.
        kind: SpecialKind,
    },
    /// A symlink whose target does not exist: not recorded (as in-toto).
    DanglingSymlink {
        /// The symlink.
        path: PathBuf,
    },
    /// A symlink that leads back into a directory being walked (or loops on itself): not
    /// followed.
    SymlinkLoop {
        /// The symlink.
        path: PathBuf,
    },
    /// A symlink that resolves outside the base path: not followed.
    SymlinkEscape {
        /// The symlink.
        path: PathBuf,
        /// Where it resolves to.
        target: PathBuf,
    },
    /// A symlink to a directory, not followed without `--follow-symlinks`.
    SymlinkDirNotFollowed {
        /// The symlink.
        path: PathBuf,
    },
    /// A file or directory that disappeared between the walk and hashing.
    Vanished {
        /// The path.
        path: PathBuf,
    },
    /// A file name that is not UTF-8, recorded under its encoded name.
    NonUtf8Name {
        /// The path.
        path: PathBuf,
        /// The name in the link.
        name: String,
    },
}

impl Notice {
    /// The path it is about, relative to the base path.
    pub fn path(&self) -> &std::path::Path {
        match self {
            Notice::Missing { path }
            | Notice::SpecialFile { path, .. }
            | Notice::DanglingSymlink { path }
            | Notice::SymlinkLoop { path }
            | Notice::SymlinkEscape { path, .. }
            | Notice::SymlinkDirNotFollowed { path }
            | Notice::Vanished { path }
            | Notice::NonUtf8Name { path, .. } => path,
        }
    }

    /// How much it matters.
    pub fn severity(&self) -> Severity {
        match self {
            Notice::SymlinkDirNotFollowed { .. } | Notice::NonUtf8Name { .. } => Severity::Info,
            _ => Severity::Warning,
        }
    }
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::Missing { path } => {
                write!(f, "{} does not exist; not recorded", path.display())
            }
            Notice::SpecialFile { path, kind } => {
                write!(f, "{} is a {kind}; not recorded", path.display())
            }
            Notice::DanglingSymlink { path } => {
                write!(f, "{} is a dangling symlink; not recorded", path.display())
            }
            Notice::SymlinkLoop { path } => write!(
                f,
                "{} leads back into a directory being walked (symlink loop); not followed",
                path.display()
            ),
            Notice::SymlinkEscape { path, target } => write!(
                f,
                "{} resolves to {}, outside the base path; not followed",
                path.display(),
                target.display()
            ),
            Notice::SymlinkDirNotFollowed { path } => write!(
                f,
                "{} is a symlink to a directory; not followed (use --follow-symlinks)",
                path.display()
            ),
            Notice::Vanished { path } => {
                write!(
                    f,
                    "{} disappeared while recording; not recorded",
                    path.display()
                )
            }
            Notice::NonUtf8Name { path, name } => write!(
                f,
                "{} is not a UTF-8 name; recorded as {name:?}",
                path.display()
            ),
        }
    }
}
