#!/usr/bin/env bash
# Install the real Salesforce CLI (@salesforce/cli) project-locally under .tools/sf, for interop tests.
# Pinned to the version the spec was written against; falls back to the newest 2.x only if that exact version is
# not in the registry (and says so). Idempotent: does nothing when the wanted version is already installed.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
source "$here/lib/tools.sh"

"$here/install-node22.sh"
# Run npm under Node 22 so the install sees the engine sf will run on (no EBADENGINE noise).
export PATH="$NODE_BIN_DIR:$PATH"

have="$(installed_sf_version || true)"
if [[ "$have" == "$SF_CLI_VERSION" && -x "$SF_BIN" ]]; then
  echo "install-sf: @salesforce/cli $have already at ${SF_PREFIX#"$SFR_ROOT"/}"
  exit 0
fi

spec="@salesforce/cli@$SF_CLI_VERSION"
if ! npm view "$spec" version --loglevel=error 2>/dev/null | grep -qx "$SF_CLI_VERSION"; then
  echo "install-sf: $spec is not in the registry; falling back to the newest 2.x" >&2
  spec="@salesforce/cli@2"
  if [[ "$have" == 2.* && -x "$SF_BIN" ]]; then
    echo "install-sf: keeping the installed @salesforce/cli $have"
    exit 0
  fi
fi

start=$SECONDS
mkdir -p "$SF_PREFIX"
# Install scripts stay off (npm 11's default); sf works without them (spec §17.1).
npm install --prefix "$SF_PREFIX" --no-fund --no-audit --loglevel=error "$spec"
have="$(installed_sf_version || true)"
if [[ -z "$have" || ! -x "$SF_BIN" ]]; then
  echo "install-sf: npm finished but $SF_BIN is missing" >&2
  exit 1
fi
echo "install-sf: @salesforce/cli $have installed in $((SECONDS - start)) s"
if [[ "$have" != "$SF_CLI_VERSION" ]]; then
  echo "install-sf: NOTE: using @salesforce/cli $have, not the pinned $SF_CLI_VERSION" >&2
fi
