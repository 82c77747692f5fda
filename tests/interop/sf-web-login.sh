#!/usr/bin/env bash
# The real sf logs in to sfr-org with the web flow (auth code + PKCE, default PlatformCLI app), headless: BROWSER is a
# script that fills sfr-org's login and approve forms in the background and lands on sf's port-1717 callback.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
interop_init sf-web-login
require_tools curl jq python3
require_sf
start_org

USERNAME="web.user@example.com"
PASSWORD='Interop-pass-2!'
create_user "$USERNAME" "$PASSWORD"
ORG_ID="$(org_id)"
[[ "$ORG_ID" =~ ^00D[A-Za-z0-9]{15}$ ]] || { details "$WORK/org-show.out" "$WORK/org-show.err"; abort "sfr-org org show --json printed no 18-char org id"; }

export BROWSER
BROWSER="$(make_browser "$USERNAME" "$PASSWORD")"
if run_logged login timeout 120 "$SF" org login web --instance-url "$ORG_LOCAL_URL" --alias w --json && json_ok login; then
  pass "sf org login web exits 0 with status 0"
else
  fail "sf org login web"
  details "$WORK/login.out" "$WORK/login.err" "$WORK/browser.log" "$WORK/org.log"
  finish
fi
check_eq "login result clientId" "$(jget login .result.clientId)" "PlatformCLI"
check_eq "login result orgId" "$(jget login .result.orgId)" "$ORG_ID"
check_eq "login result username" "$(jget login .result.username)" "$USERNAME"
grep -q 'submitting the login form' "$WORK/browser.log" && pass "the browser went through sfr-org's login form" \
  || { fail "the browser never saw a login form"; details "$WORK/browser.log"; }

if run_logged display "$SF" org display -o w --json && json_ok display; then
  pass "sf org display -o w exits 0"
else
  fail "sf org display -o w"
  details "$WORK/display.out" "$WORK/display.err"
  finish
fi
check_eq "display id (org id)" "$(jget display .result.id)" "$ORG_ID"
check_eq "display username" "$(jget display .result.username)" "$USERNAME"
check_eq "display instanceUrl" "$(jget display .result.instanceUrl)" "$ORG_INSTANCE_URL"
check_eq "display connectedStatus" "$(jget display .result.connectedStatus)" "Connected"
check_eq "auth file holds an encrypted refresh token" \
  "$(jq -r '.refreshToken // "none" | test("^[0-9a-f]{12,}:[0-9a-f]{32}$")' "$HOME/.sfdx/$USERNAME.json" 2>/dev/null)" "true"
finish
