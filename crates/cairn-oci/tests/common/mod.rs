//! Shared helpers for the cairn-oci integration tests: the image, registry-client and skopeo
//! fixtures live in `cairn_testkit::oci` (also used by the CLI's tests); testdata bundles here.
#![allow(dead_code, unused_imports)]

pub use cairn_testkit::oci::{
    bytes, client, client_with, multi_arch_layout, push_image, push_index, single_arch_layout,
    skopeo_push, skopeo_raw, tag,
};

/// A testdata bundle.
pub fn bundle(name: &str) -> Vec<u8> {
    cairn_testkit::read_testdata(&format!("oci/{name}"))
}
