#!/usr/bin/env bash
# sfr and the real sf share one store (~/.sfdx), both ways, under a v1 key and a v2 key (SF_CRYPTO_V2=true):
#   sfr logs in (JWT) -> sf lists, displays, and refreshes after the org revokes the access token -> sfr sees it;
#   sf logs in (JWT and web) -> sfr lists and displays; sfr refreshes sf's web org after a revoke -> sf still works.
# (The fixture stores the real sf wrote are compared in sfr-sf-fixtures.sh.)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
interop_init sfr-sf-store
require_tools curl jq openssl python3
require_sf
require_sfr
start_org
setup_org_for_apps

SFR_USER="sfr.user@example.com"
SF_USER="sf.user@example.com"
WEB_USER="web.user@example.com"
WEB_PASSWORD='Interop-pass-3!'
create_user "$SFR_USER" 'Interop-pass-1!'
create_user "$SF_USER" 'Interop-pass-2!'
create_user "$WEB_USER" "$WEB_PASSWORD"
ORG_ID="$(org_id)"
[[ "$ORG_ID" =~ ^00D[A-Za-z0-9]{15}$ ]] || { details "$WORK/org-show.out" "$WORK/org-show.err"; abort "sfr-org org show --json printed no 18-char org id"; }
make_cert_openssl "$WORK/keys" || { details "$WORK/openssl.log"; abort "openssl could not make a key pair"; }
create_jwt_app "Store interop" "$WORK/keys/server.crt"

# listed_by CLI USERNAME STEP: `CLI org list --json` (step STEP) and the entry for USERNAME as compact JSON.
listed_by() {
  run_logged "$3" "$1" org list --json
  jq -c --arg u "$2" '[.result.nonScratchOrgs[]? | select(.username == $u)] | first // empty' "$WORK/$3.out" 2>/dev/null
}

# display_ok LABEL CLI ALIAS USERNAME STEP: `CLI org display -o ALIAS --json` shows this org, connected.
display_ok() {
  local label="$1" cli="$2" alias="$3" user="$4" step="$5"
  if run_logged "$step" "$cli" org display -o "$alias" --json && json_ok "$step"; then
    check_eq "$label: id" "$(jget "$step" .result.id)" "$ORG_ID"
    check_eq "$label: username" "$(jget "$step" .result.username)" "$user"
    check_eq "$label: instanceUrl" "$(jget "$step" .result.instanceUrl)" "$ORG_INSTANCE_URL"
    check_eq "$label: connectedStatus" "$(jget "$step" .result.connectedStatus)" "Connected"
  else
    fail "$label: exits 0 with status 0"
    details "$WORK/$step.out" "$WORK/$step.err"
  fi
}

# revoke_and_check LABEL TOKEN: the org revokes TOKEN and then refuses it.
revoke_and_check() {
  check_eq "$1: the org revokes the access token (HTTP status)" "$(revoke_token "$2")" "200"
  check_eq "$1: the revoked token gets 401 from REST" "$(rest_status "$2")" "401"
}

store_round_trip() {
  local mode="$1" keylen="$2"
  export HOME="$WORK/home-$mode"
  mkdir -p "$HOME" && chmod 700 "$HOME"
  local p="[$mode]"

  # --- sfr writes, sf reads and refreshes ---
  if run_logged "$mode-sfr-login" "$SFR_BIN" org login jwt --username "$SFR_USER" --jwt-key-file "$WORK/keys/server.key" \
    --client-id "$APP_KEY" --instance-url "$ORG_LOCAL_URL" --alias s --json && json_ok "$mode-sfr-login"; then
    pass "$p sfr org login jwt exits 0 with status 0"
  else
    fail "$p sfr org login jwt"
    details "$WORK/$mode-sfr-login.out" "$WORK/$mode-sfr-login.err"
    return
  fi
  local key="$HOME/.sfdx/key.json"
  check_eq "$p sfr made key.json with mode 600" "$(stat -c %a "$key" 2>/dev/null)" "600"
  check_eq "$p sfr made a $keylen-char key" "$(jq -r '.key | length' "$key" 2>/dev/null)" "$keylen"

  local entry
  entry="$(listed_by "$SF" "$SFR_USER" "$mode-sf-list")"
  if [[ -n "$entry" ]]; then
    pass "$p sf org list lists the org sfr logged in to"
    check_eq "$p sf org list: alias, org id, status" "$(jq -r '[.alias, .orgId, .connectedStatus] | join(" ")' <<<"$entry")" \
      "s $ORG_ID Connected"
  else
    fail "$p sf org list lists the org sfr logged in to"
    details "$WORK/$mode-sf-list.out" "$WORK/$mode-sf-list.err"
  fi
  display_ok "$p sf org display of sfr's org" "$SF" s "$SFR_USER" "$mode-sf-display"

  local old new
  old="$(access_token_of "$SF" s)"
  [[ -n "$old" ]] || fail "$p sf org auth show-access-token shows sfr's token"
  check_eq "$p sfr and sf show the same access token" "$(access_token_of "$SFR_BIN" s)" "$old"
  revoke_and_check "$p sfr's token" "$old"
  display_ok "$p sf org display after the revoke (sf refreshes with a new JWT)" "$SF" s "$SFR_USER" "$mode-sf-display-2"
  new="$(access_token_of "$SF" s)"
  if [[ -n "$new" && "$new" != "$old" && "$(rest_status "$new")" == 200 ]]; then
    pass "$p sf stored a new, working access token"
  else
    fail "$p sf stored a new, working access token"
  fi
  check_eq "$p sfr reads the token sf refreshed" "$(access_token_of "$SFR_BIN" s)" "$new"

  # --- sf writes, sfr reads ---
  if run_logged "$mode-sf-login" "$SF" org login jwt --username "$SF_USER" --jwt-key-file "$WORK/keys/server.key" \
    --client-id "$APP_KEY" --instance-url "$ORG_LOCAL_URL" --alias f --json && json_ok "$mode-sf-login"; then
    pass "$p sf org login jwt exits 0 with status 0"
    entry="$(listed_by "$SFR_BIN" "$SF_USER" "$mode-sfr-list")"
    if [[ -n "$entry" ]]; then
      pass "$p sfr org list lists the org sf logged in to"
      check_eq "$p sfr org list: alias, org id, status" "$(jq -r '[.alias, .orgId, .connectedStatus] | join(" ")' <<<"$entry")" \
        "f $ORG_ID Connected"
    else
      fail "$p sfr org list lists the org sf logged in to"
      details "$WORK/$mode-sfr-list.out" "$WORK/$mode-sfr-list.err"
    fi
    display_ok "$p sfr org display of sf's JWT org" "$SFR_BIN" f "$SF_USER" "$mode-sfr-display"
  else
    fail "$p sf org login jwt"
    details "$WORK/$mode-sf-login.out" "$WORK/$mode-sf-login.err"
  fi

  # --- sf web login (refresh token), sfr refreshes it, sf keeps working ---
  export BROWSER
  BROWSER="$(make_browser "$WEB_USER" "$WEB_PASSWORD")"
  if run_logged "$mode-sf-web" timeout 120 "$SF" org login web --instance-url "$ORG_LOCAL_URL" --alias sw --json \
    && json_ok "$mode-sf-web"; then
    pass "$p sf org login web exits 0 with status 0"
  else
    fail "$p sf org login web"
    details "$WORK/$mode-sf-web.out" "$WORK/$mode-sf-web.err" "$WORK/browser.log"
    return
  fi
  old="$(access_token_of "$SF" sw)"
  revoke_and_check "$p sf's web token" "$old"
  display_ok "$p sfr org display after the revoke (sfr refreshes with sf's refresh token)" "$SFR_BIN" sw "$WEB_USER" \
    "$mode-sfr-display-web"
  new="$(access_token_of "$SFR_BIN" sw)"
  if [[ -n "$new" && "$new" != "$old" && "$(rest_status "$new")" == 200 ]]; then
    pass "$p sfr stored a new, working access token"
  else
    fail "$p sfr stored a new, working access token"
  fi
  display_ok "$p sf org display after sfr's refresh" "$SF" sw "$WEB_USER" "$mode-sf-display-web"
  check_eq "$p sf reads the token sfr refreshed" "$(access_token_of "$SF" sw)" "$new"
}

unset SF_CRYPTO_V2
store_round_trip v1 32
SF_CRYPTO_V2=true store_round_trip v2 64
unset SF_CRYPTO_V2

finish
