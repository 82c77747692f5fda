#!/usr/bin/env bash
# Both CLIs read the committed fixture stores the real sf wrote (v1 and v2 keys) and must agree:
# `sfr org list auth --json` equals `sf org list auth --json` (local only, no org needed), and so do
# `org list --skip-connection-status`, `alias list` and `config get target-org`.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
interop_init sfr-sf-fixtures
require_tools jq
require_sf
require_sfr

# same_json LABEL STEP FILTER: sf's and sfr's stdout of STEP (steps STEP-sf / STEP-sfr) agree after FILTER.
same_json() {
  local want got
  want="$(jq -S "$3" "$WORK/$2-sf.out" 2>/dev/null)"
  got="$(jq -S "$3" "$WORK/$2-sfr.out" 2>/dev/null)"
  if [[ -z "$want" ]]; then
    fail "$1: sf printed no JSON"
    details "$WORK/$2-sf.out" "$WORK/$2-sf.err"
  elif [[ "$got" == "$want" ]]; then
    pass "$1: sfr prints what sf prints"
  else
    fail "$1: sfr prints what sf prints"
    diff <(echo "$want") <(echo "$got") | head -n 40 | sed 's/^/  | /'
    details "$WORK/$2-sfr.err"
  fi
}

# both STEP ARGS...: run sf and sfr with ARGS on the current HOME.
both() {
  local step="$1"
  shift
  run_logged "$step-sf" "$SF" "$@"
  run_logged "$step-sfr" "$SFR_BIN" "$@"
}

fixtures="$(fixture_store_dir)" || abort "no committed fixture store (crates/sfr/tests/fixtures/sf-store)"
for v in v1 v2; do
  export HOME="$WORK/fixture-$v"
  copy_fixture_home "$v" "$HOME" || abort "could not copy fixture $v from ${fixtures#"$INTEROP_ROOT"/}"
  both "$v-list-auth" org list auth --json
  if jq -e '.status == 0 and (.result | length) == 2' "$WORK/$v-list-auth-sf.out" >/dev/null 2>&1; then
    pass "[$v] sf org list auth lists the fixture's two orgs"
  else
    fail "[$v] sf org list auth lists the fixture's two orgs"
  fi
  same_json "[$v] org list auth --json" "$v-list-auth" '{status, result: (.result | sort_by(.username))}'
  # org list without the network probe: the same entries (lastUsed is the file's atime, which the reads
  # themselves may move, so it is compared within a second); the same warnings.
  both "$v-list" org list --json --skip-connection-status
  same_json "[$v] org list --json --skip-connection-status" "$v-list" \
    '{status, result: (.result | map_values(map(del(.lastUsed))))}'
  same_json "[$v] org list --json --skip-connection-status warnings" "$v-list" '.warnings'
  lag="$(jq -n --slurpfile a "$WORK/$v-list-sf.out" --slurpfile b "$WORK/$v-list-sfr.out" '
    def ms: sub("\\.(?<f>[0-9]{3})Z$"; "Z") as $s | ($s | fromdateiso8601) * 1000 + (capture("\\.(?<f>[0-9]{3})Z$").f | tonumber);
    [$a[0].result.nonScratchOrgs, $b[0].result.nonScratchOrgs] | transpose | map((.[0].lastUsed | ms) - (.[1].lastUsed | ms) | fabs) | max' 2>/dev/null)"
  if [[ "$lag" =~ ^[0-9.]+$ ]] && (( ${lag%.*} < 1000 )); then
    pass "[$v] org list lastUsed agrees within a second (${lag} ms apart)"
  else
    fail "[$v] org list lastUsed agrees within a second (got '${lag}')"
  fi
  both "$v-alias-list" alias list --json
  same_json "[$v] alias list --json" "$v-alias-list" '{status, result: (.result | sort_by(.alias))}'
  both "$v-config-get" config get target-org --json
  same_json "[$v] config get target-org --json" "$v-config-get" '{status, result}'
  # Neither CLI may change the store by reading it.
  if diff -r "$(fixture_store_dir)/$v/.sfdx" "$HOME/.sfdx" -x 'jwt.user@example.com.json' >"$WORK/$v-diff.txt" 2>&1; then
    pass "[$v] reading left the store files unchanged"
  else
    fail "[$v] reading left the store files unchanged"
    details "$WORK/$v-diff.txt"
  fi
done
finish
