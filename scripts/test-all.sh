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
# Before the tests, so that cargo test's summary stays the last thing printed. The sanitizer
# build is cached outside the clone (~/.cache/cairn/fuzz-target); cold, it takes ~8-10 min on
# 2 cores. CAIRN_FUZZ_SMOKE=0 leaves it out.
if [ "${CAIRN_FUZZ_SMOKE:-1}" != 0 ]; then
  echo "== fuzz smoke (scripts/fuzz-smoke.sh, 10 s per target)"
  CAIRN_REQUIRE_PEERS=1 bash scripts/fuzz-smoke.sh
fi
echo "== cargo test (CAIRN_REQUIRE_PEERS=1)"
CAIRN_REQUIRE_PEERS=1 cargo test --workspace
