#!/usr/bin/env bash
# Install Node.js 22 project-locally (the real sf CLI needs Node >= 22.19; many machines ship Node 20).
# It comes from the npm registry package node-linux-<arch>@22, installed with the machine's own npm.
# Idempotent: does nothing when a suitable Node 22 is already under .tools/node22.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/tools.sh"

if node_is_22 "$NODE_BIN_DIR/node"; then
  echo "install-node22: Node $("$NODE_BIN_DIR/node" --version) already at ${NODE_BIN_DIR#"$SFR_ROOT"/}"
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "install-node22: npm is required to fetch $NODE_PACKAGE (install Debian's nodejs and npm first)" >&2
  exit 1
fi

start=$SECONDS
mkdir -p "$NODE_PREFIX"
npm install --prefix "$NODE_PREFIX" --no-save --no-package-lock --no-fund --no-audit --loglevel=error \
  "$NODE_PACKAGE@22"
if ! node_is_22 "$NODE_BIN_DIR/node"; then
  echo "install-node22: $NODE_PACKAGE@22 installed but $NODE_BIN_DIR/node is not Node >= 22.19" >&2
  exit 1
fi
echo "install-node22: Node $("$NODE_BIN_DIR/node" --version) installed in $((SECONDS - start)) s"
