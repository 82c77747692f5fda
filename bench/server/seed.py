#!/usr/bin/env python3
"""Seeding helper of scripts/bench-server.sh: writes credential pools straight into an sfr-org SQLite database.

Rows are shaped exactly as the store writes them (scopes space-separated, times in epoch milliseconds, keys as
`keys::token_key` makes them), so the server cannot tell them from tokens it issued itself. Authorization codes
have the current shape (the issue time in 11 hex digits, then 64 random characters; key `t` + that time + the hex
SHA-256 of the code); refresh and access tokens have the shape of earlier versions (key: the bare SHA-256), as in a
store that was upgraded, which the server still accepts.

  seed.py refresh DB CONSUMER_KEY USERNAME COUNT OUT      refresh tokens; OUT gets one plaintext per line
  seed.py codes DB CONSUMER_KEY USERNAMES COUNT OUT       unused authorization codes (no PKCE), valid 15 minutes,
                                                          dealt in turn to USERNAMES (comma-separated)
  seed.py growth DB CONSUMER_KEY COUNT                    COUNT issued tokens over synthetic users: half of them
                                                          live (4/5 access, 1/5 refresh), half expired sessions
  seed.py apps DB TEMPLATE_APP COUNT                      COUNT more connected apps, copies of TEMPLATE_APP
  seed.py users DB TEMPLATE_USERNAME COUNT [LAST]         COUNT more users, copies of TEMPLATE_USERNAME; the users
                                                          LAST names (comma-separated) then move after them, as if
                                                          they had joined last (a scan meets them last)
  seed.py count DB                                        live/expired/total rows of the token tables
  seed.py refresh-sql CONSUMER_KEY USERNAME COUNT OUT      refresh tokens as SQL for psql (a PostgreSQL org), on
                                                          stdout; OUT gets one plaintext per line
  seed.py codes-sql CONSUMER_KEY USERNAMES COUNT OUT       unused authorization codes as SQL for psql, likewise
"""
import hashlib
import secrets
import sqlite3
import sys
import time

CALLBACK = "http://localhost:1717/OauthRedirect"
CODE_LIFETIME_MS = 15 * 60 * 1000
SESSION_MS = 2 * 3600 * 1000


def now_ms():
    return int(time.time() * 1000)


def sha(token):
    return hashlib.sha256(token.encode()).hexdigest()


def ids(con, consumer_key, username=None):
    row = con.execute("SELECT id FROM apps WHERE consumer_key = ?", (consumer_key,)).fetchone()
    if row is None:
        sys.exit(f"seed: no app with consumer key {consumer_key}")
    if username is None:
        return row[0], None
    user = con.execute("SELECT id FROM users WHERE username_key = lower(?) OR username = ?",
                       (username, username)).fetchone()
    if user is None:
        sys.exit(f"seed: no user {username}")
    return row[0], user[0]


def connect(db):
    con = sqlite3.connect(db, timeout=30)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    return con


def insert_refresh_tokens(con, rows):
    """Live refresh tokens, each (key, app, user, issued_at); with a `seq` where the schema still has one
    (before v15, for side-by-side runs of older builds)."""
    columns = [r[1] for r in con.execute("PRAGMA table_info(refresh_tokens)")]
    if "seq" in columns:
        seq = con.execute("SELECT COALESCE(MAX(seq), 0) FROM refresh_tokens").fetchone()[0]
        con.executemany(
            "INSERT INTO refresh_tokens (token_hash, app_id, user_id, scopes, from_code, issued_at, last_used_at,"
            " revoked_at, seq) VALUES (?, ?, ?, 'api refresh_token', NULL, ?, ?, NULL, ?)",
            ((key, app, user, at, at, seq + i + 1) for i, (key, app, user, at) in enumerate(rows)))
    else:
        con.executemany(
            "INSERT INTO refresh_tokens (token_hash, app_id, user_id, scopes, from_code, issued_at, last_used_at,"
            " revoked_at) VALUES (?, ?, ?, 'api refresh_token', NULL, ?, ?, NULL)",
            ((key, app, user, at, at) for key, app, user, at in rows))


def refresh(db, key, username, count, out):
    con = connect(db)
    app, user = ids(con, key, username)
    now = now_ms()
    tokens = ["5Aep861" + secrets.token_urlsafe(66) for _ in range(count)]
    insert_refresh_tokens(con, ((sha(t), app, user, now) for t in tokens))
    con.commit()
    con.close()
    with open(out, "w") as f:
        f.write("\n".join(tokens) + "\n")


def refresh_sql(key, username, count, out):
    now = now_ms()
    tokens = ["5Aep861" + secrets.token_urlsafe(66) for _ in range(count)]
    q = lambda v: "'" + v.replace("'", "''") + "'"
    values = ",\n".join(f"({q(sha(t))})" for t in tokens)
    print("INSERT INTO refresh_tokens (token_hash, app_id, user_id, scopes, from_code, issued_at, last_used_at,"
          " revoked_at)")
    print(f"SELECT v.h, a.id, u.id, 'api refresh_token', NULL, {now}, {now}, NULL")
    print(f"FROM (VALUES\n{values}\n) AS v(h), apps a, users u")
    print(f"WHERE a.consumer_key = {q(key)} AND u.username_key = lower({q(username)});")
    with open(out, "w") as f:
        f.write("\n".join(tokens) + "\n")


def fresh_codes(count):
    """`count` codes issued one millisecond apart up to now, oldest first, as a server issues them; the load sends
    them in file order, so codes are exchanged in the order they were issued, as clients do within seconds of
    the redirect. Each as (plaintext, issue time, key)."""
    now = now_ms()
    issued = [now - count + i for i in range(count)]
    plain = [format(t, "011x") + secrets.token_urlsafe(48) for t in issued]
    return [(c, t, "t" + c[:11] + sha(c)) for c, t in zip(plain, issued)]


def codes(db, key, usernames, count, out):
    con = connect(db)
    users = [ids(con, key, name)[1] for name in usernames.split(",")]
    app = ids(con, key)[0]
    made = fresh_codes(count)
    con.executemany(
        "INSERT INTO auth_codes (code_hash, app_id, user_id, redirect_uri, scopes, code_challenge,"
        " code_challenge_method, nonce, created_at, expires_at, used_at)"
        " VALUES (?, ?, ?, ?, 'api refresh_token', NULL, NULL, NULL, ?, ?, NULL)",
        ((k, app, users[i % len(users)], CALLBACK, t, t + CODE_LIFETIME_MS) for i, (_, t, k) in enumerate(made)))
    con.commit()
    con.close()
    with open(out, "w") as f:
        f.write("\n".join(c for c, _, _ in made) + "\n")


def codes_sql(key, usernames, count, out):
    made = fresh_codes(count)
    names = usernames.split(",")
    q = lambda v: "'" + v.replace("'", "''") + "'"
    values = ",\n".join(f"({q(k)}, {t}, {q(names[i % len(names)])})" for i, (_, t, k) in enumerate(made))
    print("INSERT INTO auth_codes (code_hash, app_id, user_id, redirect_uri, scopes, code_challenge,"
          " code_challenge_method, nonce, created_at, expires_at, used_at)")
    print(f"SELECT v.h, a.id, u.id, {q(CALLBACK)}, 'api refresh_token', NULL, NULL, NULL, v.t,"
          f" v.t + {CODE_LIFETIME_MS}, NULL")
    print(f"FROM (VALUES\n{values}\n) AS v(h, t, u), apps a, users u")
    print(f"WHERE a.consumer_key = {q(key)} AND u.username_key = lower(v.u);")
    with open(out, "w") as f:
        f.write("\n".join(c for c, _, _ in made) + "\n")


def synthetic_user(n):
    return "005" + format(n, "012d") + "BNC"


def growth(db, key, count):
    con = connect(db)
    app, _ = ids(con, key)
    now = now_ms()
    live, dead = count // 2, count - count // 2
    users = max(1, count // 10)

    def access_rows():
        for i in range(live * 4 // 5):
            yield (sha(f"growth-live-access-{i}"), app, synthetic_user(i % users), now, now, SESSION_MS)
        for i in range(dead):
            # An idle session long past its timeout: purge_expired deletes it.
            old = now - 10 * SESSION_MS
            yield (sha(f"growth-dead-access-{i}"), app, synthetic_user(i % users), old, old, SESSION_MS)

    con.executemany(
        "INSERT INTO access_tokens (token_hash, app_id, user_id, scopes, refresh_hash, from_code, issued_at,"
        " last_used_at, session_timeout_ms, revoked_at) VALUES (?, ?, ?, 'api', NULL, NULL, ?, ?, ?, NULL)",
        access_rows())
    insert_refresh_tokens(con, ((sha(f"growth-live-refresh-{i}"), app, synthetic_user(i % users), now)
                                for i in range(live - live * 4 // 5)))
    con.commit()
    con.close()


def row_of(con, table, where, value, what):
    """The one row of `table` matching `where` (a condition on ?), or exit naming `what`."""
    row = con.execute(f"SELECT * FROM {table} WHERE {where}", (value,)).fetchone()
    if row is None:
        sys.exit(f"seed: no {what} named {value}")
    return row


def insert_rows(con, table, rows):
    """Inserts rows given as dicts with the same keys."""
    cols = list(rows[0].keys()) if rows else []
    con.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                     [tuple(r[c] for c in cols) for r in rows])


def apps(db, template, count):
    con = connect(db)
    con.row_factory = sqlite3.Row
    base = dict(row_of(con, "apps", "name = ?", template, "app"))
    new = []
    for i in range(count):
        name = f"BenchApp{i:05d}"
        new.append(dict(base, id="0H4" + format(900000000 + i, "012d") + "BNC", name=name, name_key=name.lower(),
                        api_name=name, api_name_key=name.lower(),
                        consumer_key="3MVG9bench" + secrets.token_urlsafe(60).replace("-", "A").replace("_", "B")))
    insert_rows(con, "apps", new)
    con.commit()
    con.close()


def users(db, template, count, last=""):
    con = connect(db)
    con.row_factory = sqlite3.Row
    base = dict(row_of(con, "users", "username_key = lower(?)", template, "user"))
    new = []
    for i in range(count):
        name = f"bench.user{i:07d}@example.com"
        new.append(dict(base, id="005" + format(800000000 + i, "012d") + "BNC", username=name, username_key=name,
                        email=name))
    insert_rows(con, "users", new)
    for username in filter(None, last.split(",")):
        moved = dict(row_of(con, "users", "username_key = lower(?)", username, "user"))
        con.execute("DELETE FROM users WHERE id = ?", (moved["id"],))
        insert_rows(con, "users", [moved])
    con.commit()
    con.close()


def count(db):
    con = connect(db)
    now = now_ms()
    access = con.execute("SELECT COUNT(*) FROM access_tokens").fetchone()[0]
    expired = con.execute(
        "SELECT COUNT(*) FROM access_tokens WHERE revoked_at IS NOT NULL OR last_used_at + session_timeout_ms <= ?",
        (now,)).fetchone()[0]
    refresh_rows = con.execute("SELECT COUNT(*) FROM refresh_tokens").fetchone()[0]
    app_rows = con.execute("SELECT COUNT(*) FROM apps").fetchone()[0]
    print(f"access={access} access_dead={expired} refresh={refresh_rows} apps={app_rows}")


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "refresh" and len(args) == 5:
        refresh(args[0], args[1], args[2], int(args[3]), args[4])
    elif cmd == "codes" and len(args) == 5:
        codes(args[0], args[1], args[2], int(args[3]), args[4])
    elif cmd == "growth" and len(args) == 3:
        growth(args[0], args[1], int(args[2]))
    elif cmd == "apps" and len(args) == 3:
        apps(args[0], args[1], int(args[2]))
    elif cmd == "users" and len(args) in (3, 4):
        users(args[0], args[1], int(args[2]), *args[3:])
    elif cmd == "count" and len(args) == 1:
        count(args[0])
    elif cmd == "refresh-sql" and len(args) == 4:
        refresh_sql(args[0], args[1], int(args[2]), args[3])
    elif cmd == "codes-sql" and len(args) == 4:
        codes_sql(args[0], args[1], int(args[2]), args[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
