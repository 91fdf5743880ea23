//! Catalogers: one module per ecosystem. Each reads one file (plus, where the ecosystem splits
//! its metadata, a sibling file through [`Files`]) and returns what it found. They never touch
//! the filesystem directly, so the same code serves directories and image layers.

pub(crate) mod binary;
pub(crate) mod cargo;
pub(crate) mod golang;
pub(crate) mod java;
pub(crate) mod npm;
pub(crate) mod os;
pub(crate) mod python;
pub(crate) mod rpm;
mod sqlite;

use crate::package::{Distro, Package, Warning};

/// The kind of file a path is, for the catalogers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    OsRelease,
    DpkgStatus,
    DpkgStatusD,
    Apk,
    Rpm,
    /// An rpm database in a format cairn does not read (Berkeley DB `Packages`, ndb
    /// `Packages.db`): only its first bytes are read, to name the format in a warning.
    RpmUnsupported,
    PythonInstalled,
    Requirements,
    PoetryLock,
    UvLock,
    PipfileLock,
    NpmLock,
    NpmInstalled,
    YarnLock,
    PnpmLock,
    CargoLock,
    GoMod,
    JavaArchive,
    /// An executable: may carry Go build info or cargo-auditable data.
    Binary,
    /// Read only as a sibling of another file (dpkg copyright, go.sum).
    Sidecar,
}

impl Kind {
    /// Whether the file is read in full into memory while streaming images (small text).
    pub(crate) fn is_text(self) -> bool {
        !matches!(
            self,
            Kind::JavaArchive | Kind::Binary | Kind::RpmUnsupported
        )
    }

    /// Bytes read from the start of the file when only its format matters (no size limit
    /// applies then: the file is never read whole).
    pub(crate) fn head_only(self) -> Option<u64> {
        (self == Kind::RpmUnsupported).then_some(rpm::HEAD_BYTES)
    }
}

/// Decides what a path is. `exec` is the executable bit; `path` is relative and `/`-separated.
pub(crate) fn classify(path: &str, exec: bool) -> Option<Kind> {
    let (dir, file) = match path.rfind('/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    };
    let kind = match file {
        "os-release" if dir == "etc" || dir == "usr/lib" => Kind::OsRelease,
        "status" if dir == "var/lib/dpkg" => Kind::DpkgStatus,
        "installed" if dir == "lib/apk/db" => Kind::Apk,
        "rpmdb.sqlite" if is_rpm_dir(dir) => Kind::Rpm,
        "Packages" | "Packages.db" if is_rpm_dir(dir) => Kind::RpmUnsupported,
        "METADATA" if dir.ends_with(".dist-info") => Kind::PythonInstalled,
        "PKG-INFO" if dir.ends_with(".egg-info") => Kind::PythonInstalled,
        "poetry.lock" => Kind::PoetryLock,
        "uv.lock" => Kind::UvLock,
        "Pipfile.lock" => Kind::PipfileLock,
        "package-lock.json" | "npm-shrinkwrap.json" => {
            // npm writes a hidden copy inside node_modules; the real lock file is enough.
            if dir.ends_with("node_modules") {
                return None;
            }
            Kind::NpmLock
        }
        "package.json" if is_node_module_dir(dir) => Kind::NpmInstalled,
        "yarn.lock" => Kind::YarnLock,
        "pnpm-lock.yaml" => Kind::PnpmLock,
        "Cargo.lock" => Kind::CargoLock,
        "go.mod" => Kind::GoMod,
        "go.sum" => Kind::Sidecar,
        "copyright" if dir.starts_with("usr/share/doc/") => Kind::Sidecar,
        _ if dir == "var/lib/dpkg/status.d" && !file.contains('.') => Kind::DpkgStatusD,
        _ if file.ends_with(".egg-info") && !file.starts_with('.') => Kind::PythonInstalled,
        _ if is_requirements(file) => Kind::Requirements,
        _ if is_java_archive(file) => Kind::JavaArchive,
        _ if exec => Kind::Binary,
        _ => return None,
    };
    Some(kind)
}

fn is_rpm_dir(dir: &str) -> bool {
    dir.ends_with("var/lib/rpm") || dir.ends_with("usr/lib/sysimage/rpm")
}

fn is_requirements(file: &str) -> bool {
    file.starts_with("requirements") && file.ends_with(".txt")
}

pub(crate) fn is_java_archive(file: &str) -> bool {
    let lower = file.to_ascii_lowercase();
    [
        ".jar", ".war", ".ear", ".jpi", ".hpi", ".par", ".sar", ".nar", ".kar",
    ]
    .iter()
    .any(|ext| lower.ends_with(ext))
}

/// `.../node_modules/NAME` or `.../node_modules/@scope/NAME`.
fn is_node_module_dir(dir: &str) -> bool {
    let mut parts = dir.rsplit('/');
    let last = parts.next().unwrap_or("");
    let parent = parts.next().unwrap_or("");
    if parent == "node_modules" {
        return !last.starts_with('.') && !last.starts_with('@');
    }
    parent.starts_with('@') && parts.next() == Some("node_modules")
}

/// Reads sibling files by path relative to the scan root (the view is the squashed image or
/// the directory; symlinks are not followed).
pub(crate) trait Files: Sync {
    /// The file's bytes, or `None` when it is not there or not a regular file.
    fn read(&self, path: &str) -> Option<Vec<u8>>;
}

/// What one cataloger run found.
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub packages: Vec<Package>,
    /// Edges between `packages` (local indices).
    pub edges: Vec<(usize, usize)>,
    pub warnings: Vec<Warning>,
}

impl Found {
    pub(crate) fn warn(&mut self, path: &str, message: impl Into<String>) {
        self.warnings.push(Warning {
            path: path.to_string(),
            message: message.into(),
        });
    }

    pub(crate) fn push(&mut self, mut pkg: Package, path: &str, found_by: &'static str) -> usize {
        pkg.locations.push(path.to_string());
        pkg.found_by = found_by;
        self.packages.push(pkg);
        self.packages.len() - 1
    }

    pub(crate) fn extend(&mut self, other: Found) {
        let base = self.packages.len();
        self.packages.extend(other.packages);
        self.edges
            .extend(other.edges.into_iter().map(|(a, b)| (a + base, b + base)));
        self.warnings.extend(other.warnings);
    }
}

/// Runs the cataloger for `kind` on one file.
pub(crate) fn run(
    kind: Kind,
    path: &str,
    bytes: &[u8],
    files: &dyn Files,
    distro: Option<&Distro>,
    limits: &crate::Limits,
) -> Found {
    match kind {
        Kind::OsRelease | Kind::Sidecar => Found::default(),
        Kind::DpkgStatus | Kind::DpkgStatusD => os::dpkg(path, bytes, files, distro),
        Kind::Apk => os::apk(path, bytes, distro),
        Kind::Rpm => rpm::catalog(path, bytes, distro),
        Kind::RpmUnsupported => rpm::unsupported(path, bytes),
        Kind::PythonInstalled => python::installed(path, bytes, files),
        Kind::Requirements => python::requirements(path, bytes),
        Kind::PoetryLock => python::poetry_lock(path, bytes),
        Kind::UvLock => python::uv_lock(path, bytes),
        Kind::PipfileLock => python::pipfile_lock(path, bytes),
        Kind::NpmLock => npm::package_lock(path, bytes),
        Kind::NpmInstalled => npm::installed(path, bytes),
        Kind::YarnLock => npm::yarn_lock(path, bytes),
        Kind::PnpmLock => npm::pnpm_lock(path, bytes),
        Kind::CargoLock => cargo::lock(path, bytes),
        Kind::GoMod => golang::go_mod(path, bytes, files),
        Kind::JavaArchive => java::archive(path, bytes, limits),
        Kind::Binary => binary::scan(path, bytes),
    }
}

/// Text of a file, lossily (metadata files are UTF-8 in practice; a stray byte must not lose
/// the whole file).
pub(crate) fn text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoFiles;
    impl Files for NoFiles {
        fn read(&self, _: &str) -> Option<Vec<u8>> {
            None
        }
    }

    const KINDS: &[(Kind, &str)] = &[
        (Kind::DpkgStatus, "var/lib/dpkg/status"),
        (Kind::DpkgStatusD, "var/lib/dpkg/status.d/x"),
        (Kind::Apk, "lib/apk/db/installed"),
        (Kind::Rpm, "var/lib/rpm/rpmdb.sqlite"),
        (Kind::RpmUnsupported, "var/lib/rpm/Packages"),
        (Kind::PythonInstalled, "a.dist-info/METADATA"),
        (Kind::Requirements, "requirements.txt"),
        (Kind::PoetryLock, "poetry.lock"),
        (Kind::UvLock, "uv.lock"),
        (Kind::PipfileLock, "Pipfile.lock"),
        (Kind::NpmLock, "package-lock.json"),
        (Kind::NpmInstalled, "node_modules/a/package.json"),
        (Kind::YarnLock, "yarn.lock"),
        (Kind::PnpmLock, "pnpm-lock.yaml"),
        (Kind::CargoLock, "Cargo.lock"),
        (Kind::GoMod, "go.mod"),
        (Kind::JavaArchive, "a.jar"),
        (Kind::Binary, "bin/a"),
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
        /// Every cataloger takes any bytes without panicking (bad input is a warning).
        #[test]
        fn catalogers_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            for (kind, path) in KINDS {
                let _ = run(*kind, path, &bytes, &NoFiles, None, &crate::Limits::default());
            }
        }

        /// Line-oriented formats with their own punctuation: text built from the characters
        /// those parsers split on.
        #[test]
        fn catalogers_never_panic_on_format_like_text(text in "[a-z@/:=\\-_. \"'(){}\\[\\],|<>~^\n\t0-9]{0,400}") {
            for (kind, path) in KINDS {
                let _ = run(*kind, path, text.as_bytes(), &NoFiles, None, &crate::Limits::default());
            }
        }
    }

    #[test]
    fn classify_paths() {
        assert_eq!(
            classify("var/lib/dpkg/status", false),
            Some(Kind::DpkgStatus)
        );
        assert_eq!(
            classify("var/lib/dpkg/status.d/base", false),
            Some(Kind::DpkgStatusD)
        );
        assert_eq!(classify("var/lib/dpkg/status.d/base.md5sums", false), None);
        assert_eq!(
            classify("app/node_modules/@types/node/package.json", false),
            Some(Kind::NpmInstalled)
        );
        assert_eq!(
            classify("app/node_modules/a/node_modules/b/package.json", false),
            Some(Kind::NpmInstalled)
        );
        assert_eq!(classify("app/package.json", false), None);
        assert_eq!(classify("app/node_modules/a/lib/package.json", false), None);
        assert_eq!(
            classify(
                "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
                false
            ),
            Some(Kind::PythonInstalled)
        );
        assert_eq!(
            classify("srv/requirements-dev.txt", false),
            Some(Kind::Requirements)
        );
        assert_eq!(
            classify("opt/app/lib/x.JAR", false),
            Some(Kind::JavaArchive)
        );
        assert_eq!(classify("usr/bin/app", true), Some(Kind::Binary));
        assert_eq!(classify("usr/bin/app", false), None);
    }
}
