#!/usr/bin/env bash
# Benchmark (not a test, not part of CI): two builds of sfr-org, or one build under two settings, loaded in
# alternation on this machine — A B A B — by this tree's scripts/bench-server.sh (sections 1, 1b and the floors:
# no peer, PostgreSQL or growth). On a shared host the figures of two runs minutes apart differ by more than most
# changes do; runs that alternate share the host's moments, so their medians can be set side by side. The
# "A/B", "ceiling" and "FULL" sections of BENCHMARKS.md were measured this way.
#
#   scripts/bench-ab.sh aad22de HEAD              # the build of one revision against another's
#   scripts/bench-ab.sh HEAD .                    # the last commit against this work tree, uncommitted edits included
#   ENV_B="SFR_ORG_SQLITE_SYNCHRONOUS=full" scripts/bench-ab.sh HEAD HEAD      # one build, two settings
#   PATCH_B=bench/experiments/code-exchange-writes-only-the-session.patch scripts/bench-ab.sh HEAD HEAD
#   ROUNDS=2 …                                    # A B A B (the default); 3 gives A B A B A B
#   DURATION=5 RATIO_ROUNDS=4 …                   # passed on to bench-server.sh (these are the defaults here)
#
# Each revision other than `.` is checked out in a git worktree under target/ab/ (with its PATCH applied) and built
# there in release; two variants of the same revision and patch share one build, and a later run reuses it
# (`rm -rf target/ab && git worktree prune` removes them all). Every run writes
# bench/results/ab-<date>-<time>-<round><A|B>.md (the report names the build, the patch and the settings), and
# the script ends with a table of section 1b's medians and section 1's rates, per run, also written to
# bench/results/ab-<date>-<time>-summary.md. The harness (seed, load scripts, report) is this tree's, whatever the
# revisions: a revision whose schema bench/server/seed.py no longer writes cannot be measured this way.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib/tools.sh"
cd "$SFR_ROOT"

if [[ $# -ne 2 ]]; then
  echo "usage: scripts/bench-ab.sh A B   (each a git revision, or . for this work tree; see the script's header)" >&2
  exit 2
fi
ROUNDS="${ROUNDS:-2}"
stamp="$(date -u +%Y-%m-%d-%H%M)"
results_dir="$SFR_ROOT/bench/results"
mkdir -p "$results_dir"

declare -A tree_of rev_of env_of
# prepare LABEL SPEC PATCH: the variant's tree, built; sets tree_of and rev_of for LABEL.
prepare() {
  local label="$1" spec="$2" patch="$3" tree rev
  if [[ "$spec" == . ]]; then
    [[ -z "$patch" ]] || { echo "bench-ab: PATCH_$label needs a revision, not the work tree" >&2; exit 2; }
    tree="$SFR_ROOT"
    rev="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates || echo ' with uncommitted changes')"
  else
    rev="$(git rev-parse --short "$spec^{commit}")" || { echo "bench-ab: $spec is not a revision" >&2; exit 2; }
    local key="$rev"
    [[ -n "$patch" ]] && key="$rev-$(sha256sum "$patch" | cut -c1-12)"
    tree="$SFR_ROOT/target/ab/$key"
    if [[ ! -d "$tree" ]]; then
      git worktree add --detach -q "$tree" "$rev"
      [[ -z "$patch" ]] || git -C "$tree" apply "$SFR_ROOT/$patch"
    fi
    [[ -z "$patch" ]] || rev="$rev with $patch"
  fi
  echo "bench-ab: $label = $rev: cargo build --release -p sfr-org (binary and example bench_tool) in ${tree#"$SFR_ROOT"/}"
  (cd "$tree" && CARGO_TARGET_DIR="$tree/target" cargo build --release -q -p sfr-org --bin sfr-org --example bench_tool)
  tree_of[$label]="$tree"
  rev_of[$label]="$rev"
}
prepare A "$1" "${PATCH_A:-}"
prepare B "$2" "${PATCH_B:-}"
env_of[A]="${ENV_A:-}"
env_of[B]="${ENV_B:-}"

outs=()
for round in $(seq 1 "$ROUNDS"); do
  for label in A B; do
    out="$results_dir/ab-$stamp-$round$label.md"
    settings="${env_of[$label]}"
    echo "== bench-ab: round $round, $label (${rev_of[$label]}${settings:+, $settings}) at $(date -u +%T), load $(cut -d' ' -f1-3 /proc/loadavg)"
    # shellcheck disable=SC2086 # ENV_A/ENV_B are VAR=value words, split on purpose
    env $settings SKIP_BUILD=1 PEER=0 PG=0 GROWTH=0 DURATION="${DURATION:-5}" RATIO_ROUNDS="${RATIO_ROUNDS:-4}" \
      SFR_ORG_BIN="${tree_of[$label]}/target/release/sfr-org" \
      BENCH_TOOL_BIN="${tree_of[$label]}/target/release/examples/bench_tool" \
      SFR_REV="${rev_of[$label]}${settings:+ under $settings} (scripts/bench-ab.sh: $label, round $round)" \
      BENCH_OUT="$out" "$here/bench-server.sh" >"$out.log" 2>&1 \
      || { echo "bench-ab: the run failed; its output is in ${out#"$SFR_ROOT"/}.log" >&2; exit 1; }
    rm -f "$out.log"
    outs+=("$out")
  done
done

summary="$results_dir/ab-$stamp-summary.md"
python3 "$SFR_ROOT/bench/server/ab_summary.py" \
  --a "${rev_of[A]}${env_of[A]:+ under ${env_of[A]}}" --b "${rev_of[B]}${env_of[B]:+ under ${env_of[B]}}" \
  "${outs[@]}" >"$summary"
cat "$summary"
echo "bench-ab: wrote ${summary#"$SFR_ROOT"/} and the ${#outs[@]} runs beside it"
