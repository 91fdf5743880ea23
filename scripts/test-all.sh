#!/usr/bin/env bash
# The full test command (README, .ci/run): installs the interoperability peers into ./.peers,
# then runs fmt, clippy and every test with CAIRN_REQUIRE_PEERS=1, so a missing peer fails
# instead of skipping. Plain `cargo test --workspace` needs none of this.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export CAIRN_PEERS_DIR="${CAIRN_PEERS_DIR:-$root/.peers}"

bash scripts/install-peers.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== cargo test (CAIRN_REQUIRE_PEERS=1)"
CAIRN_REQUIRE_PEERS=1 cargo test --workspace
