//! Reading packages and licences out of SPDX 2.x and CycloneDX 1.x JSON predicates (as JSON
//! values: a policy must judge any SBOM it is handed, including fields cairn's writer omits).

use serde_json::Value;

/// One package as an SBOM lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Package {
    pub name: String,
    pub version: Option<String>,
    pub purl: Option<String>,
    /// Licence expressions or ids as written.
    pub licenses: Vec<String>,
}

const MAX_DEPTH: usize = 32;

/// Packages of an SPDX or CycloneDX predicate (empty for anything else).
pub(crate) fn packages(predicate_type: &str, predicate: &Value) -> Vec<Package> {
    let mut out = Vec::new();
    if predicate_type.starts_with("https://spdx.dev/Document") {
        for p in predicate
            .get("packages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let purl = p
                .get("externalRefs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|r| r.get("referenceType").and_then(Value::as_str) == Some("purl"))
                .and_then(|r| r.get("referenceLocator"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            let licenses = ["licenseConcluded", "licenseDeclared"]
                .iter()
                .filter_map(|k| p.get(*k).and_then(Value::as_str))
                .filter(|l| !matches!(*l, "NOASSERTION" | "NONE"))
                .map(str::to_owned)
                .collect();
            out.push(Package {
                name: str_field(p, "name"),
                version: p
                    .get("versionInfo")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                purl,
                licenses,
            });
        }
    } else if predicate_type.starts_with("https://cyclonedx.org/bom") {
        if let Some(c) = predicate.get("metadata").and_then(|m| m.get("component")) {
            cyclonedx_component(c, &mut out, 0);
        }
        for c in predicate
            .get("components")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            cyclonedx_component(c, &mut out, 0);
        }
    }
    out
}

fn str_field(v: &Value, k: &str) -> String {
    v.get(k)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn cyclonedx_component(c: &Value, out: &mut Vec<Package>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let mut licenses = Vec::new();
    for l in c
        .get("licenses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(e) = l.get("expression").and_then(Value::as_str) {
            licenses.push(e.to_owned());
        }
        if let Some(lic) = l.get("license") {
            if let Some(id) = lic.get("id").and_then(Value::as_str) {
                licenses.push(id.to_owned());
            } else if let Some(name) = lic.get("name").and_then(Value::as_str) {
                licenses.push(name.to_owned());
            }
        }
    }
    out.push(Package {
        name: str_field(c, "name"),
        version: c.get("version").and_then(Value::as_str).map(str::to_owned),
        purl: c.get("purl").and_then(Value::as_str).map(str::to_owned),
        licenses,
    });
    for child in c
        .get("components")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        cyclonedx_component(child, out, depth + 1);
    }
}

/// The licence ids in an SPDX licence expression (`MIT OR (GPL-2.0-only WITH X)` -> `MIT`,
/// `GPL-2.0-only`, `X`); operators and parentheses dropped, `+` kept.
pub(crate) fn license_ids(expr: &str) -> Vec<String> {
    expr.split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter(|t| !t.is_empty() && !matches!(*t, "AND" | "OR" | "WITH" | "and" | "or" | "with"))
        .map(str::to_owned)
        .collect()
}
