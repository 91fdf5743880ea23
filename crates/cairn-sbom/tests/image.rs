//! Image sources built here: docker-save archives and OCI layouts (directory and tar) with
//! several layers, whiteouts, opaque directories, gzip and zstd layers; a hostile layer; and
//! bad input (truncated tar, corrupt gzip, a decompression bomb, a wrong digest).

mod common;

use std::io::Write;
use std::path::Path;

use cairn_sbom::{Error, Limits, ScanOptions, Source};
use sha2::{Digest, Sha256};

enum E<'a> {
    File(&'a str, &'a [u8]),
    Exec(&'a str, &'a [u8]),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    /// A raw path written byte for byte (the tar crate refuses `..` in set_path).
    Raw(&'a str, &'a [u8]),
}

fn layer(entries: &[E]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        match e {
            E::File(p, data) | E::Exec(p, data) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(if matches!(e, E::Exec(..)) {
                    0o755
                } else {
                    0o644
                });
                h.set_size(data.len() as u64);
                h.set_path(p).expect("path");
                h.set_cksum();
                b.append(&h, *data).expect("append");
            }
            E::Dir(p) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                h.set_size(0);
                h.set_path(p).expect("path");
                h.set_cksum();
                b.append(&h, &[][..]).expect("append");
            }
            E::Symlink(p, target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                h.set_path(p).expect("path");
                h.set_link_name(target).expect("link");
                h.set_cksum();
                b.append(&h, &[][..]).expect("append");
            }
            E::Raw(p, data) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(0o644);
                h.set_size(data.len() as u64);
                let name = &mut h.as_old_mut().name;
                name[..p.len()].copy_from_slice(p.as_bytes());
                h.set_cksum();
                b.append(&h, *data).expect("append");
            }
        }
    }
    b.into_inner().expect("tar")
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

fn zstd(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

fn sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

const OS: &[u8] = b"ID=debian\nVERSION_ID=\"12\"\n";

fn status(pkgs: &[(&str, &str)]) -> Vec<u8> {
    let mut s = String::new();
    for (n, v) in pkgs {
        s.push_str(&format!(
            "Package: {n}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {v}\n\n"
        ));
    }
    s.into_bytes()
}

fn metadata(name: &str, version: &str) -> Vec<u8> {
    format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n").into_bytes()
}

fn npm(name: &str, version: &str) -> Vec<u8> {
    format!("{{\"name\":\"{name}\",\"version\":\"{version}\"}}").into_bytes()
}

const SP: &str = "usr/lib/python3/dist-packages";

/// Three layers: base, an update with whiteouts and an opaque directory, and a top layer.
fn layers() -> Vec<Vec<u8>> {
    let st0 = status(&[("bash", "5.2.15-2"), ("coreutils", "9.1-1")]);
    let st1 = status(&[
        ("bash", "5.2.15-2"),
        ("coreutils", "9.1-1"),
        ("curl", "7.88.1-10"),
    ]);
    let old = metadata("old", "1.0");
    let keep = metadata("keep", "2.0");
    let gone = npm("gone", "1.0.0");
    let fresh = npm("fresh", "3.0.0");
    let cargo = b"version = 4\n[[package]]\nname = \"shadowed\"\nversion = \"0.1.0\"\n";
    let gomod = b"module example.com/x\n\nrequire github.com/pkg/errors v0.9.1\n";
    let gobin = common::go_binary("go1.21.5", "mod\texample.com/tool\tv1.0.0\t\n");
    vec![
        layer(&[
            E::Dir("etc"),
            E::File("etc/os-release", OS),
            E::Dir("var/lib/dpkg"),
            E::File("var/lib/dpkg/status", &st0),
            E::File(&format!("{SP}/old-1.0.dist-info/METADATA"), &old),
            E::File(&format!("{SP}/keep-2.0.dist-info/METADATA"), &keep),
            E::File("app/node_modules/gone/package.json", &gone),
            E::File("srv/Cargo.lock", cargo),
            E::Exec("usr/bin/tool", &gobin),
        ]),
        layer(&[
            E::File("./var/lib/dpkg/status", &st1),
            E::File(&format!("{SP}/.wh.old-1.0.dist-info"), b""),
            E::Dir("app/node_modules"),
            E::File("app/node_modules/.wh..wh..opq", b""),
            E::File("app/node_modules/fresh/package.json", &fresh),
        ]),
        layer(&[
            E::File("srv/.wh.Cargo.lock", b""),
            E::Raw("/srv/go.mod", gomod),
            // Replaced by a directory: the binary below it is gone.
            E::File("usr/bin/.wh.tool", b""),
        ]),
    ]
}

const EXPECTED: &[&str] = &[
    "pkg:deb/debian/bash@5.2.15-2?arch=amd64&distro=debian-12",
    "pkg:deb/debian/coreutils@9.1-1?arch=amd64&distro=debian-12",
    "pkg:deb/debian/curl@7.88.1-10?arch=amd64&distro=debian-12",
    "pkg:golang/github.com/pkg/errors@v0.9.1",
    "pkg:npm/fresh@3.0.0",
    "pkg:pypi/keep@2.0",
];

fn docker_archive(dir: &Path, layers: &[Vec<u8>]) -> std::path::PathBuf {
    let mut b = tar::Builder::new(Vec::new());
    let mut names = Vec::new();
    let add = |b: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_path(name).expect("path");
        h.set_cksum();
        b.append(&h, data).expect("append");
    };
    for (i, l) in layers.iter().enumerate() {
        let name = format!("{i:064x}/layer.tar");
        add(&mut b, &name, l);
        names.push(name);
    }
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    add(&mut b, "cfg.json", config);
    let manifest =
        serde_json::json!([{"Config": "cfg.json", "RepoTags": ["demo:1"], "Layers": names}]);
    add(&mut b, "manifest.json", manifest.to_string().as_bytes());
    let path = dir.join("image.tar");
    std::fs::write(&path, b.into_inner().expect("tar")).expect("write");
    path
}

/// An OCI layout with layer 0 gzip, layer 1 zstd and layer 2 uncompressed; tag `v1`.
fn oci_layout(dir: &Path, layers: &[Vec<u8>]) -> std::path::PathBuf {
    let root = dir.join("layout");
    let blobs = root.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("mkdir");
    let put = |data: &[u8]| -> (String, usize) {
        let d = sha256(data);
        std::fs::write(blobs.join(&d), data).expect("blob");
        (format!("sha256:{d}"), data.len())
    };
    let mut descs = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let (blob, mt) = match i % 3 {
            0 => (gzip(l), "application/vnd.oci.image.layer.v1.tar+gzip"),
            1 => (zstd(l), "application/vnd.oci.image.layer.v1.tar+zstd"),
            _ => (l.clone(), "application/vnd.oci.image.layer.v1.tar"),
        };
        let (d, n) = put(&blob);
        descs.push(serde_json::json!({"mediaType": mt, "digest": d, "size": n}));
    }
    let (cd, cn) =
        put(br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn},
        "layers": descs,
    });
    let (md, mn) = put(manifest.to_string().as_bytes());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": md, "size": mn,
            "annotations": {"org.opencontainers.image.ref.name": "v1"}
        }]
    });
    std::fs::write(root.join("index.json"), index.to_string()).expect("index");
    std::fs::write(root.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).expect("layout");
    root
}

fn scan(s: &str) -> Result<cairn_sbom::Sbom, Error> {
    cairn_sbom::scan(&Source::parse(s)?, &ScanOptions::default())
}

#[test]
fn docker_archive_squashes_layers() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = docker_archive(tmp.path(), &layers());
    let s = scan(path.to_str().expect("utf8")).expect("scan");
    assert_eq!(common::purls(&s), EXPECTED);
    assert_eq!(s.source.name, "demo:1");
    assert_eq!(
        s.distro.as_ref().map(|d| d.qualifier()).as_deref(),
        Some("debian-12")
    );
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    common::validate_all(&s);
}

#[test]
fn oci_layout_dir_and_tar_with_gzip_and_zstd_layers() {
    let tmp = tempfile::tempdir().expect("tmp");
    let root = oci_layout(tmp.path(), &layers());
    let s = scan(&format!("oci:{}:v1", root.display())).expect("scan");
    assert_eq!(common::purls(&s), EXPECTED);
    assert!(
        s.source
            .digest
            .as_deref()
            .is_some_and(|d| d.starts_with("sha256:"))
    );
    common::validate_all(&s);
    // Without a tag: the only image.
    assert_eq!(
        common::purls(&scan(&format!("oci:{}", root.display())).expect("scan")),
        EXPECTED
    );
    // A tar of the layout, given plainly or as oci:FILE.
    let mut b = tar::Builder::new(Vec::new());
    b.append_dir_all(".", &root).expect("tar");
    let tar_path = tmp.path().join("layout.tar");
    std::fs::write(&tar_path, b.into_inner().expect("tar")).expect("write");
    assert_eq!(
        common::purls(&scan(tar_path.to_str().expect("utf8")).expect("scan")),
        EXPECTED
    );
    assert_eq!(
        common::purls(&scan(&format!("oci:{}:v1", tar_path.display())).expect("scan")),
        EXPECTED
    );
    let err = scan(&format!("oci:{}:v2", root.display())).expect_err("no such tag");
    assert!(matches!(err, Error::ImageNotFound { .. }), "{err:?}");
}

#[test]
fn whiteout_of_a_binary_and_binary_in_lower_layer() {
    // Without the top layer the Go binary is visible and cataloged.
    let tmp = tempfile::tempdir().expect("tmp");
    let l = layers();
    let path = docker_archive(tmp.path(), &l[..2]);
    let s = scan(path.to_str().expect("utf8")).expect("scan");
    let p = common::purls(&s);
    assert!(
        p.contains(&"pkg:golang/example.com/tool@v1.0.0".to_string()),
        "{p:?}"
    );
    assert!(p.contains(&"pkg:golang/stdlib@1.21.5".to_string()), "{p:?}");
    assert!(p.contains(&"pkg:cargo/shadowed@0.1.0".to_string()), "{p:?}");
}

#[test]
fn hostile_layer_entries_never_leave_the_root() {
    let tmp = tempfile::tempdir().expect("tmp");
    let evil = status(&[("evil", "6.6.6")]);
    let base = layer(&[
        E::File("etc/os-release", OS),
        E::File("var/lib/dpkg/status", &status(&[("bash", "5.2.15-2")])),
        E::File("lib/apk/db/installed", b"P:musl\nV:1.2.4-r0\nA:x86_64\n\n"),
    ]);
    let hostile = layer(&[
        E::Raw("../../../../var/lib/dpkg/status", &evil),
        E::Raw("a/../../var/lib/dpkg/status", &evil),
        // Replaces the real status with a link out of the root: not followed.
        E::Symlink("var/lib/dpkg/status", "/etc/shadow"),
        E::Symlink("lib/apk", "../../../../host/lib/apk"),
        // Legitimate after lexical normalisation: stays inside.
        E::Raw(
            "usr/../opt/app/node_modules/ok/package.json",
            &npm("ok", "1.0.0"),
        ),
    ]);
    let path = docker_archive(tmp.path(), &[base, hostile]);
    let s = scan(path.to_str().expect("utf8")).expect("scan");
    assert_eq!(common::purls(&s), ["pkg:npm/ok@1.0.0"]);
    let escapes = s
        .warnings
        .iter()
        .filter(|w| w.message.contains("leaves the root"))
        .count();
    assert_eq!(escapes, 2, "{:?}", s.warnings);
    assert!(!tmp.path().join("var").exists() && !Path::new("/host").exists());
}

#[test]
fn truncated_tar_is_an_error() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut l = layers();
    let half = l[0].len() / 2 + 100;
    l[0].truncate(half);
    let path = docker_archive(tmp.path(), &l);
    let err = scan(path.to_str().expect("utf8")).expect_err("truncated");
    assert!(matches!(err, Error::Image { .. }), "{err:?}");
}

#[test]
fn corrupt_gzip_is_an_error() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut l = layers();
    let mut bad = gzip(&l[0]);
    let n = bad.len();
    for b in &mut bad[20..n - 8] {
        *b ^= 0x5a;
    }
    l[0] = bad;
    let path = docker_archive(tmp.path(), &l);
    let err = scan(path.to_str().expect("utf8")).expect_err("corrupt");
    assert!(matches!(err, Error::Image { .. }), "{err:?}");
}

#[test]
fn decompression_bomb_stops_at_the_limit() {
    let tmp = tempfile::tempdir().expect("tmp");
    let zeros = vec![0u8; 64 << 20];
    let bomb = gzip(&layer(&[E::File("zeros", &zeros)]));
    assert!(bomb.len() < 1 << 20);
    let path = docker_archive(tmp.path(), &[bomb]);
    let opts = ScanOptions {
        limits: Limits {
            max_layer_bytes: 8 << 20,
            ..Limits::default()
        },
        ..ScanOptions::default()
    };
    let started = std::time::Instant::now();
    let err = cairn_sbom::scan(&Source::Archive(path), &opts).expect_err("bomb");
    assert!(
        matches!(err, Error::DecompressionLimit { layer: 0, limit } if limit == 8 << 20),
        "{err:?}"
    );
    assert!(started.elapsed().as_secs() < 10);
}

#[test]
fn layer_digest_mismatch_is_an_error() {
    let tmp = tempfile::tempdir().expect("tmp");
    let root = oci_layout(tmp.path(), &layers());
    // Swap the content of the zstd layer blob for the plain one (valid tar, wrong digest).
    let idx: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("index.json")).expect("read"))
            .expect("json");
    let md = idx["manifests"][0]["digest"]
        .as_str()
        .expect("digest")
        .trim_start_matches("sha256:")
        .to_string();
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("blobs/sha256").join(md)).expect("read"))
            .expect("json");
    let l1 = m["layers"][1]["digest"]
        .as_str()
        .expect("d")
        .trim_start_matches("sha256:")
        .to_string();
    std::fs::write(
        root.join("blobs/sha256").join(l1),
        zstd(&layer(&[E::File("x", b"y")])),
    )
    .expect("write");
    let err = scan(&format!("oci:{}", root.display())).expect_err("mismatch");
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err:?}");
}

#[test]
fn not_an_image_is_an_error() {
    let tmp = tempfile::tempdir().expect("tmp");
    let p = tmp.path().join("random.bin");
    std::fs::write(&p, b"this is not a tar archive at all, just text").expect("write");
    assert!(scan(p.to_str().expect("utf8")).is_err());
    let t = tmp.path().join("plain.tar");
    std::fs::write(&t, layer(&[E::File("hello.txt", b"hi")])).expect("write");
    let err = scan(t.to_str().expect("utf8")).expect_err("not an image");
    assert!(matches!(err, Error::UnknownSource { .. }), "{err:?}");
}

#[test]
fn rpm_database_in_an_image_layer() {
    let tmp = tempfile::tempdir().expect("tmp");
    let fedora = common::testdata().join("sbom-fixtures/rootfs-fedora");
    let db = std::fs::read(fedora.join("usr/lib/sysimage/rpm/rpmdb.sqlite")).expect("db");
    let os = std::fs::read(fedora.join("etc/os-release")).expect("os");
    let l0 = layer(&[
        E::File("etc/os-release", &os),
        E::File("usr/lib/sysimage/rpm/rpmdb.sqlite", &db),
    ]);
    let path = docker_archive(tmp.path(), &[gzip(&l0)]);
    let s = scan(path.to_str().expect("utf8")).expect("scan");
    let names: Vec<_> = s.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["foo-tools", "hello", "libfoo"]);
    assert!(
        s.packages
            .iter()
            .all(|p| p.purl.contains("distro=fedora-39"))
    );
    assert_eq!(s.dependencies.len(), 2);
}

/// The first page of a Berkeley DB hash database as rpm < 4.16 writes `Packages`
/// (little-endian: magic 0x00061561 at offset 12), and of an ndb `Packages.db`.
fn bdb_head() -> Vec<u8> {
    let mut page = vec![0u8; 4096];
    page[12..16].copy_from_slice(&0x0006_1561u32.to_le_bytes());
    page
}

fn ndb_head() -> Vec<u8> {
    let mut page = b"RpmP".to_vec();
    page.resize(4096, 0);
    page
}

#[test]
fn legacy_rpm_databases_are_reported_not_skipped() {
    let tmp = tempfile::tempdir().expect("tmp");
    // A big Berkeley DB (over the text limit given) is still identified: only its head is read.
    let mut big = bdb_head();
    big.resize(3 << 20, 0x5a);
    let l0 = layer(&[
        E::File("etc/os-release", OS),
        E::File("var/lib/rpm/Packages", &big),
        E::File("usr/lib/sysimage/rpm/Packages.db", &ndb_head()),
    ]);
    let path = docker_archive(tmp.path(), &[gzip(&l0)]);
    let opts = ScanOptions {
        limits: Limits {
            max_text_bytes: 1 << 20,
            ..Limits::default()
        },
        ..ScanOptions::default()
    };
    let s = cairn_sbom::scan(&Source::Archive(path), &opts).expect("scan");
    assert!(s.packages.is_empty());
    let warned = |path: &str, what: &str| {
        s.warnings
            .iter()
            .any(|w| w.path == path && w.message.contains(what) && w.message.contains("missing"))
    };
    assert!(
        warned("var/lib/rpm/Packages", "Berkeley DB"),
        "{:?}",
        s.warnings
    );
    assert!(
        warned("usr/lib/sysimage/rpm/Packages.db", "ndb"),
        "{:?}",
        s.warnings
    );
    // The same files in a directory give the same warnings.
    let root = tmp.path().join("root");
    std::fs::create_dir_all(root.join("var/lib/rpm")).expect("mkdir");
    std::fs::create_dir_all(root.join("usr/lib/sysimage/rpm")).expect("mkdir");
    std::fs::write(root.join("var/lib/rpm/Packages"), &big).expect("write");
    std::fs::write(root.join("usr/lib/sysimage/rpm/Packages.db"), ndb_head()).expect("write");
    let d = cairn_sbom::scan(&Source::Directory(root), &opts).expect("scan");
    let mut a = s.warnings.clone();
    let mut b = d.warnings.clone();
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

/// An image whose layer readers fail after `fail_after` bytes (a dropped connection).
struct Flaky {
    blobs: Vec<Vec<u8>>,
    layers: Vec<cairn_sbom::LayerDescriptor>,
    fail_after: usize,
}

impl cairn_sbom::ImageSource for Flaky {
    fn info(&self) -> cairn_sbom::SourceInfo {
        cairn_sbom::SourceInfo {
            kind: cairn_sbom::SourceKind::Image,
            name: "flaky".into(),
            digest: None,
            config_digest: None,
        }
    }
    fn layers(&self) -> &[cairn_sbom::LayerDescriptor] {
        &self.layers
    }
    fn open_layer(&self, index: usize) -> std::io::Result<Box<dyn std::io::Read + '_>> {
        let blob = &self.blobs[index];
        if self.fail_after == usize::MAX {
            return Ok(Box::new(&blob[..]));
        }
        let cut = self.fail_after.min(blob.len());
        let err = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection reset");
        let failing = std::io::Read::chain(&blob[..cut], FailWith(Some(err)));
        Ok(Box::new(failing))
    }
}

struct FailWith(Option<std::io::Error>);

impl std::io::Read for FailWith {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        Err(self
            .0
            .take()
            .unwrap_or_else(|| std::io::Error::other("failed again")))
    }
}

fn descriptors(blobs: &[Vec<u8>]) -> Vec<cairn_sbom::LayerDescriptor> {
    blobs
        .iter()
        .map(|b| cairn_sbom::LayerDescriptor {
            media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
            digest: Some(format!("sha256:{}", sha256(b))),
            size: Some(b.len() as u64),
        })
        .collect()
}

#[test]
fn a_failing_layer_reader_is_a_read_error_not_a_malformed_image() {
    let blobs: Vec<Vec<u8>> = layers().iter().map(|l| gzip(l)).collect();
    // Whole blobs read fine through the trait (the same packages as the archive).
    let ok = Flaky {
        layers: descriptors(&blobs),
        blobs: blobs.clone(),
        fail_after: usize::MAX,
    };
    let s = cairn_sbom::scan_image(&ok, &ScanOptions::default()).expect("scan");
    assert_eq!(common::purls(&s), EXPECTED);
    for cut in [0, 10, 300] {
        let flaky = Flaky {
            layers: descriptors(&blobs),
            blobs: blobs.clone(),
            fail_after: cut,
        };
        let err = cairn_sbom::scan_image(&flaky, &ScanOptions::default()).expect_err("fails");
        match &err {
            Error::LayerRead { layer, source } => {
                assert_eq!(*layer, blobs.len() - 1, "the top layer is read first");
                assert_eq!(source.kind(), std::io::ErrorKind::ConnectionReset);
            }
            other => panic!("cut {cut}: {other:?}"),
        }
    }
}

#[test]
fn bytes_after_the_compressed_stream_count_in_the_digest() {
    // A zstd frame followed by padding the decoder never reads: the digest covers the whole
    // blob (as a registry computes it), so the scan succeeds; a changed padding byte fails.
    let mut blob = zstd(&layers()[0]);
    blob.extend_from_slice(&[0u8; 100_000]);
    let img = Flaky {
        layers: descriptors(std::slice::from_ref(&blob)),
        blobs: vec![blob.clone()],
        fail_after: usize::MAX,
    };
    let s = cairn_sbom::scan_image(&img, &ScanOptions::default()).expect("scan");
    assert!(common::purls(&s).iter().any(|p| p.contains("bash")));
    let mut tampered = blob.clone();
    let last = tampered.len() - 1;
    tampered[last] = 1;
    let img = Flaky {
        layers: descriptors(std::slice::from_ref(&blob)),
        blobs: vec![tampered],
        fail_after: usize::MAX,
    };
    let err = cairn_sbom::scan_image(&img, &ScanOptions::default()).expect_err("tampered");
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err:?}");
}

#[test]
fn a_missing_platform_names_the_platforms_the_index_has() {
    let tmp = tempfile::tempdir().expect("tmp");
    let root = oci_layout(tmp.path(), &layers());
    // Wrap the manifest in an index with amd64 and arm64/v8 entries.
    let idx: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("index.json")).expect("read"))
            .expect("json");
    let m = &idx["manifests"][0];
    let entry = |arch: &str, variant: Option<&str>| {
        let mut p = serde_json::json!({"os": "linux", "architecture": arch});
        if let Some(v) = variant {
            p["variant"] = v.into();
        }
        serde_json::json!({"mediaType": m["mediaType"], "digest": m["digest"], "size": m["size"], "platform": p})
    };
    let inner = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [entry("amd64", None), entry("arm64", Some("v8"))],
    })
    .to_string();
    let d = sha256(inner.as_bytes());
    std::fs::write(root.join("blobs/sha256").join(&d), &inner).expect("write");
    let top = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "digest": format!("sha256:{d}"), "size": inner.len(),
        "annotations": {"org.opencontainers.image.ref.name": "multi"}
    }]});
    std::fs::write(root.join("index.json"), top.to_string()).expect("write");
    let src = Source::parse(&format!("oci:{}:multi", root.display())).expect("parse");
    let arm = ScanOptions {
        platform: "linux/arm64".into(),
        ..ScanOptions::default()
    };
    assert_eq!(
        common::purls(&cairn_sbom::scan(&src, &arm).expect("arm64")),
        EXPECTED
    );
    let s390 = ScanOptions {
        platform: "linux/s390x".into(),
        ..ScanOptions::default()
    };
    let err = cairn_sbom::scan(&src, &s390).expect_err("no such platform");
    let msg = err.to_string();
    assert!(matches!(err, Error::ImageNotFound { .. }), "{err:?}");
    assert!(
        msg.contains("linux/s390x") && msg.contains("linux/amd64, linux/arm64/v8"),
        "{msg}"
    );
}
