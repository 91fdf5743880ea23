//! An image with one layer whose blob is the input (tar, gzip, zstd: sniffed), scanned for
//! packages: whiteouts, links, path normalisation and every cataloger on what the tar holds.
#![no_main]
use std::io::{self, Read};

use cairn_sbom::{ImageSource, LayerDescriptor, SourceInfo};
use libfuzzer_sys::fuzz_target;

struct OneLayer<'a> {
    blob: &'a [u8],
    layers: Vec<LayerDescriptor>,
}

impl ImageSource for OneLayer<'_> {
    fn info(&self) -> SourceInfo {
        cairn_fuzz_info()
    }
    fn layers(&self) -> &[LayerDescriptor] {
        &self.layers
    }
    fn open_layer(&self, _index: usize) -> io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(self.blob))
    }
}

include!("common/info.rs");

fuzz_target!(|data: &[u8]| {
    let image = OneLayer {
        blob: data,
        layers: vec![LayerDescriptor {
            media_type: String::new(),
            digest: None,
            size: Some(data.len() as u64),
        }],
    };
    let _ = cairn_sbom::scan_image(&image, &fuzz_options());
});
