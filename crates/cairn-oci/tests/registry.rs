//! Against a real registry: Debian's docker-registry (CNCF distribution 2.8) started on
//! 127.0.0.1 by cairn_testkit::registry, images pushed with skopeo. Skips (with the reason)
//! when docker-registry or skopeo is missing; CAIRN_REQUIRE_PEERS=1 makes that a failure.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use cairn_oci::attach::attach_bundle;
use cairn_oci::discover::discover;
use cairn_oci::manifest::media;
use cairn_oci::store::{ReferrersSource, referrers};
use cairn_oci::{
    Approval, ClientConfig, CopyOptions, CopyReport, Digest, Error, PlatformSelection,
    PlatformSpec, Reference, RegistryRepo, Repository, Resolved, copy, promote, resolve,
};
use cairn_testkit::registry::{Registry, skopeo};
use proxy::{Fault, Proxy, Rule};

#[path = "common/proxy.rs"]
mod proxy;

/// The registry (docker-registry on 127.0.0.1) and skopeo, or `None` (skipped with the reason).
struct Peers {
    reg: Registry,
    sk: PathBuf,
}

impl Peers {
    fn start(test: &str) -> Option<Peers> {
        let reg = Registry::start(test)?;
        let sk = skopeo(test)?;
        Some(Peers { reg, sk })
    }

    fn host(&self) -> String {
        self.reg.host()
    }

    /// `skopeo copy [--all] oci:DIR:TAG docker://HOST/REPO:TAG`.
    fn push(&self, dir: &Path, tag: &str, repo: &str, all: bool) {
        common::skopeo_push(&self.sk, dir, tag, &self.host(), repo, all);
    }

    /// The manifest bytes the registry serves for `repo:tag` or `repo@digest` (read by skopeo).
    fn raw(&self, reference: &str) -> Vec<u8> {
        common::skopeo_raw(&self.sk, &format!("{}/{reference}", self.host()))
    }

    /// `repo` on this registry, through the test client.
    fn repo(&self, repo: &str) -> RegistryRepo {
        common::client()
            .repository(&self.host(), repo)
            .expect("repo")
    }
}

/// What `tag` in `repo` resolves to (all platforms).
fn resolve_tag(repo: &dyn Repository, tag: &str) -> Resolved {
    resolve(repo, &Reference::Tag(tag.into()), &PlatformSelection::All).expect("resolve")
}

/// Copies `digest` from `src` to `dst` tagged `tag`, with the default options.
fn copy_tagged(
    src: &dyn Repository,
    digest: &Digest,
    dst: &dyn Repository,
    tag: &str,
) -> Result<CopyReport, Error> {
    copy(src, digest, dst, Some(tag), &CopyOptions::default())
}

#[test]
fn skopeo_pushed_images_resolve_and_copy_by_digest() {
    let Some(p) = Peers::start("skopeo_pushed_images_resolve_and_copy_by_digest") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let single = common::single_arch_layout(&dir.path().join("single"), "v1", 10);
    let (idx, children) = common::multi_arch_layout(&dir.path().join("multi"), "v2", 20);
    p.push(&dir.path().join("single"), "v1", "team/app", false);
    p.push(&dir.path().join("multi"), "v2", "team/app", true);

    let src = p.repo("team/app");
    // skopeo keeps the manifest bytes, so digests match what was built locally.
    assert_eq!(resolve_tag(&src, "v1").digest(), &single.digest);
    assert_eq!(resolve_tag(&src, "v2").digest(), &idx.digest);
    let arm: PlatformSpec = "linux/arm64".parse().expect("platform");
    let r = resolve(
        &src,
        &Reference::Tag("v2".into()),
        &PlatformSelection::One(arm),
    )
    .expect("resolve arm64");
    assert_eq!(r.digest(), &children[1].digest);

    let dst = p.repo("prod/app");
    let rep = copy_tagged(&src, &idx.digest, &dst, "stable").expect("copy index");
    assert_eq!(rep.manifests_copied, 3, "{rep:?}");
    // Same registry, other repository: blobs are mounted, not re-uploaded.
    assert!(rep.blobs_mounted >= 4, "{rep:?}");
    assert_eq!(
        Digest::sha256_of(&p.raw("prod/app:stable")),
        idx.digest,
        "skopeo sees the same index bytes"
    );
    copy_tagged(&src, &single.digest, &dst, "single").expect("copy single");
    assert_eq!(Digest::sha256_of(&p.raw("prod/app:single")), single.digest);

    // Registry to layout and back to another registry repository keep digests too.
    let out = tempfile::tempdir().expect("tmp");
    let layout = cairn_oci::Layout::open_or_create(out.path()).expect("layout");
    copy_tagged(&dst, &idx.digest, &layout, "pulled").expect("pull to layout");
    let back = p.repo("again/app");
    copy_tagged(&layout, &idx.digest, &back, "x").expect("push from layout");
    assert_eq!(Digest::sha256_of(&p.raw("again/app:x")), idx.digest);
    // skopeo can copy what cairn pushed back into a layout, byte for byte.
    let check = tempfile::tempdir().expect("tmp");
    let status = std::process::Command::new(&p.sk)
        .args(["copy", "--quiet", "--all", "--src-tls-verify=false"])
        .arg(format!("docker://{}/again/app:x", p.host()))
        .arg(format!("oci:{}:x", check.path().display()))
        .status()
        .expect("skopeo");
    assert!(status.success());
}

#[test]
fn attach_uses_the_tag_schema_on_distribution_2_8() {
    let Some(p) = Peers::start("attach_uses_the_tag_schema_on_distribution_2_8") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let img = common::single_arch_layout(dir.path(), "v1", 30);
    p.push(dir.path(), "v1", "app", false);
    let repo = p.repo("app");

    // distribution 2.8 has no referrers API: the probe says so (404), so the tag schema is used.
    assert_eq!(repo.referrers_api(&img.digest, None).expect("probe"), None);
    let a = attach_bundle(
        &repo,
        &img,
        &common::bundle("reusable-workflow-attestation.sigstore.json"),
        None,
    )
    .expect("attach");
    let b = attach_bundle(
        &repo,
        &img,
        &common::bundle("sigstore-js-2.1.0-bundle.json"),
        None,
    )
    .expect("attach 2");
    let (list, via) =
        referrers(&repo, &img.digest, Some(media::SIGSTORE_BUNDLE_V03)).expect("list");
    assert_eq!(via, ReferrersSource::TagSchema);
    assert_eq!(
        list.iter().map(|d| d.digest.clone()).collect::<Vec<_>>(),
        vec![a.manifest.digest.clone(), b.manifest.digest.clone()]
    );

    // The registry itself serves the referrers index under the sha256-<hex> tag (read by skopeo).
    let raw = p.raw(&format!("app:{}", img.digest.to_fallback_tag()));
    let idx: serde_json::Value = serde_json::from_slice(&raw).expect("json");
    assert_eq!(idx["manifests"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        idx["manifests"][0]["artifactType"],
        media::SIGSTORE_BUNDLE_V03
    );
    assert_eq!(
        idx["manifests"][0]["annotations"]["dev.sigstore.bundle.predicateType"],
        "https://slsa.dev/provenance/v1"
    );
    // and the artifact manifest by digest.
    let raw = p.raw(&format!("app@{}", a.manifest.digest));
    assert_eq!(Digest::sha256_of(&raw), a.manifest.digest);

    let found = discover(&repo, &img.digest).expect("discover");
    assert_eq!(found.attestations.len(), 2);
    assert_eq!(
        found.attestations[1].signer.identity.as_deref(),
        Some(
            "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"
        )
    );
    // The tag did not move.
    assert_eq!(resolve_tag(&repo, "v1").digest(), &img.digest);
}

#[test]
fn copy_to_another_repo_keeps_digests_and_attestations_idempotently() {
    let Some(p) = Peers::start("copy_to_another_repo_keeps_digests_and_attestations_idempotently")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let (idx, children) = common::multi_arch_layout(dir.path(), "v1", 40);
    p.push(dir.path(), "v1", "staging/app", true);
    let src = p.repo("staging/app");
    attach_bundle(
        &src,
        &idx,
        &common::bundle("reusable-workflow-attestation.sigstore.json"),
        None,
    )
    .expect("attach index");
    attach_bundle(
        &src,
        &children[1],
        &common::bundle("custom-issuer.sigstore.json"),
        None,
    )
    .expect("attach child");

    let dst = p.repo("prod/app");
    let rep = copy_tagged(&src, &idx.digest, &dst, "v1").expect("copy");
    assert_eq!(rep.referrers.len(), 2, "{rep:?}");
    assert_eq!(
        discover(&dst, &idx.digest)
            .expect("discover")
            .attestations
            .len(),
        1
    );
    let child = discover(&dst, &children[1].digest).expect("discover child");
    assert_eq!(child.attestations.len(), 1);
    assert_eq!(
        child.attestations[0].signer.issuer.as_deref(),
        Some("https://token.actions.githubusercontent.com/hammer-time")
    );

    let again = copy_tagged(&src, &idx.digest, &dst, "v1").expect("copy again");
    assert_eq!(
        (
            again.manifests_copied,
            again.blobs_copied,
            again.blobs_mounted
        ),
        (0, 0, 0),
        "{again:?}"
    );
    let (list, _) = referrers(&dst, &idx.digest, None).expect("list");
    assert_eq!(list.len(), 1);
}

#[test]
fn tag_moved_on_src_between_resolve_and_copy_promotes_the_resolved_digest() {
    let Some(p) =
        Peers::start("tag_moved_on_src_between_resolve_and_copy_promotes_the_resolved_digest")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let first = common::single_arch_layout(&dir.path().join("a"), "v1", 50);
    let second = common::single_arch_layout(&dir.path().join("b"), "v1", 51);
    p.push(&dir.path().join("a"), "v1", "staging/app", false);
    let src = p.repo("staging/app");
    let resolved = resolve_tag(&src, "v1");
    assert_eq!(resolved.digest(), &first.digest);
    let approval = Approval::new(resolved.digest().clone(), "verified");
    // Someone pushes another image to the same tag after verification.
    p.push(&dir.path().join("b"), "v1", "staging/app", false);
    assert_eq!(resolve_tag(&src, "v1").digest(), &second.digest);
    let dst = p.repo("prod/app");
    promote(
        &src,
        &resolved,
        &approval,
        &dst,
        Some("v1"),
        &CopyOptions::default(),
    )
    .expect("promote");
    assert_eq!(resolve_tag(&dst, "v1").digest(), &first.digest);
    assert!(!dst.manifest_exists(&second.digest).expect("exists"));
}

#[test]
fn large_blobs_are_pushed_in_chunks() {
    let Some(p) = Peers::start("large_blobs_are_pushed_in_chunks") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let layout = cairn_oci::Layout::open_or_create(dir.path()).expect("layout");
    // A 9 MiB layer goes to a temp-file spool, and is sent in 3 MiB chunks.
    let mut img = common::push_image(&layout, "amd64", 60, 9 * 1024 * 1024 + 123);
    img.platform = None;
    common::tag(&layout, &img, "big");
    let client = common::client_with(ClientConfig {
        chunk_threshold: 1024 * 1024,
        chunk_size: 3 * 1024 * 1024,
        ..ClientConfig::default()
    });
    let dst = client.repository(&p.host(), "big/app").expect("repo");
    copy_tagged(&layout, &img.digest, &dst, "big").expect("chunked push");
    assert_eq!(Digest::sha256_of(&p.raw("big/app:big")), img.digest);
    // Read back through cairn (verified) into a fresh layout: identical.
    let out = tempfile::tempdir().expect("tmp");
    let back = cairn_oci::Layout::open_or_create(out.path()).expect("layout");
    let rep = copy_tagged(&dst, &img.digest, &back, "big").expect("pull");
    assert_eq!(rep.bytes_copied, img_bytes(&layout, &img));

    // The in-memory upload path chunks too (3 MiB + 1 byte in 3 MiB chunks: two PATCHes).
    let data = common::bytes(61, 3 * 1024 * 1024 + 1);
    let desc = cairn_oci::Descriptor::for_bytes("application/octet-stream", &data);
    dst.push_blob(&desc, &cairn_oci::blob::Blob::from_vec(data.clone()))
        .expect("chunked push_blob");
    let got = dst.fetch_blob(&desc).expect("fetch back");
    assert_eq!(got.to_vec().expect("read"), data);
}

fn img_bytes(repo: &dyn Repository, img: &cairn_oci::Descriptor) -> u64 {
    let m = repo
        .fetch_manifest(&Reference::Digest(img.digest.clone()))
        .expect("fetch");
    let cairn_oci::Manifest::Image(i) = m.parse().expect("parse") else {
        panic!("image")
    };
    i.config.size + i.layers.iter().map(|l| l.size).sum::<u64>()
}

/// The fault cases: `staging/app:v1` holds a new image, `prod/app:prod` an old one.
struct FaultCase {
    p: Peers,
    old: cairn_oci::Descriptor,
    new: cairn_oci::Descriptor,
    _dir: tempfile::TempDir,
}

impl FaultCase {
    fn start(test: &str) -> Option<FaultCase> {
        let p = Peers::start(test)?;
        let dir = tempfile::tempdir().expect("tmp");
        let old = common::single_arch_layout(&dir.path().join("old"), "v1", 70);
        let new = common::single_arch_layout(&dir.path().join("new"), "v1", 71);
        p.push(&dir.path().join("new"), "v1", "staging/app", false);
        // DST already has `prod` -> old.
        p.push(&dir.path().join("old"), "v1", "prod/app", false);
        common::tag(&p.repo("prod/app"), &old, "prod");
        Some(FaultCase {
            p,
            old,
            new,
            _dir: dir,
        })
    }

    /// Copies the new image from `staging/app` to `dst_repo:prod` with `client`, through a
    /// fault proxy applying `rule` in front of the source (or of the destination, `proxy_dst`).
    /// Returns the proxy (for its counters) and the outcome.
    fn copy_through(
        &self,
        rule: Arc<Rule>,
        proxy_dst: bool,
        client: &Arc<cairn_oci::Client>,
        dst_repo: &str,
    ) -> (Proxy, Result<CopyReport, Error>) {
        let proxy = Proxy::start(self.p.reg.port(), rule);
        let (src_host, dst_host) = if proxy_dst {
            (self.p.host(), proxy.host())
        } else {
            (proxy.host(), self.p.host())
        };
        let src = client.repository(&src_host, "staging/app").expect("repo");
        let dst = client.repository(&dst_host, dst_repo).expect("repo");
        let result = copy_tagged(&src, &self.new.digest, &dst, "prod");
        (proxy, result)
    }

    /// What `prod/app:prod` points at now.
    fn prod_digest(&self) -> Digest {
        resolve_tag(&self.p.repo("prod/app"), "prod")
            .digest()
            .clone()
    }
}

/// Three attempts, fast back-off, a 700 ms read time-out.
fn fast_config() -> ClientConfig {
    ClientConfig {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        read_timeout: Duration::from_millis(700),
        ..ClientConfig::default()
    }
}

fn fast_client() -> Arc<cairn_oci::Client> {
    common::client_with(fast_config())
}

/// `fault` for every GET whose path contains `path_part`; everything else passes.
fn on_get(path_part: &'static str, fault: Fault) -> Arc<Rule> {
    Arc::new(move |method: &str, path: &str| {
        if method == "GET" && path.contains(path_part) {
            fault
        } else {
            Fault::Pass
        }
    })
}

#[test]
fn transient_faults_are_retried() {
    let Some(case) = FaultCase::start("transient_faults_are_retried") else {
        return;
    };
    let counter = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = counter.clone();
    // Through the proxy, in order: a 500, a 429, a dropped connection, a stall, a truncated
    // blob; then everything passes.
    let rule = Arc::new(move |method: &str, path: &str| {
        let n = c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        match n {
            0 => Fault::Error500,
            1 => Fault::TooMany,
            2 => Fault::Drop,
            3 => Fault::Stall(Duration::from_secs(2)),
            _ if method == "GET" && path.contains("/blobs/") && n < 6 => Fault::Truncate(10),
            _ => Fault::Pass,
        }
    });
    let client = common::client_with(ClientConfig {
        max_attempts: 5,
        ..fast_config()
    });
    let (proxy, result) = case.copy_through(rule, false, &client, "prod/app");
    let rep = result.expect("copy survives faults");
    assert!(
        proxy.injected() >= 5,
        "faults injected: {}",
        proxy.injected()
    );
    assert_eq!(rep.blobs_copied, 2);
    assert_eq!(case.prod_digest(), case.new.digest);
}

#[test]
fn persistent_500s_fail_clearly_and_leave_the_dst_tag() {
    let Some(case) = FaultCase::start("persistent_500s_fail_clearly_and_leave_the_dst_tag") else {
        return;
    };
    // DST behind the proxy: manifest PUTs always fail.
    let rule = Arc::new(|method: &str, path: &str| {
        if method == "PUT" && path.contains("/manifests/") {
            Fault::Error500
        } else {
            Fault::Pass
        }
    });
    let (_proxy, result) = case.copy_through(rule, true, &fast_client(), "prod/app");
    match &result.expect_err("must fail") {
        Error::RetriesExhausted { attempts, last } => {
            assert_eq!(*attempts, 3);
            assert!(
                matches!(**last, Error::Status { status: 500, .. }),
                "{last:?}"
            );
        }
        other => panic!("expected RetriesExhausted, got {other:?}"),
    }
    assert_eq!(case.prod_digest(), case.old.digest, "DST tag unchanged");
}

#[test]
fn stalled_registry_times_out_and_leaves_the_dst_tag() {
    let Some(case) = FaultCase::start("stalled_registry_times_out_and_leaves_the_dst_tag") else {
        return;
    };
    let rule = on_get("/blobs/", Fault::Stall(Duration::from_secs(3)));
    let started = std::time::Instant::now();
    let (_proxy, result) = case.copy_through(rule, false, &fast_client(), "prod/app");
    let err = result.expect_err("must fail");
    assert!(
        matches!(err, Error::RetriesExhausted { attempts: 3, .. }),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "bounded: {:?}",
        started.elapsed()
    );
    assert_eq!(case.prod_digest(), case.old.digest, "DST tag unchanged");
}

#[test]
fn registry_stopped_mid_promotion_leaves_the_dst_tag() {
    let Some(case) = FaultCase::start("registry_stopped_mid_promotion_leaves_the_dst_tag") else {
        return;
    };
    // A second registry as SRC, stopped after resolution.
    let Some(mut src_reg) = Registry::start("registry_stopped_mid_promotion_leaves_the_dst_tag")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let img = common::single_arch_layout(dir.path(), "v1", 80);
    common::skopeo_push(&case.p.sk, dir.path(), "v1", &src_reg.host(), "app", false);
    let client = fast_client();
    let src = client.repository(&src_reg.host(), "app").expect("repo");
    let resolved = resolve_tag(&src, "v1");
    let approval = Approval::new(img.digest.clone(), "ok");
    src_reg.stop();
    let dst = client.repository(&case.p.host(), "prod/app").expect("repo");
    let err = promote(
        &src,
        &resolved,
        &approval,
        &dst,
        Some("prod"),
        &CopyOptions::default(),
    )
    .expect_err("must fail");
    match &err {
        Error::RetriesExhausted { last, .. } => {
            assert!(matches!(**last, Error::Transport { .. }), "{last:?}")
        }
        other => panic!("expected RetriesExhausted, got {other:?}"),
    }
    assert_eq!(case.prod_digest(), case.old.digest, "DST tag unchanged");
}

#[test]
fn a_lying_source_is_caught_and_nothing_moves() {
    let Some(case) = FaultCase::start("a_lying_source_is_caught_and_nothing_moves") else {
        return;
    };
    // Every blob the source serves has one byte changed.
    let client = fast_client();
    let (_proxy, result) = case.copy_through(
        on_get("/blobs/", Fault::Corrupt),
        false,
        &client,
        "other/app",
    );
    let err = result.expect_err("must fail");
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err:?}");
    let dst = case.p.repo("other/app");
    assert!(!dst.manifest_exists(&case.new.digest).expect("exists"));
    let m = case
        .p
        .repo("staging/app")
        .fetch_manifest(&Reference::Digest(case.new.digest.clone()))
        .expect("manifest");
    let cairn_oci::Manifest::Image(img) = m.parse().expect("parse") else {
        panic!("image")
    };
    for b in std::iter::once(&img.config).chain(img.layers.iter()) {
        assert!(
            !dst.blob_exists(b).expect("exists"),
            "corrupt blob {} must not land",
            b.digest
        );
    }
    // And a lying manifest is caught by digest too.
    let proxy2 = Proxy::start(
        case.p.reg.port(),
        on_get("/manifests/sha256:", Fault::Corrupt),
    );
    let src2 = client
        .repository(&proxy2.host(), "staging/app")
        .expect("repo");
    let err = src2
        .fetch_manifest(&Reference::Digest(case.new.digest.clone()))
        .expect_err("must fail");
    assert!(
        matches!(err, Error::DigestMismatch { .. } | Error::Manifest { .. }),
        "{err:?}"
    );
    assert_eq!(case.prod_digest(), case.old.digest);
}
