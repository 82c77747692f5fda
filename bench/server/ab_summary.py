#!/usr/bin/env python3
"""Summary of scripts/bench-ab.sh's alternating runs: per endpoint, each run's side-by-side median (section 1b)
and its section-1 rate and CPU per request, the runs of A in one column and those of B in the other.

    ab_summary.py --a "LABEL A" --b "LABEL B" RUN.md... (in the order they ran: 1A 1B 2A 2B ...)
"""
import argparse
import os
import re


def table_rows(text, heading):
    """The rows of the first table under the `## ` heading that starts with `heading`, as lists of cells."""
    rows, inside = [], False
    for line in text.splitlines():
        if line.startswith("## "):
            inside = line.startswith(heading)
            continue
        if inside and line.startswith("| ") and not line.startswith("|:"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows[1:] if rows else []  # without the header row


def parse(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    side = {r[0]: r[2] for r in table_rows(text, "## 1b.") if len(r) >= 3}
    rate = {}
    for r in table_rows(text, "## 1."):
        if len(r) >= 5 and re.fullmatch(r"[\d,]+", r[1]):
            rate[r[0]] = f"{r[1]} ({r[4]} µs)"
    return side, rate


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("runs", nargs="+")
    a = ap.parse_args()
    runs = {"A": [], "B": []}
    for i, path in enumerate(a.runs):
        runs["AB"[i % 2]].append((path, *parse(path)))

    out = [f"# A/B: A = {a.a}; B = {a.b}", ""]
    out.append("Runs, alternating A B: " + ", ".join(f"`{os.path.basename(p)}`" for p in a.runs) + ".")
    out.append("")

    def endpoints(index):
        seen = []
        for label in "AB":
            for run in runs[label]:
                seen += [e for e in run[index] if e not in seen]
        return seen

    out += ["## Each grant against the bare GET, side by side (each run's median of its rounds)", "",
            "| endpoint | A | B |", "|:---|:---|:---|"]
    for e in endpoints(1):
        cells = [", ".join(run[1].get(e, "–") for run in runs[label]) for label in "AB"]
        out.append(f"| {e} | {cells[0]} | {cells[1]} |")
    out += ["", "## Section 1: requests/s (server CPU per request)", "", "| endpoint | A | B |", "|:---|:---|:---|"]
    for e in endpoints(2):
        cells = [", ".join(run[2].get(e, "–") for run in runs[label]) for label in "AB"]
        out.append(f"| {e} | {cells[0]} | {cells[1]} |")
    print("\n".join(out))


if __name__ == "__main__":
    main()
