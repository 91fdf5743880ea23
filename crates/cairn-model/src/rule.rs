//! in-toto v1.0 artifact rules (specification section 4.3.3), parsed from the string arrays in
//! a layout's `expected_materials` / `expected_products`.
//!
//! Grammar (keywords are case-insensitive, as in the reference `in_toto/rulelib.py` and
//! in-toto-golang's `UnpackRule`; patterns, prefixes and step names are kept as written):
//!
//! ```text
//! CREATE <pattern>      DELETE <pattern>      MODIFY <pattern>
//! ALLOW <pattern>       DISALLOW <pattern>    REQUIRE <filename>
//! MATCH <pattern> [IN <source-path-prefix>] WITH (MATERIALS|PRODUCTS)
//!       [IN <destination-path-prefix>] FROM <step>
//! ```
//!
//! [`ArtifactRule::to_vec`] writes keywords in upper case, the form both reference
//! implementations write. A prefix given as `IN ""` is kept (as `Some("")`) so that parsing and
//! writing round-trip; it means the same as no prefix.

use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// Which artifact list of the destination step a `MATCH` rule compares against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DestinationType {
    /// `WITH MATERIALS`.
    Materials,
    /// `WITH PRODUCTS`.
    Products,
}

impl DestinationType {
    /// The keyword as written in rules.
    pub fn keyword(self) -> &'static str {
        match self {
            DestinationType::Materials => "MATERIALS",
            DestinationType::Products => "PRODUCTS",
        }
    }
}

/// One artifact rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ArtifactRule {
    /// `MATCH pattern [IN source_prefix] WITH (MATERIALS|PRODUCTS) [IN destination_prefix] FROM
    /// destination_step`.
    Match {
        /// Glob pattern over the artifacts being checked (relative to `source_prefix`).
        pattern: String,
        /// Path prefix stripped from this step's artifacts before matching (`IN` after the
        /// pattern).
        source_prefix: Option<String>,
        /// Which list of the destination step to compare with.
        destination_type: DestinationType,
        /// Path prefix prepended to the destination step's artifacts (`IN` after the type).
        destination_prefix: Option<String>,
        /// The step (or inspection) whose artifacts are compared.
        destination_step: String,
    },
    /// `CREATE pattern`: the artifact must be a product that was not a material.
    Create(String),
    /// `DELETE pattern`: the artifact must be a material that is not a product.
    Delete(String),
    /// `MODIFY pattern`: the artifact is a material and a product with different digests.
    Modify(String),
    /// `ALLOW pattern`: the artifacts are consumed without further check.
    Allow(String),
    /// `DISALLOW pattern`: fail if any artifact is left that matches.
    Disallow(String),
    /// `REQUIRE filename`: fail if the artifact list does not contain this file.
    Require(String),
}

/// Why a rule array is not a valid artifact rule.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuleError {
    /// The rule is not a JSON array.
    #[error("rule is not an array of strings")]
    NotAnArray,
    /// An element of the rule array is not a string.
    #[error("element {position} of the rule is not a string")]
    NotAString {
        /// 0-based position in the rule array.
        position: usize,
    },
    /// The rule has fewer than two elements.
    #[error("rule has {len} element(s); a rule is a keyword followed by a pattern")]
    TooShort {
        /// Number of elements.
        len: usize,
    },
    /// The first element is not a rule keyword.
    #[error(
        "unknown rule keyword {keyword:?}; expected MATCH, CREATE, DELETE, MODIFY, ALLOW, DISALLOW or REQUIRE"
    )]
    UnknownKeyword {
        /// What was found.
        keyword: String,
    },
    /// A generic rule (everything but MATCH) has more than a pattern.
    #[error("{keyword} rule has {len} elements; it takes exactly one pattern")]
    GenericArity {
        /// The rule keyword, upper case.
        keyword: &'static str,
        /// Number of elements.
        len: usize,
    },
    /// A MATCH rule does not follow `MATCH pattern [IN prefix] WITH (MATERIALS|PRODUCTS) [IN
    /// prefix] FROM step`.
    #[error(
        "malformed MATCH rule; expected MATCH <pattern> [IN <prefix>] WITH (MATERIALS|PRODUCTS) [IN <prefix>] FROM <step>"
    )]
    MatchSyntax,
    /// The MATCH destination type is neither MATERIALS nor PRODUCTS.
    #[error("MATCH destination type is {found:?}; expected MATERIALS or PRODUCTS")]
    DestinationType {
        /// What was found.
        found: String,
    },
}

impl ArtifactRule {
    /// Parses a rule from its string elements.
    pub fn parse<S: AsRef<str>>(rule: &[S]) -> Result<Self, RuleError> {
        let rule: Vec<&str> = rule.iter().map(AsRef::as_ref).collect();
        if rule.len() < 2 {
            return Err(RuleError::TooShort { len: rule.len() });
        }
        let keyword = rule[0].to_ascii_lowercase();
        let pattern = rule[1].to_owned();
        let generic = |kw: &'static str, make: fn(String) -> ArtifactRule| {
            if rule.len() == 2 {
                Ok(make(pattern.clone()))
            } else {
                Err(RuleError::GenericArity {
                    keyword: kw,
                    len: rule.len(),
                })
            }
        };
        match keyword.as_str() {
            "create" => generic("CREATE", ArtifactRule::Create),
            "delete" => generic("DELETE", ArtifactRule::Delete),
            "modify" => generic("MODIFY", ArtifactRule::Modify),
            "allow" => generic("ALLOW", ArtifactRule::Allow),
            "disallow" => generic("DISALLOW", ArtifactRule::Disallow),
            "require" => generic("REQUIRE", ArtifactRule::Require),
            "match" => parse_match(&rule),
            _ => Err(RuleError::UnknownKeyword {
                keyword: rule[0].to_owned(),
            }),
        }
    }

    /// Parses a rule from a JSON value (an array of strings).
    pub fn from_value(value: &Value) -> Result<Self, RuleError> {
        let items = value.as_array().ok_or(RuleError::NotAnArray)?;
        let strings = items
            .iter()
            .enumerate()
            .map(|(position, v)| v.as_str().ok_or(RuleError::NotAString { position }))
            .collect::<Result<Vec<&str>, _>>()?;
        ArtifactRule::parse(&strings)
    }

    /// The rule as the string array a layout holds (keywords upper case).
    pub fn to_vec(&self) -> Vec<String> {
        let generic = |kw: &str, p: &str| vec![kw.to_owned(), p.to_owned()];
        match self {
            ArtifactRule::Create(p) => generic("CREATE", p),
            ArtifactRule::Delete(p) => generic("DELETE", p),
            ArtifactRule::Modify(p) => generic("MODIFY", p),
            ArtifactRule::Allow(p) => generic("ALLOW", p),
            ArtifactRule::Disallow(p) => generic("DISALLOW", p),
            ArtifactRule::Require(p) => generic("REQUIRE", p),
            ArtifactRule::Match {
                pattern,
                source_prefix,
                destination_type,
                destination_prefix,
                destination_step,
            } => {
                let mut out = vec!["MATCH".to_owned(), pattern.clone()];
                if let Some(prefix) = source_prefix {
                    out.extend(["IN".to_owned(), prefix.clone()]);
                }
                out.extend(["WITH".to_owned(), destination_type.keyword().to_owned()]);
                if let Some(prefix) = destination_prefix {
                    out.extend(["IN".to_owned(), prefix.clone()]);
                }
                out.extend(["FROM".to_owned(), destination_step.clone()]);
                out
            }
        }
    }

    /// The rule's pattern (for `REQUIRE`, the filename).
    pub fn pattern(&self) -> &str {
        match self {
            ArtifactRule::Match { pattern, .. }
            | ArtifactRule::Create(pattern)
            | ArtifactRule::Delete(pattern)
            | ArtifactRule::Modify(pattern)
            | ArtifactRule::Allow(pattern)
            | ArtifactRule::Disallow(pattern)
            | ArtifactRule::Require(pattern) => pattern,
        }
    }
}

fn parse_match(rule: &[&str]) -> Result<ArtifactRule, RuleError> {
    let kw = |i: usize, word: &str| rule.get(i).is_some_and(|s| s.eq_ignore_ascii_case(word));
    // The four forms of rulelib.py's unpack_rule, told apart by length and keyword positions.
    let (source_prefix, type_at, destination_prefix, step_at) = match rule.len() {
        10 if kw(2, "in") && kw(4, "with") && kw(6, "in") && kw(8, "from") => {
            (Some(rule[3]), 5, Some(rule[7]), 9)
        }
        8 if kw(2, "in") && kw(4, "with") && kw(6, "from") => (Some(rule[3]), 5, None, 7),
        8 if kw(2, "with") && kw(4, "in") && kw(6, "from") => (None, 3, Some(rule[5]), 7),
        6 if kw(2, "with") && kw(4, "from") => (None, 3, None, 5),
        _ => return Err(RuleError::MatchSyntax),
    };
    let destination_type = match rule[type_at].to_ascii_lowercase().as_str() {
        "materials" => DestinationType::Materials,
        "products" => DestinationType::Products,
        _ => {
            return Err(RuleError::DestinationType {
                found: rule[type_at].to_owned(),
            });
        }
    };
    Ok(ArtifactRule::Match {
        pattern: rule[1].to_owned(),
        source_prefix: source_prefix.map(str::to_owned),
        destination_type,
        destination_prefix: destination_prefix.map(str::to_owned),
        destination_step: rule[step_at].to_owned(),
    })
}

impl fmt::Display for ArtifactRule {
    /// The rule's elements joined by spaces, e.g. `MATCH foo.py WITH PRODUCTS FROM write-code`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_vec().join(" "))
    }
}

impl Serialize for ArtifactRule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_vec().serialize(s)
    }
}

impl<'de> Deserialize<'de> for ArtifactRule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let items = Vec::<String>::deserialize(d)?;
        ArtifactRule::parse(&items).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests;
