#!/usr/bin/env bash
# Installs the reference implementations the interop tests run against, into $CAIRN_PEERS_DIR
# (default ./.peers). Idempotent; uses only PyPI, npm and Debian packages.
#   in-toto 3.1.0 (python reference)      -> $CAIRN_PEERS_DIR/venv/bin/in-toto-*
#   sigstore-python 4.5.1                 -> $CAIRN_PEERS_DIR/venv/bin/sigstore
#   @sigstore/cli 0.8.1, @sigstore/mock 0.12.1 -> $CAIRN_PEERS_DIR/node/node_modules
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS="${CAIRN_PEERS_DIR:-$(pwd)/.peers}"
mkdir -p "$PEERS"

if [ ! -x "$PEERS/venv/bin/python" ]; then
  python3 -m venv "$PEERS/venv"
fi
want="in-toto==3.1.0"
if ! "$PEERS/venv/bin/python" -m pip show -q in-toto >/dev/null 2>&1; then
  echo "== installing python peers ($want)"
  "$PEERS/venv/bin/pip" install -q --disable-pip-version-check $want
fi
want_sigstore="sigstore==4.5.1"
if ! "$PEERS/venv/bin/python" -m pip show -q sigstore >/dev/null 2>&1; then
  echo "== installing sigstore-python ($want_sigstore)"
  "$PEERS/venv/bin/pip" install -q --disable-pip-version-check $want_sigstore
fi
# sigstore-js (@sigstore/cli) and the @sigstore/mock Fulcio/CT/Rekor/TSA stack, for
# scripts/sigstore-mock-server.mjs and the sigstore interop tests.
mkdir -p "$PEERS/node"
if [ ! -d "$PEERS/node/node_modules/@sigstore/mock" ] || [ ! -d "$PEERS/node/node_modules/@sigstore/cli" ]; then
  echo "== installing @sigstore/cli 0.8.1 and @sigstore/mock 0.12.1"
  ( cd "$PEERS/node" && { [ -f package.json ] || npm init -y >/dev/null; } &&
    npm install --no-fund --no-audit -s @sigstore/cli@0.8.1 @sigstore/mock@0.12.1 )
fi
echo "peers ready in $PEERS"
