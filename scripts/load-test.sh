#!/usr/bin/env bash
# Load test (not run by CI): N images (default 1000) in an OCI layout, each with a key-signed
# SLSA provenance attestation logged in a local Sigstore stack (scripts/sigstore-mock-server.mjs
# on loopback; needs the node peers from scripts/install-peers.sh), then
#   1. `cairn verify image` for every digest against one policy, JOBS at a time (default 2),
#   2. `cairn promote` of a 50-manifest index (every child verified) into a second layout.
# Reports wall time and the peak RSS of any single cairn process (/usr/bin/time -v), and checks
# that every verification passed and the promoted index arrived whole.
#
#   scripts/load-test.sh            # N=1000, release build of cairn
#   N=100 JOBS=2 CAIRN_BIN=target/debug/cairn scripts/load-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
N="${N:-1000}"
JOBS="${JOBS:-2}"
INDEX_SIZE="${INDEX_SIZE:-50}"
PORT="${PORT:-$((20000 + RANDOM % 20000))}"
PEERS="${CAIRN_PEERS_DIR:-$root/.peers}"
if [ -z "${CAIRN_BIN:-}" ]; then
  cargo build --release -p cairn-cli --quiet
  CAIRN_BIN="$root/target/release/cairn"
fi
CAIRN_BIN=$(realpath "$CAIRN_BIN")
[ -x /usr/bin/time ] || { echo "load-test: /usr/bin/time (GNU time) is needed" >&2; exit 2; }
[ -d "$PEERS/node/node_modules/@sigstore/mock" ] || {
  echo "load-test: @sigstore/mock missing; run scripts/install-peers.sh" >&2; exit 2; }

work=$(mktemp -d)
mock_pid=""
cleanup() {
  if [ -n "$mock_pid" ]; then kill "$mock_pid" 2>/dev/null || true; fi
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

echo "== local Sigstore stack on 127.0.0.1:$PORT"
SIGSTORE_NODE_DIR="$PEERS/node" node scripts/sigstore-mock-server.mjs --port "$PORT" \
  --state-dir "$work/sigstore" > "$work/mock.log" 2>&1 &
mock_pid=$!
for _ in $(seq 1 100); do grep -q READY "$work/mock.log" 2>/dev/null && break; sleep 0.1; done
grep -q READY "$work/mock.log" || { cat "$work/mock.log" >&2; exit 2; }
trust="$work/sigstore/trust_config.json"

"$CAIRN_BIN" key generate --type ecdsa-p256 --out "$work/release.key" >/dev/null
cat > "$work/policy.yaml" <<POLICY
version: 1
name: load
signers:
  - name: release
    key: release.key.pub
requirements:
  - name: provenance
    predicateType: slsa
    slsa:
      builders:
        - id: https://cairn.test/builders/ci
          level: 2
POLICY
cp "$work/sigstore/trusted_root.json" "$work/trusted_root.json"

echo "== building an OCI layout with $N images and a $INDEX_SIZE-manifest index"
python3 - "$work/layout" "$N" "$INDEX_SIZE" <<'PY'
import hashlib, json, os, sys
root, n, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
blobs = os.path.join(root, "blobs", "sha256")
os.makedirs(blobs, exist_ok=True)
def put(data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, d), "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + d, "size": len(data)}
with open(os.path.join(root, "oci-layout"), "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
entries, children = [], []
for i in range(n):
    layer = put(("layer %d\n" % i).encode())
    layer["mediaType"] = "application/vnd.oci.image.layer.v1.tar"
    config = put(json.dumps({"architecture": "amd64", "os": "linux",
                             "config": {"Labels": {"n": str(i)}},
                             "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]}}).encode())
    config["mediaType"] = "application/vnd.oci.image.config.v1+json"
    m = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "config": config, "layers": [layer]}).encode())
    m["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
    entries.append(dict(m, annotations={"org.opencontainers.image.ref.name": "img-%d" % i}))
    if i < k:
        children.append(dict(m, platform={"os": "linux", "architecture": "arch%d" % i}))
idx = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                      "manifests": children}).encode())
idx["mediaType"] = "application/vnd.oci.image.index.v1+json"
entries.append(dict(idx, annotations={"org.opencontainers.image.ref.name": "multi"}))
with open(os.path.join(root, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "manifests": entries}, f)
with open(os.path.join(os.path.dirname(root), "digests.txt"), "w") as f:
    for e in entries[:-1]:
        f.write(e["digest"] + "\n")
with open(os.path.join(os.path.dirname(root), "index-digest.txt"), "w") as f:
    f.write(idx["digest"] + "\n")
PY

echo '{"buildDefinition":{"buildType":"https://actions.github.io/buildtypes/workflow/v1","externalParameters":{}},"runDetails":{"builder":{"id":"https://cairn.test/builders/ci@v1"}}}' > "$work/provenance.json"

echo "== attesting and attaching $N images (key-signed, logged in the local Rekor)"
start=$(date +%s.%N)
attest_one() {
  local d=$1 hex=${1#sha256:}
  "$CAIRN_BIN" attest "$work/provenance.json" --type slsa --subject "$work/layout/blobs/sha256/$hex" \
    --key "$work/release.key" --tlog-upload --trust-config "$trust" \
    --bundle "$work/bundles/$hex.json" >/dev/null 2>>"$work/attest.err" &&
  "$CAIRN_BIN" attach "oci:$work/layout@$d" --bundle "$work/bundles/$hex.json" >/dev/null 2>>"$work/attest.err"
}
mkdir -p "$work/bundles"
# attach writes the layout's index.json: one at a time; signing may run alongside.
while read -r d; do attest_one "$d" || { cat "$work/attest.err" >&2; exit 1; }; done < "$work/digests.txt"
# The index is attested too (promote --all-platforms verifies it and every child).
attest_one "$(cat "$work/index-digest.txt")" || { cat "$work/attest.err" >&2; exit 1; }
attest_s=$(echo "$(date +%s.%N) - $start" | bc)
printf '   %d attestations in %.1f s\n' "$N" "$attest_s"

echo "== verifying $N images, $JOBS at a time"
export CAIRN_BIN work
verify_one() {
  /usr/bin/time -v -o "$work/time/${1#sha256:}" "$CAIRN_BIN" verify image "oci:$work/layout@$1" \
    --policy "$work/policy.yaml" --trusted-root "$work/trusted_root.json" > "$work/out/${1#sha256:}" 2>&1
}
export -f verify_one
mkdir -p "$work/time" "$work/out"
start=$(date +%s.%N)
set +e
xargs -P "$JOBS" -I{} bash -c 'verify_one {}' < "$work/digests.txt"
set -e
verify_s=$(echo "$(date +%s.%N) - $start" | bc)
passed=$(grep -l 'Exit status: 0' "$work"/time/* | wc -l)
peak=$(grep -h 'Maximum resident set size' "$work"/time/* | awk '{print $NF}' | sort -n | tail -n 1)
printf '   %d/%d passed in %.1f s (%.1f verifications/s), peak RSS of one verification %d MiB\n' \
  "$passed" "$N" "$verify_s" "$(echo "$N / $verify_s" | bc -l)" "$((peak / 1024))"
if [ "$passed" != "$N" ]; then
  f=$(grep -L 'Exit status: 0' "$work"/time/* | head -n 1)
  echo "a verification failed:" >&2; cat "$work/out/$(basename "$f")" >&2; exit 1
fi

echo "== promoting the $INDEX_SIZE-manifest index (every platform verified)"
start=$(date +%s.%N)
/usr/bin/time -v -o "$work/promote.time" "$CAIRN_BIN" promote "oci:$work/layout:multi" "oci:$work/prod:multi" \
  --policy "$work/policy.yaml" --trusted-root "$work/trusted_root.json" --all-platforms > "$work/promote.out" 2>&1 \
  || { cat "$work/promote.out" >&2; exit 1; }
promote_s=$(echo "$(date +%s.%N) - $start" | bc)
prss=$(awk '/Maximum resident set size/ {print $NF}' "$work/promote.time")
children=$(python3 -c "
import json,sys
idx=json.load(open('$work/prod/index.json'))
d=[m for m in idx['manifests'] if m.get('annotations',{}).get('org.opencontainers.image.ref.name')=='multi'][0]['digest']
print(len(json.load(open('$work/prod/blobs/sha256/'+d[7:]))['manifests']))")
printf '   promoted %d/%d manifests in %.1f s, peak RSS %d MiB\n' "$children" "$INDEX_SIZE" "$promote_s" "$((prss / 1024))"
[ "$children" = "$INDEX_SIZE" ] || { echo "promoted index incomplete" >&2; exit 1; }
echo "load test passed: $N verifications, $INDEX_SIZE-manifest promotion, no failures"
