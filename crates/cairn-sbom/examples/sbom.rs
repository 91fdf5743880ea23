//! Scans a source and prints an SBOM, using only the public API.
//!
//! `cargo run -p cairn-sbom --example sbom -- SOURCE [spdx|cyclonedx]`
//! (SOURCE: a directory, a docker-save tar, or oci:DIR[:TAG]). Time comes from
//! `SOURCE_DATE_EPOCH` when set.

use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let source = args.next().ok_or("usage: sbom SOURCE [spdx|cyclonedx]")?;
    let format = args.next().unwrap_or_else(|| "spdx".into());
    let created = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(s) => chrono::DateTime::from_timestamp(s.parse()?, 0)
            .ok_or("SOURCE_DATE_EPOCH out of range")?,
        Err(_) => chrono::Utc::now(),
    };
    let sbom = cairn_sbom::scan(&cairn_sbom::Source::parse(&source)?, &Default::default())?;
    for w in &sbom.warnings {
        eprintln!("warning: {}: {}", w.path, w.message);
    }
    let opts =
        cairn_sbom::WriteOptions::new(created, "cairn-sbom-example", env!("CARGO_PKG_VERSION"));
    let bytes = match format.as_str() {
        "cyclonedx" => serde_json::to_vec_pretty(&cairn_sbom::cyclonedx::bom(
            &sbom,
            &opts,
            Default::default(),
        ))?,
        _ => serde_json::to_vec_pretty(&cairn_sbom::spdx::document(&sbom, &opts))?,
    };
    let mut out = std::io::stdout().lock();
    out.write_all(&bytes)?;
    out.write_all(b"\n")?;
    Ok(())
}
