//! Package manifests as catalogers read them inside an image: the first byte picks which
//! file the rest of the input becomes (dpkg status, package-lock, dist-info METADATA,
//! Cargo.lock, a jar, a Go/Rust binary, ...); it is packed into a one-layer image.
#![no_main]
use std::io::{self, Read};

use cairn_sbom::{ImageSource, LayerDescriptor, SourceInfo};
use libfuzzer_sys::fuzz_target;

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

struct OneLayer {
    blob: Vec<u8>,
    layers: Vec<LayerDescriptor>,
}

impl ImageSource for OneLayer {
    fn info(&self) -> SourceInfo {
        cairn_fuzz_info()
    }
    fn layers(&self) -> &[LayerDescriptor] {
        &self.layers
    }
    fn open_layer(&self, _index: usize) -> io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(&self.blob[..]))
    }
}

include!("common/info.rs");

fn layer(path: &str, mode: u32, body: &[u8]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(body.len() as u64);
    h.set_mode(mode);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, path, body).expect("in-memory tar");
    b.into_inner().expect("in-memory tar")
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let (path, mode) = PATHS[pick as usize % PATHS.len()];
    let blob = layer(path, mode, body);
    let image = OneLayer {
        layers: vec![LayerDescriptor {
            media_type: String::new(),
            digest: None,
            size: Some(blob.len() as u64),
        }],
        blob,
    };
    let _ = cairn_sbom::scan_image(&image, &fuzz_options());
});
