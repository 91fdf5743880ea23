#!/usr/bin/env bash
# Side-by-side benchmark on local registries: cairn's copy (cairn-oci, the engine behind
# `cairn promote`) vs `skopeo copy` of the same image, registry to registry, fresh destination
# repository per run. Two registries (source and destination) so neither tool can mount blobs.
#   scripts/bench-oci.sh [LAYERS=4] [LAYER_MIB=32] [RUNS=3]
# Needs docker-registry and skopeo (scripts/install-peers.sh), python3, cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
LAYERS="${1:-4}"; LAYER_MIB="${2:-32}"; RUNS="${3:-3}"
for t in docker-registry skopeo python3; do
  command -v "$t" >/dev/null || { echo "bench-oci: $t not found (run scripts/install-peers.sh)" >&2; exit 2; }
done
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
REG=""
start_registry() { # NAME -> sets REG=host:port (no subshell, so the pid is recorded for cleanup)
  local name="$1" port; port="$(free_port)"
  cat > "$WORK/$name.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $WORK/$name-storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: bench-only
YML
  docker-registry serve "$WORK/$name.yml" >/dev/null 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
  REG="127.0.0.1:$port"
}

echo "== building cairn-oci copy example (release)"
cargo build -q --release -p cairn-oci --example copy
CAIRN_COPY="target/release/examples/copy"

echo "== image: $LAYERS layers x $LAYER_MIB MiB (incompressible, gzip-framed)"
python3 - "$WORK/layout" "$LAYERS" "$LAYER_MIB" <<'PY'
import gzip, hashlib, json, os, sys
out, n, mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
blobs = os.path.join(out, "blobs", "sha256"); os.makedirs(blobs, exist_ok=True)
def put(data, mt):
    d = hashlib.sha256(data).hexdigest()
    open(os.path.join(blobs, d), "wb").write(data)
    return {"mediaType": mt, "digest": "sha256:" + d, "size": len(data)}
layers, diff_ids = [], []
for i in range(n):
    raw = os.urandom(mib * 1024 * 1024)
    diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
    layers.append(put(gzip.compress(raw, compresslevel=1, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip"))
cfg = put(json.dumps({"architecture": "amd64", "os": "linux", "config": {}, "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode(), "application/vnd.oci.image.config.v1+json")
m = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": cfg, "layers": layers}).encode(), "application/vnd.oci.image.manifest.v1+json")
m["annotations"] = {"org.opencontainers.image.ref.name": "v1"}
json.dump({"schemaVersion": 2, "manifests": [m]}, open(os.path.join(out, "index.json"), "w"))
open(os.path.join(out, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
print(m["digest"])
PY
start_registry src; SRC="$REG"
skopeo copy -q --dest-tls-verify=false "oci:$WORK/layout:v1" "docker://$SRC/bench/app:v1"

now() { date +%s.%N; }
declare -a T_CAIRN T_SKOPEO
# A fresh, empty destination registry for every run of every tool: no blob can be skipped or
# mounted (skopeo keeps a blob-info cache that would otherwise mount from earlier runs).
for i in $(seq "$RUNS"); do
  start_registry "dstc$i"; DST_C="$REG"; start_registry "dsts$i"; DST_S="$REG"
  t0="$(now)"; "$CAIRN_COPY" "$SRC/bench/app:v1" "$DST_C/bench/app:v1" 2>/dev/null; t1="$(now)"
  T_CAIRN+=("$(echo "$t1 - $t0" | bc)")
  t0="$(now)"; skopeo copy -q --src-tls-verify=false --dest-tls-verify=false "docker://$SRC/bench/app:v1" "docker://$DST_S/bench/app:v1"; t1="$(now)"
  T_SKOPEO+=("$(echo "$t1 - $t0" | bc)")
  # Same digest on both sides.
  a="$(skopeo inspect --raw --tls-verify=false "docker://$DST_C/bench/app:v1" | sha256sum | cut -d' ' -f1)"
  b="$(skopeo inspect --raw --tls-verify=false "docker://$DST_S/bench/app:v1" | sha256sum | cut -d' ' -f1)"
  [ "$a" = "$b" ] || { echo "digest mismatch: cairn $a skopeo $b" >&2; exit 1; }
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
MC="$(median "${T_CAIRN[@]}")"; MS="$(median "${T_SKOPEO[@]}")"
MIB=$((LAYERS * LAYER_MIB))
printf '\n%-28s %10s %10s\n' "registry -> registry copy" "median s" "MiB/s"
printf '%-28s %10.3f %10.1f\n' "cairn (cairn-oci copy)" "$MC" "$(echo "$MIB / $MC" | bc -l)"
printf '%-28s %10.3f %10.1f\n' "skopeo copy" "$MS" "$(echo "$MIB / $MS" | bc -l)"
printf 'runs: cairn %s | skopeo %s\n' "${T_CAIRN[*]}" "${T_SKOPEO[*]}"
printf 'ratio skopeo/cairn: %.2fx (>1 means cairn is faster)\n' "$(echo "$MS / $MC" | bc -l)"
