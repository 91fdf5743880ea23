//! Shared helpers for the cairn-oci integration tests: build images in layout directories,
//! start the registry, push with skopeo.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use cairn_oci::blob::Blob;
use cairn_oci::manifest::{Descriptor, Platform, media};
use cairn_oci::{Client, ClientConfig, Layout, Repository};

/// Deterministic pseudo-random bytes (xorshift), so layers differ per seed.
pub fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Pushes a one-layer image for `arch` into `repo`; returns its manifest descriptor.
pub fn push_image(repo: &dyn Repository, arch: &str, seed: u64, layer_len: usize) -> Descriptor {
    // A real gzip stream: skopeo checks layer compression against the media type and would
    // rewrite the manifest (changing its digest) otherwise.
    let layer = {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&bytes(seed, layer_len)).expect("gzip");
        gz.finish().expect("gzip")
    };
    let layer_desc = Descriptor::for_bytes("application/vnd.oci.image.layer.v1.tar+gzip", &layer);
    repo.push_blob(&layer_desc, &Blob::from_vec(layer))
        .expect("push layer");
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": arch, "os": "linux", "config": {"Labels": {"seed": seed.to_string()}},
        "rootfs": {"type": "layers", "diff_ids": [layer_desc.digest.to_string()]}
    }))
    .expect("json");
    let config_desc = Descriptor::for_bytes("application/vnd.oci.image.config.v1+json", &config);
    repo.push_blob(&config_desc, &Blob::from_vec(config))
        .expect("push config");
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": media::OCI_MANIFEST,
        "config": config_desc, "layers": [layer_desc]
    }))
    .expect("json");
    let pushed = repo
        .push_manifest(media::OCI_MANIFEST, &manifest, None)
        .expect("push manifest");
    let mut d = Descriptor::for_bytes(media::OCI_MANIFEST, &manifest);
    assert_eq!(pushed.digest, d.digest);
    d.platform = Some(Platform {
        architecture: arch.to_string(),
        os: "linux".to_string(),
        variant: if arch == "arm64" {
            Some("v8".to_string())
        } else {
            None
        },
        os_version: None,
        extra: Default::default(),
    });
    d
}

/// Pushes an index over `children` (descriptors with platforms); returns its descriptor and bytes.
pub fn push_index(
    repo: &dyn Repository,
    children: &[Descriptor],
    tag: Option<&str>,
) -> (Descriptor, Vec<u8>) {
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": children
    }))
    .expect("json");
    repo.push_manifest(media::OCI_INDEX, &index, tag)
        .expect("push index");
    (Descriptor::for_bytes(media::OCI_INDEX, &index), index)
}

/// Tags an existing manifest (re-pushes its bytes under the tag).
pub fn tag(repo: &dyn Repository, desc: &Descriptor, tag: &str) {
    let m = repo
        .fetch_manifest(&cairn_oci::Reference::Digest(desc.digest.clone()))
        .expect("fetch to tag");
    repo.push_manifest(&m.descriptor.media_type, &m.bytes, Some(tag))
        .expect("tag");
}

/// A single-arch image layout at `dir` tagged `tag`.
pub fn single_arch_layout(dir: &Path, tag_name: &str, seed: u64) -> Descriptor {
    let l = Layout::open_or_create(dir).expect("layout");
    let mut d = push_image(&l, "amd64", seed, 4096);
    d.platform = None;
    tag(&l, &d, tag_name);
    d
}

/// A two-platform (amd64, arm64) image layout at `dir` tagged `tag`; returns the index and children.
pub fn multi_arch_layout(dir: &Path, tag_name: &str, seed: u64) -> (Descriptor, Vec<Descriptor>) {
    let l = Layout::open_or_create(dir).expect("layout");
    let a = push_image(&l, "amd64", seed, 3000);
    let b = push_image(&l, "arm64", seed + 1, 5000);
    let (idx, _) = push_index(&l, &[a.clone(), b.clone()], Some(tag_name));
    (idx, vec![a, b])
}

/// A client with short timeouts and backoff for tests.
pub fn client() -> Arc<Client> {
    client_with(ClientConfig {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        read_timeout: Duration::from_secs(20),
        ..ClientConfig::default()
    })
}

/// A client with `config` and anonymous credentials.
pub fn client_with(config: ClientConfig) -> Arc<Client> {
    Client::new(config, Arc::new(cairn_oci::auth::Anonymous)).expect("client")
}

/// `skopeo copy [--all] oci:DIR:TAG docker://HOST/REPO:TAG`.
pub fn skopeo_push(skopeo: &Path, dir: &Path, tag: &str, host: &str, repo: &str, all: bool) {
    let mut cmd = Command::new(skopeo);
    cmd.args(["copy", "--quiet", "--dest-tls-verify=false"]);
    if all {
        cmd.arg("--all");
    }
    cmd.arg(format!("oci:{}:{tag}", dir.display()))
        .arg(format!("docker://{host}/{repo}:{tag}"));
    let out = cmd.output().expect("run skopeo");
    assert!(
        out.status.success(),
        "skopeo copy failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `skopeo inspect --raw docker://REF` (the manifest bytes as served).
pub fn skopeo_raw(skopeo: &Path, reference: &str) -> Vec<u8> {
    let out = Command::new(skopeo)
        .args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{reference}"),
        ])
        .output()
        .expect("run skopeo");
    assert!(
        out.status.success(),
        "skopeo inspect failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A testdata bundle.
pub fn bundle(name: &str) -> Vec<u8> {
    cairn_testkit::read_testdata(&format!("oci/{name}"))
}
