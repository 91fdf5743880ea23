//! Replays the image fuzzing regression fixtures (`testdata/fuzz-regressions/image_layer`
//! and `sbom_inputs`) as `fuzz/fuzz_targets/` does: a one-layer image scanned with small
//! limits. No input may panic or hang (hostile layers: traversal, symlink escapes and loops,
//! a gzip bomb, truncation).
#![allow(clippy::unwrap_used)]

use std::io::{self, Read};

use cairn_sbom::{ImageSource, LayerDescriptor, SourceInfo, SourceKind};

struct OneLayer {
    blob: Vec<u8>,
    layers: Vec<LayerDescriptor>,
}

impl OneLayer {
    fn new(blob: Vec<u8>) -> OneLayer {
        OneLayer {
            layers: vec![LayerDescriptor {
                media_type: String::new(),
                digest: None,
                size: Some(blob.len() as u64),
            }],
            blob,
        }
    }
}

impl ImageSource for OneLayer {
    fn info(&self) -> SourceInfo {
        SourceInfo {
            kind: SourceKind::Image,
            name: "fuzz".into(),
            digest: None,
            config_digest: None,
        }
    }
    fn layers(&self) -> &[LayerDescriptor] {
        &self.layers
    }
    fn open_layer(&self, _index: usize) -> io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(&self.blob[..]))
    }
}

fn options() -> cairn_sbom::ScanOptions {
    let mut opts = cairn_sbom::ScanOptions::default();
    opts.limits.max_text_bytes = 1 << 20;
    opts.limits.max_file_bytes = 4 << 20;
    opts.limits.max_layer_bytes = 16 << 20;
    opts
}

const PATHS: &[(&str, u32)] = &[
    ("var/lib/dpkg/status", 0o644),
    ("app/package-lock.json", 0o644),
    (
        "usr/lib/python3/site-packages/demo-1.0.dist-info/METADATA",
        0o644,
    ),
    ("src/Cargo.lock", 0o644),
    ("opt/app/lib/demo.jar", 0o644),
    ("usr/local/bin/app", 0o755),
    ("lib/apk/db/installed", 0o644),
    ("etc/os-release", 0o644),
    ("app/yarn.lock", 0o644),
    ("app/pnpm-lock.yaml", 0o644),
    ("app/go.mod", 0o644),
    ("app/poetry.lock", 0o644),
    ("app/uv.lock", 0o644),
    ("app/Pipfile.lock", 0o644),
    ("app/requirements.txt", 0o644),
    ("app/node_modules/demo/package.json", 0o644),
    ("var/lib/dpkg/status.d/demo", 0o644),
    ("var/lib/rpm/rpmdb.sqlite", 0o644),
    (
        "usr/lib/python3/site-packages/demo.egg-info/PKG-INFO",
        0o644,
    ),
];

fn layer(path: &str, mode: u32, body: &[u8]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(body.len() as u64);
    h.set_mode(mode);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, path, body).unwrap();
    b.into_inner().unwrap()
}

#[test]
fn image_layer_fixtures() {
    cairn_testkit::fuzz::replay("image_layer", |data| {
        let _ = cairn_sbom::scan_image(&OneLayer::new(data.to_vec()), &options());
    });
}

#[test]
fn sbom_inputs_fixtures() {
    cairn_testkit::fuzz::replay("sbom_inputs", |data| {
        let Some((&pick, body)) = data.split_first() else {
            return;
        };
        let (path, mode) = PATHS[pick as usize % PATHS.len()];
        let _ = cairn_sbom::scan_image(&OneLayer::new(layer(path, mode, body)), &options());
    });
}
