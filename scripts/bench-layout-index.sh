#!/usr/bin/env bash
# `cairn verify image` on an OCI layout whose index.json holds many tags: one attested image
# (key-signed provenance attached with `cairn attest --attach`, policy with
# `transparencyLog: optional`, so no Sigstore service is needed) among N other tagged images,
# each with a referrers tag-schema entry, as a layout looks after N `cairn attach` runs.
# Times RUNS sequential verifications per binary and size; with BASELINE_BIN set, the two
# binaries alternate run by run (side by side on a noisy machine).
#
#   scripts/bench-layout-index.sh                      # sizes "0 1000 5000", 20 runs
#   SIZES="1000" RUNS=50 BASELINE_BIN=/tmp/cairn-old scripts/bench-layout-index.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES="${SIZES:-0 1000 5000}"
RUNS="${RUNS:-20}"
if [ -z "${CAIRN_BIN:-}" ]; then
  cargo build -q -p cairn-cli
  CAIRN_BIN="$(pwd)/target/debug/cairn"
fi
bins=("$CAIRN_BIN")
[ -n "${BASELINE_BIN:-}" ] && bins=("$BASELINE_BIN" "$CAIRN_BIN")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), cpus: $(nproc)"

"$CAIRN_BIN" key generate --type ecdsa-p256 --out "$work/ci.key" >/dev/null 2>&1
cat > "$work/policy.yaml" <<'POLICY'
version: 1
signers:
  - name: ci
    key: ci.key.pub
    transparencyLog: optional
requirements:
  - name: provenance
    predicateType: slsa
POLICY
echo '{"buildDefinition":{"buildType":"https://cairn.test/b","externalParameters":{}},"runDetails":{"builder":{"id":"https://cairn.test/ci"}}}' > "$work/prov.json"

for n in $SIZES; do
  layout="$work/layout-$n"
  python3 - "$layout" "$n" <<'PY'
import hashlib, json, os, sys
root, n = sys.argv[1], int(sys.argv[2])
blobs = os.path.join(root, "blobs", "sha256")
os.makedirs(blobs, exist_ok=True)
def put(data, media_type):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, d), "wb") as f:
        f.write(data)
    return {"mediaType": media_type, "digest": "sha256:" + d, "size": len(data)}
with open(os.path.join(root, "oci-layout"), "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
empty_index = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []}).encode(),
                  "application/vnd.oci.image.index.v1+json")
entries = []
for i in range(n + 1):
    layer = put(("layer %d\n" % i).encode(), "application/vnd.oci.image.layer.v1.tar")
    config = put(json.dumps({"architecture": "amd64", "os": "linux", "config": {"Labels": {"n": str(i)}},
                             "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]}}).encode(),
                 "application/vnd.oci.image.config.v1+json")
    m = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "config": config, "layers": [layer]}).encode(), "application/vnd.oci.image.manifest.v1+json")
    tag = "app" if i == n else "img-%d" % i
    entries.append(dict(m, annotations={"org.opencontainers.image.ref.name": tag}))
    if i < n:
        entries.append(dict(empty_index, annotations={"org.opencontainers.image.ref.name": "sha256-" + m["digest"][7:]}))
with open(os.path.join(root, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "manifests": entries}, f)
PY
  "$CAIRN_BIN" -q attest "$work/prov.json" --type slsa --subject "oci:$layout:app" \
    --key "$work/ci.key" --attach >/dev/null 2>&1
  size=$(stat -c %s "$layout/index.json")
  declare -A total=()
  for b in "${bins[@]}"; do total[$b]=0; done
  for _ in $(seq 1 "$RUNS"); do
    for b in "${bins[@]}"; do
      s=$(date +%s%N)
      "$b" verify image "oci:$layout:app" --policy "$work/policy.yaml" >/dev/null 2>&1 \
        || { echo "verification failed with $b" >&2; "$b" verify image "oci:$layout:app" --policy "$work/policy.yaml" >&2; exit 1; }
      total[$b]=$(( total[$b] + $(date +%s%N) - s ))
    done
  done
  for b in "${bins[@]}"; do
    ms=$(echo "${total[$b]} / $RUNS / 1000000" | bc -l)
    printf '%6d tags (index.json %7d bytes)  %-28s %7.1f ms/verification  %6.1f verifications/s\n' \
      "$n" "$size" "$(basename "$b")" "$ms" "$(echo "1000 / $ms" | bc -l)"
  done
  unset total
done
