//! Turns a [`QueueReport`] into checks a release engineer can read: which rule failed, which
//! artifacts it caught, where each one came from, and why no earlier rule accounted for it.

use cairn_model::link_reader::ArtifactDigests;
use cairn_model::rule::ArtifactRule;

use super::rules::{
    ArtifactMap, Compiled, Consumption, LinkSet, QueueReport, RuleFailure, consumes,
};
use crate::verdict::{ArtifactRef, ArtifactRole, Check, Evidence, Outcome};

/// At most this many caught artifacts get full evidence; the rest are counted.
const MAX_EXPLAINED: usize = 25;

/// Which list a rule set applies to.
pub(crate) fn side_name(role: ArtifactRole) -> &'static str {
    match role {
        ArtifactRole::Material => "materials",
        ArtifactRole::Product => "products",
    }
}

fn plural(role: ArtifactRole) -> &'static str {
    side_name(role)
}

/// `sha256:74dc3727c6e8…` for the human view.
pub(crate) fn short_digest(d: &ArtifactDigests) -> String {
    match d.iter().next() {
        Some((alg, hex)) => format!("{alg}:{}", abbreviate(hex)),
        None => "(no digest)".to_owned(),
    }
}

/// The first algorithm on which two digest sets differ, rendered for both.
fn digest_difference(ours: Option<&ArtifactDigests>, theirs: &ArtifactDigests) -> String {
    let Some(ours) = ours else {
        return format!("theirs {}", short_digest(theirs));
    };
    for (alg, t) in theirs.iter() {
        match ours.get(alg) {
            Some(o) if o != t => {
                return format!("{alg} {} vs {}", abbreviate(t), abbreviate(o));
            }
            None => {}
            Some(_) => {}
        }
    }
    format!("digest sets differ ({} vs {})", algs(theirs), algs(ours))
}

fn algs(d: &ArtifactDigests) -> String {
    d.iter().map(|(a, _)| a).collect::<Vec<_>>().join("+")
}

/// The first 12 characters and an ellipsis (character-safe: unknown digest algorithms may
/// carry any text).
fn abbreviate(hex: &str) -> String {
    match hex.char_indices().nth(12) {
        Some((i, _)) => format!("{}…", &hex[..i]),
        None => hex.to_owned(),
    }
}

/// At most `n` characters of `s`.
pub(crate) fn prefix(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
}

pub(crate) fn artifact_ref(
    step: &str,
    role: ArtifactRole,
    path: &str,
    d: Option<&ArtifactDigests>,
) -> ArtifactRef {
    ArtifactRef {
        step: step.to_owned(),
        role,
        path: path.to_owned(),
        digests: d
            .map(|d| {
                d.iter()
                    .map(|(a, h)| (a.to_owned(), h.to_owned()))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// A note on why `rule` did not consume `path` (None when its pattern does not apply).
fn why_not(
    rule: &ArtifactRule,
    c: &Consumption,
    item: &str,
    role: ArtifactRole,
    own: &ArtifactMap,
    path: &str,
) -> Option<String> {
    let text = match c {
        Consumption::NotMatched | Consumption::NeverConsumes | Consumption::Consumed => {
            return None;
        }
        Consumption::NoDestinationLink { step } => {
            format!("no verified link for step '{step}'")
        }
        Consumption::NoDestinationArtifact { step, role, path } => {
            format!("'{step}' has no {} '{path}'", role.as_str())
        }
        Consumption::DigestDiffers {
            step,
            role: their_role,
            path: their_path,
            theirs,
        } => format!(
            "digest changed: {step} {} '{their_path}' and {item} {} '{path}' differ ({})",
            their_role.as_str(),
            role.as_str(),
            digest_difference(own.get(path), theirs)
        ),
        Consumption::NotCreated { is_material, .. } => {
            if *is_material {
                "not created: it is also a material of this step".to_owned()
            } else {
                "not created: it is not a product of this step".to_owned()
            }
        }
        Consumption::NotDeleted { is_product, .. } => {
            if *is_product {
                "not deleted: it is still a product of this step".to_owned()
            } else {
                "not deleted: it is not a material of this step".to_owned()
            }
        }
        Consumption::NotModified { on_both_sides } => {
            if *on_both_sides {
                "not modified: material and product digests are equal".to_owned()
            } else {
                "not modified: it is not both a material and a product".to_owned()
            }
        }
    };
    Some(format!("{rule}: {text}"))
}

/// Every report of `path` by other steps and inspections (the trail it followed).
fn trail(
    links: &dyn LinkSet,
    names: &[String],
    item: &str,
    role: ArtifactRole,
    path: &str,
) -> Vec<ArtifactRef> {
    let mut out = Vec::new();
    for name in names {
        for r in [ArtifactRole::Material, ArtifactRole::Product] {
            if name == item && r == role {
                continue;
            }
            if let Some(d) = links.artifacts(name, r).and_then(|m| m.get(path)) {
                out.push(artifact_ref(name, r, path, Some(d)));
            }
        }
    }
    out
}

/// Builds the check for one rule list of one item.
///
/// `id` is the check id of the list (`steps.build.products`); `names` lists every item with a
/// link, in layout order (for trails).
#[allow(clippy::too_many_arguments)]
pub(crate) fn rules_check(
    id: &str,
    kind: &str,
    item: &str,
    role: ArtifactRole,
    rules: &[ArtifactRule],
    report: &QueueReport,
    links: &dyn LinkSet,
    names: &[String],
) -> Check {
    let empty = ArtifactMap::new();
    let materials = links
        .artifacts(item, ArtifactRole::Material)
        .unwrap_or(&empty);
    let products = links
        .artifacts(item, ArtifactRole::Product)
        .unwrap_or(&empty);
    let own = match role {
        ArtifactRole::Material => materials,
        ArtifactRole::Product => products,
    };
    let mut children = Vec::with_capacity(rules.len() + 1);
    for (index, rule) in rules.iter().enumerate() {
        let rid = format!("{id}.rule[{index}]");
        let title = rule.to_string();
        let Some(result) = report.results.get(index) else {
            children.push(Check::skip(
                rid,
                title,
                "not evaluated: an earlier rule failed",
            ));
            continue;
        };
        let check = match &result.failure {
            None => match rule {
                ArtifactRule::Disallow(_) => {
                    Check::pass(rid, title, "no remaining artifact matched")
                }
                ArtifactRule::Require(p) => Check::pass(rid, title, format!("'{p}' is present")),
                _ => Check::pass(
                    rid,
                    title,
                    format!(
                        "consumed {} {}",
                        result.consumed,
                        count_word(result.consumed)
                    ),
                ),
            },
            Some(RuleFailure::Disallowed { paths }) => {
                let compiled: Vec<Compiled<'_>> =
                    rules[..index].iter().map(Compiled::new).collect();
                let mut evidence = Vec::new();
                for path in paths.iter().take(MAX_EXPLAINED) {
                    let notes = compiled
                        .iter()
                        .filter_map(|c| {
                            let why = consumes(c, materials, products, own, path, links);
                            why_not(c.rule, &why, item, role, own, path)
                        })
                        .collect();
                    evidence.push(Evidence::Artifact {
                        artifact: artifact_ref(item, role, path, own.get(path)),
                        trail: trail(links, names, item, role, path),
                        notes,
                    });
                }
                if paths.len() > MAX_EXPLAINED {
                    evidence.push(Evidence::value(
                        "more artifacts",
                        format!("{} more not shown", paths.len() - MAX_EXPLAINED),
                    ));
                }
                let listed: Vec<&str> = paths.iter().take(5).map(String::as_str).collect();
                let more = if paths.len() > 5 {
                    format!(" and {} more", paths.len() - 5)
                } else {
                    String::new()
                };
                Check::fail(
                    rid,
                    title,
                    format!(
                        "{kind} '{item}': {} {} of its {} not accounted for by earlier rules: {}{more}",
                        paths.len(),
                        count_word(paths.len()),
                        plural(role),
                        listed.join(", ")
                    ),
                )
                .with_evidences(evidence)
            }
            Some(RuleFailure::Required { path }) => {
                let reason = if let Some(d) = own.get(path) {
                    // It was there: an earlier rule consumed it.
                    let consumer = rules[..index].iter().find(|r| {
                        consumes(&Compiled::new(r), materials, products, own, path, links)
                            == Consumption::Consumed
                    });
                    let by = consumer.map_or_else(String::new, |r| format!(" by '{r}'"));
                    let check_reason = format!(
                        "{kind} '{item}': '{path}' is among its {} but was already consumed{by}",
                        plural(role)
                    );
                    children.push(Check::fail(rid, title, check_reason).with_evidence(
                        Evidence::Artifact {
                            artifact: artifact_ref(item, role, path, Some(d)),
                            trail: trail(links, names, item, role, path),
                            notes: Vec::new(),
                        },
                    ));
                    continue;
                } else {
                    format!(
                        "{kind} '{item}' has no {} '{path}'",
                        side_name(role).trim_end_matches('s')
                    )
                };
                Check::fail(rid, title, reason).with_evidence(Evidence::value(
                    format!("{} of {item}", side_name(role)),
                    own.len().to_string(),
                ))
            }
        };
        children.push(check);
    }
    if report.failure().is_none() {
        children.push(Check::pass(
            format!("{id}.implicit-allow"),
            "ALLOW * (implicit)",
            format!(
                "{} remaining {} allowed",
                report.unconsumed.len(),
                count_word(report.unconsumed.len())
            ),
        ));
    }
    let mut group = Check::group(
        id,
        format!("expected_{} of {kind} '{item}'", side_name(role)),
        children,
    );
    if group.outcome == Outcome::Fail {
        if let Some(first) = group.children.iter().find(|c| c.outcome == Outcome::Fail) {
            group.reason = format!("'{}' failed", first.title);
        }
    } else {
        group.reason = format!("{} {} checked", own.len(), count_word(own.len()));
    }
    group
}

fn count_word(n: usize) -> &'static str {
    if n == 1 { "artifact" } else { "artifacts" }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::layout::rules::{LinkArtifacts, apply};

    #[test]
    fn explanations_never_slice_inside_a_character() {
        // Unknown digest algorithms may carry any text; abbreviations must stay char-safe.
        let odd = ArtifactDigests::from_map_unchecked(BTreeMap::from([(
            "x-custom".to_owned(),
            "é".repeat(20),
        )]));
        let other = ArtifactDigests::from_map_unchecked(BTreeMap::from([(
            "x-custom".to_owned(),
            "ü".repeat(20),
        )]));
        let links: BTreeMap<String, LinkArtifacts> = BTreeMap::from([
            (
                "a".to_owned(),
                LinkArtifacts {
                    materials: ArtifactMap::new(),
                    products: BTreeMap::from([("f".to_owned(), odd)]),
                },
            ),
            (
                "b".to_owned(),
                LinkArtifacts {
                    materials: BTreeMap::from([("f".to_owned(), other)]),
                    products: ArtifactMap::new(),
                },
            ),
        ]);
        let rules = vec![
            ArtifactRule::parse(&["MATCH", "f", "WITH", "PRODUCTS", "FROM", "a"]).unwrap(),
            ArtifactRule::Disallow("*".into()),
        ];
        let report = apply("b", ArtifactRole::Material, &rules, &links).unwrap();
        let names = vec!["a".to_owned(), "b".to_owned()];
        let check = rules_check(
            "steps.b.materials",
            "step",
            "b",
            ArtifactRole::Material,
            &rules,
            &report,
            &links,
            &names,
        );
        assert_eq!(check.outcome, Outcome::Fail);
        let text = format!("{:?}", check.children[1].evidence);
        assert!(text.contains("digest changed"), "{text}");
        assert_eq!(prefix("ééé", 2), "éé");
        assert_eq!(short_digest(&ArtifactDigests::new()), "(no digest)");
    }
}
