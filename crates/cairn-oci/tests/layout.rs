//! OCI image layout directories: the embedded default store. No peer needed.

mod common;

use cairn_oci::attach::attach_bundle;
use cairn_oci::discover::{EvidenceFormat, Origin, discover};
use cairn_oci::manifest::{Descriptor, media};
use cairn_oci::store::{ReferrersSource, referrers};
use cairn_oci::{
    Approval, CopyOptions, Digest, Error, Layout, OciRef, PlatformSelection, PlatformSpec,
    Reference, Repository, copy, promote, resolve,
};

const CREATED: &str = "2026-01-02T03:04:05Z";

#[test]
fn resolves_tags_and_platforms() {
    let dir = tempfile::tempdir().expect("tmp");
    let (idx, children) = common::multi_arch_layout(dir.path(), "v1", 1);
    let l = Layout::open(dir.path()).expect("open");
    let r = resolve(&l, &Reference::Tag("v1".into()), &PlatformSelection::All).expect("resolve");
    assert_eq!(r.digest(), &idx.digest);
    let arm: PlatformSpec = "linux/arm64".parse().expect("platform");
    let r = resolve(
        &l,
        &Reference::Tag("v1".into()),
        &PlatformSelection::One(arm),
    )
    .expect("resolve");
    assert_eq!(r.digest(), &children[1].digest);
    assert_eq!(r.index.as_ref().map(|d| &d.digest), Some(&idx.digest));
    let s390: PlatformSpec = "linux/s390x".parse().expect("platform");
    match resolve(
        &l,
        &Reference::Tag("v1".into()),
        &PlatformSelection::One(s390),
    ) {
        Err(Error::PlatformNotFound { available, .. }) => {
            assert_eq!(
                available,
                vec!["linux/amd64".to_string(), "linux/arm64/v8".to_string()]
            )
        }
        other => panic!("expected PlatformNotFound, got {other:?}"),
    }
    assert!(matches!(
        resolve(&l, &Reference::Tag("nope".into()), &PlatformSelection::All),
        Err(Error::NotFound { .. })
    ));
    assert_eq!(l.list_tags().expect("tags"), vec!["v1".to_string()]);
}

#[test]
fn not_a_layout_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tmp");
    assert!(matches!(
        Layout::open(dir.path()),
        Err(Error::NotALayout { .. })
    ));
    std::fs::write(
        dir.path().join("oci-layout"),
        b"{\"imageLayoutVersion\":\"9.0\"}",
    )
    .expect("write");
    assert!(matches!(
        Layout::open(dir.path()),
        Err(Error::NotALayout { .. })
    ));
}

#[test]
fn tampered_content_is_rejected() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = common::single_arch_layout(dir.path(), "v1", 2);
    let l = Layout::open(dir.path()).expect("open");
    let m = l
        .fetch_manifest(&Reference::Digest(d.digest.clone()))
        .expect("fetch");
    let cairn_oci::Manifest::Image(img) = m.parse().expect("parse") else {
        panic!("image")
    };
    // Flip one byte of the layer: fetching it must fail on the digest.
    let layer = &img.layers[0];
    let path = dir.path().join("blobs/sha256").join(layer.digest.hex());
    let mut b = std::fs::read(&path).expect("read");
    b[10] ^= 1;
    std::fs::write(&path, &b).expect("write");
    assert!(matches!(
        l.fetch_blob(layer),
        Err(Error::DigestMismatch { .. })
    ));
    // Truncate it: size mismatch.
    std::fs::write(&path, &b[..100]).expect("write");
    assert!(matches!(
        l.fetch_blob(layer),
        Err(Error::SizeMismatch { .. })
    ));
    // Tamper with the manifest itself.
    let mpath = dir.path().join("blobs/sha256").join(d.digest.hex());
    let mut mb = std::fs::read(&mpath).expect("read");
    mb.push(b' ');
    std::fs::write(&mpath, &mb).expect("write");
    assert!(matches!(
        l.fetch_manifest(&Reference::Tag("v1".into())),
        Err(Error::DigestMismatch { .. })
    ));
}

#[test]
fn attach_then_discover_through_the_tag_schema() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = common::single_arch_layout(dir.path(), "v1", 3);
    let l = Layout::open(dir.path()).expect("open");
    let b1 = common::bundle("reusable-workflow-attestation.sigstore.json");
    let b2 = common::bundle("custom-issuer.sigstore.json");
    let a1 = attach_bundle(&l, &d, &b1, Some(CREATED)).expect("attach 1");
    let a2 = attach_bundle(&l, &d, &b2, None).expect("attach 2");
    // Attaching the same bundle again changes nothing.
    let again = attach_bundle(&l, &d, &b1, Some(CREATED)).expect("attach again");
    assert_eq!(again.manifest.digest, a1.manifest.digest);

    // The artifact manifest is what cosign's BUNDLE_SPEC and actions/attest write.
    let m = l
        .fetch_manifest(&Reference::Digest(a1.manifest.digest.clone()))
        .expect("fetch");
    let v: serde_json::Value = serde_json::from_slice(&m.bytes).expect("json");
    assert_eq!(v["artifactType"], media::SIGSTORE_BUNDLE_V03);
    assert_eq!(v["mediaType"], media::OCI_MANIFEST);
    assert_eq!(v["config"]["mediaType"], media::OCI_EMPTY);
    assert_eq!(
        v["config"]["digest"],
        Descriptor::empty().digest.to_string()
    );
    assert_eq!(v["config"]["size"], 2);
    assert_eq!(v["layers"][0]["mediaType"], media::SIGSTORE_BUNDLE_V03);
    assert_eq!(v["layers"][0]["digest"], Digest::sha256_of(&b1).to_string());
    assert_eq!(v["subject"]["digest"], d.digest.to_string());
    assert_eq!(
        v["annotations"]["dev.sigstore.bundle.content"],
        "dsse-envelope"
    );
    assert_eq!(
        v["annotations"]["dev.sigstore.bundle.predicateType"],
        "https://slsa.dev/provenance/v1"
    );
    assert_eq!(
        v["annotations"]["org.opencontainers.image.created"],
        CREATED
    );
    let empty = l.fetch_blob(&Descriptor::empty()).expect("empty blob");
    assert_eq!(empty.as_bytes(), Some(&b"{}"[..]));

    // The referrers tag schema index lists both, with artifactType and annotations.
    let (list, via) = referrers(&l, &d.digest, None).expect("referrers");
    assert_eq!(via, ReferrersSource::TagSchema);
    let digests: Vec<_> = list.iter().map(|x| x.digest.clone()).collect();
    assert_eq!(
        digests,
        vec![a1.manifest.digest.clone(), a2.manifest.digest.clone()]
    );
    assert!(
        list.iter()
            .all(|x| x.artifact_type.as_deref() == Some(media::SIGSTORE_BUNDLE_V03))
    );
    let (filtered, _) = referrers(&l, &d.digest, Some("application/x-other")).expect("filtered");
    assert!(filtered.is_empty());

    let found = discover(&l, &d.digest).expect("discover");
    assert_eq!(found.attestations.len(), 2);
    let f = &found.attestations[0];
    assert_eq!(
        f.origin,
        Origin::Referrer {
            via: ReferrersSource::TagSchema
        }
    );
    assert_eq!(f.format, EvidenceFormat::SigstoreBundle);
    assert_eq!(
        f.predicate_type.as_deref(),
        Some("https://slsa.dev/provenance/v1")
    );
    assert_eq!(
        f.signer.identity.as_deref(),
        Some(
            "https://github.com/github/artifact-attestations-workflows/.github/workflows/attest.yml@09b495c3f12c7881b3cc17209a327792065c1a1d"
        )
    );
    assert_eq!(
        f.signer.issuer.as_deref(),
        Some("https://token.actions.githubusercontent.com")
    );
    assert_eq!(f.signer.time.as_deref(), Some("2024-05-24T19:14:24Z"));
    assert!(!f.verified);
    assert_eq!(f.content, b1);
    assert_eq!(
        found.attestations[1].signer.issuer.as_deref(),
        Some("https://token.actions.githubusercontent.com/hammer-time")
    );
}

#[test]
fn attach_rejects_non_bundles() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = common::single_arch_layout(dir.path(), "v1", 4);
    let l = Layout::open(dir.path()).expect("open");
    assert!(matches!(
        attach_bundle(&l, &d, b"{\"hello\":1}", None),
        Err(Error::Bundle { .. })
    ));
    assert!(matches!(
        attach_bundle(&l, &d, b"not json", None),
        Err(Error::Bundle { .. })
    ));
    let (list, _) = referrers(&l, &d.digest, None).expect("referrers");
    assert!(list.is_empty(), "nothing attached on failure");
}

/// A layout as cosign v3 / actions/attest leave it: the artifact manifest and referrers index
/// written literally as cosign's BUNDLE_SPEC shows them, plus a cosign v2 `.att` tag.
#[test]
fn reads_cosign_and_actions_attest_layouts() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = common::single_arch_layout(dir.path(), "v1", 5);
    let l = Layout::open(dir.path()).expect("open");
    let bundle = common::bundle("sigstore-js-2.1.0-bundle.json");
    let bundle_digest = Digest::sha256_of(&bundle);
    let put = |bytes: &[u8]| {
        let desc = Descriptor::for_bytes("application/octet-stream", bytes);
        l.push_blob(&desc, &cairn_oci::blob::Blob::from_vec(bytes.to_vec()))
            .expect("blob");
        desc
    };
    put(b"{}");
    put(&bundle);
    let manifest = format!(
        r#"{{
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "schemaVersion": 2,
  "artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json",
  "config": {{"mediaType": "application/vnd.oci.empty.v1+json", "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 2}},
  "layers": [{{"digest": "{bundle_digest}", "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "size": {}, "annotations": {{"org.opencontainers.image.title": "{}.sigstore.json"}}}}],
  "subject": {{"digest": "{}", "mediaType": "application/vnd.oci.image.manifest.v1+json", "size": {}}},
  "annotations": {{"dev.sigstore.bundle.content": "dsse-envelope", "dev.sigstore.bundle.predicateType": "https://slsa.dev/provenance/v1", "org.opencontainers.image.created": "2024-03-08T18:18:20.406Z"}}
}}"#,
        bundle.len(),
        bundle_digest.to_fallback_tag(),
        d.digest,
        d.size
    );
    let mdesc = put(manifest.as_bytes());
    let index = format!(
        r#"{{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [{{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "{}", "size": {}, "artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json", "annotations": {{"dev.sigstore.bundle.content": "dsse-envelope"}}}}]}}"#,
        mdesc.digest, mdesc.size
    );
    l.push_manifest(
        media::OCI_INDEX,
        index.as_bytes(),
        Some(&d.digest.to_fallback_tag()),
    )
    .expect("index");

    // cosign v2 `.att`: an image whose layer is a bare DSSE envelope with annotations.
    let bv: serde_json::Value = serde_json::from_slice(&bundle).expect("json");
    let envelope = serde_json::to_vec(&bv["dsseEnvelope"]).expect("json");
    let env_desc = put(&envelope);
    let att = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}},"layers":[{{"mediaType":"application/vnd.dsse.envelope.v1+json","digest":"{}","size":{},"annotations":{{"dev.cosignproject.cosign/signature":"","predicateType":"https://slsa.dev/provenance/v1","dev.sigstore.cosign/bundle":"{{\"SignedEntryTimestamp\":\"\",\"Payload\":{{\"integratedTime\":1700000000,\"logIndex\":1,\"body\":\"\",\"logID\":\"\"}}}}"}}}}]}}"#,
        env_desc.digest, env_desc.size
    );
    l.push_manifest(
        media::OCI_MANIFEST,
        att.as_bytes(),
        Some(&format!("{}.att", d.digest.to_fallback_tag())),
    )
    .expect("att");

    let found = discover(&l, &d.digest).expect("discover");
    assert_eq!(found.attestations.len(), 2, "{found:#?}");
    let bundle_found = &found.attestations[0];
    assert_eq!(bundle_found.format, EvidenceFormat::SigstoreBundle);
    assert_eq!(
        bundle_found.predicate_type.as_deref(),
        Some("https://slsa.dev/provenance/v1")
    );
    assert_eq!(
        bundle_found.signer.identity.as_deref(),
        Some(
            "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"
        )
    );
    let att_found = &found.attestations[1];
    assert_eq!(att_found.format, EvidenceFormat::DsseEnvelope);
    assert!(
        matches!(&att_found.origin, Origin::CosignAttestationTag { tag } if tag.ends_with(".att"))
    );
    assert_eq!(
        att_found.predicate_type.as_deref(),
        Some("https://slsa.dev/provenance/v1")
    );
    assert_eq!(
        att_found.signer.time.as_deref(),
        Some("2023-11-14T22:13:20Z")
    );
    assert!(
        bundle_found
            .bundle
            .as_ref()
            .is_some_and(|b| b.subjects.iter().any(|s| s.starts_with("sha512:")))
    );
}

#[test]
fn copy_between_layouts_keeps_digests_and_referrers() {
    let src_dir = tempfile::tempdir().expect("tmp");
    let dst_dir = tempfile::tempdir().expect("tmp");
    let (idx, children) = common::multi_arch_layout(src_dir.path(), "v1", 6);
    let src = Layout::open(src_dir.path()).expect("open");
    attach_bundle(
        &src,
        &idx,
        &common::bundle("reusable-workflow-attestation.sigstore.json"),
        None,
    )
    .expect("attach");
    attach_bundle(
        &src,
        &children[0],
        &common::bundle("custom-issuer.sigstore.json"),
        None,
    )
    .expect("attach child");
    let dst = Layout::open_or_create(dst_dir.path()).expect("dst");

    // Dry run writes nothing.
    let dry = copy(
        &src,
        &idx.digest,
        &dst,
        Some("prod"),
        &CopyOptions {
            dry_run: true,
            ..CopyOptions::default()
        },
    )
    .expect("dry run");
    assert!(
        dry.manifests_copied >= 3 && dry.blobs_copied >= 4,
        "{dry:?}"
    );
    assert!(dst.list_tags().expect("tags").is_empty());
    assert!(!dst.manifest_exists(&idx.digest).expect("exists"));

    let report = copy(
        &src,
        &idx.digest,
        &dst,
        Some("prod"),
        &CopyOptions::default(),
    )
    .expect("copy");
    assert_eq!(report.referrers.len(), 2, "{report:?}");
    let r = resolve(
        &dst,
        &Reference::Tag("prod".into()),
        &PlatformSelection::All,
    )
    .expect("resolve dst");
    assert_eq!(r.digest(), &idx.digest);
    for c in &children {
        assert!(dst.manifest_exists(&c.digest).expect("child"));
    }
    let found = discover(&dst, &idx.digest).expect("discover");
    assert_eq!(found.attestations.len(), 1);
    let found = discover(&dst, &children[0].digest).expect("discover child");
    assert_eq!(found.attestations.len(), 1);

    // Idempotent: nothing new the second time.
    let again = copy(
        &src,
        &idx.digest,
        &dst,
        Some("prod"),
        &CopyOptions::default(),
    )
    .expect("copy again");
    assert_eq!(
        (again.manifests_copied, again.blobs_copied),
        (0, 0),
        "{again:?}"
    );
    let (list, _) = referrers(&dst, &idx.digest, None).expect("referrers");
    assert_eq!(list.len(), 1, "referrer not duplicated");
}

#[test]
fn promote_copies_only_the_approved_digest() {
    let src_dir = tempfile::tempdir().expect("tmp");
    let dst_dir = tempfile::tempdir().expect("tmp");
    let first = common::single_arch_layout(src_dir.path(), "v1", 7);
    let src = Layout::open(src_dir.path()).expect("open");
    let dst = Layout::open_or_create(dst_dir.path()).expect("dst");
    let resolved =
        resolve(&src, &Reference::Tag("v1".into()), &PlatformSelection::All).expect("resolve");
    assert_eq!(resolved.digest(), &first.digest);
    // The tag moves on SRC after resolution (and verification).
    let mut second = common::push_image(&src, "amd64", 8, 1000);
    second.platform = None;
    common::tag(&src, &second, "v1");
    assert_ne!(first.digest, second.digest);

    // An approval for anything else is refused, and nothing is written.
    let wrong = Approval::new(second.digest.clone(), "test");
    assert!(matches!(
        promote(
            &src,
            &resolved,
            &wrong,
            &dst,
            Some("prod"),
            &CopyOptions::default()
        ),
        Err(Error::ApprovalMismatch { .. })
    ));
    assert!(dst.list_tags().expect("tags").is_empty());

    let ok = Approval::new(resolved.digest().clone(), "test policy passed");
    promote(
        &src,
        &resolved,
        &ok,
        &dst,
        Some("prod"),
        &CopyOptions::default(),
    )
    .expect("promote");
    let got = dst
        .fetch_manifest(&Reference::Tag("prod".into()))
        .expect("prod");
    assert_eq!(
        got.descriptor.digest, first.digest,
        "the verified digest moved, not the new one"
    );
    assert!(!dst.manifest_exists(&second.digest).expect("exists"));
}

#[test]
fn references_name_layouts() {
    let r = OciRef::parse("oci:/tmp/x:v1").expect("parse");
    assert_eq!(r.tag(), Some("v1"));
    let client = common::client();
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("new");
    let r = OciRef::parse(&format!("oci:{}:v1", path.display())).expect("parse");
    assert!(cairn_oci::open(&r, &client, false).is_err());
    assert!(cairn_oci::open(&r, &client, true).is_ok());
    assert!(path.join("oci-layout").is_file());
}

#[test]
fn copy_from_a_tampered_layout_fails_and_writes_no_blob() {
    let src_dir = tempfile::tempdir().expect("tmp");
    let dst_dir = tempfile::tempdir().expect("tmp");
    let d = common::single_arch_layout(src_dir.path(), "v1", 9);
    let src = Layout::open(src_dir.path()).expect("open");
    let m = src
        .fetch_manifest(&Reference::Digest(d.digest.clone()))
        .expect("fetch");
    let cairn_oci::Manifest::Image(img) = m.parse().expect("parse") else {
        panic!("image")
    };
    let path = src_dir
        .path()
        .join("blobs/sha256")
        .join(img.layers[0].digest.hex());
    let mut b = std::fs::read(&path).expect("read");
    let last = b.len() - 1;
    b[last] ^= 1;
    std::fs::write(&path, &b).expect("write");
    let dst = Layout::open_or_create(dst_dir.path()).expect("dst");
    let err =
        copy(&src, &d.digest, &dst, Some("prod"), &CopyOptions::default()).expect_err("must fail");
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err:?}");
    assert!(!dst.blob_exists(&img.layers[0]).expect("exists"));
    assert!(dst.list_tags().expect("tags").is_empty());
}

#[test]
fn copy_carries_cosign_tags() {
    let src_dir = tempfile::tempdir().expect("tmp");
    let dst_dir = tempfile::tempdir().expect("tmp");
    let d = common::single_arch_layout(src_dir.path(), "v1", 11);
    let src = Layout::open(src_dir.path()).expect("open");
    // A cosign `.sig` image: one simple-signing payload layer with the signature annotation.
    let payload = format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"x"}},"image":{{"docker-manifest-digest":"{}"}},"type":"cosign container image signature"}},"optional":null}}"#,
        d.digest
    );
    let pd = Descriptor::for_bytes(media::COSIGN_SIMPLESIGNING, payload.as_bytes());
    src.push_blob(&pd, &cairn_oci::blob::Blob::from_vec(payload.into_bytes()))
        .expect("payload");
    let cfg = Descriptor::empty();
    src.push_blob(&cfg, &cairn_oci::blob::Blob::from_vec(b"{}".to_vec()))
        .expect("cfg");
    let mut layer = pd.clone();
    layer.annotations.insert(
        "dev.cosignproject.cosign/signature".into(),
        "MEUCIQ==".into(),
    );
    let sig = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": media::OCI_MANIFEST, "config": cfg, "layers": [layer]
    }))
    .expect("json");
    let sig_tag = format!("{}.sig", d.digest.to_fallback_tag());
    src.push_manifest(media::OCI_MANIFEST, &sig, Some(&sig_tag))
        .expect("sig tag");

    let dst = Layout::open_or_create(dst_dir.path()).expect("dst");
    let report = copy(&src, &d.digest, &dst, Some("prod"), &CopyOptions::default()).expect("copy");
    assert_eq!(report.cosign_tags, vec![sig_tag.clone()]);
    assert!(dst.list_tags().expect("tags").contains(&sig_tag));
    let found = discover(&dst, &d.digest).expect("discover");
    assert_eq!(found.attestations.len(), 1);
    assert_eq!(
        found.attestations[0].format,
        EvidenceFormat::CosignSimpleSigning
    );
    // Without cosign tags requested, they stay behind.
    let other = tempfile::tempdir().expect("tmp");
    let dst2 = Layout::open_or_create(other.path()).expect("dst2");
    let opts = CopyOptions {
        cosign_tags: false,
        ..CopyOptions::default()
    };
    copy(&src, &d.digest, &dst2, Some("prod"), &opts).expect("copy");
    assert_eq!(dst2.list_tags().expect("tags"), vec!["prod".to_string()]);
}
