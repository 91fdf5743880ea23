//! Records the artifacts under the given paths and prints an unsigned in-toto link (legacy
//! format) on stdout, with timings on stderr.
//!
//! ```text
//! cargo run --release -p cairn-record --example record -- DIR [DIR...]
//! ```

use std::path::PathBuf;
use std::time::Instant;

use cairn_record::{
    ArtifactOptions, Artifacts, ArtifactsRef, LinkDocument, NoProgress, StepInfo, link,
    record_artifacts,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        eprintln!("usage: record PATH...");
        std::process::exit(2);
    }
    let start = Instant::now();
    let artifacts = record_artifacts(&paths, &ArtifactOptions::default(), &NoProgress)?;
    let hashed = start.elapsed();
    let peak_after_hashing = peak_rss_kib();
    for notice in &artifacts.notices {
        eprintln!("warning: {notice}");
    }
    let step = StepInfo {
        name: "example".into(),
        ..StepInfo::default()
    };
    let empty = Artifacts::default();
    let byproducts = link::byproducts(&step);
    let environment = link::environment(&step);
    let doc = LinkDocument {
        name: &step.name,
        command: &step.command,
        byproducts: &byproducts,
        environment: &environment,
        materials: ArtifactsRef::Recorded(&artifacts),
        products: ArtifactsRef::Recorded(&empty),
    };
    let canonical = doc.canonical_signed()?; // what a signer would sign
    let json = doc.metablock_json(&[]);
    eprintln!("canonical form: {} bytes", canonical.len());
    let total = start.elapsed();
    eprintln!(
        "{} files, {} bytes: hashed in {:.3} s (peak RSS {} KiB), link ready in {:.3} s (peak RSS {} KiB)",
        artifacts.files,
        artifacts.bytes,
        hashed.as_secs_f64(),
        peak_after_hashing,
        total.as_secs_f64(),
        peak_rss_kib()
    );
    use std::io::Write;
    std::io::stdout().write_all(&json)?;
    Ok(())
}

/// Peak resident set size so far (Linux), for the benchmark notes.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
