#!/usr/bin/env bash
# Layout verification benchmark: `cairn verify layout` against `in-toto-verify` (python
# reference 3.1.0), side by side in one run, on two supply chains generated into a temporary
# directory (never into the repo):
#   (a) one step whose link has 50,000 products   (rules: CREATE out/*, DISALLOW *)
#   (b) two steps whose 50,000 artifacts are MATCHed across them
#       (step 2 materials: MATCH * WITH PRODUCTS FROM step1, DISALLOW *)
# Links and layouts are signed by the reference (`in-toto-sign`, Ed25519), so both verifiers
# read the same bytes. Prints wall time and CPU time (user + system; medians of RUNS), peak RSS
# (GNU time), the ratios, and the load average before and after (the machine may be shared: CPU
# time is the steadier figure when other work competes for the cores).
#
# Usage: scripts/bench-verify.sh [--small]    (--small: 5,000 artifacts, for a smoke run)
# Env:   RUNS (default 5), BENCH_DIR, KEEP=1, CAIRN (default target/release/cairn, built if
#        missing), PEERS (default .peers/venv/bin; install with scripts/install-peers.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

N=50000
if [ "${1:-}" = "--small" ]; then N=5000; fi
RUNS=${RUNS:-5}

CAIRN=${CAIRN:-$ROOT/target/release/cairn}
if [ ! -x "$CAIRN" ]; then
  echo "== building cairn (release)" >&2
  cargo build --release -q -p cairn-cli
fi
PEERS=${PEERS:-$ROOT/.peers/venv/bin}
for tool in in-toto-verify in-toto-sign; do
  if [ ! -x "$PEERS/$tool" ]; then
    echo "$tool not found in $PEERS: run scripts/install-peers.sh" >&2
    exit 2
  fi
done
if [ ! -x /usr/bin/time ]; then echo "GNU time (/usr/bin/time) is required for peak RSS" >&2; exit 2; fi

WORK=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-verify.XXXXXX")}
mkdir -p "$WORK"
if [ "${KEEP:-0}" != 1 ] && [ -z "${BENCH_DIR:-}" ]; then trap 'rm -rf "$WORK"' EXIT; fi

echo "== generating chains with $N artifacts in $WORK" >&2
rm -f "$WORK/owner" "$WORK/owner.pub" "$WORK/func" "$WORK/func.pub"
"$CAIRN" key generate --type ed25519 --out "$WORK/owner" >/dev/null 2>&1 || \
  openssl genpkey -algorithm ed25519 -out "$WORK/owner" 2>/dev/null
"$CAIRN" key generate --type ed25519 --out "$WORK/func" >/dev/null 2>&1 || \
  openssl genpkey -algorithm ed25519 -out "$WORK/func" 2>/dev/null
[ -f "$WORK/owner.pub" ] || openssl pkey -in "$WORK/owner" -pubout -out "$WORK/owner.pub"
[ -f "$WORK/func.pub" ] || openssl pkey -in "$WORK/func" -pubout -out "$WORK/func.pub"

"$PEERS/python" - "$WORK" "$N" <<'PY'
import hashlib, json, os, sys
from securesystemslib.signer import SSlibKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
work, n = sys.argv[1], int(sys.argv[2])
def key(name):
    with open(os.path.join(work, name + ".pub"), "rb") as f:
        return SSlibKey.from_crypto(load_pem_public_key(f.read()))
func = key("func")
arts = {f"out/d{i % 1000:04d}/f{i:05d}.bin": {"sha256": hashlib.sha256(str(i).encode()).hexdigest()}
        for i in range(n)}
def link(name, materials, products):
    return {"_type": "link", "name": name, "command": [], "materials": materials,
            "products": products, "byproducts": {}, "environment": {}}
def layout(steps):
    return {"_type": "layout", "expires": "2099-01-01T00:00:00Z", "readme": "",
            "keys": {func.keyid: func.to_dict() | {"keyid": func.keyid}}, "steps": steps, "inspect": []}
def step(name, mat, prod):
    return {"_type": "step", "name": name, "threshold": 1, "pubkeys": [func.keyid],
            "expected_command": [], "expected_materials": mat, "expected_products": prod}
for case in ("one-step", "two-steps"):
    os.makedirs(os.path.join(work, case), exist_ok=True)
one = layout([step("build", [], [["CREATE", "out/*"], ["DISALLOW", "*"]])])
two = layout([step("build", [], [["CREATE", "out/*"], ["DISALLOW", "*"]]),
              step("package", [["MATCH", "*", "WITH", "PRODUCTS", "FROM", "build"], ["DISALLOW", "*"]],
                   [["DISALLOW", "*"]])])
def dump(path, signed):
    with open(path, "w") as f:
        json.dump({"signed": signed, "signatures": []}, f)
short = func.keyid[:8]
dump(os.path.join(work, "one-step", "root.unsigned"), one)
dump(os.path.join(work, "one-step", f"build.{short}.unsigned"), link("build", {}, arts))
dump(os.path.join(work, "two-steps", "root.unsigned"), two)
dump(os.path.join(work, "two-steps", f"build.{short}.unsigned"), link("build", {}, arts))
dump(os.path.join(work, "two-steps", f"package.{short}.unsigned"), link("package", arts, {}))
PY
for case in one-step two-steps; do
  for f in "$WORK/$case"/*.unsigned; do
    base=${f%.unsigned}
    if [ "$(basename "$base")" = root ]; then key="$WORK/owner"; out="$base.layout"; else key="$WORK/func"; out="$base.link"; fi
    "$PEERS/in-toto-sign" -f "$f" -k "$key" -o "$out"
    rm "$f"
  done
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# run CMD...: prints "median_wall_s median_cpu_s max_rss_mb", checks the exit status is 0.
measure() {
  local times=() cpus=() rss=0
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M %U %S" -o "$WORK/time.out" "$@" >"$WORK/cmd.out" 2>&1 || {
      echo "FAILED: $*" >&2; cat "$WORK/cmd.out" >&2; exit 1; }
    read -r t m u s <"$WORK/time.out"
    times+=("$t"); cpus+=("$(awk -v u="$u" -v s="$s" 'BEGIN {print u + s}')")
    (( m > rss )) && rss=$m
  done
  printf '%s %s %s\n' "$(printf '%s\n' "${times[@]}" | median)" \
    "$(printf '%s\n' "${cpus[@]}" | median)" "$(awk -v k="$rss" 'BEGIN {printf "%.0f", k/1024}')"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {print (b > 0) ? a / b : 0}'; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '\n%-24s %8s %8s %8s %8s %9s %9s\n' "case ($N, $RUNS runs)" "cairn s" "ref s" "cairn cpu" "ref cpu" "cairn MB" "ref MB"
for case in one-step two-steps; do
  dir="$WORK/$case"
  read -r ct cc cm < <(cd "$dir" && measure "$CAIRN" verify layout root.layout --layout-key "$WORK/owner.pub" --links . --no-inspection-links)
  read -r pt pc pm < <(cd "$dir" && measure "$PEERS/in-toto-verify" -l root.layout --verification-keys "$WORK/owner.pub" --link-dir .)
  printf '%-24s %8s %8s %8s %8s %9s %9s   wall x%.1f, cpu x%.1f, RSS cairn/ref %.2f\n' \
    "$case" "$ct" "$pt" "$cc" "$pc" "$cm" "$pm" \
    "$(ratio "$pt" "$ct")" "$(ratio "$pc" "$cc")" "$(ratio "$cm" "$pm")"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
