//! OCI and Docker manifests and indexes, under each media type they may be served as.
#![no_main]
use cairn_oci::manifest::{Manifest, media};
use libfuzzer_sys::fuzz_target;

const TYPES: &[&str] = &[
    "",
    "application/json",
    media::OCI_MANIFEST,
    media::OCI_INDEX,
    media::DOCKER_MANIFEST,
    media::DOCKER_MANIFEST_LIST,
    media::DOCKER_SCHEMA1_SIGNED,
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let ty = TYPES[pick as usize % TYPES.len()];
    if let Ok(m) = Manifest::parse(ty, rest) {
        let _ = m.subject();
        let _ = m.artifact_type();
        let _ = m.annotations();
    }
});
