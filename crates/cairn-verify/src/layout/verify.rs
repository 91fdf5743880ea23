//! The verification workflow of in-toto specification v1.0 section 5, in the order of the
//! reference implementation, producing a [`Verdict`] instead of stopping at the first error:
//!
//! 1. layout signatures (every given layout key must have signed);
//! 2. expiry against the verification time;
//! 3. parameter substitution, then the layout's structure (rules parse, names unique, keys
//!    known, thresholds at least 1);
//! 4. per step: links from authorised functionaries, signatures, threshold over distinct keys;
//!    sublayouts, recursively; command alignment (a warning); agreement of threshold links;
//! 5. step artifact rules;
//! 6. inspections (only when everything above passed, so commands never run on a supply chain
//!    already known to be bad), then inspection artifact rules.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cairn_model::layout::Layout;
use cairn_sign::{KeyId, PublicKey, Verdict as SigVerdict};
use cairn_sigstore::TrustedRoot;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::document::{Document, LinkData, Payload};
use super::explain::{self, short_digest};
use super::inspect::{self, InspectionSettings};
use super::params;
use super::rules::{self, LinkArtifacts};
use super::steps::{self, error_chain};
use crate::verdict::{ArtifactRole, Check, Evidence, Outcome, Verdict};

/// How deep sublayouts may nest.
pub const MAX_SUBLAYOUT_DEPTH: usize = 8;

/// What to verify against.
#[derive(Debug, Clone)]
pub struct Options {
    /// Keys that must each have signed the layout.
    pub layout_keys: Vec<PublicKey>,
    /// The verification time (expiry is checked against it).
    pub at: DateTime<Utc>,
    /// Parameters for `{NAME}` substitution; substitution happens only when non-empty.
    pub params: BTreeMap<String, String>,
    /// Where the links are.
    pub link_dir: PathBuf,
    /// How inspections run.
    pub inspections: InspectionSettings,
}

/// Why verification could not be carried out at all (as opposed to a failing verdict).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No layout key was given: nothing could establish trust in the layout.
    #[error("at least one layout key is required")]
    NoLayoutKeys,
    /// The layout file could not be read.
    #[error("cannot read layout {path}")]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Verifies the layout at `path` and the supply chain it describes.
pub fn verify_file(path: &Path, opts: &Options) -> Result<Verdict, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    verify_bytes(&bytes, &path.display().to_string(), opts)
}

/// Verifies a layout given as bytes; `subject` names it in the verdict. Links in Sigstore
/// bundles are verified against the embedded public-good trusted root (see
/// [`verify_bytes_with_root`]).
pub fn verify_bytes(bytes: &[u8], subject: &str, opts: &Options) -> Result<Verdict, Error> {
    verify_bytes_inner(bytes, subject, opts, None)
}

/// [`verify_file`], with the Sigstore trusted root that links in Sigstore bundles are
/// verified against (their Fulcio CAs, Rekor keys, CT logs and TSAs).
pub fn verify_file_with_root(
    path: &Path,
    opts: &Options,
    root: &TrustedRoot,
) -> Result<Verdict, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    verify_bytes_with_root(&bytes, &path.display().to_string(), opts, root)
}

/// [`verify_bytes`], with the Sigstore trusted root for links in Sigstore bundles.
pub fn verify_bytes_with_root(
    bytes: &[u8],
    subject: &str,
    opts: &Options,
    root: &TrustedRoot,
) -> Result<Verdict, Error> {
    verify_bytes_inner(bytes, subject, opts, Some(root))
}

fn verify_bytes_inner(
    bytes: &[u8],
    subject: &str,
    opts: &Options,
    root: Option<&TrustedRoot>,
) -> Result<Verdict, Error> {
    if opts.layout_keys.is_empty() {
        return Err(Error::NoLayoutKeys);
    }
    let keys: Vec<(PublicKey, Option<KeyId>)> =
        opts.layout_keys.iter().map(|k| (k.clone(), None)).collect();
    let mut run = Run {
        opts,
        trust: steps::Trust { at: opts.at, root },
        stack: Vec::new(),
    };
    let result = run.layout(bytes, &keys, &opts.link_dir, "", "");
    Ok(Verdict::new(subject, result.checks))
}

struct Run<'a> {
    opts: &'a Options,
    trust: steps::Trust<'a>,
    /// (canonical link dir, layout digest) of the layouts being verified, outermost first.
    stack: Vec<(PathBuf, [u8; 32])>,
}

struct LayoutResult {
    checks: Vec<Check>,
    /// The summary link (first step's materials, last step's products), when all passed.
    summary: Option<LinkData>,
}

fn skip_rest(prefix: &str, why: &str) -> Check {
    Check::skip(format!("{prefix}steps"), "steps and inspections", why)
}

impl Run<'_> {
    /// Verifies one layout document; `prefix` goes in front of check ids (sublayouts).
    fn layout(
        &mut self,
        bytes: &[u8],
        keys: &[(PublicKey, Option<KeyId>)],
        link_dir: &Path,
        prefix: &str,
        summary_name: &str,
    ) -> LayoutResult {
        let mut checks = Vec::new();
        let fail = |checks: Vec<Check>| LayoutResult {
            checks,
            summary: None,
        };
        let id = |s: &str| format!("{prefix}{s}");

        // The document and its signatures.
        let doc = match Document::from_slice(bytes) {
            Ok(doc) => doc,
            Err(e) => {
                checks.push(Check::fail(
                    id("layout.format"),
                    "layout document",
                    format!("cannot read the layout: {}", error_chain(&e)),
                ));
                checks.push(skip_rest(prefix, "the layout could not be read"));
                return fail(checks);
            }
        };
        let Payload::Layout(signed) = &doc.payload else {
            checks.push(Check::fail(
                id("layout.format"),
                "layout document",
                "the document is a link, not a layout",
            ));
            return fail(checks);
        };
        let sig_check = signature_check(&id("layout.signatures"), &doc, keys);
        let trusted = sig_check.outcome != Outcome::Fail;
        checks.push(sig_check);
        if !trusted {
            checks.push(skip_rest(
                prefix,
                "the layout is not signed by every layout key",
            ));
            return fail(checks);
        }

        // Parameters, then the typed layout.
        let mut signed = signed.clone();
        if !self.opts.params.is_empty() {
            match params::substitute(&mut signed, &self.opts.params) {
                Ok(()) => checks.push(Check::pass(
                    id("layout.parameters"),
                    "parameter substitution",
                    format!("{} parameter(s) substituted", self.opts.params.len()),
                )),
                Err(e) => {
                    checks.push(Check::fail(
                        id("layout.parameters"),
                        "parameter substitution",
                        e.to_string(),
                    ));
                    checks.push(skip_rest(prefix, "parameter substitution failed"));
                    return fail(checks);
                }
            }
        }
        let layout = match Layout::from_signed(&signed) {
            Ok(l) => l,
            Err(e) => {
                checks.push(Check::fail(
                    id("layout.format"),
                    "layout structure",
                    format!("invalid layout: {}", error_chain(&e)),
                ));
                checks.push(skip_rest(prefix, "the layout is malformed"));
                return fail(checks);
            }
        };

        // Expiry.
        checks.push(match &layout.expires {
            None => Check::fail(
                id("layout.expiry"),
                "layout expiry",
                "the layout has no 'expires' (the in-toto specification requires it)",
            ),
            Some(exp) if exp.to_datetime() <= self.opts.at => Check::fail(
                id("layout.expiry"),
                "layout expiry",
                format!("the layout expired at {exp}"),
            )
            .with_evidence(Evidence::value("expires", exp.as_str()))
            .with_evidence(Evidence::value(
                "verification time",
                self.opts.at.to_rfc3339(),
            )),
            Some(exp) => Check::pass(
                id("layout.expiry"),
                "layout expiry",
                format!("valid until {exp}"),
            ),
        });
        if let Err(e) = layout.validate()
            && !matches!(e, cairn_model::metablock::MetadataError::MissingExpires)
        {
            checks.push(Check::fail(
                id("layout.format"),
                "layout structure",
                format!("invalid layout: {}", error_chain(&e)),
            ));
            checks.push(skip_rest(prefix, "the layout is malformed"));
            return fail(checks);
        }

        // Cycle detection: the same layout again in the same directory.
        let digest: [u8; 32] = Sha256::digest(bytes).into();
        let dir_key = std::fs::canonicalize(link_dir).unwrap_or_else(|_| link_dir.to_path_buf());
        if self
            .stack
            .iter()
            .any(|(d, h)| *d == dir_key && *h == digest)
        {
            checks.push(Check::fail(
                id("layout.sublayouts"),
                "sublayout nesting",
                format!(
                    "cyclic sublayout: this layout is already being verified for {}",
                    link_dir.display()
                ),
            ));
            return fail(checks);
        }
        if self.stack.len() >= MAX_SUBLAYOUT_DEPTH {
            checks.push(Check::fail(
                id("layout.sublayouts"),
                "sublayout nesting",
                format!("sublayouts nest deeper than {MAX_SUBLAYOUT_DEPTH} levels"),
            ));
            return fail(checks);
        }
        self.stack.push((dir_key, digest));
        let result = self.chain(&layout, link_dir, prefix, summary_name, checks);
        self.stack.pop();
        result
    }

    /// Steps, sublayouts, rules and inspections of a trusted, well-formed layout.
    fn chain(
        &mut self,
        layout: &Layout,
        link_dir: &Path,
        prefix: &str,
        summary_name: &str,
        mut checks: Vec<Check>,
    ) -> LayoutResult {
        let id = |s: &str| format!("{prefix}{s}");
        let mut step_checks: Vec<Vec<Check>> = Vec::with_capacity(layout.steps.len());
        let mut reduced: BTreeMap<String, LinkData> = BTreeMap::new();

        // Reading and checking links is independent per step: do it on all cores.
        let loaded = load_all(layout, link_dir, &self.trust);
        for (step, found) in layout.steps.iter().zip(loaded) {
            let sid = id(&format!("steps.{}", step.name));
            let mut children = Vec::new();
            let threshold = step.threshold as usize;
            let th = if found.distinct_keys >= threshold {
                Check::pass(
                    format!("{sid}.threshold"),
                    format!(
                        "links from {threshold} of {} functionaries",
                        step.pubkeys.len()
                    ),
                    format!(
                        "{} validly signed link(s) from distinct authorised functionaries",
                        found.distinct_keys
                    ),
                )
            } else {
                Check::fail(
                    format!("{sid}.threshold"),
                    format!(
                        "links from {threshold} of {} functionaries",
                        step.pubkeys.len()
                    ),
                    format!(
                        "step '{}' needs links validly signed by {threshold} distinct authorised functionaries, found {}",
                        step.name, found.distinct_keys
                    ),
                )
            };
            children.push(th.with_evidences(found.evidence));
            let threshold_met = found.distinct_keys >= threshold;

            // Sublayouts become their summary links.
            let mut datas: Vec<(String, LinkData)> = Vec::new();
            let mut sub_failed = false;
            for link in found.accepted {
                let file = link
                    .path
                    .file_name()
                    .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
                match link.payload {
                    Payload::Link(data) => datas.push((file, data)),
                    Payload::Layout(_) => {
                        let sub_dir = link_dir.join(format!("{}.{}", step.name, link.file_prefix));
                        let bytes = std::fs::read(&link.path).unwrap_or_default();
                        let sub_prefix = format!("{sid}.sublayout.");
                        let sub = self.layout(
                            &bytes,
                            &[(link.key.clone(), Some(link.keyid.clone()))],
                            &sub_dir,
                            &sub_prefix,
                            &step.name,
                        );
                        let mut group = Check::group(
                            format!("{sid}.sublayout"),
                            format!("sublayout {file} (links in {})", sub_dir.display()),
                            sub.checks,
                        );
                        match sub.summary {
                            Some(summary) if group.outcome != Outcome::Fail => {
                                group.reason = "the sublayout's supply chain verified".to_owned();
                                datas.push((file, summary));
                            }
                            _ => {
                                sub_failed = true;
                                if let Some(first) = first_failure(&group) {
                                    group.reason = format!("sublayout failed: {first}");
                                }
                            }
                        }
                        children.push(group);
                    }
                }
            }

            // Command alignment: a warning, as in the reference.
            if !datas.is_empty() {
                let differing: Vec<&(String, LinkData)> = datas
                    .iter()
                    .filter(|(_, d)| d.command != step.expected_command)
                    .collect();
                children.push(if differing.is_empty() {
                    Check::pass(
                        format!("{sid}.command"),
                        "expected command",
                        "the recorded command is the expected one",
                    )
                } else {
                    let (f, d) = differing[0];
                    Check::warn(
                        format!("{sid}.command"),
                        "expected command",
                        format!(
                            "{f} ran {:?}, the layout expects {:?}",
                            d.command, step.expected_command
                        ),
                    )
                    .with_evidence(Evidence::value(
                        "expected",
                        shell_words(&step.expected_command),
                    ))
                    .with_evidence(Evidence::value("recorded", shell_words(&d.command)))
                });
            }

            // Threshold links must agree on their artifacts.
            if threshold > 1 && datas.len() > 1 {
                let (ref_file, reference) = &datas[0];
                let mut agree = Check::pass(
                    format!("{sid}.agreement"),
                    "threshold links agree",
                    format!(
                        "{} links report the same materials and products",
                        datas.len()
                    ),
                );
                for (file, d) in &datas[1..] {
                    if d.artifacts != reference.artifacts {
                        agree = Check::fail(
                            format!("{sid}.agreement"),
                            "threshold links agree",
                            format!("links {ref_file} and {file} report different artifacts"),
                        )
                        .with_evidences(artifact_differences(
                            &step.name,
                            &reference.artifacts,
                            &d.artifacts,
                        ));
                        break;
                    }
                }
                children.push(agree);
            }

            if threshold_met
                && !sub_failed
                && let Some((_, first)) = datas.into_iter().next()
            {
                reduced.insert(step.name.clone(), first);
            }
            step_checks.push(children);
        }

        // Step rules over the reduced links.
        let mut links = ChainLinks {
            steps: reduced,
            inspections: BTreeMap::new(),
        };
        let mut names: Vec<String> = layout.steps.iter().map(|s| s.name.clone()).collect();
        for (step, children) in layout.steps.iter().zip(step_checks.iter_mut()) {
            let sid = id(&format!("steps.{}", step.name));
            for (role, rules_list) in [
                (ArtifactRole::Material, &step.expected_materials),
                (ArtifactRole::Product, &step.expected_products),
            ] {
                let lid = format!("{sid}.{}", explain::side_name(role));
                match rules::apply(&step.name, role, rules_list, &links) {
                    Some(report) => children.push(explain::rules_check(
                        &lid, "step", &step.name, role, rules_list, &report, &links, &names,
                    )),
                    None => children.push(Check::skip(
                        lid,
                        format!(
                            "expected_{} of step '{}'",
                            explain::side_name(role),
                            step.name
                        ),
                        "not checked: the step has no verified link",
                    )),
                }
            }
        }
        let steps_group = Check::group(
            id("steps"),
            "steps",
            layout
                .steps
                .iter()
                .zip(step_checks)
                .map(|(s, c)| {
                    let mut g = Check::group(
                        id(&format!("steps.{}", s.name)),
                        format!("step '{}'", s.name),
                        c,
                    );
                    if let Some(first) = first_failure(&g) {
                        g.reason = first;
                    }
                    g
                })
                .collect(),
        );
        let chain_ok = steps_group.outcome != Outcome::Fail
            && checks.iter().all(|c| c.outcome != Outcome::Fail);
        checks.push(steps_group);

        // Inspections.
        if !layout.inspect.is_empty() {
            let mut inspections = Vec::new();
            for insp in &layout.inspect {
                let iid = id(&format!("inspections.{}", insp.name));
                if !chain_ok {
                    inspections.push(InspectionEntry::Skipped(Check::skip(
                        iid,
                        format!("inspection '{}'", insp.name),
                        "not run: the steps did not verify",
                    )));
                    continue;
                }
                let mut children = Vec::new();
                let title = format!("run {}", shell_words(&insp.run));
                match inspect::run(&insp.run, &self.opts.inspections) {
                    Err(e) => {
                        children.push(Check::fail(format!("{iid}.run"), title, error_chain(&e)));
                    }
                    Ok(r) => {
                        let data = LinkData {
                            name: insp.name.clone(),
                            command: insp.run.clone(),
                            artifacts: LinkArtifacts {
                                materials: r.materials.clone(),
                                products: r.products.clone(),
                            },
                            byproducts: byproducts(&r),
                        };
                        let mut run_check = if r.timed_out {
                            Check::fail(
                                format!("{iid}.run"),
                                title,
                                format!(
                                    "timed out after {} s and was killed",
                                    self.opts.inspections.timeout.as_secs_f64()
                                ),
                            )
                        } else if r.return_value != Some(0) {
                            Check::fail(
                                format!("{iid}.run"),
                                title,
                                match r.return_value {
                                    Some(code) => format!("exited with status {code}"),
                                    None => "was killed by a signal".to_owned(),
                                },
                            )
                        } else {
                            Check::pass(format!("{iid}.run"), title, "exited with status 0")
                        };
                        if !r.stderr.trim().is_empty() && run_check.outcome == Outcome::Fail {
                            run_check =
                                run_check.with_evidence(Evidence::value("stderr", tail(&r.stderr)));
                        }
                        if let Some(dir) = &self.opts.inspections.link_dir {
                            match write_inspection_link(dir, &data) {
                                Ok(path) => {
                                    run_check = run_check.with_evidence(Evidence::file(
                                        path.display().to_string(),
                                        "inspection link",
                                    ))
                                }
                                Err(e) => {
                                    run_check = run_check.with_evidence(Evidence::value(
                                        "inspection link",
                                        format!("not written: {e}"),
                                    ))
                                }
                            }
                        }
                        let ran = run_check.outcome == Outcome::Pass;
                        children.push(run_check);
                        if ran {
                            links.inspections.insert(insp.name.clone(), data.artifacts);
                            names.push(insp.name.clone());
                        }
                    }
                }
                inspections.push(InspectionEntry::Ran(children));
            }
            // Rules of inspections see every step and every inspection that ran.
            let mut groups = Vec::new();
            for (insp, entry) in layout.inspect.iter().zip(inspections) {
                let iid = id(&format!("inspections.{}", insp.name));
                let mut children = match entry {
                    InspectionEntry::Skipped(c) => {
                        groups.push(c);
                        continue;
                    }
                    InspectionEntry::Ran(c) => c,
                };
                for (role, rules_list) in [
                    (ArtifactRole::Material, &insp.expected_materials),
                    (ArtifactRole::Product, &insp.expected_products),
                ] {
                    let lid = format!("{iid}.{}", explain::side_name(role));
                    match rules::apply(&insp.name, role, rules_list, &links) {
                        Some(report) => children.push(explain::rules_check(
                            &lid,
                            "inspection",
                            &insp.name,
                            role,
                            rules_list,
                            &report,
                            &links,
                            &names,
                        )),
                        None => children.push(Check::skip(
                            lid,
                            format!(
                                "expected_{} of inspection '{}'",
                                explain::side_name(role),
                                insp.name
                            ),
                            "not checked: the inspection did not run successfully",
                        )),
                    }
                }
                let mut g = Check::group(iid, format!("inspection '{}'", insp.name), children);
                if let Some(first) = first_failure(&g) {
                    g.reason = first;
                }
                groups.push(g);
            }
            checks.push(Check::group(id("inspections"), "inspections", groups));
        }

        let all_ok = checks.iter().all(|c| c.outcome != Outcome::Fail);
        // Only sublayouts need a summary (it replaces their link in the super layout).
        let summary = (all_ok && !prefix.is_empty())
            .then(|| summary_link(layout, &links.steps, summary_name));
        links.drop_in_background();
        LayoutResult { checks, summary }
    }
}

/// The links rules see: one per step (the first verified one), then each inspection's.
struct ChainLinks {
    steps: BTreeMap<String, LinkData>,
    inspections: BTreeMap<String, LinkArtifacts>,
}

impl ChainLinks {
    /// Frees large artifact lists on another thread: tens of thousands of small allocations
    /// take a noticeable share of a verification, and nothing waits for them.
    fn drop_in_background(self) {
        let size: usize = self
            .steps
            .values()
            .map(|d| d.artifacts.materials.len() + d.artifacts.products.len())
            .sum();
        if size > 10_000 {
            // If the thread cannot be started, dropping here is just as correct.
            let _ = std::thread::Builder::new()
                .name("cairn-drop".into())
                .spawn(move || drop(self));
        }
    }
}

impl rules::LinkSet for ChainLinks {
    fn artifacts(&self, name: &str, role: ArtifactRole) -> Option<&rules::ArtifactMap> {
        self.inspections
            .get(name)
            .or_else(|| self.steps.get(name).map(|d| &d.artifacts))
            .map(|a| a.side(role))
    }
}

/// [`steps::load`] for every step, spread over the available cores.
fn load_all(layout: &Layout, link_dir: &Path, trust: &steps::Trust<'_>) -> Vec<steps::StepLinks> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(layout.steps.len().max(1));
    if workers <= 1 {
        return layout
            .steps
            .iter()
            .map(|s| steps::load(layout, s, link_dir, trust))
            .collect();
    }
    let chunk = layout.steps.len().div_ceil(workers);
    std::thread::scope(|scope| {
        let handles: Vec<_> = layout
            .steps
            .chunks(chunk)
            .map(|group| {
                scope.spawn(move || {
                    group
                        .iter()
                        .map(|s| steps::load(layout, s, link_dir, trust))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("link loading does not panic"))
            .collect()
    })
}

enum InspectionEntry {
    Skipped(Check),
    Ran(Vec<Check>),
}

/// The reference's summary link of a (sub)layout: the first step's materials and the last
/// step's products and command.
fn summary_link(layout: &Layout, reduced: &BTreeMap<String, LinkData>, name: &str) -> LinkData {
    let mut out = LinkData {
        name: name.to_owned(),
        command: Vec::new(),
        artifacts: LinkArtifacts::default(),
        byproducts: serde_json::Map::new(),
    };
    if let (Some(first), Some(last)) = (layout.steps.first(), layout.steps.last()) {
        if let Some(f) = reduced.get(&first.name) {
            out.artifacts.materials = f.artifacts.materials.clone();
        }
        if let Some(l) = reduced.get(&last.name) {
            out.artifacts.products = l.artifacts.products.clone();
            out.command = l.command.clone();
            out.byproducts = l.byproducts.clone();
        }
    }
    out
}

fn signature_check(id: &str, doc: &Document, keys: &[(PublicKey, Option<KeyId>)]) -> Check {
    let mut children = Vec::new();
    for (i, (key, declared)) in keys.iter().enumerate() {
        let ids = key.key_ids();
        let mut shown = declared.as_ref().map_or_else(
            || ids.securesystemslib1.as_str().to_owned(),
            |d| d.as_str().to_owned(),
        );
        let kid = format!("{id}.key[{i}]");
        let verdict = doc.verify(key, declared.as_ref());
        // Name the key by the id its signature used, else by its securesystemslib-1.x id.
        if let SigVerdict::Verified(m) = &verdict {
            shown = m.keyid.clone();
        }
        let title = format!("signed by key {}", explain::prefix(&shown, 16));
        children.push(match verdict {
            SigVerdict::Verified(m) => Check::pass(
                kid,
                title,
                format!(
                    "signature {} verifies ({} {})",
                    m.index,
                    doc.form.describe(),
                    match_words(&m.matched_by)
                ),
            )
            .with_evidence(Evidence::signer(shown, "signed")),
            SigVerdict::Rejected { rejections } => {
                let why = if rejections.is_empty() || doc.declared_keyids().is_empty() {
                    "the layout has no signatures".to_owned()
                } else {
                    rejections
                        .iter()
                        .map(|r| match &r.keyid {
                            Some(k) => {
                                format!("signature by {}: {}", explain::prefix(k, 16), r.reason)
                            }
                            None => r.reason.to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                };
                Check::fail(
                    kid,
                    title,
                    format!("no valid signature by this key ({why})"),
                )
                .with_evidence(Evidence::signer(shown, "did not sign"))
                .with_evidence(Evidence::value("legacy key id", ids.legacy.as_str()))
            }
        });
    }
    let mut group = Check::group(id, "layout signatures", children);
    if group.outcome == Outcome::Fail {
        group.reason = "the layout is not signed by every given layout key".to_owned();
    } else {
        group.reason = format!("signed by all {} layout key(s)", keys.len());
    }
    group
}

fn match_words(m: &cairn_sign::KeyMatch) -> String {
    match m {
        cairn_sign::KeyMatch::KeyId(rule) => format!("key id matches ({rule} rule)"),
        cairn_sign::KeyMatch::DeclaredKeyId => "key id as declared".to_owned(),
        cairn_sign::KeyMatch::TriedKey => "matched by trying the key".to_owned(),
    }
}

fn first_failure(c: &Check) -> Option<String> {
    c.walk()
        .find(|k| {
            k.outcome == Outcome::Fail && k.children.iter().all(|x| x.outcome != Outcome::Fail)
        })
        .map(|k| format!("{}: {}", k.title, k.reason))
}

fn artifact_differences(step: &str, a: &LinkArtifacts, b: &LinkArtifacts) -> Vec<Evidence> {
    let mut out = Vec::new();
    for (role, x, y) in [
        ("materials", &a.materials, &b.materials),
        ("products", &a.products, &b.products),
    ] {
        for (path, d) in x {
            match y.get(path) {
                None => out.push(Evidence::value(
                    format!("{step} {role} '{path}'"),
                    "only in the first link",
                )),
                Some(e) if e != d => out.push(Evidence::value(
                    format!("{step} {role} '{path}'"),
                    format!("{} vs {}", short_digest(d), short_digest(e)),
                )),
                Some(_) => {}
            }
        }
        for path in y.keys().filter(|p| !x.contains_key(*p)) {
            out.push(Evidence::value(
                format!("{step} {role} '{path}'"),
                "only in the second link",
            ));
        }
    }
    out.truncate(25);
    out
}

fn byproducts(r: &inspect::InspectionRun) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert(
        "return-value".into(),
        r.return_value
            .map_or(Value::Null, |c| Value::from(i64::from(c))),
    );
    m.insert("stdout".into(), Value::String(r.stdout.clone()));
    m.insert("stderr".into(), Value::String(r.stderr.clone()));
    m
}

fn write_inspection_link(dir: &Path, data: &LinkData) -> std::io::Result<PathBuf> {
    let mut link = cairn_model::link::Link::new(data.name.clone());
    link.command = data.command.clone();
    let sets = |a: &rules::ArtifactMap| {
        a.iter()
            .map(|(p, d)| (p.clone(), d.to_digest_set()))
            .collect()
    };
    link.materials = sets(&data.artifacts.materials);
    link.products = sets(&data.artifacts.products);
    link.byproducts = data.byproducts.clone();
    let mb = cairn_model::metablock::Metablock::unsigned(link.to_signed_value());
    let path = dir.join(format!("{}.link", data.name));
    let tmp = dir.join(format!(".{}.link.tmp-{}", data.name, std::process::id()));
    std::fs::write(&tmp, mb.to_pretty_json())?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

fn tail(text: &str) -> String {
    let t = text.trim_end();
    match t.char_indices().rev().nth(500) {
        Some((i, _)) => format!("…{}", &t[i..]),
        None => t.to_owned(),
    }
}

/// A command as a shell would show it (for humans only; never executed through a shell).
pub(crate) fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
