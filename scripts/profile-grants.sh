#!/usr/bin/env bash
# Profile (not a benchmark, not part of CI): instructions per request of sfr-org's token grants, counted by
# callgrind. Counts are the same from one run to the next within about 2 % whatever else the machine runs, so a
# change of a few per cent in what a grant executes shows here when wrk's rates, on a shared host, cannot tell it
# from noise. They count instructions, not time: kernel work (sockets, WAL writes, wake-ups) is not in them, and
# valgrind hides the CPU's SHA and AVX-512 extensions, so SHA-256 and RSA run their fallback code here.
#
#   scripts/profile-grants.sh                      # bare GET, client_credentials, refresh_token, JWT, code, 2,000 each
#   ENDPOINTS="cc refresh" REQUESTS=3000 scripts/profile-grants.sh
#   ENDPOINTS="identity introspect" …              # the bearer reads: the identity URL and introspection
#   SKIP_BUILD=1 …                                 # use the binaries already in target/symbols
#   TOP=15 …                                       # and each group's 15 costliest functions, by own instructions
#
# What it does: builds sfr-org and bench_tool in release with symbols (target/symbols), sets up an org on a
# temp SQLite file through the admin commands (as scripts/bench-server.sh does), and for each endpoint starts the
# server under `valgrind --tool=callgrind` on a fresh copy, sends 300 warm-up requests and then REQUESTS more,
# one at a time on one keep-alive connection, and dumps the counts of those alone. It prints instructions per
# request, in all and per thread (the tokio workers, the writer, the checkpoint thread, the blocking pool), and
# keeps the dumps under target/symbols/profile/ for `callgrind_annotate --inclusive=yes FILE`.
#
# Requests go one at a time, so every grant commits alone: under load several share a commit, and the writer's
# share per grant is smaller than here.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib/tools.sh"
cd "$SFR_ROOT"

ENDPOINTS="${ENDPOINTS:-bare cc refresh jwt code}"
REQUESTS="${REQUESTS:-2000}"
WARMUP=300

for tool in valgrind callgrind_control sqlite3 openssl python3; do
  command -v "$tool" >/dev/null || { echo "profile: $tool is required (apt-get install -y valgrind sqlite3 openssl python3)" >&2; exit 1; }
done

export CARGO_TARGET_DIR="$SFR_ROOT/target/symbols"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  echo "profile: cargo build --release (with symbols) -p sfr-org, bin and example bench_tool"
  CARGO_PROFILE_RELEASE_STRIP=false cargo build --release -q -p sfr-org --bin sfr-org --example bench_tool
fi
ORG="$CARGO_TARGET_DIR/release/sfr-org"
TOOL="$CARGO_TARGET_DIR/release/examples/bench_tool"
SEED="$SFR_ROOT/bench/server/seed.py"
out_dir="$CARGO_TARGET_DIR/profile"
mkdir -p "$out_dir"

work="$(mktemp -d "${TMPDIR:-/tmp}/sfr-profile.XXXXXX")"
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# ---- the org (as scripts/bench-server.sh sets it up) ----
DB="$work/org.sqlite"
admin() { "$ORG" "$@" --database "sqlite://$DB" --key-file "$work/org.key" --json; }
ADMIN_USER=bench.admin@example.com
WEB_USER=bench.web@example.com
admin support allow-connected-apps >/dev/null
admin setup allow-connected-app-creation >/dev/null
for user in "$ADMIN_USER" "$WEB_USER"; do
  admin user create --username "$user" --password 'Bench-pass-1' --profile "System Administrator" >/dev/null
done
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/jwt.key" -out "$work/jwt.crt" -days 2 -subj /CN=bench 2>/dev/null
openssl pkcs8 -topk8 -nocrypt -in "$work/jwt.key" -outform DER -out "$work/jwt.pk8"
admin app create --name Bench --contact-email bench@example.com --callback-url http://localhost:1717/OauthRedirect \
  --scopes "api refresh_token" --certificate "$work/jwt.crt" --permitted-users admin-approved \
  --profile "System Administrator" --client-credentials-user "$ADMIN_USER" --require-secret-refresh true >"$work/app.json"
KEY="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["consumerKey"])' <"$work/app.json")"
SECRET="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["consumerSecret"])' <"$work/app.json")"
python3 "$SEED" refresh "$DB" "$KEY" "$ADMIN_USER" 10000 "$work/refresh.txt" >/dev/null

printf "%-8s %10s %10s %10s %10s %10s   (instructions per request; %s requests)\n" \
  endpoint all workers writer checkpoint blocking "$REQUESTS"
for ep in $ENDPOINTS; do
  db="$work/run.sqlite"
  rm -f "$db" "$db-wal" "$db-shm" "$work"/cg.out*
  sqlite3 "$DB" ".backup '$db'"
  : >"$work/codes.txt"
  if [[ "$ep" == code ]]; then
    python3 "$SEED" codes "$db" "$KEY" "$WEB_USER" "$((REQUESTS + WARMUP))" "$work/codes.txt" >/dev/null
  fi
  valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$work/cg.out" \
    "$ORG" serve --listen 127.0.0.1:0 --database "sqlite://$db" --key-file "$work/org.key" >"$work/server.log" 2>&1 &
  server_pid=$!
  base="$(served_url "$work/server.log" 60)" \
    || { echo "profile: sfr-org did not start:" >&2; tail -n 20 "$work/server.log" >&2; exit 1; }
  : >"$work/jwt.txt"
  [[ "$ep" == jwt ]] && "$TOOL" assertions "$work/jwt.pk8" "$KEY" "$ADMIN_USER" "$base" 256 >"$work/jwt.txt"
  python3 - "$base" "$KEY" "$SECRET" "$ep" "$REQUESTS" "$WARMUP" "$work" <<'PY'
import http.client, json, random, subprocess, sys, urllib.parse
base, key, secret, ep, n, warmup, work = sys.argv[1:8]
n, warmup = int(n), int(warmup)
url = urllib.parse.urlparse(base)
conn = http.client.HTTPConnection(url.hostname, url.port)
refresh = open(work + "/refresh.txt").read().split()
jwts = open(work + "/jwt.txt").read().split()
codes = open(work + "/codes.txt").read().split()
random.seed(1)
def form(**fields):
    return urllib.parse.urlencode(fields)
def grant(body):
    conn.request("POST", "/services/oauth2/token", body, {"Content-Type": "application/x-www-form-urlencoded"})
    r = conn.getresponse()
    return json.loads(r.read())
# Sessions for the bearer reads, issued by client_credentials before the warm-up.
sessions = [grant(form(grant_type="client_credentials", client_id=key, client_secret=secret))
            for _ in range(64 if ep in ("identity", "introspect") else 0)]
def one():
    if ep == "bare":
        conn.request("GET", "/services/data")
    elif ep == "identity":
        s = random.choice(sessions)
        conn.request("GET", urllib.parse.urlparse(s["id"]).path,
                     headers={"Authorization": "Bearer " + s["access_token"]})
    elif ep == "introspect":
        body = form(token=random.choice(sessions)["access_token"], token_type_hint="access_token",
                    client_id=key, client_secret=secret)
        conn.request("POST", "/services/oauth2/introspect", body,
                     {"Content-Type": "application/x-www-form-urlencoded"})
    else:
        if ep == "cc":
            body = form(grant_type="client_credentials", client_id=key, client_secret=secret)
        elif ep == "refresh":
            body = form(grant_type="refresh_token", client_id=key, client_secret=secret,
                        refresh_token=random.choice(refresh))
        elif ep == "jwt":
            body = form(grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer", assertion=random.choice(jwts))
        elif ep == "code":
            body = form(grant_type="authorization_code", client_id=key, client_secret=secret,
                        redirect_uri="http://localhost:1717/OauthRedirect", code=codes.pop())
        else:
            sys.exit(f"unknown endpoint {ep} (bare, cc, refresh, jwt, code, identity, introspect)")
        conn.request("POST", "/services/oauth2/token", body, {"Content-Type": "application/x-www-form-urlencoded"})
    r = conn.getresponse()
    r.read()
    if r.status != 200:
        sys.exit(f"{ep}: answered {r.status}")
for _ in range(warmup):
    one()
subprocess.run(["callgrind_control", "--zero"], check=True, capture_output=True)
for _ in range(n):
    one()
subprocess.run(["callgrind_control", "--dump"], check=True, capture_output=True)
PY
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  # One dump per thread (cg.out.1-NN): attribute each by the functions it ran.
  python3 - "$work" "$ep" "$REQUESTS" "$out_dir" "${TOP:-0}" <<'PY'
import collections, glob, re, shutil, sys
work, ep, n, out_dir, top = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
groups = {"all": 0, "workers": 0, "writer": 0, "checkpoint": 0, "blocking": 0}
own = {"workers": collections.Counter(), "writer": collections.Counter()}

def own_costs(text, into):
    """Each function's own instructions (not its callees'): the cost lines under `fn=`, minus those that follow
    a `calls=` line (a call's inclusive cost). callgrind_annotate's exclusive view puts everything on `clone`
    for these per-thread dumps, hence this."""
    names, fn, call = {}, None, False
    for line in text.splitlines():
        if line.startswith(("fn=", "cfn=")):
            m = re.match(r"c?fn=\((\d+)\)(?: (.*))?", line)
            if m and m.group(2):
                names[m.group(1)] = m.group(2)
            if line.startswith("fn=") and m:
                fn = names.get(m.group(1))
        elif line.startswith("calls="):
            call = True
        elif line[:1].isdigit() or line[:1] in "+-*":
            if call:
                call = False
            elif fn and len(line.split()) > 1:
                into[fn] += int(line.split()[1])

for path in sorted(glob.glob(work + "/cg.out.1-*")):
    text = open(path, errors="replace").read()
    m = re.search(r"^(?:totals|summary): (\d+)", text, re.M)
    total = int(m.group(1)) if m else 0
    groups["all"] += total
    # The writer by its loop or, where the compiler inlined that, by the pieces it runs.
    if "group_commit::writer_loop" in text or "group_commit::Piece>::run" in text:
        group = "writer"
    elif "multi_thread::worker::run" in text or total == 0:
        group = "workers"
    elif "sqlite3Checkpoint" in text:
        group = "checkpoint"
    else:
        group = "blocking"
    groups[group] += total
    if top and group in own:
        own_costs(text, own[group])
    shutil.copy(path, f"{out_dir}/{ep}.{path.rsplit('-', 1)[1]}")
print(f"{ep:<8} " + " ".join(f"{groups[g] // n:>10,}" for g in groups))
for group, costs in own.items():
    for name, cost in costs.most_common(top):
        print(f"    {group:<8} {cost // n:>8,}  {name[:110]}")
PY
done
echo "profile: per-thread dumps in $out_dir (callgrind_annotate --inclusive=yes $out_dir/cc.NN)"
