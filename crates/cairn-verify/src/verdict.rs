//! Verdicts: the result of a verification as a value.
//!
//! A [`Verdict`] is a tree of [`Check`]s. Each check has a stable `id` (a dotted path such as
//! `steps.package.materials.rule[2]`), a one-line `title` saying what was checked, an
//! [`Outcome`], a `reason` in plain words, and [`Evidence`]: the artifacts, keys, files and
//! values that led to the outcome. The in-toto layout engine and the attestation policy engine
//! both produce verdicts of this shape, so one renderer and one JSON contract serve both.
//!
//! The outcome of a parent check is derived from its children unless set explicitly: any
//! failure fails the parent, otherwise any warning makes it a warning, otherwise it passes (a
//! parent whose children were all skipped is skipped).

use serde::Serialize;

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The check was not run (a prerequisite failed, or it does not apply); the reason says why.
    Skip,
    /// The check passed.
    Pass,
    /// The check passed with a caveat a human should read (e.g. a command that differs from
    /// the expected one). Warnings never fail a verdict.
    Warn,
    /// The check failed; the verdict fails.
    Fail,
}

impl Outcome {
    /// The lowercase word used in the human view and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Skip => "skip",
            Outcome::Pass => "pass",
            Outcome::Warn => "warn",
            Outcome::Fail => "fail",
        }
    }

    /// Combines the outcomes of sibling checks into the outcome of their parent.
    pub fn combine(outcomes: impl IntoIterator<Item = Outcome>) -> Outcome {
        let mut seen_any = false;
        let mut worst = Outcome::Skip;
        for o in outcomes {
            seen_any = true;
            worst = match (worst, o) {
                (Outcome::Fail, _) | (_, Outcome::Fail) => Outcome::Fail,
                (Outcome::Warn, _) | (_, Outcome::Warn) => Outcome::Warn,
                (Outcome::Pass, _) | (_, Outcome::Pass) => Outcome::Pass,
                _ => Outcome::Skip,
            };
        }
        if seen_any { worst } else { Outcome::Pass }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether an artifact was read from a link's materials or its products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ArtifactRole {
    /// Something the step read.
    Material,
    /// Something the step wrote.
    Product,
}

impl ArtifactRole {
    /// `"material"` or `"product"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactRole::Material => "material",
            ArtifactRole::Product => "product",
        }
    }
}

/// One artifact as some step (or inspection) reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArtifactRef {
    /// The step or inspection whose link reported it.
    pub step: String,
    /// Material or product.
    pub role: ArtifactRole,
    /// The artifact path as recorded.
    pub path: String,
    /// Its digests, `algorithm -> hex`, sorted by algorithm.
    pub digests: Vec<(String, String)>,
}

/// Evidence attached to a check: what the check looked at and what it found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Evidence {
    /// An artifact a rule caught, with where it came from and why nothing earlier accounted
    /// for it (`notes`, e.g. "MATCH ... FROM build: digest differs, build product has sha256 ab..").
    Artifact {
        /// The artifact under scrutiny.
        artifact: ArtifactRef,
        /// The same path as other steps reported it (the trail it followed).
        trail: Vec<ArtifactRef>,
        /// Why earlier rules did not consume it.
        notes: Vec<String>,
    },
    /// A key or identity that signed, or was expected to sign.
    Signer {
        /// Key id (as declared by the layout or the signature).
        keyid: String,
        /// What happened with it ("signature valid", "no signature", ...).
        status: String,
    },
    /// A file the check read or wrote.
    File {
        /// Its path.
        path: String,
        /// What it is ("link", "layout", "inspection link", ...).
        role: String,
    },
    /// Any other named value (expected/actual command, expiry time, exit code, ...).
    Value {
        /// What the value is.
        label: String,
        /// The value, rendered as text.
        value: String,
    },
}

impl Evidence {
    /// Shorthand for [`Evidence::Value`].
    pub fn value(label: impl Into<String>, value: impl Into<String>) -> Self {
        Evidence::Value {
            label: label.into(),
            value: value.into(),
        }
    }

    /// Shorthand for [`Evidence::File`].
    pub fn file(path: impl Into<String>, role: impl Into<String>) -> Self {
        Evidence::File {
            path: path.into(),
            role: role.into(),
        }
    }

    /// Shorthand for [`Evidence::Signer`].
    pub fn signer(keyid: impl Into<String>, status: impl Into<String>) -> Self {
        Evidence::Signer {
            keyid: keyid.into(),
            status: status.into(),
        }
    }
}

/// One check in a verdict tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable, machine-readable id: a dotted path (`layout.signatures`, `steps.build.threshold`,
    /// `steps.build.products.rule[1]`). Ids are part of the JSON contract.
    pub id: String,
    /// What was checked, in a few words (for rules: the rule as written).
    pub title: String,
    /// How it came out.
    pub outcome: Outcome,
    /// Why, in one sentence a release engineer understands.
    pub reason: String,
    /// What the check looked at.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    /// Sub-checks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Check>,
}

impl Check {
    /// A leaf check with an outcome.
    pub fn new(
        id: impl Into<String>,
        title: impl Into<String>,
        outcome: Outcome,
        reason: impl Into<String>,
    ) -> Self {
        Check {
            id: id.into(),
            title: title.into(),
            outcome,
            reason: reason.into(),
            evidence: Vec::new(),
            children: Vec::new(),
        }
    }

    /// A passing leaf check.
    pub fn pass(
        id: impl Into<String>,
        title: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Check::new(id, title, Outcome::Pass, reason)
    }

    /// A failing leaf check.
    pub fn fail(
        id: impl Into<String>,
        title: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Check::new(id, title, Outcome::Fail, reason)
    }

    /// A warning leaf check.
    pub fn warn(
        id: impl Into<String>,
        title: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Check::new(id, title, Outcome::Warn, reason)
    }

    /// A skipped leaf check.
    pub fn skip(
        id: impl Into<String>,
        title: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Check::new(id, title, Outcome::Skip, reason)
    }

    /// A group whose outcome is derived from `children`; `reason` is filled in from the
    /// children when empty.
    pub fn group(id: impl Into<String>, title: impl Into<String>, children: Vec<Check>) -> Self {
        let outcome = Outcome::combine(children.iter().map(|c| c.outcome));
        let reason = match outcome {
            Outcome::Fail => {
                let n = children
                    .iter()
                    .filter(|c| c.outcome == Outcome::Fail)
                    .count();
                format!("{n} of {} checks failed", children.len())
            }
            Outcome::Warn => "passed with warnings".to_owned(),
            Outcome::Skip => "not checked".to_owned(),
            Outcome::Pass => "all checks passed".to_owned(),
        };
        Check {
            id: id.into(),
            title: title.into(),
            outcome,
            reason,
            evidence: Vec::new(),
            children,
        }
    }

    /// Replaces the reason.
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = reason.into();
        self
    }

    /// Adds one piece of evidence.
    pub fn with_evidence(mut self, evidence: Evidence) -> Self {
        self.evidence.push(evidence);
        self
    }

    /// Adds several pieces of evidence.
    pub fn with_evidences(mut self, evidence: impl IntoIterator<Item = Evidence>) -> Self {
        self.evidence.extend(evidence);
        self
    }

    /// Adds a child and re-derives this check's outcome (a failing child fails the parent).
    pub fn push(&mut self, child: Check) {
        self.outcome = Outcome::combine([self.outcome, child.outcome]);
        self.children.push(child);
    }

    /// Depth-first walk over this check and all its descendants.
    pub fn walk(&self) -> impl Iterator<Item = &Check> {
        let mut stack = vec![self];
        std::iter::from_fn(move || {
            let next = stack.pop()?;
            stack.extend(next.children.iter().rev());
            Some(next)
        })
    }

    /// The first descendant (or self) with this id.
    pub fn find(&self, id: &str) -> Option<&Check> {
        self.walk().find(|c| c.id == id)
    }
}

/// The result of one verification: what was verified, the overall outcome, and every check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// What was verified (a layout path, an image reference, ...).
    pub subject: String,
    /// [`Outcome::Fail`] if any check failed, [`Outcome::Warn`] if any warned, else pass.
    pub outcome: Outcome,
    /// The top-level checks.
    pub checks: Vec<Check>,
}

impl Verdict {
    /// Builds a verdict, deriving the overall outcome from the checks (no checks is a failure:
    /// absence of evidence never passes).
    pub fn new(subject: impl Into<String>, checks: Vec<Check>) -> Self {
        let outcome = if checks.is_empty() {
            Outcome::Fail
        } else {
            match Outcome::combine(checks.iter().map(|c| c.outcome)) {
                // Nothing actually checked is not a pass either.
                Outcome::Skip => Outcome::Fail,
                o => o,
            }
        };
        Verdict {
            subject: subject.into(),
            outcome,
            checks,
        }
    }

    /// True when nothing failed (warnings allowed).
    pub fn passed(&self) -> bool {
        matches!(self.outcome, Outcome::Pass | Outcome::Warn)
    }

    /// Every check in the tree, depth first.
    pub fn walk(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().flat_map(Check::walk)
    }

    /// The failing checks that have no failing children: the root causes.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.walk().filter(|c| {
            c.outcome == Outcome::Fail && !c.children.iter().any(|k| k.outcome == Outcome::Fail)
        })
    }

    /// Leaf warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Check> {
        self.walk().filter(|c| {
            c.outcome == Outcome::Warn && !c.children.iter().any(|k| k.outcome == Outcome::Warn)
        })
    }

    /// The check with this id, anywhere in the tree.
    pub fn find(&self, id: &str) -> Option<&Check> {
        self.walk().find(|c| c.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combine_prefers_fail_then_warn_then_pass() {
        use Outcome::*;
        assert_eq!(Outcome::combine([Pass, Warn, Skip]), Warn);
        assert_eq!(Outcome::combine([Pass, Fail, Warn]), Fail);
        assert_eq!(Outcome::combine([Skip, Skip]), Skip);
        assert_eq!(Outcome::combine([Skip, Pass]), Pass);
        assert_eq!(Outcome::combine([]), Pass);
    }

    #[test]
    fn failing_leaf_fails_the_verdict_and_is_a_root_cause() {
        let mut steps = Check::group("steps", "steps", vec![Check::pass("steps.a", "a", "ok")]);
        steps.push(Check::group(
            "steps.b",
            "b",
            vec![Check::fail("steps.b.threshold", "threshold", "no link")],
        ));
        let v = Verdict::new("layout", vec![steps]);
        assert!(!v.passed());
        let roots: Vec<_> = v.failures().map(|c| c.id.as_str()).collect();
        assert_eq!(roots, vec!["steps.b.threshold"]);
        assert_eq!(v.find("steps.a").map(|c| c.outcome), Some(Outcome::Pass));
    }

    #[test]
    fn empty_or_all_skipped_verdicts_fail_closed() {
        assert!(!Verdict::new("x", vec![]).passed());
        assert!(!Verdict::new("x", vec![Check::skip("a", "a", "n/a")]).passed());
        assert!(Verdict::new("x", vec![Check::warn("a", "a", "hmm")]).passed());
    }

    #[test]
    fn json_shape_is_stable() {
        let c = Check::fail("r", "DISALLOW *", "caught").with_evidence(Evidence::value("k", "v"));
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["outcome"], "fail");
        assert_eq!(json["evidence"][0]["kind"], "value");
        assert!(json.get("children").is_none());
    }
}
