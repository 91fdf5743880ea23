//! Writers: the scan result as an SPDX 2.3 or CycloneDX 1.5/1.6 document.

pub mod cyclonedx;
pub mod spdx;

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

use crate::Sbom;
use crate::license::{DeclaredLicense, license_ref};

/// What a writer needs besides the scan result. Time is passed in (from `SOURCE_DATE_EPOCH`
/// or the clock, decided by the caller) so output is reproducible.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// Creation time written into the document.
    pub created: DateTime<Utc>,
    /// Tool name (`cairn`).
    pub tool_name: String,
    /// Tool version.
    pub tool_version: String,
}

impl WriteOptions {
    /// Options for a tool name and version at a time.
    pub fn new(created: DateTime<Utc>, tool_name: &str, tool_version: &str) -> Self {
        WriteOptions {
            created,
            tool_name: tool_name.to_string(),
            tool_version: tool_version.to_string(),
        }
    }

    pub(crate) fn timestamp(&self) -> String {
        self.created.to_rfc3339_opts(SecondsFormat::Secs, true)
    }
}

/// A UUID (version-5 layout, SHA-256 based) derived from the content, so the same scan at the
/// same time gives the same identifier and different content gives a different one.
pub(crate) fn content_uuid(sbom: &Sbom, opts: &WriteOptions, salt: &str) -> String {
    let mut h = Sha256::new();
    for part in [
        salt,
        &opts.tool_name,
        &opts.tool_version,
        &sbom.source.name,
        &opts.timestamp(),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    if let Some(d) = &sbom.source.digest {
        h.update(d.as_bytes());
    }
    for p in &sbom.packages {
        h.update(p.purl.as_bytes());
        h.update([0]);
        for l in &p.locations {
            h.update(l.as_bytes());
            h.update([1]);
        }
    }
    for (a, b) in &sbom.dependencies {
        h.update(a.to_le_bytes());
        h.update(b.to_le_bytes());
    }
    let mut b: [u8; 16] = h.finalize()[..16].try_into().expect("16 of 32 bytes");
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
}

/// The declared licences as one SPDX expression: each licence that is not an expression
/// becomes a `LicenseRef-`; several are joined with AND.
pub(crate) fn spdx_expression(lics: &[DeclaredLicense]) -> Option<String> {
    let parts: Vec<String> = lics
        .iter()
        .map(|l| match &l.expression {
            Some(e) if lics.len() > 1 && (e.contains(" OR ") || e.contains(" AND ")) => {
                format!("({e})")
            }
            Some(e) => e.clone(),
            None => license_ref(&l.raw),
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    (!parts.is_empty()).then(|| parts.join(" AND "))
}

/// True for `http(s)://` URLs without spaces (what the schemas' `uri` format accepts).
pub(crate) fn is_url(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://"))
        && s.len() > 8
        && !s.contains(char::is_whitespace)
        && !s.contains(['"', '<', '>', '\\', '^', '`', '{', '|', '}'])
}
