# Shared helpers for the interop scripts in this folder (sourced, not run).
# Each script gets a throwaway HOME and temp dir, its own sfr-org on a free loopback port, and PASS/FAIL lines.

set -uo pipefail

INTEROP_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
INTEROP_DIR="$INTEROP_ROOT/tests/interop"
SF="$INTEROP_ROOT/scripts/sf"
SFR_ORG_BIN="${SFR_ORG_BIN:-$INTEROP_ROOT/target/debug/sfr-org}"
SFR_BIN="${SFR_BIN:-$INTEROP_ROOT/target/debug/sfr}"
# Bounded waits (seconds).
ORG_START_TIMEOUT="${ORG_START_TIMEOUT:-30}"
# sf's own limit for the browser round trip of `org login web` (ms), so a stuck browser fails with sf's message.
export SF_WEB_OAUTH_SERVER_TIMEOUT="${SF_WEB_OAUTH_SERVER_TIMEOUT:-90000}"

INTEROP_NAME=""
INTEROP_PASSED=0
INTEROP_FAILED=0
INTEROP_PIDS=()
ORG_PID=""
ORG_DB=""
ORG_URL=""
ORG_PORT=""
ORG_LOCAL_URL=""
ORG_INSTANCE_URL=""

# interop_init NAME: make the temp dir and throwaway HOME, install the cleanup trap.
interop_init() {
  INTEROP_NAME="$1"
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/sfr-interop-$1.XXXXXX")"
  export HOME="$WORK/home"
  mkdir -p "$HOME"
  chmod 700 "$HOME"
  # Keep the temp dir for a failed run when asked; otherwise always clean up.
  trap interop_cleanup EXIT
  trap 'exit 130' INT TERM
  cd "$WORK" || exit 1
}

interop_cleanup() {
  local rc=$?
  local pid
  [[ -f "$WORK/browser.pids" ]] && mapfile -t -O "${#INTEROP_PIDS[@]}" INTEROP_PIDS <"$WORK/browser.pids"
  for pid in "${INTEROP_PIDS[@]}" $ORG_PID; do
    [[ -n "$pid" ]] || continue
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  if [[ -n "${KEEP_TMP:-}" || ( $INTEROP_FAILED -gt 0 && -n "${KEEP_TMP_ON_FAIL:-}" ) ]]; then
    echo "note: kept $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}

pass() { INTEROP_PASSED=$((INTEROP_PASSED + 1)); echo "PASS $INTEROP_NAME: $*"; }
fail() { INTEROP_FAILED=$((INTEROP_FAILED + 1)); echo "FAIL $INTEROP_NAME: $*"; }

# details FILE...: show what a failed step printed (indented, bounded).
details() {
  local f
  for f in "$@"; do
    [[ -s "$f" ]] || continue
    echo "  --- ${f#"$WORK"/} (last 40 lines)"
    tail -n 40 "$f" | sed 's/^/  | /'
  done
}

# check DESC ACTUAL EXPECTED: compare two strings.
check_eq() {
  if [[ "$2" == "$3" ]]; then
    pass "$1"
  else
    fail "$1 (got '$2', want '$3')"
  fi
}

# finish: the closing line for this script and its exit status.
finish() {
  echo "$INTEROP_NAME: $INTEROP_PASSED passed, $INTEROP_FAILED failed"
  [[ $INTEROP_FAILED -eq 0 ]] && exit 0
  exit 1
}

# abort MSG: a precondition failed; count it and stop this script.
abort() {
  fail "$*"
  finish
}

require_sfr_org() {
  [[ -x "$SFR_ORG_BIN" ]] || abort "sfr-org binary missing at ${SFR_ORG_BIN#"$INTEROP_ROOT"/}: run cargo build"
}
require_sfr() {
  [[ -x "$SFR_BIN" ]] || abort "sfr binary missing at ${SFR_BIN#"$INTEROP_ROOT"/}: run cargo build"
}
require_sf() {
  "$SF" --version >"$WORK/sf-version.txt" 2>&1 || { details "$WORK/sf-version.txt"; abort "the real sf CLI does not run: run scripts/install-sf.sh"; }
}
require_tools() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null || abort "$t is not installed (.ci/run installs it)"
  done
}

# run_logged NAME CMD...: run a command, stdout to $WORK/NAME.out, stderr to $WORK/NAME.err; returns its status.
run_logged() {
  local name="$1"
  shift
  "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
}

# json_ok NAME: the stdout of step NAME is a JSON envelope with status 0.
json_ok() {
  jq -e '.status == 0' "$WORK/$1.out" >/dev/null 2>&1
}

# jget NAME FILTER: a raw jq value from the stdout of step NAME.
jget() {
  jq -r "$2" "$WORK/$1.out" 2>/dev/null
}

# start_org: run sfr-org serve on a free loopback port with a fresh SQLite database; wait until it answers.
# It listens on localhost:0 (127.0.0.1 and ::1, one free port), so its instance URL is http://localhost:PORT, the
# URL the CLIs log in with. ORG_LISTEN=127.0.0.1:0 tests an org whose instance URL differs from the login URL.
start_org() {
  require_sfr_org
  ORG_DB="$WORK/org.sqlite"
  : >"$WORK/org.log"
  "$SFR_ORG_BIN" serve --listen "${ORG_LISTEN:-localhost:0}" --database "sqlite://$ORG_DB" >"$WORK/org.log" 2>&1 &
  ORG_PID=$!
  local deadline=$((SECONDS + ORG_START_TIMEOUT))
  while [[ -z "$ORG_URL" ]]; do
    if ! kill -0 "$ORG_PID" 2>/dev/null; then
      ORG_PID=""
      details "$WORK/org.log"
      abort "sfr-org serve exited before printing its URL"
    fi
    ((SECONDS < deadline)) || { details "$WORK/org.log"; abort "sfr-org serve printed no http://127.0.0.1:PORT URL within ${ORG_START_TIMEOUT}s"; }
    ORG_URL="$(grep -oE 'http://(127\.0\.0\.1|localhost):[0-9]+' "$WORK/org.log" | head -n1)"
    [[ -n "$ORG_URL" ]] || sleep 0.2
  done
  ORG_PORT="${ORG_URL##*:}"
  ORG_LOCAL_URL="http://localhost:$ORG_PORT"
  ORG_INSTANCE_URL="$(sed -n 's/^sfr-org is serving org [^ ]* at \(http[^ ]*\).*/\1/p' "$WORK/org.log" | head -n1)"
  ORG_INSTANCE_URL="${ORG_INSTANCE_URL:-$ORG_URL}"
  until curl -s -o /dev/null --max-time 2 "$ORG_URL/"; do
    ((SECONDS < deadline)) || { details "$WORK/org.log"; abort "sfr-org at $ORG_URL does not answer HTTP within ${ORG_START_TIMEOUT}s"; }
    sleep 0.2
  done
  pass "sfr-org serves at $ORG_URL"
}

# org_admin NAME ARGS...: an sfr-org admin command against this test's database (logged as step NAME).
org_admin() {
  local name="$1"
  shift
  run_logged "$name" "$SFR_ORG_BIN" "$@" --database "sqlite://$ORG_DB"
}

# setup_org_for_apps: the two switches the guide needs before a connected app can be created.
setup_org_for_apps() {
  org_admin support-allow support allow-connected-apps || { details "$WORK/support-allow.out" "$WORK/support-allow.err"; abort "sfr-org support allow-connected-apps failed"; }
  org_admin setup-allow setup allow-connected-app-creation || { details "$WORK/setup-allow.out" "$WORK/setup-allow.err"; abort "sfr-org setup allow-connected-app-creation failed"; }
}

# create_user USERNAME PASSWORD: a System Administrator user (prints nothing; step user-USERNAME).
create_user() {
  org_admin "user-$1" user create --username "$1" --password "$2" --email "$1" --profile "System Administrator" --json \
    || { details "$WORK/user-$1.out" "$WORK/user-$1.err"; abort "sfr-org user create $1 failed"; }
}

# make_cert_openssl DIR: server.key + server.crt (self-signed) in DIR with openssl.
make_cert_openssl() {
  mkdir -p "$1"
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 -subj "/CN=sfr-interop" \
    -keyout "$1/server.key" -out "$1/server.crt" >"$WORK/openssl.log" 2>&1
}

# create_jwt_app NAME CERT: a connected app for JWT with the guide's settings; sets APP_KEY (consumer key).
create_jwt_app() {
  local step="app-${1// /-}"
  org_admin "$step" app create --name "$1" --contact-email admin@example.com \
    --callback-url http://localhost:1717/OauthRedirect --scopes "api web refresh_token" \
    --certificate "$2" --permitted-users admin-approved --profile "System Administrator" --json \
    || { details "$WORK/$step.out" "$WORK/$step.err"; abort "sfr-org app create '$1' failed"; }
  APP_KEY="$(jq -r '(.result // .) | .consumerKey // empty' "$WORK/$step.out" 2>/dev/null)"
  [[ -n "$APP_KEY" ]] || { details "$WORK/$step.out"; abort "sfr-org app create --json printed no consumerKey"; }
}

# org_id: the org's 18-char id, from `sfr-org org show --json`.
org_id() {
  org_admin org-show org show --json && jget org-show '.result.id // empty'
}

# make_browser USERNAME PASSWORD: a BROWSER executable for `sf org login web` that returns 0 at once and, in the
# background, logs in and approves through browser.py (its log: $WORK/browser.log). Prints the script's path.
make_browser() {
  local script="$WORK/browser.sh"
  cat >"$script" <<SH
#!/bin/sh
# Called by sf (through xdg-open) with the authorize URL; must return at once with status 0.
( sleep 1; exec python3 '$INTEROP_DIR/browser.py' "\$1" '$1' '$2' '$WORK/browser.log' ) >/dev/null 2>&1 &
echo \$! >>'$WORK/browser.pids'
exit 0
SH
  chmod +x "$script"
  echo "$script"
}

# fixture_store_dir: the committed fixture stores written by the real sf (kept with the CLI crate's tests).
fixture_store_dir() {
  local d="$INTEROP_ROOT/crates/sfr/tests/fixtures/sf-store"
  [[ -f "$d/MODES.txt" && -d "$d/v1/.sfdx" ]] && echo "$d"
}

# copy_fixture_home VERSION DEST: a private copy of fixture HOME v1|v2 with sf's file modes (MODES.txt) restored
# and privateKey pointing at the copy's server.key.
copy_fixture_home() {
  local src mode path
  src="$(fixture_store_dir)" || return 1
  mkdir -p "$2"
  cp -R "$src/$1/." "$2/"
  while read -r mode path; do
    [[ "$mode" =~ ^[0-7]{3}$ && "$path" == "$1/"* ]] || continue
    chmod "$mode" "$2/${path#"$1"/}"
  done <"$src/MODES.txt"
  local f="$2/.sfdx/jwt.user@example.com.json" tmp
  if [[ -f "$f" ]]; then
    tmp="$f.tmp"
    jq --indent 2 --arg k "$2/server.key" '.privateKey = $k' "$f" | head -c -1 >"$tmp" && mv "$tmp" "$f"
    chmod 644 "$f"
  fi
}

# access_token_of CLI ALIAS: the plaintext access token a CLI (scripts/sf or sfr) shows for ALIAS.
access_token_of() {
  SF_TEMP_SHOW_SECRETS=true "$1" org auth show-access-token -o "$2" --no-prompt --json 2>/dev/null \
    | jq -r '.result.accessToken // empty' 2>/dev/null
}

# revoke_token TOKEN: revoke it at the org (RFC 7009 endpoint); prints the HTTP status.
revoke_token() {
  curl -s -o /dev/null -w '%{http_code}' -X POST --data-urlencode "token=$1" "$ORG_LOCAL_URL/services/oauth2/revoke"
}

# rest_status TOKEN: the HTTP status of a REST call made with TOKEN (200 valid, 401 expired/revoked).
rest_status() {
  curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" "$ORG_LOCAL_URL/services/data/v63.0/"
}
