#!/usr/bin/env bash
# Benchmark (not a test): sfr vs the real sf on the same 50-org store, in one run.
# Builds release binaries, makes the store from the committed v1 fixture (orgs point at a closed loopback port, so
# both CLIs meet the same instant "connection refused" when they probe an org), times each command with hyperfine
# (or a plain loop), measures peak RSS with /usr/bin/time, and writes bench/results/cli-<date>.md.
#   RUNS=10 ORGS=50 scripts/bench-cli.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib/tools.sh"
cd "$SFR_ROOT"
RUNS="${RUNS:-10}"
ORGS="${ORGS:-50}"

install_pkg() { # install_pkg PACKAGE: from Debian, when running as root; returns non-zero if impossible
  [[ $(id -u) == 0 ]] || return 1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >/dev/null 2>&1; }
}
command -v hyperfine >/dev/null || install_pkg hyperfine || echo "bench: hyperfine unavailable, timing with a loop"
[[ -x /usr/bin/time ]] || install_pkg time || { echo "bench: /usr/bin/time is required for peak RSS" >&2; exit 1; }

"$here/install-sf.sh"
echo "bench: cargo build --release -p sfr"
cargo build --release -p sfr -q
SFR="$SFR_ROOT/target/release/sfr"
SF="$here/sf"

work="$(mktemp -d "${TMPDIR:-/tmp}/sfr-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# A loopback port nobody listens on: bind port 0, note it, close it.
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
python3 "$here/lib/make-bench-store.py" "$SFR_ROOT/crates/sfr/tests/fixtures/sf-store/v1" "$work/home" "$ORGS" \
  "http://127.0.0.1:$port"
export HOME="$work/home"
cd "$work"
# The same environment for both CLIs (scripts/sf sets these too; sfr honours the keychain switch).
export SF_DISABLE_TELEMETRY=true SF_DISABLE_AUTOUPDATE=true SF_SKIP_NEW_VERSION_CHECK=true SF_USE_GENERIC_UNIX_KEYCHAIN=true

names=(
  "sfr org list --json"
  "sf org list --json"
  "sfr org list --json --skip-connection-status"
  "sf org list --json --skip-connection-status"
  "sfr org list auth --json"
  "sf org list auth --json"
  "sfr org display -o bench-01 --json"
  "sf org display -o bench-01 --json"
)
cmd_for() { # the runnable command for a display name
  case "$1" in
    sfr\ *) echo "$SFR ${1#sfr }" ;;
    sf\ *) echo "$SF ${1#sf }" ;;
  esac
}

# Sanity: each command must succeed and list/show the same orgs, or the timing means nothing.
for name in "${names[@]}"; do
  read -r -a argv <<<"$(cmd_for "$name")"
  if ! "${argv[@]}" >"$work/out.json" 2>"$work/err.txt"; then
    echo "bench: '$name' failed:" >&2
    head -c 2000 "$work/out.json" "$work/err.txt" >&2
    exit 1
  fi
  count="$(jq -r '.result | if type == "array" then length elif has("nonScratchOrgs") then (.nonScratchOrgs | length) else 1 end' "$work/out.json")"
  status="$(jq -r '[.result | if type == "object" and has("nonScratchOrgs") then .nonScratchOrgs[0] else . end | .connectedStatus? // empty] | first // "-"' "$work/out.json")"
  printf 'bench: %-50s orgs=%s connectedStatus=%s\n' "$name" "$count" "$status"
done

date_tag="$(date -u +%Y-%m-%d)"
out="$SFR_ROOT/bench/results/cli-$date_tag.md"
mkdir -p "$SFR_ROOT/bench/results"
tmp="$out.tmp"

timing="$work/timing.md"
if command -v hyperfine >/dev/null; then
  args=()
  for name in "${names[@]}"; do args+=(-n "$name" "$(cmd_for "$name")"); done
  hyperfine -N --warmup 1 --runs "$RUNS" --export-markdown "$timing" "${args[@]}"
else
  {
    echo "| Command | Mean [ms] | Min [ms] | Max [ms] |"
    echo "|:---|---:|---:|---:|"
    for name in "${names[@]}"; do
      read -r -a argv <<<"$(cmd_for "$name")"
      "${argv[@]}" >/dev/null 2>&1 || true
      ms=()
      for ((i = 0; i < RUNS; i++)); do
        s=$(date +%s%N)
        "${argv[@]}" >/dev/null 2>&1 || true
        ms+=($((($(date +%s%N) - s) / 1000000)))
      done
      printf '| `%s` | %s | %s | %s |\n' "$name" \
        "$(printf '%s\n' "${ms[@]}" | awk '{s += $1} END {printf "%.1f", s / NR}')" \
        "$(printf '%s\n' "${ms[@]}" | sort -n | head -n1)" "$(printf '%s\n' "${ms[@]}" | sort -n | tail -n1)"
    done
  } >"$timing"
fi

rss="$work/rss.md"
{
  echo "| Command | Peak RSS, median of 3 [MB] |"
  echo "|:---|---:|"
  for name in "${names[@]}"; do
    read -r -a argv <<<"$(cmd_for "$name")"
    kb=()
    for i in 1 2 3; do
      kb+=("$(/usr/bin/time -f %M -o "$work/rss.txt" "${argv[@]}" >/dev/null 2>&1; tail -n1 "$work/rss.txt")")
    done
    printf '| `%s` | %s |\n' "$name" "$(printf '%s\n' "${kb[@]}" | sort -n | sed -n 2p | awk '{printf "%.1f", $1 / 1024}')"
  done
} >"$rss"

{
  echo "# sfr vs sf: org commands on a $ORGS-org store ($date_tag)"
  echo
  echo "Produced by \`scripts/bench-cli.sh\` (RUNS=$RUNS). Not a test; numbers depend on the machine and its load."
  echo
  echo "* machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1), load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "* sfr: release build of $(git -C "$SFR_ROOT" rev-parse --short HEAD)$(git -C "$SFR_ROOT" diff --quiet HEAD -- crates || echo ' (with uncommitted changes)')"
  echo "* sf: $("$SF" --version)"
  echo "* timing: $(command -v hyperfine >/dev/null && hyperfine --version || echo 'a shell loop'), 1 warm-up, $RUNS runs each"
  echo
  echo "## Fairness"
  echo
  echo "* One store for both: $ORGS JWT orgs made from the committed v1 fixture (same encrypted access token under a v1"
  echo "  key.json), aliases bench-01…bench-$ORGS, target-org bench-01, API version cached as fresh."
  echo "* \`org list\` and \`org display\` probe each org over the network (\`GET {instanceUrl}/services/data/v63.0\`)."
  echo "  Every org points at 127.0.0.1:<a closed port>, so both CLIs get the same immediate \"connection refused\""
  echo "  (\`connectedStatus\` is an error for both) and no server speed enters the numbers."
  echo "* \`--skip-connection-status\` (both CLIs have it) and \`org list auth\` make no network calls: the pure local cost."
  echo "* Same environment for both (telemetry, autoupdate and version check off; key in ~/.sfdx/key.json)."
  echo
  echo "## Wall time"
  echo
  cat "$timing"
  echo
  echo "## Peak memory"
  echo
  cat "$rss"
} >"$tmp"
mv "$tmp" "$out"
echo "bench: wrote ${out#"$SFR_ROOT"/}"
cat "$out"
