#!/usr/bin/env bash
# Recording benchmark: `cairn run --no-command` against in-toto-run (python reference) and the
# hardware's SHA-256 limit (OpenSSL and GNU sha256sum, one process per core), side by side, warm
# page cache, on two data sets generated into a temporary directory (never into the repo):
#   (a) 50,000 files of 1-16 KiB in 1,000 folders (about 436 MB)
#   (b) 8 files of 128 MiB (1 GiB)
# Prints wall time (median of RUNS), peak RSS, and ratios against cairn.
#
# Usage: scripts/bench-record.sh [--small]     (--small: 5,000 files and 8 x 16 MiB, for a smoke run)
# Env:   RUNS (default 3), BENCH_DIR (default: a new dir under ${TMPDIR:-/tmp}), KEEP=1 keeps it,
#        CAIRN (default target/release/cairn, built if missing), INTOTO_RUN (default
#        .peers/venv/bin/in-toto-run; install with scripts/install-peers.sh), SKIP_INTOTO=1,
#        CAIRN_BEFORE (another cairn binary, e.g. a build of an earlier commit, measured in the
#        same run for a before/after ratio).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

FILES=50000; DIRS=1000; BIG_COUNT=8; BIG_MIB=128
if [ "${1:-}" = "--small" ]; then FILES=5000; DIRS=100; BIG_MIB=16; fi
RUNS=${RUNS:-3}
CORES=$(nproc)

CAIRN=${CAIRN:-$ROOT/target/release/cairn}
if [ ! -x "$CAIRN" ]; then
  echo "== building cairn (release)" >&2
  cargo build --release -q -p cairn-cli
fi
INTOTO_RUN=${INTOTO_RUN:-$ROOT/.peers/venv/bin/in-toto-run}
if [ "${SKIP_INTOTO:-0}" != 1 ] && [ ! -x "$INTOTO_RUN" ]; then
  echo "in-toto-run not found at $INTOTO_RUN: run scripts/install-peers.sh or set SKIP_INTOTO=1" >&2
  exit 2
fi

WORK=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench.XXXXXX")}
mkdir -p "$WORK"
if [ "${KEEP:-0}" != 1 ] && [ -z "${BENCH_DIR:-}" ]; then trap 'rm -rf "$WORK"' EXIT; fi

gen() {
  python3 - "$WORK" "$FILES" "$DIRS" "$BIG_COUNT" "$BIG_MIB" <<'PY'
import os, random, sys
work, files, dirs, big_count, big_mib = sys.argv[1], *map(int, sys.argv[2:])
rng = random.Random(42)
small = os.path.join(work, "small")
if not os.path.isdir(small):
    total = 0
    for i in range(files):
        d = os.path.join(small, f"d{i % dirs:04d}")
        os.makedirs(d, exist_ok=True)
        size = rng.randint(1024, 16 * 1024)
        total += size
        with open(os.path.join(d, f"f{i:05d}.bin"), "wb") as f:
            f.write(rng.randbytes(size))
    print(f"small: {files} files in {dirs} folders, {total / 1e6:.0f} MB", file=sys.stderr)
big = os.path.join(work, "big")
if not os.path.isdir(big):
    os.makedirs(big)
    for i in range(big_count):
        with open(os.path.join(big, f"blob{i}.bin"), "wb") as f:
            for _ in range(big_mib):
                f.write(rng.randbytes(1 << 20))
    print(f"big: {big_count} files of {big_mib} MiB", file=sys.stderr)
PY
}
echo "== generating data in $WORK" >&2
gen

KEY="$WORK/key.pem"
[ -f "$KEY" ] || openssl genpkey -algorithm ed25519 -out "$KEY" 2>/dev/null
OUT="$WORK/out"; mkdir -p "$OUT"

# measure CMD...: RUNS timed runs after one warm-up; prints "median_wall_s max_rss_kib median_cpu_s"
# (CPU = user + system, which other load on the machine disturbs less than wall time).
measure() {
  local times=() cpus=() rss=0 t m u s
  "$@" >/dev/null 2>&1 || { echo "FAILED: $*" >&2; return 1; }
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f '%e %M %U %S' -o "$WORK/time.txt" "$@" >/dev/null 2>&1
    read -r t m u s < <(tail -1 "$WORK/time.txt")
    times+=("$t"); cpus+=("$(awk -v u="$u" -v s="$s" 'BEGIN {print u + s}')")
    [ "$m" -gt "$rss" ] && rss=$m
  done
  local wall cpu
  wall=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  cpu=$(printf '%s\n' "${cpus[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "$wall $rss $cpu"
}

# One process per core over the file list: the hardware limit measured the way a shell would.
parallel_hash() { # TOOL DIR
  local tool=$1 dir=$2 n
  n=$(find "$dir" -type f | wc -l)
  local per=$(( (n + CORES - 1) / CORES ))
  find "$dir" -type f -print0 | xargs -0 -P "$CORES" -n "$per" $tool >/dev/null
}
export -f parallel_hash; export CORES

report() { # DATASET
  local ds=$1 dir="$WORK/$1" base
  echo
  echo "== dataset $ds ($(find "$dir" -type f | wc -l) files, $(du -sh --apparent-size "$dir" | cut -f1)), $RUNS runs, warm cache, $CORES cores"
  echo "   (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
  printf '%-34s %9s %9s %11s %13s %12s\n' tool "wall s" "CPU s" "peak RSS" "wall / cairn" "CPU / cairn"
  declare -A T R C
  T[cairn]=; read -r T[cairn] R[cairn] C[cairn] < <(measure "$CAIRN" -q run --step bench --base-path "$dir" -m . --no-command --format legacy --key "$KEY" --out "$OUT")
  if [ -n "${CAIRN_BEFORE:-}" ]; then
    read -r T[before] R[before] C[before] < <(measure "$CAIRN_BEFORE" -q run --step bench --base-path "$dir" -m . --no-command --format legacy --key "$KEY" --out "$OUT")
  fi
  read -r T[openssl] R[openssl] C[openssl] < <(measure bash -c "parallel_hash 'openssl dgst -sha256' '$dir'")
  read -r T[sha256sum] R[sha256sum] C[sha256sum] < <(measure bash -c "parallel_hash sha256sum '$dir'")
  if [ "${SKIP_INTOTO:-0}" != 1 ]; then
    read -r T[intoto] R[intoto] C[intoto] < <(measure "$INTOTO_RUN" -q -n bench --base-path "$dir" -m . -x --signing-key "$KEY" -d "$OUT")
  fi
  base=${T[cairn]}; cbase=${C[cairn]}
  for k in cairn before intoto openssl sha256sum; do
    [ -n "${T[$k]:-}" ] || continue
    case $k in
      cairn) label="cairn run --no-command";;
      before) label="cairn (CAIRN_BEFORE)";;
      intoto) label="in-toto-run 3.1.0 (python)";;
      openssl) label="openssl dgst -sha256, ${CORES} procs";;
      sha256sum) label="sha256sum, ${CORES} procs";;
    esac
    printf '%-34s %9s %9s %7d MiB %12.2fx %11.2fx\n' "$label" "${T[$k]}" "${C[$k]}" $(( ${R[$k]} / 1024 )) \
      "$(awk -v a="${T[$k]}" -v b="$base" 'BEGIN {print a / b}')" "$(awk -v a="${C[$k]}" -v b="$cbase" 'BEGIN {print a / b}')"
  done
}

report small
report big
