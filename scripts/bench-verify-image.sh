#!/usr/bin/env bash
# `cairn verify image` with 10 attestations (4 SLSA provenance, 3 SPDX SBOMs, 3 test results,
# key-signed and logged in the in-process Rekor of cairn-testkit) attached as OCI referrers to
# an image on a local docker-registry; a policy with three requirements (SLSA checks, SBOM
# licence deny list, CEL). Reports the median wall time of RUNS invocations of the binary
# (each: resolve, list referrers, fetch 10 bundles, verify, evaluate, print JSON).
#   scripts/bench-verify-image.sh [RUNS=10]      PROFILE=release for an optimised build
# Needs docker-registry (scripts/install-peers.sh) and cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-10}"
PROFILE="${PROFILE:-dev}"
command -v docker-registry >/dev/null || { echo "bench-verify-image: docker-registry not found (run scripts/install-peers.sh)" >&2; exit 2; }
echo "profile: $PROFILE, runs: $RUNS, cpu: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
BENCH_RUNS="$RUNS" CAIRN_REQUIRE_PEERS=1 cargo test -q --profile "$PROFILE" -p cairn-cli --test promote \
  bench_verify_image_10_attestations -- --ignored --nocapture 2>&1 | grep -E '^BENCH|panicked|error' || true
