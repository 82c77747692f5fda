#!/usr/bin/env bash
# Benchmark (not a test): `sfr org login jwt` vs the real `sf org login jwt`, end to end against a local sfr-org
# (same app, certificate, key and user; each CLI in its own HOME). Wall time with hyperfine, peak RSS (median of 3)
# with /usr/bin/time. Writes bench/results/login-jwt-<date>.md.
#   RUNS=5 scripts/bench-login-jwt.sh       (needs hyperfine, jq and /usr/bin/time: apt-get install -y hyperfine jq time)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib/tools.sh"
cd "$SFR_ROOT"
RUNS="${RUNS:-5}"
for tool in hyperfine jq openssl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is required (apt-get install -y $tool)" >&2; exit 1; }
done
[[ -x /usr/bin/time ]] || { echo "bench: /usr/bin/time is required (apt-get install -y time)" >&2; exit 1; }
"$here/install-sf.sh"
[[ "${SKIP_BUILD:-0}" == 1 ]] || cargo build --release -q -p sfr -p sfr-org
ORG="$SFR_ROOT/target/release/sfr-org"
SFR="$SFR_ROOT/target/release/sfr"
SF="$here/sf"

work="$(mktemp -d "${TMPDIR:-/tmp}/sfr-bench-jwt.XXXXXX")"
server_pid=""
trap '[[ -n "$server_pid" ]] && kill "$server_pid"; rm -rf "$work"' EXIT
db=(--database "sqlite://$work/org.sqlite")
"$ORG" support allow-connected-apps "${db[@]}" >/dev/null
"$ORG" setup allow-connected-app-creation "${db[@]}" >/dev/null
"$ORG" user create "${db[@]}" --username jwt.user@example.com --password 'Bench-pass-1' --profile "System Administrator" >/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/jwt.key" -out "$work/jwt.crt" -days 2 -subj /CN=bench 2>/dev/null
"$ORG" app create "${db[@]}" --name Jwt --contact-email bench@example.com --callback-url http://localhost:1717/OauthRedirect \
  --scopes "api refresh_token" --certificate "$work/jwt.crt" --permitted-users admin-approved \
  --profile "System Administrator" --json >"$work/app.json"
key="$(jq -r .result.consumerKey "$work/app.json")"
"$ORG" serve --listen 127.0.0.1:0 "${db[@]}" >"$work/serve.log" 2>&1 &
server_pid=$!
url="$(served_url "$work/serve.log")" || { echo "bench: sfr-org did not start" >&2; cat "$work/serve.log" >&2; exit 1; }

export SF_DISABLE_TELEMETRY=true SF_DISABLE_AUTOUPDATE=true SF_SKIP_NEW_VERSION_CHECK=true SF_USE_GENERIC_UNIX_KEYCHAIN=true
args="org login jwt --client-id $key --jwt-key-file $work/jwt.key --username jwt.user@example.com --instance-url $url --alias j --json"
mkdir -p "$work/sfr-home" "$work/sf-home"
for cli in sfr sf; do # one checked login each: the timing means nothing if it fails
  bin="$SFR"; [[ "$cli" == sf ]] && bin="$SF"
  HOME="$work/$cli-home" $bin $args >"$work/$cli.json" 2>"$work/$cli.err" \
    || { echo "bench: $cli org login jwt failed:" >&2; cat "$work/$cli.json" "$work/$cli.err" >&2; exit 1; }
  [[ "$(jq -r .status "$work/$cli.json")" == 0 ]] || { echo "bench: $cli answered:" >&2; cat "$work/$cli.json" >&2; exit 1; }
done
HOME="$work/sfr-home" hyperfine -N --time-unit millisecond --warmup 1 --runs "$RUNS" --export-markdown "$work/sfr.md" -n "sfr org login jwt" "$SFR $args" >/dev/null
HOME="$work/sf-home" hyperfine -N --time-unit millisecond --warmup 1 --runs "$RUNS" --export-markdown "$work/sf.md" -n "sf org login jwt" "$SF $args" >/dev/null
rss() { # rss CLI BIN: median of 3 peak RSS in MB
  local i
  for i in 1 2 3; do
    HOME="$work/$1-home" /usr/bin/time -f %M -o "$work/rss" $2 $args >/dev/null 2>&1
    tail -n1 "$work/rss"
  done | sort -n | sed -n 2p | awk '{printf "%.1f", $1 / 1024}'
}
date_tag="$(date -u +%Y-%m-%d)"
out="$SFR_ROOT/bench/results/login-jwt-$date_tag.md"
{
  echo "# sfr vs sf: org login jwt against a local sfr-org ($date_tag)"
  echo
  echo "Produced by \`scripts/bench-login-jwt.sh\` (RUNS=$RUNS). Not a test; numbers depend on the machine and its load."
  echo
  echo "* machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1); load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "* sf: $("$SF" --version)"
  echo
  sed -n 1,3p "$work/sfr.md"
  tail -n1 "$work/sf.md"
  echo
  # The two runs are separate hyperfine calls (each CLI has its own HOME), so their "Relative" cells are both 1.00:
  # the ratio of the means is stated here.
  mean() { tail -n1 "$1" | awk -F'|' '{split($3, m, " "); print m[1]}'; }
  echo "sf's mean ÷ sfr's: $(awk -v a="$(mean "$work/sf.md")" -v b="$(mean "$work/sfr.md")" 'BEGIN {printf "%.1f", a / b}')×"
  echo
  echo "| Command | Peak RSS, median of 3 [MB] |"
  echo "|:---|---:|"
  echo "| \`sfr org login jwt\` | $(rss sfr "$SFR") |"
  echo "| \`sf org login jwt\` | $(rss sf "$SF") |"
} >"$out.tmp"
mv "$out.tmp" "$out"
echo "bench: wrote ${out#"$SFR_ROOT"/}"
cat "$out"
