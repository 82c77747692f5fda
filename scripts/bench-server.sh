#!/usr/bin/env bash
# Benchmark (not a test, not part of CI): the sfr-org token endpoint against its cost floors and against a peer,
# oidc-provider 9 on Node 22, in one run on this machine. Writes bench/results/server-<date>.md.
#
#   scripts/bench-server.sh                       # everything, about 10 minutes
#   DURATION=10 THREADS=2 CONNS=32 PEER=1 GROWTH=1 GROWTH_SIZES="1000 100000 1000000" scripts/bench-server.sh
#   SKIP_BUILD=1 …                                # use the release binaries already in target/
#   PG=0 …                                        # skip the PostgreSQL runs
#   CODE_USERS=16 …                               # codes of 16 users in turn instead of one
#
# What it does, in order:
#  1. tools: wrk, sqlite3, openssl and python3 from Debian (`apt-get install -y wrk sqlite3 openssl python3`,
#     done here when running as root), Node 22 (scripts/install-node22.sh) and oidc-provider (bench/peer/package.json,
#     installed under .tools/bench-peer);
#  2. release build of sfr-org and of its example `bench_tool` (cost floors, JWT assertions);
#  3. a fresh org on a temp SQLite file, seeded through the admin commands (admin user, a web user, one connected
#     app with a certificate, client credentials and a pre-authorized profile) and by bench/server/seed.py (pools of
#     refresh tokens and authorization codes written into the database as the store writes them);
#  4. per endpoint: wrk (THREADS threads, CONNS connections, DURATION s, requests from a pool file via
#     bench/server/pool.lua), then the same at about half the measured peak (each connection pauses between
#     requests) for the p99 there; server CPU per request from /proc; peak RSS (VmHWM) at the end;
#     Then each grant against the bare GET side by side, RATIO_ROUNDS rounds of two back-to-back runs;
#  5. the peer, one process and then two `cluster` workers: client_credentials, refresh_token over a pool of the
#     same size, and a bare GET, loaded the same way;
#  6. the cost floors (bench_tool floors) and a bare GET of sfr-org (GET /services/data, no auth);
#  7. sfr-org on PostgreSQL (initdb/pg_ctl on a temp directory, `fsync` and `synchronous_commit` on): the same
#     endpoints, on an org set up through the same admin commands (pools seeded with SQL through psql);
#  8. growth: copies of the seeded database with 10^3, 10^5, 10^6 more issued tokens (half of them expired, which
#     the server's purge deletes when it starts), one with 1,000 more connected apps and one with 10,000 more
#     users; every endpoint again.
# Load stays on loopback and is bounded by DURATION per run.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib/tools.sh"
cd "$SFR_ROOT"

DURATION="${DURATION:-10}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-32}"
PEER="${PEER:-1}"
GROWTH="${GROWTH:-1}"
PG="${PG:-1}"
GROWTH_SIZES="${GROWTH_SIZES:-1000 100000 1000000}"
GROWTH_DURATION="${GROWTH_DURATION:-5}"
GROWTH_APPS="${GROWTH_APPS:-1000}"
GROWTH_USERS="${GROWTH_USERS:-10000}"
REFRESH_POOL="${REFRESH_POOL:-10000}"
# Codes seeded per authorization_code run: this × its duration. Past the pool's end wrk sends spent codes again
# (non-2xx answers); at 32,000 the exchange's 31–33k/s on a quiet host used the pool up (1,554 and 2,428 of them).
CODES_PER_SECOND="${CODES_PER_SECOND:-48000}"
PG_CODES_PER_SECOND="${PG_CODES_PER_SECOND:-6000}" # the same on PostgreSQL
RATIO_ROUNDS="${RATIO_ROUNDS:-4}"     # rounds of each grant against the bare GET side by side (0: none)
RATIO_DURATION="${RATIO_DURATION:-4}" # seconds per run in those rounds

install_pkg() { # install_pkg PACKAGE: from Debian, when running as root; non-zero if impossible
  [[ $(id -u) == 0 ]] || return 1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >/dev/null 2>&1; }
}
for tool in wrk sqlite3 openssl python3; do
  command -v "$tool" >/dev/null || install_pkg "$tool" || { echo "bench: $tool is required (apt-get install -y $tool)" >&2; exit 1; }
done

NODE=""
PEER_DIR="$SFR_TOOLS/bench-peer"
if [[ "$PEER" == 1 ]]; then
  "$here/install-node22.sh"
  NODE="$NODE_BIN_DIR/node"
  if ! cmp -s "$SFR_ROOT/bench/peer/package.json" "$PEER_DIR/package.json" || [[ ! -d "$PEER_DIR/node_modules/oidc-provider" ]]; then
    mkdir -p "$PEER_DIR"
    cp "$SFR_ROOT/bench/peer/package.json" "$PEER_DIR/package.json"
    (cd "$PEER_DIR" && npm install --no-fund --no-audit --loglevel=error)
  fi
  cp "$SFR_ROOT/bench/peer/server.mjs" "$PEER_DIR/server.mjs"
fi

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  echo "bench: cargo build --release -p sfr-org (binary and example bench_tool)"
  cargo build --release -q -p sfr-org --bin sfr-org --example bench_tool
fi
# The code measured, named now: edits made while the benchmark runs are not in its binaries.
# scripts/bench-ab.sh runs this script against other builds' binaries: SFR_ORG_BIN, BENCH_TOOL_BIN and SFR_REV
# (what the report names) then say which.
SFR_REV="${SFR_REV:-$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates || echo ' (with uncommitted changes)')}"
ORG="${SFR_ORG_BIN:-$SFR_ROOT/target/release/sfr-org}"
TOOL="${BENCH_TOOL_BIN:-$SFR_ROOT/target/release/examples/bench_tool}"
SEED="$SFR_ROOT/bench/server/seed.py"
LUA="$SFR_ROOT/bench/server/pool.lua"

work="$(mktemp -d "${TMPDIR:-/tmp}/sfr-bench-server.XXXXXX")"
server_pid=""
peer_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null
  [[ -n "$peer_pid" ]] && kill "$peer_pid" 2>/dev/null
  [[ -n "${pg_ctl:-}" ]] && "${pg_as[@]}" "$pg_ctl" -D "$work/pg/data" -m immediate stop >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
results="$work/results.tsv" # section, name, key=value…
: >"$results"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"

# ---- the org ----
DB="$work/org.sqlite"
admin() { "$ORG" "$@" --database "sqlite://$DB" --json; }
ADMIN_USER=bench.admin@example.com
# The users whose codes the code exchange redeems, in turn: CODE_USERS=1 (the default) is one user logging in
# again and again; more spread the exchanges over as many users (bench.web1@…, bench.web2@…).
CODE_USERS="${CODE_USERS:-1}"
if ((CODE_USERS == 1)); then WEB_USERS=(bench.web@example.com); else
  WEB_USERS=(); for ((i = 1; i <= CODE_USERS; i++)); do WEB_USERS+=("bench.web$i@example.com"); done
fi
CODE_USERNAMES="$(IFS=,; echo "${WEB_USERS[*]}")"
CALLBACK=http://localhost:1717/OauthRedirect
admin support allow-connected-apps >/dev/null
admin setup allow-connected-app-creation >/dev/null
admin user create --username "$ADMIN_USER" --password 'Bench-pass-1' --profile "System Administrator" >/dev/null
for user in "${WEB_USERS[@]}"; do
  admin user create --username "$user" --password 'Bench-pass-1' --profile "System Administrator" >/dev/null
done
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/jwt.key" -out "$work/jwt.crt" -days 2 -subj /CN=bench 2>/dev/null
openssl pkcs8 -topk8 -nocrypt -in "$work/jwt.key" -outform DER -out "$work/jwt.pk8"
admin app create --name Bench --contact-email bench@example.com --callback-url "$CALLBACK" --scopes "api refresh_token" \
  --certificate "$work/jwt.crt" --permitted-users admin-approved --profile "System Administrator" \
  --client-credentials-user "$ADMIN_USER" --require-secret-refresh true >"$work/app.json"
KEY="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["consumerKey"])' <"$work/app.json")"
SECRET="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["consumerSecret"])' <"$work/app.json")"

# Pools: refresh tokens of the admin user; codes (seeded fresh before each run, they live 15 minutes) of the web
# user: a code exchange issues a refresh token and keeps at most 5 live per user and app, which would revoke the
# refresh pool if both belonged to one user.
python3 "$SEED" refresh "$DB" "$KEY" "$ADMIN_USER" "$REFRESH_POOL" "$work/refresh.txt"
sqlite3 "$DB" ".backup '$work/base.sqlite'" # the seeded org, before any load: the base of the growth runs

start_server() { # start_server DB|URL: serve on a free loopback port; sets server_pid, BASE and CURRENT_DB
  local log="$work/server.log" url="$1"
  CURRENT_DB="$1"
  [[ "$url" == *://* ]] || url="sqlite://$1"
  "$ORG" serve --listen 127.0.0.1:0 --database "$url" --key-file "$work/org.key" >"$log" 2>&1 &
  server_pid=$!
  BASE="$(served_url "$log")" || { echo "bench: sfr-org did not start:" >&2; tail -n 20 "$log" >&2; exit 1; }
}
stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

cpu_ticks() { # cpu_ticks PID...: utime+stime of the processes, in clock ticks
  local total=0 pid f
  for pid in "$@"; do
    read -r -a f <"/proc/$pid/stat" || continue
    total=$((total + f[13] + f[14]))
  done
  echo "$total"
}
TICKS_PER_S="$(getconf CLK_TCK)"

# load SECTION NAME URL POOL MODE [DELAY_MS] -- PIDS...: one wrk run; appends a results line
load() {
  local section="$1" name="$2" url="$3" pool="$4" mode="$5" delay="${6:-0}" dur="${DURATION_OVERRIDE:-$DURATION}"
  shift 6
  local before after out line
  before="$(cpu_ticks "$@")"
  out="$(BENCH_DELAY_MS="$delay" wrk -t "$THREADS" -c "$CONNS" -d "${dur}s" --timeout 5s -s "$LUA" "$url" -- "$pool" "$mode" "$THREADS")"
  after="$(cpu_ticks "$@")"
  line="$(grep '^BENCH ' <<<"$out" | sed 's/^BENCH //')"
  [[ -n "$line" ]] || { echo "bench: wrk gave no summary for $name:" >&2; echo "$out" >&2; exit 1; }
  local requests
  requests="$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$line")"
  local cpu_us=$(((after - before) * 1000000 / TICKS_PER_S / (requests > 0 ? requests : 1)))
  local rec
  rec="$(printf '%s\t%s\t%s cpu_us=%s delay_ms=%s' "$section" "$name" "$line" "$cpu_us" "$delay")"
  echo "$rec" >>"$results"
  echo "$rec" >&2
  echo "$rec"
}
field() { # field KEY LINE
  sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"
}
half_delay() { # half_delay RPS: per-connection pause (ms) that brings CONNS connections to about RPS/2
  python3 -c "import sys; r = float(sys.argv[1]); print(max(1, round($CONNS * 1000 / max(r / 2, 1))))" "$1"
}

# ---- pools of request bodies ----
enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
KEY_E="$(enc "$KEY")"
SECRET_E="$(enc "$SECRET")"
CALLBACK_E="$(enc "$CALLBACK")"
make_pools() { # make_pools BASE: writes $work/pool-*.txt for a server at BASE
  local base="$1"
  "$TOOL" assertions "$work/jwt.pk8" "$KEY" "$ADMIN_USER" "$base" 256 \
    | sed 's/^/grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer\&assertion=/' >"$work/pool-jwt.txt"
  echo "grant_type=client_credentials&client_id=$KEY_E&client_secret=$SECRET_E" >"$work/pool-cc.txt"
  sed "s/^/grant_type=refresh_token\&client_id=$KEY_E\&client_secret=$SECRET_E\&refresh_token=/" "$work/refresh.txt" \
    >"$work/pool-refresh.txt"
  echo "/services/data" >"$work/pool-bare.txt"
  # Access tokens for introspection and the identity URL: issued by client_credentials, 64 of them.
  python3 - "$base" "$KEY" "$SECRET" "$work" <<'PY'
import json, sys, urllib.parse, urllib.request
base, key, secret, work = sys.argv[1:5]
intro, ident = [], []
for _ in range(64):
    body = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": key, "client_secret": secret})
    with urllib.request.urlopen(base + "/services/oauth2/token", body.encode()) as r:
        t = json.load(r)
    intro.append(urllib.parse.urlencode({"token": t["access_token"], "token_type_hint": "access_token",
                                         "client_id": key, "client_secret": secret}))
    ident.append(urllib.parse.urlparse(t["id"]).path + "\t" + t["access_token"])
open(work + "/pool-introspect.txt", "w").write("\n".join(intro) + "\n")
open(work + "/pool-identity.txt", "w").write("\n".join(ident) + "\n")
PY
}
code_pool() { # code_pool DB|URL OUT: fresh authorization codes (enough for one run) seeded into the SQLite file or
  # the PostgreSQL org, as request bodies
  local seconds="${DURATION_OVERRIDE:-$DURATION}"
  if [[ "$1" == postgres://* ]]; then
    python3 "$SEED" codes-sql "$KEY" "$CODE_USERNAMES" "$((PG_CODES_PER_SECOND * seconds))" "$work/codes.txt" \
      | psql -q "$1" -v ON_ERROR_STOP=1 >/dev/null
  else
    python3 "$SEED" codes "$1" "$KEY" "$CODE_USERNAMES" "$((CODES_PER_SECOND * seconds))" "$work/codes.txt"
  fi
  sed "s/^/grant_type=authorization_code\&client_id=$KEY_E\&client_secret=$SECRET_E\&redirect_uri=$CALLBACK_E\&code=/" "$work/codes.txt" >"$2"
}
check() { # check URL BODY-FILE MODE: one request must succeed, or the numbers mean nothing
  local line status
  line="$(head -n1 "$2")"
  if [[ "$3" == bearer ]]; then
    status="$(curl -s -o "$work/check.out" -w '%{http_code}' -H "Authorization: Bearer ${line#*$'\t'}" "$1${line%%$'\t'*}")"
  elif [[ "$3" == get ]]; then
    status="$(curl -s -o "$work/check.out" -w '%{http_code}' "$1$line")"
  else
    status="$(curl -s -o "$work/check.out" -w '%{http_code}' -H 'Content-Type: application/x-www-form-urlencoded' --data-binary "$line" "$1")"
  fi
  [[ "$status" == 200 ]] || { echo "bench: check of $2 against $1 answered $status:" >&2; head -c 600 "$work/check.out" >&2; exit 1; }
}

# run_sfr SECTION: every endpoint on the running server (peak, then about half of it unless NO_HALF=1)
run_sfr() {
  local section="$1" name path pool mode line rps codes_used=0
  local -a runs=(
    "bare|/services/data|$work/pool-bare.txt|get"
    "jwt_bearer|/services/oauth2/token|$work/pool-jwt.txt|form"
    "client_credentials|/services/oauth2/token|$work/pool-cc.txt|form"
    "refresh_token|/services/oauth2/token|$work/pool-refresh.txt|form"
    "authorization_code|/services/oauth2/token|CODES|form"
    "introspect|/services/oauth2/introspect|$work/pool-introspect.txt|form"
    "identity|/|$work/pool-identity.txt|bearer"
  )
  local spec
  for spec in "${runs[@]}"; do
    IFS='|' read -r name path pool mode <<<"$spec"
    if [[ "$pool" == CODES ]]; then
      pool="$work/pool-code-$section.txt"
      code_pool "$CURRENT_DB" "$pool"
    fi
    [[ "$mode" == bearer || "$mode" == get ]] && check "$BASE" "$pool" "$mode" || check "$BASE$path" "$pool" "$mode"
    [[ "$name" == authorization_code ]] && sed -i 1d "$pool" # its first code was spent by the check
    line="$(load "$section" "$name" "$BASE$path" "$pool" "$mode" 0 "$server_pid")"
    if [[ "${NO_HALF:-0}" != 1 && "$name" != bare ]]; then
      rps="$(field rps "$(cut -f3 <<<"$line")")"
      if [[ "$name" == authorization_code ]]; then
        pool="$work/pool-code-$section-half.txt"
        code_pool "$CURRENT_DB" "$pool"
      fi
      load "$section-half" "$name" "$BASE$path" "$pool" "$mode" "$(half_delay "$rps")" "$server_pid" >/dev/null
    fi
  done
}

# run_ratios: each grant against the bare GET side by side on the running server: RATIO_ROUNDS rounds of a bare
# run and a grant run back to back (RATIO_DURATION s each, which goes first alternating by round), so the two
# figures of a ratio share the host's moment; section 1's single runs can be minutes apart.
run_ratios() {
  local round name pool first second spec which
  local -a grants=(
    "jwt_bearer|$work/pool-jwt.txt"
    "client_credentials|$work/pool-cc.txt"
    "refresh_token|$work/pool-refresh.txt"
    "authorization_code|CODES"
  )
  for round in $(seq 1 "$RATIO_ROUNDS"); do
    for spec in "${grants[@]}"; do
      IFS='|' read -r name pool <<<"$spec"
      if [[ "$pool" == CODES ]]; then
        pool="$work/pool-code-ratio.txt"
        DURATION_OVERRIDE="$RATIO_DURATION" code_pool "$CURRENT_DB" "$pool"
      fi
      first=grant second=bare
      ((round % 2 == 0)) && first=bare second=grant
      for which in "$first" "$second"; do
        if [[ "$which" == bare ]]; then
          DURATION_OVERRIDE="$RATIO_DURATION" load "ratio$round" "bare-$name" "$BASE/services/data" \
            "$work/pool-bare.txt" get 0 "$server_pid" >/dev/null
        else
          DURATION_OVERRIDE="$RATIO_DURATION" load "ratio$round" "$name" "$BASE/services/oauth2/token" \
            "$pool" form 0 "$server_pid" >/dev/null
        fi
      done
    done
  done
}

# ---- 1. sfr-org, seeded org ----
echo "bench: sfr-org on SQLite, $THREADS threads, $CONNS connections, ${DURATION}s per run"
start_server "$DB"
make_pools "$BASE"
run_sfr sfr
sfr_rss_peak_kb="$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$server_pid/status")"
sfr_rss_kb="$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$server_pid/status")"
sfr_threads="$(sed -n 's/^Threads:[[:space:]]*//p' "/proc/$server_pid/status")"
run_ratios
stop_server
python3 "$SEED" count "$DB" >"$work/rows-after-main.txt"

# ---- 2. the peer ----
peer_rss_kb=()
if [[ "$PEER" == 1 ]]; then
  peer_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
  PEER_SECRET="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
  python3 -c 'import secrets, sys; print("\n".join(secrets.token_urlsafe(32) for _ in range(int(sys.argv[1]))))' \
    "$REFRESH_POOL" >"$work/peer-refresh.txt"
  echo "grant_type=client_credentials&client_id=bench-client&client_secret=$PEER_SECRET" >"$work/peer-cc.txt"
  sed "s/^/grant_type=refresh_token\&client_id=bench-client\&client_secret=$PEER_SECRET\&refresh_token=/" \
    "$work/peer-refresh.txt" >"$work/peer-pool-refresh.txt"
  echo "/bare" >"$work/peer-bare.txt"
  for workers in 1 2; do
    "$NODE" "$PEER_DIR/server.mjs" "$peer_port" "$PEER_SECRET" "$work/peer-refresh.txt" "$workers" >"$work/peer.log" 2>&1 &
    peer_pid=$!
    for _ in $(seq 1 300); do
      (($(grep -c '^peer ready' "$work/peer.log" || true) >= workers)) && break
      sleep 0.1
    done
    (($(grep -c '^peer ready' "$work/peer.log" || true) >= workers)) || { echo "bench: the peer did not start:" >&2; cat "$work/peer.log" >&2; exit 1; }
    pids=("$peer_pid")
    ((workers > 1)) && mapfile -t pids < <(pgrep -P "$peer_pid")
    PURL="http://127.0.0.1:$peer_port"
    check "$PURL/token" "$work/peer-cc.txt" form
    check "$PURL/token" "$work/peer-pool-refresh.txt" form
    section="peer$workers"
    load "$section" bare "$PURL/bare" "$work/peer-bare.txt" get 0 "${pids[@]}" >/dev/null
    line="$(load "$section" client_credentials "$PURL/token" "$work/peer-cc.txt" form 0 "${pids[@]}")"
    load "$section-half" client_credentials "$PURL/token" "$work/peer-cc.txt" form \
      "$(half_delay "$(field rps "$(cut -f3 <<<"$line")")")" "${pids[@]}" >/dev/null
    line="$(load "$section" refresh_token "$PURL/token" "$work/peer-pool-refresh.txt" form 0 "${pids[@]}")"
    load "$section-half" refresh_token "$PURL/token" "$work/peer-pool-refresh.txt" form \
      "$(half_delay "$(field rps "$(cut -f3 <<<"$line")")")" "${pids[@]}" >/dev/null
    kb=0
    for pid in "${pids[@]}"; do
      kb=$((kb + $(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$pid/status")))
    done
    peer_rss_kb+=("$kb")
    kill "$peer_pid" 2>/dev/null || true
    wait "$peer_pid" 2>/dev/null || true
    peer_pid=""
  done
fi

# ---- 3. cost floors ----
echo "bench: cost floors"
"$TOOL" floors "$work" 2 | tee "$work/floors.txt"

# ---- 4. PostgreSQL ----
pg_as=()
if [[ "$PG" == 1 ]]; then
  pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
  [[ -x "$pg_bin/initdb" ]] || { install_pkg postgresql && pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"; }
  [[ -x "$pg_bin/initdb" ]] || { echo "bench: PostgreSQL is required for PG=1 (apt-get install -y postgresql)" >&2; exit 1; }
  mkdir -p "$work/pg"
  if [[ $(id -u) == 0 ]]; then # initdb refuses root
    chown postgres "$work/pg" 2>/dev/null || chown nobody "$work/pg"
    pg_as=(runuser -u "$(stat -c %U "$work/pg")" --)
    chmod o+rx "$work"
  fi
  pg_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
  "${pg_as[@]}" "$pg_bin/initdb" -D "$work/pg/data" -U sfr --auth=trust >/dev/null
  pg_ctl="$pg_bin/pg_ctl"
  "${pg_as[@]}" "$pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w \
    -o "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on" start >/dev/null
  "${pg_as[@]}" "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U sfr org
  PG_URL="postgres://sfr@127.0.0.1:$pg_port/org"
  echo "bench: sfr-org on PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}')"
  pg_admin() { "$ORG" "$@" --database "$PG_URL" --key-file "$work/org.key" --json; }
  pg_admin support allow-connected-apps >/dev/null
  pg_admin setup allow-connected-app-creation >/dev/null
  pg_admin user create --username "$ADMIN_USER" --password 'Bench-pass-1' --profile "System Administrator" >/dev/null
  for user in "${WEB_USERS[@]}"; do
    pg_admin user create --username "$user" --password 'Bench-pass-1' --profile "System Administrator" >/dev/null
  done
  pg_admin app create --name Bench --contact-email bench@example.com --callback-url "$CALLBACK" --scopes "api refresh_token" \
    --certificate "$work/jwt.crt" --permitted-users admin-approved --profile "System Administrator" \
    --client-credentials-user "$ADMIN_USER" --require-secret-refresh true >"$work/pg-app.json"
  sqlite_key="$KEY" sqlite_secret="$SECRET"
  cp "$work/refresh.txt" "$work/sqlite-refresh.txt" # the pools follow the org being measured
  KEY="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["consumerKey"])' <"$work/pg-app.json")"
  SECRET="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["consumerSecret"])' <"$work/pg-app.json")"
  KEY_E="$(enc "$KEY")" SECRET_E="$(enc "$SECRET")"
  python3 "$SEED" refresh-sql "$KEY" "$ADMIN_USER" "$REFRESH_POOL" "$work/refresh.txt" \
    | psql -q -h 127.0.0.1 -p "$pg_port" -U sfr -d org -v ON_ERROR_STOP=1 >/dev/null
  start_server "$PG_URL"
  make_pools "$BASE"
  NO_HALF=1 run_sfr pg
  stop_server
  KEY="$sqlite_key" SECRET="$sqlite_secret" KEY_E="$(enc "$KEY")" SECRET_E="$(enc "$SECRET")"
  cp "$work/sqlite-refresh.txt" "$work/refresh.txt"
  "${pg_as[@]}" "$pg_ctl" -D "$work/pg/data" -m fast stop >/dev/null
  pg_ctl=""
fi

# ---- 5. growth ----
if [[ "$GROWTH" == 1 ]]; then
  for size in $GROWTH_SIZES "apps" "users"; do
    rm -f "$work/growth.sqlite" "$work/growth.sqlite-wal" "$work/growth.sqlite-shm"
    sqlite3 "$work/base.sqlite" ".backup '$work/growth.sqlite'"
    if [[ "$size" == apps ]]; then
      python3 "$SEED" apps "$work/growth.sqlite" Bench "$GROWTH_APPS"
      section="apps$GROWTH_APPS"
    elif [[ "$size" == users ]]; then
      # The users whose codes are exchanged move after the new ones, as if they had joined last.
      python3 "$SEED" users "$work/growth.sqlite" "$ADMIN_USER" "$GROWTH_USERS" "$CODE_USERNAMES"
      section="users$GROWTH_USERS"
    else
      python3 "$SEED" growth "$work/growth.sqlite" "$KEY" "$size"
      section="tokens$size"
    fi
    before_rows="$(python3 "$SEED" count "$work/growth.sqlite")"
    purge_start=$(date +%s%N)
    start_server "$work/growth.sqlite"
    # The server purges expired rows when it starts (and every 10 minutes); wait for that before loading it.
    for _ in $(seq 1 600); do
      rows="$(python3 "$SEED" count "$work/growth.sqlite")"
      [[ "$rows" == *" access_dead=0 "* ]] && break
      sleep 0.1
    done
    purge_ms=$((($(date +%s%N) - purge_start) / 1000000))
    printf '%s\trows\tbefore: %s; after start and purge (%s ms): %s\n' "$section" "$before_rows" "$purge_ms" "$rows" | tee -a "$results"
    make_pools "$BASE"
    DURATION_OVERRIDE="$GROWTH_DURATION" NO_HALF=1 run_sfr "$section"
    stop_server
  done
fi
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

# ---- report ----
date_tag="$(date -u +%Y-%m-%d)"
out="${BENCH_OUT:-$SFR_ROOT/bench/results/server-$date_tag.md}"
mkdir -p "$(dirname "$out")"
python3 "$SFR_ROOT/bench/server/report.py" "$results" "$work/floors.txt" >"$out.tmp" \
  --date "$date_tag" --duration "$DURATION" --threads "$THREADS" --conns "$CONNS" \
  --growth-duration "$GROWTH_DURATION" --refresh-pool "$REFRESH_POOL" --ratio-duration "$RATIO_DURATION" \
  --machine "$(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1), $(free -m | awk '/^Mem:/ {print $2}') MB RAM" \
  --load "$load_before before, $load_after after" \
  --sfr "$SFR_REV" \
  --peer "$( [[ "$PEER" == 1 ]] && echo "oidc-provider $(sed -n 's/^  "version": "\([^"]*\)".*/\1/p' "$PEER_DIR/node_modules/oidc-provider/package.json"), Node $("$NODE" --version)" || echo none)" \
  --wrk "$(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2)" \
  --sfr-rss "${sfr_rss_peak_kb:-0} ${sfr_rss_kb:-0} ${sfr_threads:-0}" \
  --peer-rss "${peer_rss_kb[*]:-}"
mv "$out.tmp" "$out"
echo "bench: wrote ${out#"$SFR_ROOT"/}"
cat "$out"
