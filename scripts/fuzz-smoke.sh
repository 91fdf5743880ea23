#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a short time (default 10 s each; FUZZ_SECONDS to
# change, e.g. FUZZ_SECONDS=600 for a long campaign; FUZZ_TARGETS="a b" for a subset).
#
# Only the stable toolchain is assumed: cargo-fuzz's nightly-only flags are enabled with
# RUSTC_BOOTSTRAP=1. cargo-fuzz is installed from crates.io when missing. When it cannot be
# installed or the targets cannot be built, the script prints SKIP with the reason and exits 0,
# unless CAIRN_REQUIRE_PEERS=1 (as scripts/test-all.sh sets), which turns that into a failure.
# A crash, leak, timeout or out-of-memory found by any target fails the script; the input is
# kept in fuzz/artifacts/<target>/ (add it to testdata/fuzz-regressions/<target>/).
#
# Seeds come from testdata/ (the project's vectors) and testdata/fuzz-regressions/; the
# growing corpus lives in fuzz/corpus/ (not committed). The build directory is outside the
# clone (CAIRN_FUZZ_TARGET_DIR, default ~/.cache/cairn/fuzz-target) so CI reuses it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds="${FUZZ_SECONDS:-10}"
require="${CAIRN_REQUIRE_PEERS:-0}"
export CARGO_TARGET_DIR="${CAIRN_FUZZ_TARGET_DIR:-$HOME/.cache/cairn/fuzz-target}"
export RUSTC_BOOTSTRAP=1

skip() {
  if [ "$require" = "1" ]; then
    echo "FAIL fuzz smoke: $1 (CAIRN_REQUIRE_PEERS=1)" >&2
    exit 1
  fi
  echo "SKIP fuzz smoke: $1"
  exit 0
}

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz (crates.io)"
  cargo install cargo-fuzz --locked --quiet || skip "cargo-fuzz could not be installed"
fi

all_targets=$(sed -n 's/^name = "\([a-z_]*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^cairn-fuzz$' || true)
targets="${FUZZ_TARGETS:-$all_targets}"

echo "== cargo fuzz build (RUSTC_BOOTSTRAP=1, target dir $CARGO_TARGET_DIR)"
start=$(date +%s)
mkdir -p fuzz/artifacts
if ! (cd fuzz && cargo fuzz build) > fuzz/artifacts/build.log 2>&1; then
  tail -n 20 fuzz/artifacts/build.log >&2
  skip "the fuzz targets did not build (log: fuzz/artifacts/build.log)"
fi
echo "   built in $(( $(date +%s) - start )) s"

# Seeds: a few of the project's vectors per target, copied once into the corpus.
seed() {
  local target=$1; shift
  local dir="fuzz/corpus/$target"
  mkdir -p "$dir"
  cp -n testdata/fuzz-regressions/"$target"/* "$dir"/ 2>/dev/null || true
  local f n=0
  for f in "$@"; do
    [ -f "$f" ] || continue
    cp -n "$f" "$dir/seed-$(basename "$(dirname "$f")")-$(basename "$f")" 2>/dev/null || true
    n=$((n + 1))
    if [ "$n" -ge 40 ]; then break; fi
  done
}
# With a leading selector byte (targets that pick a media type or a file name from byte 0).
seed_prefixed() {
  local target=$1 byte=$2; shift 2
  local dir="fuzz/corpus/$target"
  mkdir -p "$dir"
  local f
  for f in "$@"; do
    [ -f "$f" ] || continue
    { printf "\\x$(printf %02x "$byte")"; head -c 65536 "$f"; } > "$dir/seed-$byte-$(basename "$f")"
  done
}
shopt -s nullglob globstar
seed dsse_envelope testdata/in-toto-python/**/*.dsse.* testdata/in-toto-golang/**/*.json
seed sigstore_bundle testdata/sigstore-conformance/bundle-verify/*/bundle.sigstore.json testdata/oci/*.json
seed statement testdata/in-toto-attestation/**/*.json testdata/slsa/**/*.json
seed legacy_metadata testdata/in-toto-rs/**/*.link testdata/in-toto-rs/**/*.layout testdata/in-toto-python/**/*.link testdata/in-toto-python/**/*.layout
seed key_file testdata/openssl-keys/* testdata/cosign/*.key testdata/in-toto-python/**/*.pub testdata/in-toto-python/**/alice testdata/in-toto-golang/**/*.pem
seed oci_reference
printf 'ghcr.io/acme/app:1.2@sha256:%064d' 0 > fuzz/corpus/oci_reference/seed-full
printf 'localhost:5000/a/b/c:tag' > fuzz/corpus/oci_reference/seed-port
printf 'oci:./layout:v1' > fuzz/corpus/oci_reference/seed-layout
printf 'docker.io/library/alpine' > fuzz/corpus/oci_reference/seed-short
seed oci_manifest
seed_prefixed oci_manifest 0 testdata/oci/*.json
seed image_layer
seed sbom_inputs
seed_prefixed sbom_inputs 0 testdata/sbom-fixtures/debian-status/var/lib/dpkg/status
seed_prefixed sbom_inputs 1 testdata/sbom-fixtures/npm-project/package-lock.json
seed_prefixed sbom_inputs 3 testdata/sbom-fixtures/cargo-workspace/Cargo.lock
seed_prefixed sbom_inputs 2 testdata/sbom-fixtures/rootfs-debian/usr/lib/python3/dist-packages/*.dist-info/METADATA
seed_prefixed sbom_inputs 6 testdata/sbom-fixtures/rootfs-alpine/lib/apk/db/installed
seed_prefixed sbom_inputs 7 testdata/sbom-fixtures/rootfs-debian/etc/os-release
seed policy_yaml testdata/policy/*.yaml

failed=0
summary=""
for t in $targets; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  log="fuzz/artifacts/$t/last-run.log"
  echo "== fuzz $t for ${seconds}s"
  set +e
  (cd fuzz && cargo fuzz run "$t" "corpus/$t" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=1048576 -print_final_stats=1 -artifact_prefix="artifacts/$t/") > "$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -ao 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*$' || true)
  cov=$(grep -ao 'cov: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*$' || true)
  summary="$summary$(printf '%-16s %10s execs  cov %6s  exit %s' "$t" "${runs:-?}" "${cov:-?}" "$rc")\n"
  if [ "$rc" != 0 ]; then
    failed=1
    echo "FOUND: $t exited $rc; log $log; inputs in fuzz/artifacts/$t/" >&2
    grep -aE "ERROR|panicked|SUMMARY|Test unit written" "$log" | head -n 20 >&2 || true
  fi
done
echo "== fuzz smoke summary (${seconds}s per target)"
printf "%b" "$summary"
if [ "$failed" != 0 ]; then
  echo "fuzz smoke: findings above" >&2
  exit 1
fi
