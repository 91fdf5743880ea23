//! Copy and promote: everything reachable from one digest (index, manifests, blobs, referrers,
//! cosign `.sig`/`.att`/`.sbom` tags) from one repository to another, by digest, with the
//! destination tag moved last.
//!
//! Properties the promotion gate relies on:
//! - only the given digest is copied: nothing is resolved again, so a tag moved on the source
//!   in the meantime changes nothing;
//! - every manifest and blob is verified against its digest on the way;
//! - children before parents, blobs before manifests, the tag last: a failure anywhere leaves
//!   the destination tag where it was;
//! - re-running is cheap and changes nothing (existing content is skipped).

use std::collections::{BTreeSet, HashSet};
use std::sync::Mutex;

use serde::Serialize;

use crate::digest::Digest;
use crate::error::Error;
use crate::manifest::{Descriptor, Manifest};
use crate::reference::Reference;
use crate::store::{FetchedManifest, Repository, Resolved, push_referrer, referrers};

/// What to copy besides the image itself.
#[derive(Debug, Clone)]
pub struct CopyOptions {
    /// Copy referrers (attestations, signatures, SBOMs attached with `subject`), recursively.
    pub referrers: bool,
    /// Copy cosign's `sha256-<hex>.sig` / `.att` / `.sbom` tags.
    pub cosign_tags: bool,
    /// Plan only: read the source, check the destination, write nothing.
    pub dry_run: bool,
    /// Blobs copied at once.
    pub parallelism: usize,
    /// Attempts per blob when its stream is cut short (each request inside also retries).
    pub blob_attempts: u32,
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions {
            referrers: true,
            cosign_tags: true,
            dry_run: false,
            parallelism: 4,
            blob_attempts: 3,
        }
    }
}

/// What a copy did (or, dry, would do).
#[derive(Debug, Clone, Default, Serialize)]
pub struct CopyReport {
    /// The root digest copied.
    pub digest: Option<Digest>,
    /// Manifests pushed.
    pub manifests_copied: usize,
    /// Manifests already present.
    pub manifests_present: usize,
    /// Blobs uploaded.
    pub blobs_copied: usize,
    /// Blobs mounted from the source repository (same registry).
    pub blobs_mounted: usize,
    /// Blobs already present.
    pub blobs_present: usize,
    /// Bytes uploaded.
    pub bytes_copied: u64,
    /// Referrer manifests copied (or present) for the image.
    pub referrers: Vec<Digest>,
    /// cosign tags copied.
    pub cosign_tags: Vec<String>,
    /// The destination tag set, if any.
    pub tag: Option<String>,
    /// True when nothing was written.
    pub dry_run: bool,
}

/// A promotion approval: the digest a verifier checked. Create it only after verifying exactly
/// this digest; [`promote`] refuses to copy anything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    digest: Digest,
    evidence: String,
}

impl Approval {
    /// Approves `digest`; `evidence` says why (e.g. the policy and verdict summary).
    pub fn new(digest: Digest, evidence: impl Into<String>) -> Approval {
        Approval {
            digest,
            evidence: evidence.into(),
        }
    }

    /// The approved digest.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// Why it was approved.
    pub fn evidence(&self) -> &str {
        &self.evidence
    }
}

/// Promotes a resolved, approved image: checks the approval is for the resolved digest, then
/// copies exactly that digest (see [`copy`]).
pub fn promote(
    src: &dyn Repository,
    resolved: &Resolved,
    approval: &Approval,
    dst: &dyn Repository,
    dst_tag: Option<&str>,
    options: &CopyOptions,
) -> Result<CopyReport, Error> {
    if approval.digest() != resolved.digest() {
        return Err(Error::ApprovalMismatch {
            approved: approval.digest().clone(),
            resolved: resolved.digest().clone(),
        });
    }
    copy(src, resolved.digest(), dst, dst_tag, options)
}

struct Ctx<'a> {
    src: &'a dyn Repository,
    dst: &'a dyn Repository,
    options: &'a CopyOptions,
    report: Mutex<CopyReport>,
    seen_manifests: Mutex<HashSet<Digest>>,
    seen_blobs: Mutex<HashSet<Digest>>,
    mount_from: Option<String>,
}

/// Copies the manifest `digest` and everything it references from `src` to `dst`, then sets
/// `dst_tag` (when given) as the very last write.
pub fn copy(
    src: &dyn Repository,
    digest: &Digest,
    dst: &dyn Repository,
    dst_tag: Option<&str>,
    options: &CopyOptions,
) -> Result<CopyReport, Error> {
    if let Some(t) = dst_tag {
        crate::reference::check_tag(t)?;
    }
    let mount_from = match (src.registry_location(), dst.registry_location()) {
        (Some((sr, srepo)), Some((dr, drepo))) if sr == dr && srepo != drepo => Some(srepo),
        _ => None,
    };
    let ctx = Ctx {
        src,
        dst,
        options,
        report: Mutex::new(CopyReport {
            digest: Some(digest.clone()),
            dry_run: options.dry_run,
            ..CopyReport::default()
        }),
        seen_manifests: Mutex::new(HashSet::new()),
        seen_blobs: Mutex::new(HashSet::new()),
        mount_from,
    };
    let (root, tree) = copy_tree(&ctx, digest, None)?;

    if options.referrers || options.cosign_tags {
        let tags: BTreeSet<String> = if options.cosign_tags {
            src.list_tags().unwrap_or_default().into_iter().collect()
        } else {
            BTreeSet::new()
        };
        for d in &tree {
            copy_attached(&ctx, d, &tags, 0)?;
        }
    }

    let mut report = ctx.report.into_inner().unwrap_or_else(|p| p.into_inner());
    if !options.dry_run {
        match dst_tag {
            Some(tag) => {
                let pushed =
                    dst.push_manifest(&root.descriptor.media_type, &root.bytes, Some(tag))?;
                if &pushed.digest != digest {
                    return Err(Error::DigestMismatch {
                        what: format!("tag {tag} in {}", dst.display_name()),
                        expected: digest.clone(),
                        actual: pushed.digest,
                    });
                }
            }
            None => dst.retain_root(&root.descriptor)?,
        }
    }
    report.tag = dst_tag.map(str::to_string);
    Ok(report)
}

/// Copies referrers and cosign tags of `subject` (recursively, bounded depth).
fn copy_attached(
    ctx: &Ctx<'_>,
    subject: &Digest,
    tags: &BTreeSet<String>,
    depth: usize,
) -> Result<(), Error> {
    if depth > 3 {
        return Ok(());
    }
    if ctx.options.referrers {
        let (list, _) = referrers(ctx.src, subject, None)?;
        for r in list {
            if !r.is_manifest() {
                continue;
            }
            let (fetched, _) = copy_tree(ctx, &r.digest, Some(subject))?;
            ctx.report
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .referrers
                .push(r.digest.clone());
            drop(fetched);
            copy_attached(ctx, &r.digest, tags, depth + 1)?;
        }
    }
    if ctx.options.cosign_tags {
        for suffix in ["sig", "att", "sbom"] {
            let tag = format!("{}.{suffix}", subject.to_fallback_tag());
            if !tags.contains(&tag) {
                continue;
            }
            let m = ctx.src.fetch_manifest(&Reference::Tag(tag.clone()))?;
            copy_tree(ctx, &m.descriptor.digest, None)?;
            if !ctx.options.dry_run {
                ctx.dst
                    .push_manifest(&m.descriptor.media_type, &m.bytes, Some(&tag))?;
            }
            ctx.report
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .cosign_tags
                .push(tag);
        }
    }
    Ok(())
}

/// Copies the manifest `digest` with its children and blobs. Returns the root and every
/// manifest digest of the tree. With `subject`, the root is pushed as a referrer of it.
fn copy_tree(
    ctx: &Ctx<'_>,
    digest: &Digest,
    subject: Option<&Digest>,
) -> Result<(FetchedManifest, Vec<Digest>), Error> {
    // Phase 1: read the whole tree (verified), post-order.
    let mut order: Vec<FetchedManifest> = Vec::new();
    let mut blobs: Vec<Descriptor> = Vec::new();
    walk(ctx, digest, &mut order, &mut blobs, 0)?;
    let digests: Vec<Digest> = order.iter().map(|m| m.descriptor.digest.clone()).collect();

    // Phase 2: blobs, in parallel.
    copy_blobs(ctx, blobs)?;

    // Phase 3: manifests, children first.
    let root = match order.iter().find(|m| &m.descriptor.digest == digest) {
        Some(m) => m.clone(),
        // Already copied earlier in this run (a shared child or referrer).
        None => ctx.src.fetch_manifest(&Reference::Digest(digest.clone()))?,
    };
    for m in &order {
        let d = &m.descriptor.digest;
        let is_root_referrer = subject.is_some() && d == digest;
        let exists = ctx.dst.manifest_exists(d)?;
        if exists && !is_root_referrer {
            ctx.report
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .manifests_present += 1;
            continue;
        }
        if ctx.options.dry_run {
            let mut r = ctx.report.lock().unwrap_or_else(|p| p.into_inner());
            if exists {
                r.manifests_present += 1;
            } else {
                r.manifests_copied += 1;
            }
            continue;
        }
        match (is_root_referrer, subject) {
            (true, Some(s)) => {
                push_referrer(ctx.dst, &m.descriptor.media_type, &m.bytes, s)?;
            }
            _ => {
                let pushed = ctx
                    .dst
                    .push_manifest(&m.descriptor.media_type, &m.bytes, None)?;
                if &pushed.digest != d {
                    return Err(Error::DigestMismatch {
                        what: format!("manifest pushed to {}", ctx.dst.display_name()),
                        expected: d.clone(),
                        actual: pushed.digest,
                    });
                }
            }
        }
        let mut r = ctx.report.lock().unwrap_or_else(|p| p.into_inner());
        if exists {
            r.manifests_present += 1;
        } else {
            r.manifests_copied += 1;
        }
    }
    Ok((root, digests))
}

fn walk(
    ctx: &Ctx<'_>,
    digest: &Digest,
    order: &mut Vec<FetchedManifest>,
    blobs: &mut Vec<Descriptor>,
    depth: usize,
) -> Result<(), Error> {
    if depth > 8 {
        return Err(Error::Protocol {
            url: ctx.src.display_name(),
            reason: format!("index nesting deeper than 8 at {digest}"),
        });
    }
    if !ctx
        .seen_manifests
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(digest.clone())
    {
        return Ok(());
    }
    let m = ctx.src.fetch_manifest(&Reference::Digest(digest.clone()))?;
    match m.parse()? {
        Manifest::Index(index) => {
            for child in &index.manifests {
                if child.is_manifest() {
                    walk(ctx, &child.digest, order, blobs, depth + 1)?;
                } else {
                    blobs.push(child.clone());
                }
            }
        }
        Manifest::Image(image) => {
            blobs.push(image.config.clone());
            for layer in &image.layers {
                // Non-distributable ("foreign") layers live elsewhere; like skopeo, leave them.
                if layer.extra.contains_key("urls") {
                    continue;
                }
                blobs.push(layer.clone());
            }
        }
    }
    order.push(m);
    Ok(())
}

fn copy_blobs(ctx: &Ctx<'_>, blobs: Vec<Descriptor>) -> Result<(), Error> {
    let mut queue = Vec::new();
    {
        let mut seen = ctx.seen_blobs.lock().unwrap_or_else(|p| p.into_inner());
        for b in blobs {
            if seen.insert(b.digest.clone()) {
                queue.push(b);
            }
        }
    }
    let queue = Mutex::new(queue);
    let first_error: Mutex<Option<Error>> = Mutex::new(None);
    let workers = ctx.options.parallelism.clamp(1, 16);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    if first_error
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .is_some()
                    {
                        return;
                    }
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop();
                    let Some(desc) = next else { return };
                    if let Err(e) = copy_blob(ctx, &desc) {
                        first_error
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .get_or_insert(e);
                        return;
                    }
                }
            });
        }
    });
    match first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn copy_blob(ctx: &Ctx<'_>, desc: &Descriptor) -> Result<(), Error> {
    if ctx.dst.blob_exists(desc)? {
        ctx.report
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .blobs_present += 1;
        return Ok(());
    }
    if ctx.options.dry_run {
        let mut r = ctx.report.lock().unwrap_or_else(|p| p.into_inner());
        r.blobs_copied += 1;
        r.bytes_copied += desc.size;
        return Ok(());
    }
    if let Some(from) = &ctx.mount_from
        && ctx.dst.mount_blob(desc, from)?
    {
        ctx.report
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .blobs_mounted += 1;
        return Ok(());
    }
    // Stream from source to destination; the stream checks size and digest as it goes and the
    // destination only keeps the blob when it ended cleanly. A stream cut short (dropped
    // connection, stall) restarts the whole blob, a bounded number of times.
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let stream = ctx.src.open_blob(desc)?;
        match ctx.dst.push_blob_stream(desc, stream) {
            Ok(()) => break,
            Err(e @ Error::Transport { .. }) if attempt < ctx.options.blob_attempts.max(1) => {
                tracing::debug!(error = %e, digest = %desc.digest, attempt, "blob copy interrupted, restarting");
                std::thread::sleep(std::time::Duration::from_millis(100 << attempt.min(6)));
            }
            Err(e @ Error::Transport { .. }) if attempt > 1 => {
                return Err(Error::RetriesExhausted {
                    attempts: attempt,
                    last: Box::new(e),
                });
            }
            Err(e) => return Err(e),
        }
    }
    let mut r = ctx.report.lock().unwrap_or_else(|p| p.into_inner());
    r.blobs_copied += 1;
    r.bytes_copied += desc.size;
    Ok(())
}
