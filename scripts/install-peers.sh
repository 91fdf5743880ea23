#!/usr/bin/env bash
# Installs the reference implementations the interop tests run against, into $CAIRN_PEERS_DIR
# (default ./.peers). Idempotent; uses only PyPI, npm and Debian packages.
#   in-toto 3.1.0 (python reference)      -> $CAIRN_PEERS_DIR/venv/bin/in-toto-*
#   sigstore-python 4.5.1                 -> $CAIRN_PEERS_DIR/venv/bin/sigstore
#   cyclonedx-bom 7.5.0 (cyclonedx-py)    -> $CAIRN_PEERS_DIR/sbom-venv/bin/cyclonedx-py
#   @sigstore/cli 0.8.1, @sigstore/mock 0.12.1 -> $CAIRN_PEERS_DIR/node/node_modules
#   docker-registry (CNCF distribution 2.8), skopeo -> system packages (Debian, as root)
#   rpm (rpmdb oracle), dpkg-query, npm     -> system packages (rpm installed here when missing)
#   chromium (HTML report e2e test)          -> system package (Debian), when missing
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
# cyclonedx-py (cyclonedx-bom 7.5.0), the SBOM peer: its own venv so its dependencies never
# change the environments it is compared on (it reads .peers/venv as a target).
if [ ! -x "$PEERS/sbom-venv/bin/cyclonedx-py" ]; then
  echo "== installing cyclonedx-bom 7.5.0"
  python3 -m venv "$PEERS/sbom-venv"
  "$PEERS/sbom-venv/bin/pip" install -q --disable-pip-version-check cyclonedx-bom==7.5.0
fi
# sigstore-js (@sigstore/cli) and the @sigstore/mock Fulcio/CT/Rekor/TSA stack, for
# scripts/sigstore-mock-server.mjs and the sigstore interop tests.
mkdir -p "$PEERS/node"
if [ ! -d "$PEERS/node/node_modules/@sigstore/mock" ] || [ ! -d "$PEERS/node/node_modules/@sigstore/cli" ]; then
  echo "== installing @sigstore/cli 0.8.1 and @sigstore/mock 0.12.1"
  ( cd "$PEERS/node" && { [ -f package.json ] || npm init -y >/dev/null; } &&
    npm install --no-fund --no-audit -s @sigstore/cli@0.8.1 @sigstore/mock@0.12.1 )
fi
# OCI: Debian's docker-registry (the tests start it on a free 127.0.0.1 port) and skopeo.
# System packages, so only when missing, and only as root with apt (CI); otherwise say how.
if ! command -v docker-registry >/dev/null 2>&1 || ! command -v skopeo >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing docker-registry and skopeo (apt)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-registry skopeo >/dev/null
  else
    echo "warning: docker-registry and/or skopeo missing: OCI interop tests will skip (Debian: sudo apt-get install docker-registry skopeo)" >&2
  fi
fi
# rpm (the rpmdb oracle for cairn-sbom): a Debian package, same rules as above.
if ! command -v rpm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing rpm (apt)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rpm >/dev/null
  else
    echo "warning: rpm missing: the rpmdb oracle test will skip (Debian: sudo apt-get install rpm)" >&2
  fi
fi
# chromium (headless) renders the HTML verification report in its end-to-end test.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing chromium (apt)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "warning: chromium missing: the HTML report browser test will skip (Debian: sudo apt-get install chromium)" >&2
  fi
fi
echo "peers ready in $PEERS"
