// Shared by the image targets (included, so each target stays one file for cargo-fuzz).

fn cairn_fuzz_info() -> SourceInfo {
    SourceInfo {
        kind: cairn_sbom::SourceKind::Image,
        name: "fuzz".into(),
        digest: None,
        config_digest: None,
    }
}

/// Small limits so a fuzzed bomb is refused quickly rather than read for minutes. Inputs are at
/// most 1 MiB (`-max_len` in scripts/fuzz-smoke.sh); a 2 MiB layer limit still lets every
/// limit trip, while a mutated gzip bomb costs 2 MiB of inflating instead of 16 (with 16 MiB,
/// image_layer ran at 24-38 inputs/s under ASan, 23,084 inputs in 10 minutes).
fn fuzz_options() -> cairn_sbom::ScanOptions {
    let mut opts = cairn_sbom::ScanOptions::default();
    opts.limits.max_text_bytes = 1 << 20;
    opts.limits.max_file_bytes = 1 << 20;
    opts.limits.max_layer_bytes = 2 << 20;
    opts
}
