//! Declared licences: raw strings from package metadata turned into SPDX expressions where
//! that can be done without guessing.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The SPDX licence list version the embedded id list comes from.
pub const LICENSE_LIST_VERSION: &str = "3.28";

static IDS_TXT: &str = include_str!("spdx-ids.txt");

fn ids() -> &'static HashMap<String, &'static str> {
    static IDS: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    IDS.get_or_init(|| {
        IDS_TXT
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| (l.to_ascii_lowercase(), l))
            .collect()
    })
}

/// Common names that are not ids but mean exactly one licence.
const ALIASES: &[(&str, &str)] = &[
    ("apache 2.0", "Apache-2.0"),
    ("apache-2", "Apache-2.0"),
    ("apache 2", "Apache-2.0"),
    ("apache2", "Apache-2.0"),
    ("apache license 2.0", "Apache-2.0"),
    ("apache license, version 2.0", "Apache-2.0"),
    ("apache license version 2.0", "Apache-2.0"),
    ("apache software license 2.0", "Apache-2.0"),
    ("asl 2.0", "Apache-2.0"),
    ("mit license", "MIT"),
    ("the mit license", "MIT"),
    ("expat", "MIT"),
    ("isc license", "ISC"),
    ("isc license (iscl)", "ISC"),
    ("bsd-3", "BSD-3-Clause"),
    ("bsd 3-clause", "BSD-3-Clause"),
    ("bsd-3-clause license", "BSD-3-Clause"),
    ("new bsd license", "BSD-3-Clause"),
    ("bsd-2", "BSD-2-Clause"),
    ("bsd 2-clause", "BSD-2-Clause"),
    ("simplified bsd license", "BSD-2-Clause"),
    ("gplv2", "GPL-2.0-only"),
    ("gpl-2", "GPL-2.0-only"),
    ("gplv2+", "GPL-2.0-or-later"),
    ("gpl-2+", "GPL-2.0-or-later"),
    ("gplv3", "GPL-3.0-only"),
    ("gpl-3", "GPL-3.0-only"),
    ("gplv3+", "GPL-3.0-or-later"),
    ("gpl-3+", "GPL-3.0-or-later"),
    ("lgplv2", "LGPL-2.0-only"),
    ("lgpl-2", "LGPL-2.0-only"),
    ("lgpl-2+", "LGPL-2.0-or-later"),
    ("lgplv2+", "LGPL-2.0-or-later"),
    ("lgpl-2.1", "LGPL-2.1-only"),
    ("lgpl-2.1+", "LGPL-2.1-or-later"),
    ("lgplv2.1+", "LGPL-2.1-or-later"),
    ("lgpl-3", "LGPL-3.0-only"),
    ("lgpl-3+", "LGPL-3.0-or-later"),
    ("lgplv3+", "LGPL-3.0-or-later"),
    ("mpl 2.0", "MPL-2.0"),
    ("mpl-2", "MPL-2.0"),
    ("mozilla public license 2.0 (mpl 2.0)", "MPL-2.0"),
    ("psf", "PSF-2.0"),
    ("psfl", "PSF-2.0"),
    ("python software foundation license", "PSF-2.0"),
    ("zlib license", "Zlib"),
    ("public-domain", "LicenseRef-Public-Domain"),
    ("public domain", "LicenseRef-Public-Domain"),
    ("unlicense", "Unlicense"),
    ("the unlicense (unlicense)", "Unlicense"),
    ("cc0", "CC0-1.0"),
    ("artistic", "Artistic-1.0-Perl"),
    ("perl", "Artistic-1.0-Perl OR GPL-1.0-or-later"),
    ("gpl-1+", "GPL-1.0-or-later"),
];

/// Python trove classifiers (`License :: OSI Approved :: ...`) with exactly one licence.
const CLASSIFIERS: &[(&str, &str)] = &[
    ("MIT License", "MIT"),
    ("Apache Software License", "Apache-2.0"),
    ("BSD License", ""),
    ("ISC License (ISCL)", "ISC"),
    ("Mozilla Public License 2.0 (MPL 2.0)", "MPL-2.0"),
    ("Python Software Foundation License", "PSF-2.0"),
    ("GNU General Public License v2 (GPLv2)", "GPL-2.0-only"),
    ("GNU General Public License v3 (GPLv3)", "GPL-3.0-only"),
    (
        "GNU Lesser General Public License v3 (LGPLv3)",
        "LGPL-3.0-only",
    ),
    ("The Unlicense (Unlicense)", "Unlicense"),
    ("Zope Public License", "ZPL-2.1"),
];

/// Maps a trove classifier's last part to an SPDX id, when it names exactly one licence.
pub fn from_classifier(classifier: &str) -> Option<&'static str> {
    let last = classifier.rsplit("::").next()?.trim();
    CLASSIFIERS
        .iter()
        .find(|(k, _)| *k == last)
        .map(|(_, v)| *v)
        .filter(|v| !v.is_empty())
}

/// A raw declared licence as found in package metadata, and its SPDX expression when it is
/// one (or is a well-known name for exactly one licence).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeclaredLicense {
    /// As found.
    pub raw: String,
    /// A valid SPDX expression (ids from the licence list or `LicenseRef-*`), if it is one.
    pub expression: Option<String>,
}

impl DeclaredLicense {
    /// Classifies a raw licence string.
    pub fn new(raw: &str) -> Self {
        let raw = raw.trim().to_string();
        let expression = to_expression(&raw);
        DeclaredLicense { raw, expression }
    }

    /// True when the expression is a single id on the SPDX list (no operators, no `+`).
    pub fn is_single_id(&self) -> bool {
        self.expression
            .as_deref()
            .is_some_and(|e| canonical_id(e) == Some(e))
    }
}

/// Returns the canonical spelling of a licence or exception id on the SPDX list.
pub fn canonical_id(id: &str) -> Option<&'static str> {
    ids().get(&id.to_ascii_lowercase()).copied()
}

/// The current id for a deprecated GNU id: `GPL-2.0+` -> `GPL-2.0-or-later`, `GPL-2.0` ->
/// `GPL-2.0-only`; other ids unchanged.
fn current_id(id: &'static str) -> &'static str {
    let gnu = ["GPL-", "LGPL-", "AGPL-", "GFDL-"]
        .iter()
        .any(|p| id.starts_with(p));
    if !gnu {
        return id;
    }
    if let Some(base) = id.strip_suffix('+') {
        return canonical_id(&format!("{base}-or-later")).unwrap_or(id);
    }
    if id.bytes().last().is_some_and(|b| b.is_ascii_digit()) {
        return canonical_id(&format!("{id}-only")).unwrap_or(id);
    }
    id
}

/// Turns a raw licence string into a valid SPDX expression, or `None` when it is free text.
pub fn to_expression(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    if let Some(id) = canonical_id(raw) {
        return Some(current_id(id).to_string());
    }
    let lower = raw.to_ascii_lowercase();
    if let Some((_, v)) = ALIASES.iter().find(|(k, _)| *k == lower) {
        return Some((*v).to_string());
    }
    parse_expression(raw)
}

/// Parses `A AND (B OR C WITH D)`; every operand must be a listed id (optionally with `+`) or
/// a `LicenseRef-`; returns the expression with canonical spelling.
fn parse_expression(raw: &str) -> Option<String> {
    let spaced = raw.replace('(', " ( ").replace(')', " ) ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let mut out: Vec<String> = Vec::with_capacity(tokens.len());
    let mut depth = 0i32;
    // expect_operand: true where an id or `(` must come next.
    let mut expect_operand = true;
    let mut after_with = false;
    for tok in tokens {
        let upper = tok.to_ascii_uppercase();
        match upper.as_str() {
            "(" if expect_operand => {
                depth += 1;
                out.push("(".into());
            }
            ")" if !expect_operand => {
                depth -= 1;
                if depth < 0 {
                    return None;
                }
                out.push(")".into());
            }
            "AND" | "OR" | "WITH" if !expect_operand => {
                after_with = upper == "WITH";
                out.push(upper);
                expect_operand = true;
            }
            _ if expect_operand => {
                let id = operand(tok, after_with)?;
                out.push(id);
                expect_operand = false;
                after_with = false;
            }
            _ => return None,
        }
    }
    if depth != 0 || expect_operand {
        return None;
    }
    Some(out.join(" ").replace("( ", "(").replace(" )", ")"))
}

fn operand(tok: &str, exception: bool) -> Option<String> {
    if let Some(rest) = tok.strip_prefix("LicenseRef-") {
        if !exception
            && !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        {
            return Some(tok.to_string());
        }
        return None;
    }
    if let Some(id) = canonical_id(tok) {
        return Some(if exception { id } else { current_id(id) }.to_string());
    }
    if !exception {
        // Debian short names and other single-licence aliases inside expressions (`GPL-2+ or
        // Artistic`).
        let lower = tok.to_ascii_lowercase();
        if let Some((_, v)) = ALIASES
            .iter()
            .find(|(k, v)| *k == lower && !v.contains(' ') && !k.contains(' '))
        {
            return Some((*v).to_string());
        }
    }
    let base = tok.strip_suffix('+')?;
    let id = canonical_id(base)?;
    Some(match canonical_id(&format!("{id}+")) {
        Some(listed) => current_id(listed).to_string(),
        None => format!("{id}+"),
    })
}

/// A `LicenseRef-` id for free text: readable prefix plus a short digest, so different texts
/// never share an id.
pub fn license_ref(raw: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut slug: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    while slug.contains("--") {
        slug = slug.replace("--", "-");
    }
    let slug = slug.trim_matches('-');
    let digest = Sha256::digest(raw.as_bytes());
    let short = hex::encode(&digest[..4]);
    if slug.is_empty() {
        format!("LicenseRef-{short}")
    } else {
        format!("LicenseRef-{slug}-{short}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions() {
        assert_eq!(to_expression("mit").as_deref(), Some("MIT"));
        assert_eq!(to_expression("Apache 2.0").as_deref(), Some("Apache-2.0"));
        assert_eq!(
            to_expression("(mit or apache-2.0) and bsd-3-clause").as_deref(),
            Some("(MIT OR Apache-2.0) AND BSD-3-Clause")
        );
        assert_eq!(
            to_expression("GPL-2.0-only WITH Classpath-exception-2.0").as_deref(),
            Some("GPL-2.0-only WITH Classpath-exception-2.0")
        );
        assert_eq!(
            to_expression("LGPL-2.1+").as_deref(),
            Some("LGPL-2.1-or-later")
        );
        assert_eq!(
            to_expression("GPL-2.0 OR MIT").as_deref(),
            Some("GPL-2.0-only OR MIT")
        );
        assert_eq!(to_expression("Apache-2.0+").as_deref(), Some("Apache-2.0+"));
        assert_eq!(
            to_expression("GPL-2+ or Artistic").as_deref(),
            Some("GPL-2.0-or-later OR Artistic-1.0-Perl")
        );
        assert_eq!(
            to_expression("Expat and BSD-3-clause").as_deref(),
            Some("MIT AND BSD-3-Clause")
        );
        assert_eq!(to_expression("MIT OR"), None);
        assert_eq!(to_expression("(MIT"), None);
        assert_eq!(to_expression("Some custom licence"), None);
        assert_eq!(to_expression("BSD"), None);
        assert_eq!(
            from_classifier("License :: OSI Approved :: MIT License"),
            Some("MIT")
        );
        assert_eq!(
            from_classifier("License :: OSI Approved :: BSD License"),
            None
        );
        let r = license_ref("My Licence v1");
        assert!(r.starts_with("LicenseRef-My-Licence-v1-"), "{r}");
    }
}
