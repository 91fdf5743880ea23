//! OCI image fixtures (feature `oci`): deterministic one-layer images and two-platform indexes
//! pushed into any [`Repository`] (an OCI layout directory or a registry), tagging, a registry
//! client with test time-outs, and `skopeo` helpers for pushing and reading back.
//!
//! The images are real: the layer is a gzip stream (skopeo checks compression against the media
//! type and would rewrite a manifest that lies), the config names the layer's digest, and every
//! seed gives different bytes, so two images never share a digest by accident.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use cairn_oci::blob::Blob;
use cairn_oci::manifest::{Descriptor, Platform, media};
use cairn_oci::{Client, ClientConfig, Layout, Reference, Repository};

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

/// The platform `linux/<arch>` (`arm64` gets variant `v8`, as registries report it).
pub fn linux(arch: &str) -> Platform {
    Platform {
        architecture: arch.to_string(),
        os: "linux".to_string(),
        variant: (arch == "arm64").then(|| "v8".to_string()),
        os_version: None,
        extra: Default::default(),
    }
}

/// Pushes a one-layer image for `linux/<arch>` into `repo` (a gzip layer of `layer_len` bytes
/// from `seed`); returns its manifest descriptor with the platform set, ready for an index.
pub fn push_image(repo: &dyn Repository, arch: &str, seed: u64, layer_len: usize) -> Descriptor {
    push_image_for(repo, linux(arch), seed, layer_len)
}

/// [`push_image`] for any `platform` (the config names its os and architecture).
pub fn push_image_for(
    repo: &dyn Repository,
    platform: Platform,
    seed: u64,
    layer_len: usize,
) -> Descriptor {
    let (os, arch) = (platform.os.clone(), platform.architecture.clone());
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
        "architecture": arch, "os": os, "config": {"Labels": {"seed": seed.to_string()}},
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
    assert_eq!(pushed.digest, d.digest, "the repository kept the bytes");
    d.platform = Some(platform);
    d
}

/// Pushes an index over `children` (descriptors with platforms), tagged `tag` when given;
/// returns its descriptor and bytes.
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
        .fetch_manifest(&Reference::Digest(desc.digest.clone()))
        .expect("fetch to tag");
    repo.push_manifest(&m.descriptor.media_type, &m.bytes, Some(tag))
        .expect("tag");
}

/// A single-arch (amd64) image, tagged `tag_name`, in the OCI layout at `dir` (created when
/// missing, added to otherwise). The descriptor has no platform.
pub fn single_arch_layout(dir: &Path, tag_name: &str, seed: u64) -> Descriptor {
    let l = Layout::open_or_create(dir).expect("layout");
    let mut d = push_image(&l, "amd64", seed, 4096);
    d.platform = None;
    tag(&l, &d, tag_name);
    d
}

/// A two-platform (amd64, arm64) image, the index tagged `tag_name`, in the OCI layout at `dir`;
/// returns the index and the two children (seeds `seed` and `seed + 1`).
pub fn multi_arch_layout(dir: &Path, tag_name: &str, seed: u64) -> (Descriptor, Vec<Descriptor>) {
    let l = Layout::open_or_create(dir).expect("layout");
    let a = push_image(&l, "amd64", seed, 3000);
    let b = push_image(&l, "arm64", seed + 1, 5000);
    let (idx, _) = push_index(&l, &[a.clone(), b.clone()], Some(tag_name));
    (idx, vec![a, b])
}

/// The digest of the manifest tagged `tag` in the layout at `dir`, or `None` (no layout, no tag).
pub fn layout_tag_digest(dir: &Path, tag: &str) -> Option<String> {
    let l = Layout::open_or_create(dir).ok()?;
    l.fetch_manifest(&Reference::Tag(tag.into()))
        .ok()
        .map(|m| m.descriptor.digest.to_string())
}

/// A registry client with short back-off and anonymous credentials, for tests.
pub fn client() -> Arc<Client> {
    client_with(ClientConfig {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        read_timeout: Duration::from_secs(20),
        ..ClientConfig::default()
    })
}

/// A registry client with `config` and anonymous credentials.
pub fn client_with(config: ClientConfig) -> Arc<Client> {
    Client::new(config, Arc::new(cairn_oci::auth::Anonymous)).expect("client")
}

/// Copies the image `digest` from the OCI layout at `layout_dir` into `host/repo`, tagged `tag`
/// (through cairn's own client, so no skopeo is needed).
pub fn push_layout_image(
    layout_dir: &Path,
    digest: &cairn_oci::Digest,
    host: &str,
    repo: &str,
    tag: &str,
) {
    let src = Layout::open_or_create(layout_dir).expect("layout");
    let dst = client().repository(host, repo).expect("repository");
    cairn_oci::copy(
        &src,
        digest,
        &dst,
        Some(tag),
        &cairn_oci::CopyOptions::default(),
    )
    .expect("copy the layout image to the registry");
}

/// `skopeo copy [--all] oci:DIR:TAG docker://HOST/REPO:TAG` (plain HTTP).
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

/// `skopeo inspect --raw docker://REF`: the manifest bytes as the registry serves them.
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
