#!/usr/bin/env python3
"""Make an sf auth store with N orgs for benchmarks (stdlib only).

Usage: make-bench-store.py FIXTURE_HOME DEST_HOME N INSTANCE_URL

Copies FIXTURE_HOME's key.json (mode 600) and uses its JWT auth file as a template: N auth files with usernames
bench-NN.user@example.com, distinct 18-char org ids, the given instance/login URL, a fresh API-version timestamp (so
neither CLI re-fetches it), aliases bench-NN in alias.json and target-org bench-01. The encrypted access token is
kept as is (it decrypts under the copied key), so both CLIs read the same, valid-looking store.
"""

import datetime
import json
import os
import shutil
import sys

SUFFIX_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def id18(id15):
    """Salesforce's case-safe 18-char id: a 3-char suffix encoding which of the 15 chars are upper case."""
    suffix = ""
    for chunk in range(3):
        bits = 0
        for i, ch in enumerate(id15[chunk * 5:chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        suffix += SUFFIX_CHARS[bits]
    return id15 + suffix


def locale_string(now):
    """JS `new Date().toLocaleString()` in en-US, e.g. 11/29/2026, 6:57:01 AM."""
    hour = now.hour % 12 or 12
    ampm = "AM" if now.hour < 12 else "PM"
    return f"{now.month}/{now.day}/{now.year}, {hour}:{now.minute:02d}:{now.second:02d} {ampm}"


def write(path, text, mode):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def main():
    src, dest, count, url = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].rstrip("/")
    sfdx = os.path.join(dest, ".sfdx")
    os.makedirs(sfdx, exist_ok=True)
    os.makedirs(os.path.join(dest, ".sf"), exist_ok=True)
    shutil.copyfile(os.path.join(src, ".sfdx", "key.json"), os.path.join(sfdx, "key.json"))
    os.chmod(os.path.join(sfdx, "key.json"), 0o600)
    shutil.copyfile(os.path.join(src, "server.key"), os.path.join(dest, "server.key"))
    os.chmod(os.path.join(dest, "server.key"), 0o600)
    with open(os.path.join(src, ".sfdx", "jwt.user@example.com.json"), encoding="utf-8") as f:
        template = json.load(f)
    stamp = locale_string(datetime.datetime.now())
    aliases = {}
    for n in range(1, count + 1):
        username = f"bench-{n:02d}.user@example.com"
        auth = dict(template)
        auth.update({
            "instanceUrl": url,
            "loginUrl": url + "/",
            "orgId": id18(f"00D{n:012d}"),
            "username": username,
            "privateKey": os.path.join(dest, "server.key"),
            "instanceApiVersionLastRetrieved": stamp,
            "name": f"Bench Org {n:02d}",
        })
        write(os.path.join(sfdx, username + ".json"), json.dumps(auth, indent=2), 0o644)
        aliases[f"bench-{n:02d}"] = username
    write(os.path.join(sfdx, "alias.json"), json.dumps({"orgs": aliases}, separators=(",", ":")), 0o644)
    write(os.path.join(dest, ".sf", "config.json"), json.dumps({"target-org": "bench-01"}, indent=2), 0o644)
    write(os.path.join(sfdx, "sfdx-config.json"), json.dumps({"defaultusername": "bench-01"}, indent=2), 0o644)


if __name__ == "__main__":
    main()
