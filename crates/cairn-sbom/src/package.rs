//! What a scan finds: packages, their dependency edges, the distro, and warnings.

use crate::license::DeclaredLicense;

/// The ecosystem a package belongs to (decides its purl type and SPDX/CycloneDX shape).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Ecosystem {
    /// Debian packages (dpkg).
    Deb,
    /// Alpine packages (apk).
    Apk,
    /// RPM packages.
    Rpm,
    /// Python distributions.
    Python,
    /// npm packages.
    Npm,
    /// Rust crates.
    Cargo,
    /// Go modules.
    Go,
    /// Java archives (Maven coordinates when known).
    Maven,
}

impl Ecosystem {
    /// The purl type.
    pub fn purl_type(self) -> &'static str {
        match self {
            Ecosystem::Deb => "deb",
            Ecosystem::Apk => "apk",
            Ecosystem::Rpm => "rpm",
            Ecosystem::Python => "pypi",
            Ecosystem::Npm => "npm",
            Ecosystem::Cargo => "cargo",
            Ecosystem::Go => "golang",
            Ecosystem::Maven => "maven",
        }
    }

    /// True for operating-system packages.
    pub fn is_os(self) -> bool {
        matches!(self, Ecosystem::Deb | Ecosystem::Apk | Ecosystem::Rpm)
    }
}

/// Who supplied a package.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Supplier {
    /// A person (`Name <email>`).
    Person(String),
    /// An organisation.
    Organization(String),
}

/// One package found in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Name as the ecosystem spells it (npm scope and Maven group not included).
    pub name: String,
    /// npm scope (`@scope`), Maven group id, Go module path prefix.
    pub namespace: Option<String>,
    /// Version as recorded (empty when the source records none).
    pub version: String,
    /// Package URL.
    pub purl: String,
    /// Declared licences (several are combined with AND).
    pub licenses: Vec<DeclaredLicense>,
    /// Supplier, where the metadata says.
    pub supplier: Option<Supplier>,
    /// Where the package was found (paths relative to the scan root, `/`-separated).
    pub locations: Vec<String>,
    /// Digests (`SHA-256`, `SHA-1`, `SHA-512`, lowercase hex) where cheap and known.
    pub digests: Vec<(String, String)>,
    /// Home page or repository.
    pub homepage: Option<String>,
    /// Where it was downloaded from (lock file `resolved`, registry).
    pub download: Option<String>,
    /// The cataloger that found it.
    pub found_by: &'static str,
    /// Names of what it depends on, resolved by name inside its ecosystem after the scan
    /// (dpkg Depends, apk D:, Python Requires-Dist).
    pub requires: Vec<String>,
    /// True for a development-only dependency (npm dev, poetry dev groups).
    pub dev: bool,
}

impl Package {
    /// A package with the mandatory fields; the rest empty.
    pub fn new(ecosystem: Ecosystem, name: &str, version: &str, purl: String) -> Self {
        Package {
            ecosystem,
            name: name.to_string(),
            namespace: None,
            version: version.to_string(),
            purl,
            licenses: Vec::new(),
            supplier: None,
            locations: Vec::new(),
            digests: Vec::new(),
            homepage: None,
            download: None,
            found_by: "",
            requires: Vec::new(),
            dev: false,
        }
    }

    /// Name with namespace, as users write it (`@scope/name`, `group:artifact`, module path).
    pub fn full_name(&self) -> String {
        match (&self.namespace, self.ecosystem) {
            (Some(ns), Ecosystem::Maven) => format!("{ns}:{}", self.name),
            (Some(ns), _) => format!("{ns}/{}", self.name),
            (None, _) => self.name.clone(),
        }
    }
}

/// The operating system of a root filesystem, from `etc/os-release`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Distro {
    /// `ID` (`debian`, `alpine`, ...).
    pub id: String,
    /// `VERSION_ID` (`12`, `3.19.1`).
    pub version_id: Option<String>,
    /// `VERSION_CODENAME`.
    pub codename: Option<String>,
    /// `PRETTY_NAME`.
    pub pretty_name: Option<String>,
    /// `ID_LIKE`, split.
    pub id_like: Vec<String>,
    /// `HOME_URL`.
    pub home_url: Option<String>,
}

impl Distro {
    /// `ID-VERSION_ID` (the purl `distro` qualifier), or just the id.
    pub fn qualifier(&self) -> String {
        match &self.version_id {
            Some(v) => format!("{}-{v}", self.id),
            None => self.id.clone(),
        }
    }
}

/// Something the scan could not use, with where and why. Scanning goes on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Warning {
    /// The file (relative to the root) or layer.
    pub path: String,
    /// What went wrong, lowercase.
    pub message: String,
}

/// What was scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo {
    /// Directory, docker archive, OCI layout.
    pub kind: SourceKind,
    /// As the user named it.
    pub name: String,
    /// Image manifest digest (`sha256:...`) for images.
    pub digest: Option<String>,
    /// Image config digest for images.
    pub config_digest: Option<String>,
}

/// The kind of source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SourceKind {
    /// A directory or root filesystem.
    Directory,
    /// A `docker save` archive.
    DockerArchive,
    /// An OCI image layout (directory or tar).
    OciLayout,
    /// An image given as manifest plus layer blobs (e.g. pulled from a registry).
    Image,
}

/// The result of a scan: everything a writer needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sbom {
    /// What was scanned.
    pub source: SourceInfo,
    /// The distro, when the root has an os-release file.
    pub distro: Option<Distro>,
    /// Packages, sorted by purl then first location; no two with the same purl.
    pub packages: Vec<Package>,
    /// Dependency edges `(from, to)` as indices into `packages`, sorted, no duplicates.
    pub dependencies: Vec<(usize, usize)>,
    /// What could not be read or understood.
    pub warnings: Vec<Warning>,
}
