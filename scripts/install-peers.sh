#!/usr/bin/env bash
# Installs the reference implementations the interop tests run against, into $CAIRN_PEERS_DIR
# (default ./.peers). Idempotent; uses only PyPI, npm and Debian packages.
#   in-toto 3.1.0 (python reference)      -> $CAIRN_PEERS_DIR/venv/bin/in-toto-*
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
echo "peers ready in $PEERS"
