#!/usr/bin/env bash
# Benchmark (not a test): sfr vs the real sf, side by side in one run.
# Builds release binaries, then two scenarios: (1) a 50-org store made from the committed v1 fixture whose orgs point
# at a closed loopback port (both CLIs meet the same instant "connection refused"), (2) one live org on a local
# sfr-org. Times each command with hyperfine (or a plain loop), measures peak RSS with /usr/bin/time, and writes
# bench/results/cli-<date>.md.
#   RUNS=5 ORGS=50 scripts/bench-cli.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib/tools.sh"
cd "$SFR_ROOT"
RUNS="${RUNS:-5}"
ORGS="${ORGS:-50}"

install_pkg() { # install_pkg PACKAGE: from Debian, when running as root; returns non-zero if impossible
  [[ $(id -u) == 0 ]] || return 1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >/dev/null 2>&1; }
}
command -v hyperfine >/dev/null || install_pkg hyperfine || echo "bench: hyperfine unavailable, timing with a loop"
[[ -x /usr/bin/time ]] || install_pkg time || { echo "bench: /usr/bin/time is required for peak RSS" >&2; exit 1; }

"$here/install-sf.sh"
echo "bench: cargo build --release -p sfr -p sfr-org"
cargo build --release -p sfr -p sfr-org -q
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

cmd_for() { # the runnable command for a display name
  case "$1" in
    sfr\ *) echo "$SFR ${1#sfr }" ;;
    sf\ *) echo "$SF ${1#sf }" ;;
  esac
}

# check_all NAME...: each command must succeed and show the same orgs, or the timing means nothing.
check_all() {
  local name argv count status
  for name in "$@"; do
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
}

# time_all OUT NAME...: a markdown timing table (hyperfine, or a loop) for the commands, in one run.
time_all() {
  local out="$1" name argv ms i s
  shift
  if command -v hyperfine >/dev/null; then
    local args=()
    for name in "$@"; do args+=(-n "$name" "$(cmd_for "$name")"); done
    hyperfine -N --warmup 1 --runs "$RUNS" --export-markdown "$out" "${args[@]}"
    return
  fi
  {
    echo "| Command | Mean [ms] | Min [ms] | Max [ms] |"
    echo "|:---|---:|---:|---:|"
    for name in "$@"; do
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
  } >"$out"
}

# rss_all OUT NAME...: a markdown table of peak RSS (median of 3 runs, /usr/bin/time %M).
rss_all() {
  local out="$1" name argv kb i
  shift
  {
    echo "| Command | Peak RSS, median of 3 [MB] |"
    echo "|:---|---:|"
    for name in "$@"; do
      read -r -a argv <<<"$(cmd_for "$name")"
      kb=()
      for i in 1 2 3; do
        /usr/bin/time -f %M -o "$work/rss.txt" "${argv[@]}" >/dev/null 2>&1 || true
        kb+=("$(tail -n1 "$work/rss.txt")")
      done
      printf '| `%s` | %s |\n' "$name" "$(printf '%s\n' "${kb[@]}" | sort -n | sed -n 2p | awk '{printf "%.1f", $1 / 1024}')"
    done
  } >"$out"
}

# ---- scenario 1: the 50-org store, every org behind a closed port ----
dead=(
  "sfr org list --json"
  "sf org list --json"
  "sfr org list --json --skip-connection-status"
  "sf org list --json --skip-connection-status"
  "sfr org list auth --json"
  "sf org list auth --json"
  "sfr org display -o bench-01 --json"
  "sf org display -o bench-01 --json"
)
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
check_all "${dead[@]}"
time_all "$work/dead-time.md" "${dead[@]}"
rss_all "$work/dead-rss.md" "${dead[@]}"

# ---- scenario 2: one live org (a local sfr-org), logged in by sf's web flow ----
live=(
  "sfr org list --json"
  "sf org list --json"
  "sfr org display -o live --json"
  "sf org display -o live --json"
)
export HOME="$work/live-home"
mkdir -p "$HOME"
ORG="$SFR_ROOT/target/release/sfr-org"
"$ORG" serve --listen localhost:0 --database "sqlite://$work/org.sqlite" >"$work/org.log" 2>&1 &
org_pid=$!
trap 'kill $org_pid 2>/dev/null; rm -rf "$work"' EXIT
org_url="$(served_url "$work/org.log")" \
  || { echo "bench: sfr-org did not start:" >&2; tail -n 20 "$work/org.log" >&2; exit 1; }
"$ORG" user create --database "sqlite://$work/org.sqlite" --username live.user@example.com --password 'Bench-pass-1!' \
  --profile "System Administrator" >/dev/null
cat >"$work/browser.sh" <<SH
#!/bin/sh
( sleep 1; exec python3 '$SFR_ROOT/tests/interop/browser.py' "\$1" live.user@example.com 'Bench-pass-1!' '$work/browser.log' ) >/dev/null 2>&1 &
exit 0
SH
chmod +x "$work/browser.sh"
BROWSER="$work/browser.sh" timeout 120 "$SF" org login web --instance-url "$org_url" --alias live --json >"$work/login.json" \
  || { echo "bench: sf org login web failed:" >&2; cat "$work/login.json" "$work/browser.log" >&2; exit 1; }
check_all "${live[@]}"
time_all "$work/live-time.md" "${live[@]}"
rss_all "$work/live-rss.md" "${live[@]}"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

date_tag="$(date -u +%Y-%m-%d)"
out="$SFR_ROOT/bench/results/cli-$date_tag.md"
mkdir -p "$SFR_ROOT/bench/results"
tmp="$out.tmp"

{
  echo "# sfr vs sf: org commands ($date_tag)"
  echo
  echo "Produced by \`scripts/bench-cli.sh\` (RUNS=$RUNS, ORGS=$ORGS). Not a test; numbers depend on the machine and its load."
  echo
  echo "* machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1); load average $load_before before, $load_after after"
  echo "* sfr: release build of $(git -C "$SFR_ROOT" rev-parse --short HEAD)$(git -C "$SFR_ROOT" diff --quiet HEAD -- crates || echo ' (with uncommitted changes)')"
  echo "* sf: $("$SF" --version)"
  echo "* timing: $(command -v hyperfine >/dev/null && hyperfine --version || echo 'a shell loop'), 1 warm-up, $RUNS runs each; peak RSS from \`/usr/bin/time -f %M\`"
  echo "* same environment for both: telemetry, autoupdate and version check off; key in ~/.sfdx/key.json"
  echo
  echo "## 1. $ORGS orgs, none reachable"
  echo
  echo "One store for both: $ORGS JWT orgs made from the committed v1 fixture (the same encrypted access token under a"
  echo "v1 key.json), aliases bench-01…, target-org bench-01, API version cached as fresh. Every org points at"
  echo "127.0.0.1:<a closed port>, so both CLIs meet the same immediate \"connection refused\" and no server speed enters"
  echo "the numbers. \`--skip-connection-status\` (both CLIs have it) and \`org list auth\` make no network calls: the"
  echo "pure local cost."
  echo
  echo "How to read the network rows: sf's HTTP layer (jsforce) retries a refused GET 5 times with back-off"
  echo "(0.5 + 1 + 2 + 4 + 8 = 15.5 s of sleeps, the probes run in parallel), and \`org display\` then also tries a"
  echo "token refresh that retries the same way. sfr reports the first refusal. Those rows compare retry policies more"
  echo "than speed; the local-only rows and section 2 compare the work itself."
  echo
  echo "### Wall time"
  echo
  cat "$work/dead-time.md"
  echo
  echo "### Peak memory"
  echo
  cat "$work/dead-rss.md"
  echo
  echo "## 2. One live org"
  echo
  echo "A separate HOME with one org on a local \`sfr-org\` (release build), logged in by \`sf org login web\`;"
  echo "both CLIs make the same successful REST call(s) to the same server."
  echo
  echo "### Wall time"
  echo
  cat "$work/live-time.md"
  echo
  echo "### Peak memory"
  echo
  cat "$work/live-rss.md"
} >"$tmp"
mv "$tmp" "$out"
echo "bench: wrote ${out#"$SFR_ROOT"/}"
cat "$out"
