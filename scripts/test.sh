#!/usr/bin/env bash
# The test suite as `npm test` (and so CI) runs it, after set-up, type check and format check:
#   1. unit tests in two mocha worker processes (CPU-bound and independent of one another: about twice as fast on
#      two cores);
#   2. integration tests one file at a time (each runs real CometBFT, LevelDB, libp2p and workers; two at once on two
#      cores would starve each other's block production).
# Extra arguments go to both mocha runs (e.g. --grep). The last line sums both runs in the form CI reads:
# "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
declare -a totals=(0 0 0)
status=0
run() {
  local log
  log="$(mktemp)"
  npx mocha "$@" | tee "$log"
  local rc=${PIPESTATUS[0]}
  [ "$rc" -eq 0 ] || status=1
  local line
  line="$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$log" | tail -1)"
  rm -f "$log"
  if [ -z "$line" ]; then
    echo "scripts/test.sh: mocha $* ended without its summary line (exit code $rc)" >&2
    status=1
    return
  fi
  read -r p _ f _ s _ <<<"${line//,/}"
  totals=($((totals[0] + p)) $((totals[1] + f)) $((totals[2] + s)))
}
run --parallel --jobs 2 'test/unit/**/*.test.ts' "$@"
run 'test/integration/**/*.test.ts' "$@"
echo
echo "${totals[0]} passed, ${totals[1]} failed, ${totals[2]} skipped"
exit $status
