#!/usr/bin/env bash
# Runs every fuzz target for a bounded time, one after another, and prints each target's execution count.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 120 seconds, every target)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). The fuzzers use the stable toolchain with RUSTC_BOOTSTRAP=1 for
# the sanitizer-coverage flags. New inputs go to a scratch directory; `fuzz/corpus/<target>` (committed, small) is
# read as the seed. With FUZZ_MERGE=1 the inputs that add coverage are merged (minimized, libFuzzer -merge=1) into
# fuzz/corpus/<target> afterwards, ready to commit.
# A crash stops the script with the reproducer's path (fuzz/artifacts/<target>/).
set -euo pipefail
export PATH="$HOME/.cargo/bin:$PATH"
export RUSTC_BOOTSTRAP=1
cd "$(dirname "$0")/../fuzz"

seconds="${1:-120}"
shift || true
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list)
fi

# Address sanitizer off: aws-lc's C code and ASan together cost more than they find here; libFuzzer still catches
# panics, aborts, timeouts and out-of-memory.
flags=(--sanitizer none --release)
cargo fuzz build "${flags[@]}"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
total=0
for t in "${targets[@]}"; do
  mkdir -p "$scratch/$t" "corpus/$t"
  log="$scratch/$t.log"
  cargo fuzz run "${flags[@]}" "$t" "$scratch/$t" "corpus/$t" -- \
    -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 >"$log" 2>&1 || { tail -40 "$log"; echo "fuzz: $t FAILED (see fuzz/artifacts/$t/)"; exit 1; }
  runs="$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)"
  total=$((total + ${runs:-0}))
  if [ "${FUZZ_MERGE:-0}" = 1 ]; then
    cargo fuzz run "${flags[@]}" "$t" "corpus/$t" "$scratch/$t" -- -merge=1 -max_len=65536 >/dev/null 2>&1
  fi
  printf '%-18s %12s executions in %ss\n' "$t" "${runs:-?}" "$seconds"
done
printf '%-18s %12s executions\n' total "$total"
