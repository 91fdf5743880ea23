//! Copy an image (with its referrers) by digest: `copy SRC DST`, where both are registry
//! references or `oci:DIR[:TAG]`. Used by `scripts/bench-oci.sh`; uses only the public API.
//!
//! Example: cargo run --release -p cairn-oci --example copy -- 127.0.0.1:5000/a:v1 127.0.0.1:5000/b:v1

use std::sync::Arc;
use std::time::Instant;

use cairn_oci::auth::DockerConfig;
use cairn_oci::{
    Client, ClientConfig, CopyOptions, OciRef, PlatformSelection, copy, open, resolve,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [src, dst] = args.as_slice() else {
        eprintln!("usage: copy SRC DST");
        std::process::exit(2);
    };
    let (src, dst) = (OciRef::parse(src)?, OciRef::parse(dst)?);
    let client = Client::new(
        ClientConfig::default(),
        Arc::new(DockerConfig::load_default()?),
    )?;
    let started = Instant::now();
    let src_repo = open(&src, &client, false)?;
    let dst_repo = open(&dst, &client, true)?;
    let resolved = resolve(src_repo.as_ref(), &src.reference(), &PlatformSelection::All)?;
    let report = copy(
        src_repo.as_ref(),
        resolved.digest(),
        dst_repo.as_ref(),
        dst.tag(),
        &CopyOptions::default(),
    )?;
    eprintln!(
        "copied {} in {:.3}s: {} manifests, {} blobs ({} bytes), {} mounted, {} present, {} referrers",
        resolved.digest(),
        started.elapsed().as_secs_f64(),
        report.manifests_copied,
        report.blobs_copied,
        report.bytes_copied,
        report.blobs_mounted,
        report.blobs_present,
        report.referrers.len()
    );
    Ok(())
}
