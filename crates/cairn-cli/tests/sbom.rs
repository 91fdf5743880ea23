//! `cairn sbom` end to end: formats, spec versions, SOURCE_DATE_EPOCH, --out, --json, and the
//! exit-code contract on bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

fn cairn(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(args)
        .current_dir(cwd)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .env("NO_COLOR", "1")
        .env_remove("CAIRN_JSON")
        .output()
        .expect("cairn runs")
}

fn alpine() -> String {
    testdata()
        .join("sbom-fixtures/rootfs-alpine")
        .display()
        .to_string()
}

#[test]
fn spdx_on_stdout_is_reproducible() {
    let tmp = tempfile::tempdir().expect("tmp");
    let a = cairn(&["sbom", &alpine()], tmp.path());
    assert_eq!(
        a.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&a.stderr)
    );
    let b = cairn(&["sbom", &alpine()], tmp.path());
    assert_eq!(a.stdout, b.stdout);
    let doc: serde_json::Value = serde_json::from_slice(&a.stdout).expect("json");
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    assert_eq!(doc["creationInfo"]["created"], "2023-11-14T22:13:20Z");
    // root + operating system + 3 apk packages
    assert_eq!(doc["packages"].as_array().expect("packages").len(), 5);
}

#[test]
fn cyclonedx_versions_and_out_file() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("bom.json");
    let r = cairn(
        &[
            "sbom",
            &alpine(),
            "--format",
            "cyclonedx-json",
            "--spec-version",
            "1.5",
            "--out",
        ],
        tmp.path(),
    );
    assert_eq!(r.status.code(), Some(2), "--out needs a value");
    let r = cairn(
        &[
            "sbom",
            &alpine(),
            "--format",
            "cyclonedx-json",
            "--spec-version",
            "1.5",
            "--out",
            out.to_str().expect("utf8"),
        ],
        tmp.path(),
    );
    assert_eq!(
        r.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(r.stdout.is_empty());
    let bom: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).expect("written")).expect("json");
    assert_eq!(bom["specVersion"], "1.5");
    assert_eq!(bom["components"].as_array().expect("components").len(), 4);
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path()).expect("dir").collect();
    assert_eq!(leftovers.len(), 1, "temp files left behind");
    let r = cairn(
        &["sbom", &alpine(), "--format", "cyclonedx-json"],
        tmp.path(),
    );
    let bom: serde_json::Value = serde_json::from_slice(&r.stdout).expect("json");
    assert_eq!(bom["specVersion"], "1.6");
}

#[test]
fn json_report_and_warnings() {
    let tmp = tempfile::tempdir().expect("tmp");
    let root = testdata().join("sbom-fixtures/rootfs-debian");
    let r = cairn(
        &["sbom", root.to_str().expect("utf8"), "--json"],
        tmp.path(),
    );
    assert_eq!(
        r.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    let rep: serde_json::Value = serde_json::from_slice(&r.stdout).expect("one json document");
    assert_eq!(rep["format"], "spdx-json");
    assert_eq!(rep["distro"], "debian-12");
    assert!(rep["packages"].as_u64().expect("count") >= 20);
    assert!(
        rep["warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .any(|w| w["path"] == "var/lib/rpm/rpmdb.sqlite")
    );
    assert_eq!(rep["document"]["spdxVersion"], "SPDX-2.3");
    // Human mode: warnings on stderr, document on stdout.
    let r = cairn(&["sbom", root.to_str().expect("utf8")], tmp.path());
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("warning: var/lib/rpm/rpmdb.sqlite: rpm database not readable"),
        "{err}"
    );
}

#[test]
fn bad_input_exits_2_with_a_clear_error() {
    let tmp = tempfile::tempdir().expect("tmp");
    let r = cairn(&["sbom", "/nonexistent/cairn/source"], tmp.path());
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("error:") && err.contains("does not exist"),
        "{err}"
    );

    let bad = tmp.path().join("broken.tar");
    std::fs::write(&bad, vec![0x41u8; 1000]).expect("write");
    let r = cairn(&["sbom", bad.to_str().expect("utf8")], tmp.path());
    assert_eq!(
        r.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(String::from_utf8_lossy(&r.stderr).contains("error: cannot scan"));

    let r = cairn(&["sbom", &alpine(), "--spec-version", "2.2"], tmp.path());
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("unsupported --spec-version 2.2"));

    let r = cairn(
        &["sbom", &format!("oci:{}:nope", tmp.path().display())],
        tmp.path(),
    );
    assert_eq!(r.status.code(), Some(2));
}

// ---- registry images -------------------------------------------------------------------------

mod image {
    use std::io::Write;
    use std::path::Path;

    use sha2::{Digest, Sha256};

    /// A tar of `root` (as a layer), with extra raw `(path, bytes)` entries appended.
    pub fn layer(root: Option<&Path>, prefix: &str, extra: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        b.mode(tar::HeaderMode::Deterministic);
        if let Some(root) = root {
            b.append_dir_all(prefix, root).expect("tar dir");
        }
        for (p, data) in extra {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_path(p).expect("path");
            h.set_cksum();
            b.append(&h, *data).expect("append");
        }
        b.into_inner().expect("tar")
    }

    pub fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).expect("gzip");
        e.finish().expect("gzip")
    }

    pub fn zstd(data: &[u8]) -> Vec<u8> {
        ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
    }

    /// Writes blobs into an OCI layout and returns descriptors.
    pub struct Layout<'a>(pub &'a Path);

    impl Layout<'_> {
        pub fn put(&self, media_type: &str, data: &[u8]) -> serde_json::Value {
            let d = hex::encode(Sha256::digest(data));
            let dir = self.0.join("blobs/sha256");
            std::fs::create_dir_all(&dir).expect("mkdir");
            std::fs::write(dir.join(&d), data).expect("blob");
            serde_json::json!({"mediaType": media_type, "digest": format!("sha256:{d}"), "size": data.len()})
        }

        /// An image manifest over `layers` (already compressed, with their media types).
        pub fn image(&self, arch: &str, layers: &[(&str, Vec<u8>)]) -> serde_json::Value {
            let descs: Vec<_> = layers.iter().map(|(mt, b)| self.put(mt, b)).collect();
            let config = serde_json::json!({
                "architecture": arch, "os": "linux",
                "rootfs": {"type": "layers", "diff_ids": []}
            });
            let cd = self.put(
                "application/vnd.oci.image.config.v1+json",
                config.to_string().as_bytes(),
            );
            let m = serde_json::json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": cd, "layers": descs,
            });
            let mut d = self.put(
                "application/vnd.oci.image.manifest.v1+json",
                m.to_string().as_bytes(),
            );
            d["platform"] = serde_json::json!({"os": "linux", "architecture": arch});
            d
        }

        pub fn index(&self, entries: &[serde_json::Value]) -> serde_json::Value {
            let i = serde_json::json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "manifests": entries,
            });
            self.put(
                "application/vnd.oci.image.index.v1+json",
                i.to_string().as_bytes(),
            )
        }

        /// Writes `index.json` with these `(tag, descriptor)` entries.
        pub fn tags(&self, tagged: &[(&str, serde_json::Value)]) {
            let manifests: Vec<_> = tagged
                .iter()
                .map(|(t, d)| {
                    let mut d = d.clone();
                    if let Some(o) = d.as_object_mut() {
                        o.remove("platform");
                    }
                    d["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": t});
                    d
                })
                .collect();
            std::fs::write(
                self.0.join("index.json"),
                serde_json::json!({"schemaVersion": 2, "manifests": manifests}).to_string(),
            )
            .expect("index.json");
            std::fs::write(
                self.0.join("oci-layout"),
                r#"{"imageLayoutVersion":"1.0.0"}"#,
            )
            .expect("oci-layout");
        }
    }
}

/// The first page of a Berkeley DB hash database (rpm before 4.16 writes `Packages` so).
fn bdb_page() -> Vec<u8> {
    let mut page = vec![0u8; 4096];
    page[12..16].copy_from_slice(&0x0006_1561u32.to_le_bytes());
    page
}

/// Builds a layout with `single` (a three-layer amd64 image: gzip, zstd, plain; a whiteout,
/// an opaque directory, a Berkeley DB rpm database) and `multi` (an index of that image and
/// an arm64 Alpine image).
fn build_layout(dir: &Path) {
    use image::{Layout, gzip, layer, zstd};
    let fx = testdata().join("sbom-fixtures");
    let l = Layout(dir);
    let base = layer(Some(&fx.join("rootfs-debian")), ".", &[]);
    let update = layer(
        Some(&fx.join("npm-project")),
        "srv/app",
        &[
            (
                "usr/lib/python3/dist-packages/.wh.six-1.16.0.dist-info",
                b"",
            ),
            ("srv/app/.wh..wh..opq", b""),
        ],
    );
    let bdb = bdb_page();
    let top = layer(None, ".", &[("var/lib/rpm/Packages", &bdb)]);
    let amd64 = l.image(
        "amd64",
        &[
            ("application/vnd.oci.image.layer.v1.tar+gzip", gzip(&base)),
            ("application/vnd.oci.image.layer.v1.tar+zstd", zstd(&update)),
            ("application/vnd.oci.image.layer.v1.tar", top),
        ],
    );
    let alpine = layer(Some(&fx.join("rootfs-alpine")), ".", &[]);
    let arm64 = l.image(
        "arm64",
        &[("application/vnd.oci.image.layer.v1.tar+gzip", gzip(&alpine))],
    );
    let index = l.index(&[amd64.clone(), arm64]);
    l.tags(&[("single", amd64), ("multi", index)]);
}

fn skopeo_push(skopeo: &Path, layout: &Path, tag: &str, dest: &str) {
    let out = Command::new(skopeo)
        .args([
            "copy",
            "--all",
            "--preserve-digests",
            "--dest-tls-verify=false",
            &format!("oci:{}:{tag}", layout.display()),
            &format!("docker://{dest}"),
        ])
        .output()
        .expect("skopeo runs");
    assert!(
        out.status.success(),
        "skopeo copy: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CycloneDX BOM of SOURCE, with the parts that name the source (not its content) cut out:
/// the source's name and the serial number derived from it.
fn content_of(source: &str, extra: &[&str], cwd: &Path) -> (serde_json::Value, String) {
    let mut args = vec!["sbom", source, "--format", "cyclonedx-json"];
    args.extend_from_slice(extra);
    let out = cairn(&args, cwd);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "{source}: {stderr}");
    let mut bom: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let obj = bom.as_object_mut().expect("object");
    obj.remove("serialNumber");
    bom["metadata"]["component"]["name"] = "SOURCE".into();
    (bom, stderr)
}

#[test]
fn registry_images_give_the_same_sbom_as_the_layout_they_were_pushed_from() {
    let test = "registry_images_give_the_same_sbom_as_the_layout_they_were_pushed_from";
    let Some(skopeo) = cairn_testkit::registry::skopeo(test) else {
        return;
    };
    let Some(reg) = cairn_testkit::registry::Registry::start(test) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let layout = tmp.path().join("layout");
    build_layout(&layout);
    skopeo_push(
        &skopeo,
        &layout,
        "single",
        &format!("{}/team/app:single", reg.host()),
    );
    skopeo_push(
        &skopeo,
        &layout,
        "multi",
        &format!("{}/team/app:multi", reg.host()),
    );
    let oci = |tag: &str| format!("oci:{}:{tag}", layout.display());
    let remote = |tag: &str| format!("{}/team/app:{tag}", reg.host());

    // Single-platform image.
    let (from_layout, _) = content_of(&oci("single"), &[], tmp.path());
    let (from_registry, stderr) = content_of(&remote("single"), &[], tmp.path());
    assert_eq!(from_registry, from_layout);
    let purls: Vec<&str> = from_registry["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter_map(|c| c["purl"].as_str())
        .collect();
    assert!(
        purls.iter().any(|p| p.starts_with("pkg:deb/debian/libc6@")),
        "{purls:?}"
    );
    assert!(
        purls.iter().any(|p| p.starts_with("pkg:pypi/requests@")),
        "{purls:?}"
    );
    assert!(
        !purls.iter().any(|p| p.starts_with("pkg:pypi/six@")),
        "whited out: {purls:?}"
    );
    // srv/app of the base (whose lock file has tap@1.0.0) is replaced by the npm project.
    assert!(
        !purls.iter().any(|p| p.starts_with("pkg:npm/tap@")),
        "opaque dir: {purls:?}"
    );
    assert!(
        purls.iter().any(|p| p.starts_with("pkg:npm/tap-lite@")),
        "{purls:?}"
    );
    assert!(
        stderr.contains("var/lib/rpm/Packages") && stderr.contains("Berkeley DB"),
        "{stderr}"
    );
    assert!(stderr.contains("resolved to sha256:"), "{stderr}");
    // The image digest is the one the layout has (skopeo kept it).
    assert!(
        from_registry["metadata"]["component"]["version"]
            .as_str()
            .is_some_and(|d| d.starts_with("sha256:"))
    );

    // Multi-platform index: the default platform (linux/amd64) and --platform linux/arm64.
    let (amd_layout, _) = content_of(&oci("multi"), &[], tmp.path());
    let (amd_registry, _) = content_of(&remote("multi"), &[], tmp.path());
    assert_eq!(amd_registry, amd_layout);
    assert_eq!(
        amd_registry["components"], from_layout["components"],
        "the index's amd64 entry is the single image"
    );
    let arm = ["--platform", "linux/arm64"];
    let (arm_layout, _) = content_of(&oci("multi"), &arm, tmp.path());
    let (arm_registry, _) = content_of(&remote("multi"), &arm, tmp.path());
    assert_eq!(arm_registry, arm_layout);
    assert_ne!(arm_registry["components"], amd_registry["components"]);
    assert!(
        arm_registry["components"]
            .as_array()
            .expect("components")
            .iter()
            .any(|c| c["purl"]
                .as_str()
                .is_some_and(|p| p.starts_with("pkg:apk/alpine/")))
    );
    // SPDX through the registry too (the same package count as from the layout).
    let spdx_of = |s: &str| -> serde_json::Value {
        let out = cairn(&["sbom", s, "--platform", "linux/arm64"], tmp.path());
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("json")
    };
    assert_eq!(
        spdx_of(&remote("multi"))["packages"]
            .as_array()
            .map(Vec::len),
        spdx_of(&oci("multi"))["packages"].as_array().map(Vec::len)
    );

    // A platform the index does not have: exit 2, naming what it has.
    let out = cairn(
        &["sbom", &remote("multi"), "--platform", "linux/s390x"],
        tmp.path(),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(out.stdout.is_empty());
    assert!(
        err.contains("linux/s390x") && err.contains("linux/amd64") && err.contains("linux/arm64"),
        "{err}"
    );
    assert!(
        err.contains("hint: pick one of the index's platforms"),
        "{err}"
    );
    // A single-platform image asked for as another platform: scanned, with a warning.
    let (as_arm, stderr) = content_of(&remote("single"), &arm, tmp.path());
    assert_eq!(as_arm, from_layout);
    assert!(
        stderr.contains("single-platform linux/amd64 image, not linux/arm64"),
        "{stderr}"
    );
    // An unknown tag: exit 2.
    let out = cairn(&["sbom", &remote("nope")], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    // `registry:` forces the registry reading even when a local path has the name.
    std::fs::create_dir_all(tmp.path().join(reg.host())).expect("mkdir");
    let (forced, _) = content_of(&format!("registry:{}", remote("single")), &[], tmp.path());
    assert_eq!(forced, from_layout);
}

/// A registry that serves one image whose layer blob was swapped for other bytes of the same
/// size after the manifest was written (a compromised mirror or storage): the scan must fail
/// with exit 2 and name the digest mismatch, and write no document.
#[test]
fn a_registry_serving_a_tampered_layer_is_refused() {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    use image::{gzip, layer};
    use sha2::{Digest, Sha256};

    let fx = testdata().join("sbom-fixtures");
    let honest = gzip(&layer(Some(&fx.join("rootfs-alpine")), ".", &[]));
    let evil = {
        let status = b"P:evil\nV:6.6.6\n\n";
        let mut l = gzip(&layer(None, ".", &[("lib/apk/db/installed", status)]));
        l.resize(honest.len(), 0); // same size: only the digest tells them apart
        l
    };
    let digest = |b: &[u8]| format!("sha256:{}", hex::encode(Sha256::digest(b)));
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(config), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest(&honest), "size": honest.len()}],
    })
    .to_string()
    .into_bytes();

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let host = listener.local_addr().expect("addr").to_string();
    let (m, l_digest, c_digest) = (manifest.clone(), digest(&honest), digest(config));
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut reader = BufReader::new(conn.try_clone().expect("clone"));
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                    break;
                }
            }
            let mut parts = request.split_whitespace();
            let method = parts.next().unwrap_or("");
            let path = parts.next().unwrap_or("");
            let (status, ctype, body): (&str, &str, &[u8]) = if path == "/v2/" {
                ("200 OK", "application/json", b"{}")
            } else if path == "/v2/app/manifests/1" || path.ends_with(&digest(&m)) {
                ("200 OK", "application/vnd.oci.image.manifest.v1+json", &m)
            } else if path.ends_with(&l_digest) {
                ("200 OK", "application/octet-stream", &evil)
            } else if path.ends_with(&c_digest) {
                ("200 OK", "application/octet-stream", config)
            } else {
                (
                    "404 Not Found",
                    "application/json",
                    b"{\"errors\":[{\"code\":\"NOT_FOUND\"}]}",
                )
            };
            let extra = if ctype.contains("manifest") {
                format!("Docker-Content-Digest: {}\r\n", digest(&m))
            } else {
                String::new()
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(head.as_bytes());
            if method != "HEAD" {
                let _ = conn.write_all(body);
            }
        }
    });

    let tmp = tempfile::tempdir().expect("tmp");
    let out_file = tmp.path().join("sbom.json");
    let out = cairn(
        &[
            "sbom",
            &format!("{host}/app:1"),
            "--out",
            out_file.to_str().expect("utf8"),
            "--registry-attempts",
            "1",
        ],
        tmp.path(),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot read layer 0"), "{err}");
    assert!(
        err.contains("digest") && err.contains(&digest(&honest)),
        "{err}"
    );
    assert!(!out_file.exists(), "no document from a tampered image");
    assert!(!err.contains("evil"), "{err}");
}
