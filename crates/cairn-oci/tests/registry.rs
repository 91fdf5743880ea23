//! Against a real registry: Debian's docker-registry (CNCF distribution 2.8) started on
//! 127.0.0.1 by cairn_testkit::registry, images pushed with skopeo. Skips (with the reason)
//! when docker-registry or skopeo is missing; CAIRN_REQUIRE_PEERS=1 makes that a failure.

mod common;

use std::sync::Arc;
use std::time::Duration;

use cairn_oci::attach::attach_bundle;
use cairn_oci::discover::discover;
use cairn_oci::manifest::media;
use cairn_oci::store::{ReferrersSource, referrers};
use cairn_oci::{
    Approval, ClientConfig, CopyOptions, Digest, Error, PlatformSelection, PlatformSpec, Reference,
    Repository, copy, promote, resolve,
};
use cairn_testkit::registry::{Registry, skopeo};
use proxy::{Fault, Proxy};

#[path = "common/proxy.rs"]
mod proxy;

fn peers(test: &str) -> Option<(Registry, std::path::PathBuf)> {
    let reg = Registry::start(test)?;
    let sk = skopeo(test)?;
    Some((reg, sk))
}

#[test]
fn skopeo_pushed_images_resolve_and_copy_by_digest() {
    let Some((reg, sk)) = peers("skopeo_pushed_images_resolve_and_copy_by_digest") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let single = common::single_arch_layout(&dir.path().join("single"), "v1", 10);
    let (idx, children) = common::multi_arch_layout(&dir.path().join("multi"), "v2", 20);
    common::skopeo_push(
        &sk,
        &dir.path().join("single"),
        "v1",
        &reg.host(),
        "team/app",
        false,
    );
    common::skopeo_push(
        &sk,
        &dir.path().join("multi"),
        "v2",
        &reg.host(),
        "team/app",
        true,
    );

    let client = common::client();
    let src = client.repository(&reg.host(), "team/app").expect("repo");
    // skopeo keeps the manifest bytes, so digests match what was built locally.
    let r =
        resolve(&src, &Reference::Tag("v1".into()), &PlatformSelection::All).expect("resolve v1");
    assert_eq!(r.digest(), &single.digest);
    let r =
        resolve(&src, &Reference::Tag("v2".into()), &PlatformSelection::All).expect("resolve v2");
    assert_eq!(r.digest(), &idx.digest);
    let arm: PlatformSpec = "linux/arm64".parse().expect("platform");
    let r = resolve(
        &src,
        &Reference::Tag("v2".into()),
        &PlatformSelection::One(arm),
    )
    .expect("resolve arm64");
    assert_eq!(r.digest(), &children[1].digest);

    let dst = client.repository(&reg.host(), "prod/app").expect("repo");
    let rep = copy(
        &src,
        &idx.digest,
        &dst,
        Some("stable"),
        &CopyOptions::default(),
    )
    .expect("copy index");
    assert_eq!(rep.manifests_copied, 3, "{rep:?}");
    // Same registry, other repository: blobs are mounted, not re-uploaded.
    assert!(rep.blobs_mounted >= 4, "{rep:?}");
    let raw = common::skopeo_raw(&sk, &format!("{}/prod/app:stable", reg.host()));
    assert_eq!(
        Digest::sha256_of(&raw),
        idx.digest,
        "skopeo sees the same index bytes"
    );
    copy(
        &src,
        &single.digest,
        &dst,
        Some("single"),
        &CopyOptions::default(),
    )
    .expect("copy single");
    let raw = common::skopeo_raw(&sk, &format!("{}/prod/app:single", reg.host()));
    assert_eq!(Digest::sha256_of(&raw), single.digest);

    // Registry to layout and back to another registry repository keep digests too.
    let out = tempfile::tempdir().expect("tmp");
    let layout = cairn_oci::Layout::open_or_create(out.path()).expect("layout");
    copy(
        &dst,
        &idx.digest,
        &layout,
        Some("pulled"),
        &CopyOptions::default(),
    )
    .expect("pull to layout");
    let back = client.repository(&reg.host(), "again/app").expect("repo");
    copy(
        &layout,
        &idx.digest,
        &back,
        Some("x"),
        &CopyOptions::default(),
    )
    .expect("push from layout");
    let raw = common::skopeo_raw(&sk, &format!("{}/again/app:x", reg.host()));
    assert_eq!(Digest::sha256_of(&raw), idx.digest);
    // skopeo can copy what cairn pushed back into a layout, byte for byte.
    let check = tempfile::tempdir().expect("tmp");
    let status = std::process::Command::new(&sk)
        .args(["copy", "--quiet", "--all", "--src-tls-verify=false"])
        .arg(format!("docker://{}/again/app:x", reg.host()))
        .arg(format!("oci:{}:x", check.path().display()))
        .status()
        .expect("skopeo");
    assert!(status.success());
}

#[test]
fn attach_uses_the_tag_schema_on_distribution_2_8() {
    let Some((reg, sk)) = peers("attach_uses_the_tag_schema_on_distribution_2_8") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let img = common::single_arch_layout(dir.path(), "v1", 30);
    common::skopeo_push(&sk, dir.path(), "v1", &reg.host(), "app", false);
    let client = common::client();
    let repo = client.repository(&reg.host(), "app").expect("repo");

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
    let raw = common::skopeo_raw(
        &sk,
        &format!("{}/app:{}", reg.host(), img.digest.to_fallback_tag()),
    );
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
    let raw = common::skopeo_raw(&sk, &format!("{}/app@{}", reg.host(), a.manifest.digest));
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
    let r = resolve(&repo, &Reference::Tag("v1".into()), &PlatformSelection::All).expect("resolve");
    assert_eq!(r.digest(), &img.digest);
}

#[test]
fn copy_to_another_repo_keeps_digests_and_attestations_idempotently() {
    let Some((reg, sk)) = peers("copy_to_another_repo_keeps_digests_and_attestations_idempotently")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let (idx, children) = common::multi_arch_layout(dir.path(), "v1", 40);
    common::skopeo_push(&sk, dir.path(), "v1", &reg.host(), "staging/app", true);
    let client = common::client();
    let src = client.repository(&reg.host(), "staging/app").expect("repo");
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

    let dst = client.repository(&reg.host(), "prod/app").expect("repo");
    let rep = copy(&src, &idx.digest, &dst, Some("v1"), &CopyOptions::default()).expect("copy");
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

    let again =
        copy(&src, &idx.digest, &dst, Some("v1"), &CopyOptions::default()).expect("copy again");
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
    let Some((reg, sk)) =
        peers("tag_moved_on_src_between_resolve_and_copy_promotes_the_resolved_digest")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let first = common::single_arch_layout(&dir.path().join("a"), "v1", 50);
    let second = common::single_arch_layout(&dir.path().join("b"), "v1", 51);
    common::skopeo_push(
        &sk,
        &dir.path().join("a"),
        "v1",
        &reg.host(),
        "staging/app",
        false,
    );
    let client = common::client();
    let src = client.repository(&reg.host(), "staging/app").expect("repo");
    let resolved =
        resolve(&src, &Reference::Tag("v1".into()), &PlatformSelection::All).expect("resolve");
    assert_eq!(resolved.digest(), &first.digest);
    let approval = Approval::new(resolved.digest().clone(), "verified");
    // Someone pushes another image to the same tag after verification.
    common::skopeo_push(
        &sk,
        &dir.path().join("b"),
        "v1",
        &reg.host(),
        "staging/app",
        false,
    );
    assert_eq!(
        resolve(&src, &Reference::Tag("v1".into()), &PlatformSelection::All)
            .expect("re-resolve")
            .digest(),
        &second.digest
    );
    let dst = client.repository(&reg.host(), "prod/app").expect("repo");
    promote(
        &src,
        &resolved,
        &approval,
        &dst,
        Some("v1"),
        &CopyOptions::default(),
    )
    .expect("promote");
    let got = resolve(&dst, &Reference::Tag("v1".into()), &PlatformSelection::All).expect("dst");
    assert_eq!(got.digest(), &first.digest);
    assert!(!dst.manifest_exists(&second.digest).expect("exists"));
}

#[test]
fn large_blobs_are_pushed_in_chunks() {
    let Some((reg, sk)) = peers("large_blobs_are_pushed_in_chunks") else {
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
    let dst = client.repository(&reg.host(), "big/app").expect("repo");
    copy(
        &layout,
        &img.digest,
        &dst,
        Some("big"),
        &CopyOptions::default(),
    )
    .expect("chunked push");
    let raw = common::skopeo_raw(&sk, &format!("{}/big/app:big", reg.host()));
    assert_eq!(Digest::sha256_of(&raw), img.digest);
    // Read back through cairn (verified) into a fresh layout: identical.
    let out = tempfile::tempdir().expect("tmp");
    let back = cairn_oci::Layout::open_or_create(out.path()).expect("layout");
    let rep = copy(
        &dst,
        &img.digest,
        &back,
        Some("big"),
        &CopyOptions::default(),
    )
    .expect("pull");
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

fn setup_fault_case(
    test: &str,
) -> Option<(
    Registry,
    std::path::PathBuf,
    tempfile::TempDir,
    cairn_oci::Descriptor,
    cairn_oci::Descriptor,
)> {
    let (reg, sk) = peers(test)?;
    let dir = tempfile::tempdir().expect("tmp");
    let old = common::single_arch_layout(&dir.path().join("old"), "v1", 70);
    let new = common::single_arch_layout(&dir.path().join("new"), "v1", 71);
    common::skopeo_push(
        &sk,
        &dir.path().join("new"),
        "v1",
        &reg.host(),
        "staging/app",
        false,
    );
    // DST already has `prod` -> old.
    common::skopeo_push(
        &sk,
        &dir.path().join("old"),
        "v1",
        &reg.host(),
        "prod/app",
        false,
    );
    let client = common::client();
    let dst = client.repository(&reg.host(), "prod/app").expect("repo");
    common::tag(&dst, &old, "prod");
    Some((reg, sk, dir, old, new))
}

fn fast_client() -> Arc<cairn_oci::Client> {
    common::client_with(ClientConfig {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        read_timeout: Duration::from_millis(700),
        ..ClientConfig::default()
    })
}

fn prod_digest(reg: &Registry) -> Digest {
    let client = common::client();
    let dst = client.repository(&reg.host(), "prod/app").expect("repo");
    resolve(
        &dst,
        &Reference::Tag("prod".into()),
        &PlatformSelection::All,
    )
    .expect("prod")
    .digest()
    .clone()
}

#[test]
fn transient_faults_are_retried() {
    let Some((reg, _sk, _dir, _old, new)) = setup_fault_case("transient_faults_are_retried") else {
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
    let proxy = Proxy::start(reg.port(), rule);
    let client = common::client_with(ClientConfig {
        max_attempts: 5,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        read_timeout: Duration::from_millis(700),
        ..ClientConfig::default()
    });
    let src = client
        .repository(&proxy.host(), "staging/app")
        .expect("repo");
    let dst = client.repository(&reg.host(), "prod/app").expect("repo");
    let rep = copy(
        &src,
        &new.digest,
        &dst,
        Some("prod"),
        &CopyOptions::default(),
    )
    .expect("copy survives faults");
    assert!(
        proxy.injected() >= 5,
        "faults injected: {}",
        proxy.injected()
    );
    assert_eq!(rep.blobs_copied, 2);
    assert_eq!(prod_digest(&reg), new.digest);
}

#[test]
fn persistent_500s_fail_clearly_and_leave_the_dst_tag() {
    let Some((reg, _sk, _dir, old, new)) =
        setup_fault_case("persistent_500s_fail_clearly_and_leave_the_dst_tag")
    else {
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
    let proxy = Proxy::start(reg.port(), rule);
    let client = fast_client();
    let src = client.repository(&reg.host(), "staging/app").expect("repo");
    let dst = client.repository(&proxy.host(), "prod/app").expect("repo");
    let err = copy(
        &src,
        &new.digest,
        &dst,
        Some("prod"),
        &CopyOptions::default(),
    )
    .expect_err("must fail");
    match &err {
        Error::RetriesExhausted { attempts, last } => {
            assert_eq!(*attempts, 3);
            assert!(
                matches!(**last, Error::Status { status: 500, .. }),
                "{last:?}"
            );
        }
        other => panic!("expected RetriesExhausted, got {other:?}"),
    }
    assert_eq!(prod_digest(&reg), old.digest, "DST tag unchanged");
}

#[test]
fn stalled_registry_times_out_and_leaves_the_dst_tag() {
    let Some((reg, _sk, _dir, old, new)) =
        setup_fault_case("stalled_registry_times_out_and_leaves_the_dst_tag")
    else {
        return;
    };
    let rule = Arc::new(|method: &str, path: &str| {
        if method == "GET" && path.contains("/blobs/") {
            Fault::Stall(Duration::from_secs(3))
        } else {
            Fault::Pass
        }
    });
    let proxy = Proxy::start(reg.port(), rule);
    let client = fast_client();
    let src = client
        .repository(&proxy.host(), "staging/app")
        .expect("repo");
    let dst = client.repository(&reg.host(), "prod/app").expect("repo");
    let started = std::time::Instant::now();
    let err = copy(
        &src,
        &new.digest,
        &dst,
        Some("prod"),
        &CopyOptions::default(),
    )
    .expect_err("must fail");
    assert!(
        matches!(err, Error::RetriesExhausted { attempts: 3, .. }),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "bounded: {:?}",
        started.elapsed()
    );
    assert_eq!(prod_digest(&reg), old.digest, "DST tag unchanged");
}

#[test]
fn registry_stopped_mid_promotion_leaves_the_dst_tag() {
    let Some((reg, sk, _dir, old, _new)) =
        setup_fault_case("registry_stopped_mid_promotion_leaves_the_dst_tag")
    else {
        return;
    };
    // A second registry as SRC, stopped after resolution.
    let Some(mut src_reg) = Registry::start("registry_stopped_mid_promotion_leaves_the_dst_tag")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let img = common::single_arch_layout(dir.path(), "v1", 80);
    common::skopeo_push(&sk, dir.path(), "v1", &src_reg.host(), "app", false);
    let client = fast_client();
    let src = client.repository(&src_reg.host(), "app").expect("repo");
    let resolved =
        resolve(&src, &Reference::Tag("v1".into()), &PlatformSelection::All).expect("resolve");
    let approval = Approval::new(img.digest.clone(), "ok");
    src_reg.stop();
    let dst = client.repository(&reg.host(), "prod/app").expect("repo");
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
    assert_eq!(prod_digest(&reg), old.digest, "DST tag unchanged");
}

#[test]
fn a_lying_source_is_caught_and_nothing_moves() {
    let Some((reg, _sk, _dir, old, new)) =
        setup_fault_case("a_lying_source_is_caught_and_nothing_moves")
    else {
        return;
    };
    // Every blob the source serves has one byte changed.
    let rule = Arc::new(|method: &str, path: &str| {
        if method == "GET" && path.contains("/blobs/") {
            Fault::Corrupt
        } else {
            Fault::Pass
        }
    });
    let proxy = Proxy::start(reg.port(), rule);
    let client = fast_client();
    let src = client
        .repository(&proxy.host(), "staging/app")
        .expect("repo");
    let dst = client.repository(&reg.host(), "other/app").expect("repo");
    let err = copy(
        &src,
        &new.digest,
        &dst,
        Some("prod"),
        &CopyOptions::default(),
    )
    .expect_err("must fail");
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err:?}");
    assert!(!dst.manifest_exists(&new.digest).expect("exists"));
    let m = src
        .fetch_manifest(&Reference::Digest(new.digest.clone()))
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
    let rule = Arc::new(|method: &str, path: &str| {
        if method == "GET" && path.contains("/manifests/sha256:") {
            Fault::Corrupt
        } else {
            Fault::Pass
        }
    });
    let proxy2 = Proxy::start(reg.port(), rule);
    let src2 = client
        .repository(&proxy2.host(), "staging/app")
        .expect("repo");
    let err = src2
        .fetch_manifest(&Reference::Digest(new.digest.clone()))
        .expect_err("must fail");
    assert!(
        matches!(err, Error::DigestMismatch { .. } | Error::Manifest { .. }),
        "{err:?}"
    );
    assert_eq!(prod_digest(&reg), old.digest);
}
