#!/usr/bin/env bash
# Side-by-side SBOM benchmark (run by hand; not part of the test suite):
#   1. cyclonedx-py environment --no-validate vs cairn on the same Python environment
#      (.peers/venv; run scripts/install-peers.sh first);
#   2. cargo cyclonedx vs cairn on the same Cargo workspace (this repository), when
#      cargo-cyclonedx is installed (.peers/cargo-cyclonedx/bin or on PATH);
#   3. cairn on a generated root filesystem with 100,000 files and a few thousand packages,
#      as a directory and as a docker-save image: wall time and peak RSS.
# cairn here is the cairn-sbom example binary (same library code as `cairn sbom`), built
# with --release. Usage: scripts/bench-sbom.sh [RUNS]  (default 5 runs per tool, best kept)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-5}"
PEERS="${CAIRN_PEERS_DIR:-$(pwd)/.peers}"
WORK="${BENCH_DIR:-$(mktemp -d)}"
export SOURCE_DATE_EPOCH=1700000000

cargo build -q --release -p cairn-sbom --example sbom
CAIRN="$(pwd)/target/release/examples/sbom"

# best wall time (s, from date +%N) and max RSS (KiB, GNU time) of RUNS runs of a command
measure() {
  local best="" rss=0 t m start end
  for _ in $(seq "$RUNS"); do
    start=$(date +%s%N)
    /usr/bin/time -f "%M" -o "$WORK/time" "$@" >"$WORK/out" 2>"$WORK/err" || { cat "$WORK/err" >&2; return 1; }
    end=$(date +%s%N)
    t=$(awk "BEGIN{printf \"%.3f\", ($end - $start) / 1e9}")
    read -r m <"$WORK/time"
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
    [ "$m" -gt "$rss" ] && rss=$m
  done
  echo "$best $rss"
}

row() { printf '%-58s %8s s %8s MiB\n' "$1" "$2" "$(( $3 / 1024 ))"; }
ratio() { awk "BEGIN{ if ($2 > 0) printf \"%.1f\", $1 / $2; else print \"inf\" }"; }

echo "== 1. Python environment: $PEERS/venv"
if [ -x "$PEERS/sbom-venv/bin/cyclonedx-py" ] && [ -x "$PEERS/venv/bin/python" ]; then
  read -r t1 r1 < <(measure "$PEERS/sbom-venv/bin/cyclonedx-py" environment --no-validate --of JSON -o - "$PEERS/venv/bin/python")
  n1=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["components"]))' "$WORK/out")
  read -r t2 r2 < <(measure "$CAIRN" "$PEERS/venv" cyclonedx)
  n2=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["components"]))' "$WORK/out")
  row "cyclonedx-py 7.5.0 environment ($n1 components)" "$t1" "$r1"
  row "cairn ($n2 components)" "$t2" "$r2"
  echo "   cairn is $(ratio "$t1" "$t2")x faster"
else
  echo "   skipped: run scripts/install-peers.sh"
fi

echo "== 2. Cargo workspace: $(pwd)"
CCDX="$PEERS/cargo-cyclonedx/bin/cargo-cyclonedx"
[ -x "$CCDX" ] || CCDX="$(command -v cargo-cyclonedx || true)"
if [ -n "$CCDX" ]; then
  ws="$WORK/ws"; rm -rf "$ws"; mkdir -p "$ws"
  git ls-files -z | grep -z -v '^testdata/' | xargs -0 cp --parents -t "$ws"
  read -r t1 r1 < <(measure env -C "$ws" "$CCDX" cyclonedx --format json --all --override-filename bench-cdx)
  n1=$(cat "$ws"/crates/*/bench-cdx.json 2>/dev/null | python3 -c 'import json,sys
seen=set()
dec=json.JSONDecoder(); s=sys.stdin.read(); i=0
while i < len(s):
    s2=s[i:].lstrip()
    if not s2: break
    d,n=dec.raw_decode(s2); i=len(s)-len(s2)+n
    for c in d.get("components",[]): seen.add((c["name"],c.get("version")))
print(len(seen))')
  read -r t2 r2 < <(measure "$CAIRN" "$ws" cyclonedx)
  n2=$(python3 -c 'import json,sys; print(sum(1 for c in json.load(open(sys.argv[1]))["components"] if c.get("purl","").startswith("pkg:cargo/")))' "$WORK/out")
  row "cargo cyclonedx --all ($n1 distinct crates, one BOM per crate)" "$t1" "$r1"
  row "cairn on the same tree ($n2 crates from Cargo.lock)" "$t2" "$r2"
  echo "   cairn is $(ratio "$t1" "$t2")x faster"
else
  echo "   skipped: cargo install cargo-cyclonedx --locked --root $PEERS/cargo-cyclonedx"
fi

echo "== 3. Generated root: 100,000 files, a few thousand packages"
root="$WORK/root"
if [ ! -d "$root" ]; then
  python3 - "$root" <<'PY'
import os, sys, random
root = sys.argv[1]; random.seed(7)
def w(p, s, mode=0o644):
    p = os.path.join(root, p); os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f: f.write(s)
    os.chmod(p, mode)
n = 0
w("etc/os-release", 'ID=debian\nVERSION_ID="12"\n'); n += 1
st = []
for i in range(3000):
    name = f"pkg{i:04d}"
    dep = f"Depends: pkg{(i*7)%3000:04d} (>= 1.0), libc6\n" if i % 3 else ""
    st.append(f"Package: {name}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nMaintainer: Team {i%50} <team{i%50}@example.org>\nVersion: 1.{i}-1\n{dep}Description: generated package {i}\n long description line one\n long description line two\n")
    w(f"usr/share/doc/{name}/copyright", "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nCopyright: 2024 Example\nLicense: " + ["MIT", "GPL-2+", "Apache-2.0", "BSD-3-clause"][i % 4] + "\n"); n += 1
w("var/lib/dpkg/status", "\n".join(st)); n += 1
sp = "usr/lib/python3/dist-packages"
for i in range(1500):
    d = f"{sp}/py_pkg_{i}-2.{i}.0.dist-info"
    w(f"{d}/METADATA", f"Metadata-Version: 2.1\nName: py-pkg-{i}\nVersion: 2.{i}.0\nLicense: MIT\nRequires-Dist: py-pkg-{(i*3)%1500}\n\nbody\n"); n += 1
    w(f"{d}/RECORD", "x,,\n"); n += 1
    w(f"{sp}/py_pkg_{i}/__init__.py", "x = 1\n"); n += 1
for i in range(1500):
    w(f"srv/app/node_modules/npm-pkg-{i}/package.json", f'{{"name":"npm-pkg-{i}","version":"3.{i}.0","license":"ISC","dependencies":{{"npm-pkg-{(i*5)%1500}":"*"}}}}'); n += 1
    w(f"srv/app/node_modules/npm-pkg-{i}/index.js", "module.exports = 1;\n"); n += 1
for i in range(200):
    w(f"usr/bin/tool{i}", "#!/bin/sh\necho hi\n", 0o755); n += 1
i = 0
while n < 100000:
    w(f"usr/share/filler/d{i//500:03d}/f{i:06d}.txt", "".join(random.choice("abcdefgh \n") for _ in range(200))); n += 1; i += 1
print(f"generated {n} files under {root}")
PY
  ( cd "$root" && tar -cf "$WORK/layer.tar" . )
  mkdir -p "$WORK/img/0"; mv "$WORK/layer.tar" "$WORK/img/0/layer.tar"
  echo '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' >"$WORK/img/cfg.json"
  echo '[{"Config":"cfg.json","RepoTags":["bench:1"],"Layers":["0/layer.tar"]}]' >"$WORK/img/manifest.json"
  ( cd "$WORK/img" && tar -cf "$WORK/image.tar" manifest.json cfg.json 0/layer.tar )
fi
read -r t r < <(measure "$CAIRN" "$root" cyclonedx)
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["components"]))' "$WORK/out")
row "cairn, directory ($n components)" "$t" "$r"
read -r t r < <(measure "$CAIRN" "$WORK/image.tar" cyclonedx)
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["components"]))' "$WORK/out")
row "cairn, docker-save image of it ($n components, $(( $(stat -c %s "$WORK/image.tar") / 1048576 )) MiB)" "$t" "$r"
echo "(work dir: $WORK)"
