#!/usr/bin/env python3
"""Turns the raw lines of scripts/bench-server.sh into bench/results/server-<date>.md (on stdout).

Input: RESULTS (section<TAB>name<TAB>key=value … per wrk run; section<TAB>rows<TAB>text per growth database) and
FLOORS (name value lines from `bench_tool floors`), plus the run's context as options.
"""
import argparse
import os
import sys

GRANTS = ["jwt_bearer", "client_credentials", "refresh_token", "authorization_code", "introspect", "identity"]
LABEL = {
    "bare": "bare GET (HTTP floor)",
    "jwt_bearer": "JWT bearer",
    "client_credentials": "client_credentials",
    "refresh_token": "refresh_token",
    "authorization_code": "authorization_code exchange",
    "introspect": "introspection",
    "identity": "identity URL (GET /id/…)",
}
# What each endpoint must do at the least, in floor operations (see the floors table).
ESSENTIAL = {
    "bare": [],
    "jwt_bearer": ["rs256_parse_verify_us", "sqlite_insert_txn_normal_us"],
    "client_credentials": ["sqlite_insert_txn_normal_us"],
    "refresh_token": ["sqlite_lookup_by_hash_us", "sqlite_insert_txn_normal_us"],
    "authorization_code": ["sqlite_lookup_by_hash_us", "sqlite_insert_txn_normal_us"],
    "introspect": ["sqlite_lookup_by_hash_us"],
    "identity": ["sqlite_lookup_by_hash_us"],
}


def parse(path):
    runs, rows = {}, {}
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3:
                continue
            section, name, rest = parts
            if name == "rows":
                rows[section] = rest
                continue
            kv = dict(p.split("=", 1) for p in rest.split() if "=" in p)
            runs[(section, name)] = {k: float(v) for k, v in kv.items()}
    return runs, rows


def ms(us):
    return f"{us / 1000:.2f}"


def rps(v):
    return f"{v:,.0f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("floors")
    for opt in ["date", "duration", "threads", "conns", "growth-duration", "refresh-pool", "machine", "load", "sfr",
                "peer", "wrk", "sfr-rss", "peer-rss", "ratio-duration"]:
        ap.add_argument("--" + opt, default="")
    a = ap.parse_args()
    runs, rows = parse(a.results)
    floors = {}
    with open(a.floors) as f:
        for line in f:
            k, _, v = line.strip().partition(" ")
            if v:
                floors[k] = float(v)
    out = []
    w = out.append

    w(f"# sfr-org token endpoint: throughput, latency, cost floors and a peer ({a.date})")
    w("")
    w("Produced by `scripts/bench-server.sh`. Not a test; the numbers depend on the machine and on its load.")
    w("")
    w(f"* machine: {a.machine}; load average {a.load}")
    # The server reads the same variable, and refuses values other than normal and full
    # (crates/sfr-org/src/store/sqlite/mod.rs, `Synchronous`).
    if os.environ.get("SFR_ORG_SQLITE_SYNCHRONOUS", "").strip().lower() == "full":
        sync = ("`synchronous=FULL` (`SFR_ORG_SQLITE_SYNCHRONOUS=full`): every commit fsynced before its grants"
                " are answered")
    else:
        sync = "`synchronous=NORMAL`: every grant committed to the WAL before the answer"
    w(f"* sfr-org: release build of {a.sfr}, SQLite (WAL, {sync}; grants that arrive during a commit share the"
      " next one) unless a section says PostgreSQL")
    w(f"* peer: {a.peer}, in-memory adapter (tokens live in the process's memory, nothing is written to disk)")
    w(f"* load: {a.wrk} on loopback, {a.threads} threads, {a.conns} connections, {a.duration} s per run (growth runs"
      f" {a.growth_duration} s); wrk shares the machine's cores with the server")
    w("* half load: the same connections pausing between requests (wrk `delay()`) so the rate is about half the"
      " peak just measured; closed-loop, so its p99 is a lower bound (coordinated omission)")
    w("* CPU µs/req: the server process's user+system time over the run divided by the requests served")
    w("")

    w("## 1. sfr-org, per endpoint")
    w("")
    w("| endpoint | req/s | p50 ms | p99 ms | CPU µs/req | non-2xx | half load: req/s | p50 ms | p99 ms |")
    w("|:---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in ["bare"] + GRANTS:
        r = runs.get(("sfr", name))
        if not r:
            continue
        h = runs.get(("sfr-half", name))
        half = f"{rps(h['rps'])} | {ms(h['p50_us'])} | {ms(h['p99_us'])}" if h else "– | – | –"
        w(f"| {LABEL[name]} | {rps(r['rps'])} | {ms(r['p50_us'])} | {ms(r['p99_us'])} | {r['cpu_us']:.0f} |"
          f" {r['non2xx']:.0f} | {half} |")
    w("")

    rounds = sorted({s for s, _ in runs if s.startswith("ratio")}, key=lambda s: int(s[len("ratio"):]))
    if rounds:
        w("## 1b. Each grant against the bare GET, side by side")
        w("")
        w(f"{len(rounds)} rounds; in each, a bare GET run and a grant run back to back, {a.ratio_duration} s each,"
          " the grant first in odd rounds and second in even ones: the two figures of a ratio share the host's"
          " moment, where section 1's runs of an endpoint and of the bare GET are minutes apart.")
        w("")
        w("| endpoint | grant req/s ÷ bare GET req/s, per round | median | grant req/s (median) |"
          " bare GET req/s (median) | non-2xx |")
        w("|:---|:---|---:|---:|---:|---:|")

        def median(xs):
            xs = sorted(xs)
            n = len(xs)
            return (xs[n // 2] + xs[(n - 1) // 2]) / 2

        for name in ["jwt_bearer", "client_credentials", "refresh_token", "authorization_code"]:
            pairs = [(runs.get((r, name)), runs.get((r, "bare-" + name))) for r in rounds]
            pairs = [(g, b) for g, b in pairs if g and b]
            if not pairs:
                continue
            ratios = [g["rps"] / b["rps"] for g, b in pairs]
            w(f"| {LABEL[name]} | {', '.join(f'{x:.2f}' for x in ratios)} | {median(ratios):.2f} |"
              f" {rps(median([g['rps'] for g, _ in pairs]))} | {rps(median([b['rps'] for _, b in pairs]))} |"
              f" {sum(g['non2xx'] for g, _ in pairs):.0f} |")
        w("")

    if any(s.startswith("peer") for s, _ in runs):
        w("## 2. Side by side with the peer (same run, same load)")
        w("")
        w(f"Refresh grants on both servers draw from a pool of {a.refresh_pool} refresh tokens (no rotation)."
          " client_credentials: one client, secret in the body on both. The peer keeps tokens in memory;"
          " sfr-org writes every token (and a login-history row) to SQLite before it answers.")
        w("")
        w("| endpoint | sfr-org req/s | peer 1 process | peer 2 workers | sfr-org ÷ peer 1 | sfr-org ÷ peer 2 |"
          " p99 ms sfr-org / peer 1 / peer 2 | CPU µs/req sfr-org / peer 1 / peer 2 |")
        w("|:---|---:|---:|---:|---:|---:|---:|---:|")
        for name in ["bare", "client_credentials", "refresh_token"]:
            s, p1, p2 = runs.get(("sfr", name)), runs.get(("peer1", name)), runs.get(("peer2", name))
            if not (s and p1 and p2):
                continue
            w(f"| {LABEL[name]} | {rps(s['rps'])} | {rps(p1['rps'])} | {rps(p2['rps'])} |"
              f" {s['rps'] / p1['rps']:.2f}× | {s['rps'] / p2['rps']:.2f}× |"
              f" {ms(s['p99_us'])} / {ms(p1['p99_us'])} / {ms(p2['p99_us'])} |"
              f" {s['cpu_us']:.0f} / {p1['cpu_us']:.0f} / {p2['cpu_us']:.0f} |")
        w("")
        w("Half load (about half of each server's own peak):")
        w("")
        w("| endpoint | sfr-org req/s, p99 ms | peer 1: req/s, p99 ms | peer 2: req/s, p99 ms |")
        w("|:---|---:|---:|---:|")
        for name in ["client_credentials", "refresh_token"]:
            cells = []
            for sec in ["sfr-half", "peer1-half", "peer2-half"]:
                r = runs.get((sec, name))
                cells.append(f"{rps(r['rps'])}, {ms(r['p99_us'])}" if r else "–")
            w(f"| {LABEL[name]} | {' | '.join(cells)} |")
        w("")

    w("## 3. Cost floors on this machine (one core, `bench_tool floors`)")
    w("")
    w("| operation | µs per op | ops/s per core |")
    w("|:---|---:|---:|")
    for k, v in floors.items():
        if k.endswith("_us") and v > 0:
            w(f"| {k[:-3].replace('_', ' ')} | {v:.2f} | {rps(1e6 / v)} |")
    if "sqlite_lookup_rows" in floors:
        w(f"\n(lookup over {floors['sqlite_lookup_rows']:,.0f} rows)")
    w("")
    bare = runs.get(("sfr", "bare"))
    if bare:
        w("Each endpoint against its floor: the bare GET's server CPU per request (HTTP parsing, routing, the"
          " response) plus the essential operations (RS256 verify for the assertion, a one-row durable SQLite"
          " transaction for each grant that issues a token, a lookup by hash for each presented token). "
          "`floor ÷ actual` is how close the server comes to that floor (1.0 = nothing but the essentials).")
        w("")
        w("| endpoint | essential operations | floor CPU µs/req | actual CPU µs/req | floor ÷ actual |"
          " req/s ÷ bare GET req/s |")
        w("|:---|:---|---:|---:|---:|---:|")
        for name in GRANTS:
            r = runs.get(("sfr", name))
            if not r:
                continue
            ess = ESSENTIAL[name]
            floor = bare["cpu_us"] + sum(floors.get(e, 0) for e in ess)
            ops = ", ".join(e.replace("_us", "").replace("_", " ") for e in ess) or "–"
            frac = floor / r["cpu_us"] if r["cpu_us"] else 0
            w(f"| {LABEL[name]} | HTTP + {ops} | {floor:.0f} | {r['cpu_us']:.0f} | {frac:.2f} |"
              f" {r['rps'] / bare['rps']:.2f} |")
        w("")

    if any(s == "pg" for s, _ in runs):
        w("## 3b. sfr-org on PostgreSQL (same run)")
        w("")
        w("The same org set up through the same admin commands on a local PostgreSQL (`fsync` and"
          " `synchronous_commit` on; one node, the default pool of 8 connections), loaded the same way, with its"
          " refresh tokens and codes seeded through psql. Each statement is a network round trip, awaited on the"
          " server's runtime (non-blocking connections); grants are not batched into shared commits as on SQLite,"
          " so each commits (and fsyncs) on its own.")
        w("")
        w("| endpoint | PostgreSQL req/s | p50 ms | p99 ms | CPU µs/req (sfr-org only) | SQLite req/s | PostgreSQL ÷ SQLite |")
        w("|:---|---:|---:|---:|---:|---:|---:|")
        for name in ["bare"] + GRANTS:
            p, q = runs.get(("pg", name)), runs.get(("sfr", name))
            if not p:
                continue
            ratio = f"{p['rps'] / q['rps']:.2f}" if q else "–"
            w(f"| {LABEL[name]} | {rps(p['rps'])} | {ms(p['p50_us'])} | {ms(p['p99_us'])} | {p['cpu_us']:.0f} |"
              f" {rps(q['rps']) if q else '–'} | {ratio} |")
        w("")

    kinds = ("tokens", "apps", "users")
    growth = sorted({s for s, _ in runs if s.startswith(kinds)},
                    key=lambda s: ([s.startswith(k) for k in kinds].index(True),
                                   int("".join(c for c in s if c.isdigit()) or 0)))
    if growth:
        w("## 4. Growth")
        w("")
        w("Copies of the seeded org with N more issued tokens (half live — 4/5 access tokens, 1/5 refresh tokens —"
          " over N/10 synthetic users of the benchmark app; half idle sessions long expired), with 1,000 more"
          " connected apps or with 10,000 more users, written by `bench/server/seed.py`. The server deletes expired rows itself: "
          "`purge_expired` runs when it starts and every 10 minutes (dead sessions, revoked tokens, spent codes "
          "after a day, policy-expired refresh tokens, login history beyond the newest 20,000 events), so "
          "the hot path never walks them. req/s per endpoint:")
        w("")
        w("| endpoint | " + " | ".join(growth) + " | last ÷ first |")
        w("|:---|" + "---:|" * (len(growth) + 1))
        for name in ["bare"] + GRANTS:
            vals = [runs.get((s, name), {}).get("rps") for s in growth]
            if not any(vals):
                continue
            cells = [rps(v) if v else "–" for v in vals]
            tok = [runs.get((s, name), {}).get("rps") for s in growth if s.startswith("tokens")]
            ratio = f"{tok[-1] / tok[0]:.2f}" if len(tok) >= 2 and tok[0] and tok[-1] else "–"
            w(f"| {LABEL[name]} | " + " | ".join(cells) + f" | {ratio} |")
        w("")
        w("p99 ms per endpoint:")
        w("")
        w("| endpoint | " + " | ".join(growth) + " |")
        w("|:---|" + "---:|" * len(growth))
        for name in ["bare"] + GRANTS:
            vals = [runs.get((s, name), {}).get("p99_us") for s in growth]
            if any(vals):
                w(f"| {LABEL[name]} | " + " | ".join(ms(v) if v else "–" for v in vals) + " |")
        w("")
        w("Rows (token tables) before the server started and after its purge:")
        w("")
        for s in growth:
            if s in rows:
                w(f"* {s}: {rows[s]}")
        w("")

    w("## 5. Memory")
    w("")
    parts = a.sfr_rss.split()
    if len(parts) == 3:
        w(f"* sfr-org: peak RSS (VmHWM) {int(parts[0]) / 1024:.1f} MB, RSS at the end {int(parts[1]) / 1024:.1f} MB,"
          f" {parts[2]} threads, after all the runs of section 1")
    peer = a.peer_rss.split()
    if len(peer) == 2:
        w(f"* peer: peak RSS {int(peer[0]) / 1024:.1f} MB (one process), {int(peer[1]) / 1024:.1f} MB (two workers,"
          " summed; the cluster primary not counted), holding its pool and every token issued in the run")
    w("")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
