//! Predicate checks compiled from a requirement: CEL rules and SBOM deny lists.

use serde_json::Value;

use super::document::SbomDocument;
use super::error::Error;
use crate::verdict::{Check, Evidence};

/// A CEL rule (ITE-11 style): an expression over the statement that must be `true`.
#[derive(Debug, Clone)]
pub(crate) struct CelRule {
    pub name: String,
    pub expr: String,
}

impl CelRule {
    pub(crate) fn compile(requirement: &str, name: &str, expr: &str) -> Result<Self, Error> {
        cel::Program::compile(expr).map_err(|e| Error::Cel {
            requirement: requirement.to_owned(),
            rule: name.to_owned(),
            message: e.to_string(),
        })?;
        Ok(CelRule {
            name: name.to_owned(),
            expr: expr.to_owned(),
        })
    }

    /// Runs the rule with `predicate`, `predicateType`, `subject`, `statement` and `signer`
    /// bound; anything but `true` fails, with the value or error as the reason.
    pub(crate) fn check(&self, id: &str, statement: &Value, signer: &Value) -> Check {
        let title = format!("cel {}: {}", self.name, self.expr);
        let program = match cel::Program::compile(&self.expr) {
            Ok(p) => p,
            Err(e) => return Check::fail(id, title, format!("does not compile: {e}")),
        };
        let mut ctx = cel::Context::default();
        let bind = |v: &Value| cel::to_value(v);
        let vars = [
            ("statement", Some(statement)),
            ("predicate", statement.get("predicate")),
            ("predicateType", statement.get("predicateType")),
            ("subject", statement.get("subject")),
            ("signer", Some(signer)),
        ];
        for (name, value) in vars {
            let value = value.unwrap_or(&Value::Null);
            match bind(value) {
                Ok(v) => ctx.add_variable_from_value(name, v),
                Err(e) => {
                    return Check::fail(id, title, format!("cannot bind `{name}`: {e}"));
                }
            }
        }
        match program.execute(&ctx) {
            Ok(cel::Value::Bool(true)) => Check::pass(id, title, "true"),
            Ok(cel::Value::Bool(false)) => Check::fail(id, title, "evaluated to false"),
            Ok(other) => Check::fail(id, title, format!("evaluated to {other:?}, not a boolean")),
            Err(e) => Check::fail(id, title, format!("evaluation error: {e}")),
        }
    }
}

/// A whole-string pattern where `*` matches any run of characters.
#[derive(Debug, Clone)]
pub(crate) struct Wildcard(String);

impl Wildcard {
    pub(crate) fn new(p: &str) -> Self {
        Wildcard(p.to_owned())
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// Iterative glob match over chars (no backtracking blow-up).
    pub(crate) fn matches(&self, text: &str) -> bool {
        let p: Vec<char> = self.0.chars().collect();
        let t: Vec<char> = text.chars().collect();
        let (mut pi, mut ti) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while ti < t.len() {
            if pi < p.len() && p[pi] == '*' {
                star = Some((pi, ti));
                pi += 1;
            } else if pi < p.len() && p[pi] == t[ti] {
                pi += 1;
                ti += 1;
            } else if let Some((sp, st)) = star {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            } else {
                return false;
            }
        }
        while pi < p.len() && p[pi] == '*' {
            pi += 1;
        }
        pi == p.len()
    }
}

/// A denied package.
#[derive(Debug, Clone)]
pub(crate) struct DeniedPackage {
    pub purl: Option<Wildcard>,
    pub name: Option<Wildcard>,
    pub reason: Option<String>,
}

/// SBOM checks.
#[derive(Debug, Clone)]
pub(crate) struct SbomRules {
    pub denied_packages: Vec<DeniedPackage>,
    pub denied_licenses: Vec<Wildcard>,
    pub min_packages: u32,
}

impl SbomRules {
    pub(crate) fn compile(requirement: &str, d: &SbomDocument) -> Result<Self, Error> {
        let mut denied_packages = Vec::new();
        for p in &d.denied_packages {
            if p.purl.is_none() && p.name.is_none() {
                return Err(Error::PackagePattern {
                    requirement: requirement.to_owned(),
                });
            }
            denied_packages.push(DeniedPackage {
                purl: p.purl.as_deref().map(Wildcard::new),
                name: p.name.as_deref().map(Wildcard::new),
                reason: p.reason.clone(),
            });
        }
        Ok(SbomRules {
            denied_packages,
            denied_licenses: d.denied_licenses.iter().map(|l| Wildcard::new(l)).collect(),
            min_packages: d.min_packages.unwrap_or(0),
        })
    }

    /// The SBOM checks for one predicate.
    pub(crate) fn check(&self, id: &str, predicate_type: &str, predicate: &Value) -> Vec<Check> {
        let packages = super::sbom::packages(predicate_type, predicate);
        let mut out = Vec::new();
        let n = packages.len();
        out.push(if (n as u64) < u64::from(self.min_packages) {
            Check::fail(
                format!("{id}.packages"),
                "SBOM lists packages",
                format!("{n} packages, at least {} required", self.min_packages),
            )
        } else {
            Check::pass(
                format!("{id}.packages"),
                "SBOM lists packages",
                format!("{n} packages"),
            )
        });
        if !self.denied_packages.is_empty() {
            let mut hits = Vec::new();
            for pkg in &packages {
                for d in &self.denied_packages {
                    let purl_hit = match (&d.purl, &pkg.purl) {
                        (Some(w), Some(p)) => w.matches(p),
                        _ => false,
                    };
                    let name_hit = d.name.as_ref().is_some_and(|w| w.matches(&pkg.name));
                    if purl_hit || name_hit {
                        let pattern = d
                            .purl
                            .as_ref()
                            .or(d.name.as_ref())
                            .map(|w| w.as_str().to_owned())
                            .unwrap_or_default();
                        let mut what = format!(
                            "{} {}",
                            pkg.name,
                            pkg.purl
                                .as_deref()
                                .unwrap_or(pkg.version.as_deref().unwrap_or(""))
                        );
                        what = format!("{} (denied by {pattern}", what.trim_end());
                        if let Some(r) = &d.reason {
                            what.push_str(": ");
                            what.push_str(r);
                        }
                        what.push(')');
                        hits.push(what);
                    }
                }
            }
            let title = "no denied packages";
            out.push(if hits.is_empty() {
                Check::pass(
                    format!("{id}.denied-packages"),
                    title,
                    format!("none of {} patterns matched", self.denied_packages.len()),
                )
            } else {
                Check::fail(
                    format!("{id}.denied-packages"),
                    title,
                    format!("{} denied package(s) present", hits.len()),
                )
                .with_evidences(hits.into_iter().map(|h| Evidence::value("package", h)))
            });
        }
        if !self.denied_licenses.is_empty() {
            let mut hits = Vec::new();
            for pkg in &packages {
                for lic in &pkg.licenses {
                    for id_token in super::sbom::license_ids(lic) {
                        if let Some(w) = self.denied_licenses.iter().find(|w| w.matches(&id_token))
                        {
                            hits.push(format!(
                                "{}: {id_token} (denied by {})",
                                pkg.name,
                                w.as_str()
                            ));
                        }
                    }
                }
            }
            let title = "no denied licences";
            out.push(if hits.is_empty() {
                Check::pass(
                    format!("{id}.denied-licenses"),
                    title,
                    format!("none of {} patterns matched", self.denied_licenses.len()),
                )
            } else {
                Check::fail(
                    format!("{id}.denied-licenses"),
                    title,
                    format!("{} package(s) with a denied licence", hits.len()),
                )
                .with_evidences(hits.into_iter().map(|h| Evidence::value("licence", h)))
            });
        }
        out
    }
}
