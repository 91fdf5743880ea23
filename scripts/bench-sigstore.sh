#!/usr/bin/env bash
# Keyless sign and offline verify of a 1 MiB file, cairn vs sigstore-python 4.5.1, side by side in
# one run, against the same loopback @sigstore/mock stack (Fulcio, CT log, Rekor v1). Each figure
# is the median wall-clock time of whole processes (start to exit) over $RUNS runs.
#   scripts/bench-sigstore.sh            (needs scripts/install-peers.sh first)
# Rows: keyless sign and offline verify without an RFC 3161 timestamp (the mock's TSA left out of
# the signing config for both), then the same with a timestamp from the mock's TSA (started with
# --tsa-whole-seconds, as Sigstore's TSA writes genTime; see docs/sigstore.md). Verification is
# offline against the mock's trusted root.
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS="${CAIRN_PEERS_DIR:-$(pwd)/.peers}"
RUNS="${RUNS:-7}"
PY="$PEERS/venv/bin/sigstore"
[ -x "$PY" ] || { echo "sigstore-python missing: run scripts/install-peers.sh" >&2; exit 2; }
[ -d "$PEERS/node/node_modules/@sigstore/mock" ] || { echo "@sigstore/mock missing: run scripts/install-peers.sh" >&2; exit 2; }

# CAIRN_BIN: an already built release binary (skips the build).
if [ -z "${CAIRN_BIN:-}" ]; then cargo build --release -q -p cairn-cli; fi
CAIRN="${CAIRN_BIN:-$(pwd)/target/release/cairn}"
WORK="$(mktemp -d)"
PORT="$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')"
SIGSTORE_NODE_DIR="$PEERS/node" node scripts/sigstore-mock-server.mjs --port "$PORT" --state-dir "$WORK/state" --tsa-whole-seconds >"$WORK/mock.log" 2>&1 &
MOCK=$!
trap 'kill $MOCK 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do grep -q READY "$WORK/mock.log" 2>/dev/null && break; sleep 0.1; done
grep -q READY "$WORK/mock.log" || { cat "$WORK/mock.log" >&2; exit 2; }

python3 - "$WORK/state/trust_config.json" "$WORK/trust_config.json" <<'PY'
import json, sys
tc = json.load(open(sys.argv[1])); tc["signingConfig"]["tsaUrls"] = []
json.dump(tc, open(sys.argv[2], "w"))
PY
TC="$WORK/trust_config.json"; TR="$WORK/state/trusted_root.json"; TCT="$WORK/state/trust_config.json"
head -c 1048576 /dev/urandom > "$WORK/blob.bin"
TOKEN="$(cat "$WORK/state/token.jwt")"
CLAIMS="$(python3 -c 'import sys,json,base64;p=sys.argv[1].split(".")[1];print(json.dumps(json.loads(base64.urlsafe_b64decode(p+"==="))))' "$TOKEN")"
ID="$(python3 -c 'import sys,json;c=json.loads(sys.argv[1]);print(c.get("email") or c["sub"])' "$CLAIMS")"
ISS="$(python3 -c 'import sys,json;print(json.loads(sys.argv[1])["iss"])' "$CLAIMS")"

# $EPOCHREALTIME (bash 5) reads the clock without starting a process, so the interval holds only
# the measured command.
ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }
declare -A T
run() { # name cmd...
  local name=$1; shift
  local s e; s=$(ms); "$@" >/dev/null 2>"$WORK/err" || { echo "FAILED: $name" >&2; cat "$WORK/err" >&2; exit 1; }; e=$(ms)
  T[$name]="${T[$name]:-} $((e - s))"
}
for i in $(seq "$RUNS"); do
  run cairn_sign "$CAIRN" -q sign "$WORK/blob.bin" --keyless --no-interactive --identity-token "$TOKEN" --trust-config "$TC" --bundle "$WORK/c$i.json"
  run python_sign "$PY" --trust-config "$TC" sign --identity-token "$TOKEN" --bundle "$WORK/p$i.json" "$WORK/blob.bin"
  run cairn_verify "$CAIRN" verify artifact "$WORK/blob.bin" --bundle "$WORK/c$i.json" --certificate-identity "$ID" --certificate-oidc-issuer "$ISS" --trusted-root "$TR" --offline
  run python_verify "$PY" --trust-config "$TC" verify identity --offline --bundle "$WORK/p$i.json" --cert-identity "$ID" --cert-oidc-issuer "$ISS" "$WORK/blob.bin"
  run cairn_sign_tsa "$CAIRN" -q sign "$WORK/blob.bin" --keyless --timestamp --no-interactive --identity-token "$TOKEN" --trust-config "$TCT" --bundle "$WORK/ct$i.json"
  run python_sign_tsa "$PY" --trust-config "$TCT" sign --identity-token "$TOKEN" --bundle "$WORK/pt$i.json" "$WORK/blob.bin"
  run cairn_verify_tsa "$CAIRN" verify artifact "$WORK/blob.bin" --bundle "$WORK/ct$i.json" --certificate-identity "$ID" --certificate-oidc-issuer "$ISS" --trusted-root "$TR" --offline
  run python_verify_tsa "$PY" --trust-config "$TCT" verify identity --offline --bundle "$WORK/pt$i.json" --cert-identity "$ID" --cert-oidc-issuer "$ISS" "$WORK/blob.bin"
done
# Both timestamped bundles really carry a timestamp.
for b in "$WORK/ct1.json" "$WORK/pt1.json"; do
  python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); assert v["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"], sys.argv[1]' "$b"
done
# Cross-checks, so the numbers are about equivalent work: each verifies the other's bundle.
"$CAIRN" verify artifact "$WORK/blob.bin" --bundle "$WORK/p1.json" --certificate-identity "$ID" --certificate-oidc-issuer "$ISS" --trusted-root "$TR" --offline >/dev/null
"$PY" --trust-config "$TC" verify identity --offline --bundle "$WORK/c1.json" --cert-identity "$ID" --cert-oidc-issuer "$ISS" "$WORK/blob.bin" >/dev/null 2>&1
"$CAIRN" verify artifact "$WORK/blob.bin" --bundle "$WORK/pt1.json" --certificate-identity "$ID" --certificate-oidc-issuer "$ISS" --trusted-root "$TR" --offline >/dev/null
"$PY" --trust-config "$TCT" verify identity --offline --bundle "$WORK/ct1.json" --cert-identity "$ID" --cert-oidc-issuer "$ISS" "$WORK/blob.bin" >/dev/null 2>&1

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%-26s %10s %16s %8s\n' "1 MiB, $RUNS runs (median)" "cairn" "sigstore-python" "ratio"
for op in sign verify sign_tsa verify_tsa; do
  c=$(echo "${T[cairn_$op]}" | median); p=$(echo "${T[python_$op]}" | median)
  label="keyless ${op%_tsa}"; [ "$op" != "${op%_tsa}" ] && label="$label +RFC 3161"
  printf '%-26s %8s ms %13s ms %7.1fx\n' "$label" "$c" "$p" "$(python3 -c "print($p/max($c,1))")"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
