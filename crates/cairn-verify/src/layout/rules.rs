//! The artifact-rule queue engine (in-toto specification v1.0, section 4.3.3), over plain maps
//! of `path -> digests`.
//!
//! For one step (or inspection) and one side (materials or products), the queue starts as every
//! artifact on that side. Rules run in order; each consumes (removes) the queued artifacts it
//! accounts for:
//!
//! | rule | consumes a queued artifact `p` matching the pattern when |
//! |---|---|
//! | `MATCH pat [IN src] WITH (MATERIALS\|PRODUCTS) [IN dst] FROM step` | `p` = `src/` + `rel`, `rel` matches `pat`, and `step`'s list has `dst/` + `rel` with the **same** digests (a missing `step` link consumes nothing) |
//! | `CREATE pat` | `p` is a product and not a material |
//! | `DELETE pat` | `p` is a material and not a product |
//! | `MODIFY pat` | `p` is a material and a product with different digests |
//! | `ALLOW pat` | always |
//! | `DISALLOW pat` | never: fails if any queued artifact matches |
//! | `REQUIRE path` | never: fails unless `path` is still queued |
//!
//! Whatever is left at the end is allowed (the implicit final `ALLOW *`). Patterns are Python
//! `fnmatch` globs (see [`super::glob`]). Digest sets compare as whole maps, as in the reference.
//! The engine stops at the first failing rule of a list, as the reference does.

use std::borrow::Cow;
use std::collections::BTreeMap;

use cairn_model::link_reader::ArtifactDigests;
use cairn_model::rule::{ArtifactRule, DestinationType};

use super::glob::Pattern;
use crate::verdict::ArtifactRole;

/// Artifacts of one side of a link: normalised path -> digests.
pub type ArtifactMap = BTreeMap<String, ArtifactDigests>;

/// Where the engine finds the artifacts of steps and inspections by name.
pub trait LinkSet {
    /// The materials or products that step `name` reported, if a verified link for it exists.
    fn artifacts(&self, name: &str, role: ArtifactRole) -> Option<&ArtifactMap>;
}

/// Both sides of one link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkArtifacts {
    /// What the step read.
    pub materials: ArtifactMap,
    /// What the step wrote.
    pub products: ArtifactMap,
}

impl LinkArtifacts {
    /// One side.
    pub fn side(&self, role: ArtifactRole) -> &ArtifactMap {
        match role {
            ArtifactRole::Material => &self.materials,
            ArtifactRole::Product => &self.products,
        }
    }
}

impl<S: std::borrow::Borrow<str> + Ord> LinkSet for BTreeMap<S, LinkArtifacts> {
    fn artifacts(&self, name: &str, role: ArtifactRole) -> Option<&ArtifactMap> {
        self.get(name).map(|l| l.side(role))
    }
}

/// Why a rule failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleFailure {
    /// `DISALLOW` found these queued artifacts (sorted).
    Disallowed {
        /// The artifacts it caught.
        paths: Vec<String>,
    },
    /// `REQUIRE` did not find its path in the queue.
    Required {
        /// The required path.
        path: String,
    },
}

/// What one rule did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleResult {
    /// 0-based position of the rule in its list.
    pub index: usize,
    /// How many queued artifacts it consumed.
    pub consumed: usize,
    /// Set when the rule failed.
    pub failure: Option<RuleFailure>,
}

/// The outcome of one rule list over one side of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueReport {
    /// The rules that ran, in order (the list stops after the first failure).
    pub results: Vec<RuleResult>,
    /// Artifacts no rule consumed: allowed by the implicit final `ALLOW *` (sorted).
    pub unconsumed: Vec<String>,
}

impl QueueReport {
    /// The failing rule, if any.
    pub fn failure(&self) -> Option<(&RuleResult, &RuleFailure)> {
        self.results
            .iter()
            .find_map(|r| r.failure.as_ref().map(|f| (r, f)))
    }
}

/// A rule with its pattern compiled once.
pub(crate) struct Compiled<'r> {
    pub(crate) rule: &'r ArtifactRule,
    pattern: Pattern,
    /// For MATCH: the source prefix with one trailing `/` (`None` when empty or absent).
    source_prefix: Option<String>,
}

impl<'r> Compiled<'r> {
    pub(crate) fn new(rule: &'r ArtifactRule) -> Self {
        let source_prefix = match rule {
            ArtifactRule::Match {
                source_prefix: Some(p),
                ..
            } if !p.is_empty() => Some(with_trailing_slash(p)),
            _ => None,
        };
        Compiled {
            rule,
            pattern: Pattern::new(rule.pattern()),
            source_prefix,
        }
    }

    /// The path relative to the MATCH source prefix (or the path itself), if the pattern
    /// applies to it at all.
    pub(crate) fn pattern_applies<'p>(&self, path: &'p str) -> Option<&'p str> {
        let rel = match &self.source_prefix {
            Some(prefix) => path.strip_prefix(prefix.as_str())?,
            None => path,
        };
        self.pattern.matches(rel).then_some(rel)
    }
}

/// `os.path.join(prefix, "")` with backslashes turned into slashes, as the reference does.
fn with_trailing_slash(prefix: &str) -> String {
    let mut p = prefix.replace('\\', "/");
    if !p.ends_with('/') {
        p.push('/');
    }
    p
}

/// `os.path.join(prefix, rel)` (POSIX) with backslashes turned into slashes.
pub(crate) fn join<'a>(prefix: Option<&str>, rel: &'a str) -> Cow<'a, str> {
    match prefix {
        Some(p) if !p.is_empty() && !rel.starts_with('/') => {
            let mut out = p.to_owned();
            if !out.ends_with('/') {
                out.push('/');
            }
            out.push_str(rel);
            Cow::Owned(out.replace('\\', "/"))
        }
        _ if rel.contains('\\') => Cow::Owned(rel.replace('\\', "/")),
        _ => Cow::Borrowed(rel),
    }
}

pub(crate) fn dest_role(t: DestinationType) -> ArtifactRole {
    match t {
        DestinationType::Materials => ArtifactRole::Material,
        DestinationType::Products => ArtifactRole::Product,
    }
}

/// Why a consuming rule did (or did not) consume one artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Consumption {
    /// The rule's pattern does not apply to the path.
    NotMatched,
    /// Consumed.
    Consumed,
    /// MATCH: there is no verified link for the destination step.
    NoDestinationLink { step: String },
    /// MATCH: the destination step has no artifact at this path.
    NoDestinationArtifact {
        step: String,
        role: ArtifactRole,
        path: String,
    },
    /// MATCH: the destination artifact exists with other digests.
    DigestDiffers {
        step: String,
        role: ArtifactRole,
        path: String,
        theirs: ArtifactDigests,
    },
    /// CREATE: the path is a material too (or not a product).
    NotCreated { is_material: bool, is_product: bool },
    /// DELETE: the path is a product too (or not a material).
    NotDeleted { is_material: bool, is_product: bool },
    /// MODIFY: not on both sides, or the digests are equal.
    NotModified { on_both_sides: bool },
    /// DISALLOW / REQUIRE never consume.
    NeverConsumes,
}

/// Whether `path` is on `side`; a queued path is on its own side by construction.
fn in_side(own: &ArtifactMap, side: &ArtifactMap, path: &str) -> bool {
    std::ptr::eq(own, side) || side.contains_key(path)
}

/// Decides whether `rule` consumes the queued `path` of item `item`, and says why not.
pub(crate) fn consumes(
    rule: &Compiled<'_>,
    item_materials: &ArtifactMap,
    item_products: &ArtifactMap,
    own: &ArtifactMap,
    path: &str,
    links: &dyn LinkSet,
) -> Consumption {
    let Some(rel) = rule.pattern_applies(path) else {
        return Consumption::NotMatched;
    };
    match rule.rule {
        ArtifactRule::Match {
            destination_type,
            destination_prefix,
            destination_step,
            ..
        } => {
            let role = dest_role(*destination_type);
            let Some(dest) = links.artifacts(destination_step, role) else {
                return Consumption::NoDestinationLink {
                    step: destination_step.clone(),
                };
            };
            let dest_path = join(destination_prefix.as_deref(), rel);
            let Some(theirs) = dest.get(dest_path.as_ref()) else {
                return Consumption::NoDestinationArtifact {
                    step: destination_step.clone(),
                    role,
                    path: dest_path.into_owned(),
                };
            };
            match own.get(path) {
                Some(ours) if ours == theirs => Consumption::Consumed,
                _ => Consumption::DigestDiffers {
                    step: destination_step.clone(),
                    role,
                    path: dest_path.into_owned(),
                    theirs: theirs.clone(),
                },
            }
        }
        ArtifactRule::Create(_) => {
            let is_material = in_side(own, item_materials, path);
            let is_product = in_side(own, item_products, path);
            if is_product && !is_material {
                Consumption::Consumed
            } else {
                Consumption::NotCreated {
                    is_material,
                    is_product,
                }
            }
        }
        ArtifactRule::Delete(_) => {
            let is_material = in_side(own, item_materials, path);
            let is_product = in_side(own, item_products, path);
            if is_material && !is_product {
                Consumption::Consumed
            } else {
                Consumption::NotDeleted {
                    is_material,
                    is_product,
                }
            }
        }
        ArtifactRule::Modify(_) => match (item_materials.get(path), item_products.get(path)) {
            (Some(m), Some(p)) if m != p => Consumption::Consumed,
            (Some(_), Some(_)) => Consumption::NotModified {
                on_both_sides: true,
            },
            _ => Consumption::NotModified {
                on_both_sides: false,
            },
        },
        ArtifactRule::Allow(_) => Consumption::Consumed,
        ArtifactRule::Disallow(_) | ArtifactRule::Require(_) => Consumption::NeverConsumes,
    }
}

/// Applies `rules` to the `role` side of item `item` (whose link must be in `links`).
///
/// Returns `None` when `links` has no link for `item`.
pub fn apply(
    item: &str,
    role: ArtifactRole,
    rules: &[ArtifactRule],
    links: &dyn LinkSet,
) -> Option<QueueReport> {
    let materials = links.artifacts(item, ArtifactRole::Material)?;
    let products = links.artifacts(item, ArtifactRole::Product)?;
    let own = match role {
        ArtifactRole::Material => materials,
        ArtifactRole::Product => products,
    };
    // The queue is the item's artifacts in path order with a liveness flag: rules walk it in
    // order, which lets MATCH merge-join against the (equally ordered) destination list
    // instead of looking every path up.
    let entries: Vec<(&str, &ArtifactDigests)> = own.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let mut alive = vec![true; entries.len()];
    let mut results = Vec::with_capacity(rules.len());
    for (index, rule) in rules.iter().enumerate() {
        let compiled = Compiled::new(rule);
        let mut result = RuleResult {
            index,
            consumed: 0,
            failure: None,
        };
        match rule {
            ArtifactRule::Disallow(_) => {
                let caught: Vec<String> = entries
                    .iter()
                    .zip(&alive)
                    .filter(|((p, _), live)| **live && compiled.pattern.matches(p))
                    .map(|((p, _), _)| (*p).to_owned())
                    .collect();
                if !caught.is_empty() {
                    result.failure = Some(RuleFailure::Disallowed { paths: caught });
                }
            }
            ArtifactRule::Require(path) => {
                let present = entries
                    .binary_search_by(|(p, _)| (*p).cmp(path.as_str()))
                    .is_ok_and(|i| alive[i]);
                if !present {
                    result.failure = Some(RuleFailure::Required { path: path.clone() });
                }
            }
            ArtifactRule::Match {
                source_prefix,
                destination_prefix,
                destination_type,
                destination_step,
                ..
            } if source_prefix.as_deref().unwrap_or("").is_empty()
                && destination_prefix.as_deref().unwrap_or("").is_empty() =>
            {
                // Same path on both sides: merge-join the two ordered lists.
                if let Some(dest) = links.artifacts(destination_step, dest_role(*destination_type))
                {
                    let mut dest_iter = dest.iter().peekable();
                    for ((path, ours), live) in entries.iter().zip(alive.iter_mut()) {
                        if !*live || !compiled.pattern.matches(path) {
                            continue;
                        }
                        if path.contains('\\') {
                            // The reference looks such paths up with `/` for `\`.
                            if dest.get(&path.replace('\\', "/")) == Some(*ours) {
                                *live = false;
                                result.consumed += 1;
                            }
                            continue;
                        }
                        while dest_iter.peek().is_some_and(|(k, _)| k.as_str() < *path) {
                            dest_iter.next();
                        }
                        if let Some((k, theirs)) = dest_iter.peek()
                            && k.as_str() == *path
                            && *theirs == *ours
                        {
                            *live = false;
                            result.consumed += 1;
                        }
                    }
                }
            }
            _ => {
                for ((path, _), live) in entries.iter().zip(alive.iter_mut()) {
                    if *live
                        && consumes(&compiled, materials, products, own, path, links)
                            == Consumption::Consumed
                    {
                        *live = false;
                        result.consumed += 1;
                    }
                }
            }
        }
        let failed = result.failure.is_some();
        results.push(result);
        if failed {
            break;
        }
    }
    let unconsumed: Vec<String> = entries
        .iter()
        .zip(&alive)
        .filter(|(_, live)| **live)
        .map(|((p, _), _)| (*p).to_owned())
        .collect();
    Some(QueueReport {
        results,
        unconsumed,
    })
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
