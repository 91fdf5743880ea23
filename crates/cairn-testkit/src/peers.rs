//! Finding reference implementations ("peers") for interop tests.
//!
//! A test asks for a peer with [`require`]. When the peer is missing it gets `None` and a line
//! on stderr saying why the test skips; with `CAIRN_REQUIRE_PEERS=1` (the full test command)
//! a missing peer panics instead, so CI can never pass by skipping.

use std::path::{Path, PathBuf};

/// Where `scripts/install-peers.sh` puts the peers: `$CAIRN_PEERS_DIR`, else `<workspace>/.peers`.
pub fn peers_dir() -> PathBuf {
    match std::env::var_os("CAIRN_PEERS_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.peers"),
    }
}

/// True when the full test command runs (`CAIRN_REQUIRE_PEERS=1`).
pub fn peers_required() -> bool {
    std::env::var("CAIRN_REQUIRE_PEERS").is_ok_and(|v| v == "1" || v == "true")
}

/// Looks for an executable peer at `rel` under the peers directory (e.g. `venv/bin/in-toto-verify`).
///
/// Returns `None` (after printing the reason) when it is missing, or panics when peers are
/// required.
pub fn require(test: &str, rel: &str) -> Option<PathBuf> {
    let path = peers_dir().join(rel);
    if is_executable(&path) {
        return Some(path);
    }
    missing(test, &format!("{} not found", path.display()))
}

/// Reports a missing peer: skip (print why) or, with `CAIRN_REQUIRE_PEERS=1`, panic.
pub fn missing(test: &str, why: &str) -> Option<PathBuf> {
    assert!(
        !peers_required(),
        "{test}: peer required (CAIRN_REQUIRE_PEERS=1) but {why}; run scripts/install-peers.sh"
    );
    eprintln!(
        "SKIP {test}: {why} (run scripts/install-peers.sh, or set CAIRN_REQUIRE_PEERS=1 to fail)"
    );
    None
}

fn is_executable(path: &Path) -> bool {
    path.is_file()
}
