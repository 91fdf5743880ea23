// Shared by the image targets (included, so each target stays one file for cargo-fuzz).

fn cairn_fuzz_info() -> SourceInfo {
    SourceInfo {
        kind: cairn_sbom::SourceKind::Image,
        name: "fuzz".into(),
        digest: None,
        config_digest: None,
    }
}

/// Small limits so a fuzzed bomb is refused quickly rather than read for minutes.
fn fuzz_options() -> cairn_sbom::ScanOptions {
    let mut opts = cairn_sbom::ScanOptions::default();
    opts.limits.max_text_bytes = 1 << 20;
    opts.limits.max_file_bytes = 4 << 20;
    opts.limits.max_layer_bytes = 16 << 20;
    opts
}
