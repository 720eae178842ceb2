#!/usr/bin/env bash
# The test suite as `npm test` (and so CI) runs it, after set-up, type check and format check:
#   1. unit tests in two mocha worker processes (CPU-bound and independent of one another: about twice as fast on
#      two cores);
#   2. integration tests (real CometBFT, LevelDB, libp2p and workers), each file in its own mocha process
#      (scripts/integration.mjs), two at a time (never two multi-validator networks, the chaos test alone): 9 min
#      instead of 14 one at a time on two cores (2026-12-02). INTEGRATION_JOBS=1 runs one at a time: use it when a
#      test's timing assumption is suspected of breaking next to a second file (three such were found and fixed
#      before two at a time became the default).
# Extra arguments go to both mocha runs (e.g. --grep). The last line sums both runs in the form CI reads:
# "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
declare -a totals=(0 0 0)
status=0
failed_log="$(mktemp)"
run() {
  local log
  log="$(mktemp)"
  "$@" | tee "$log"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" -ne 0 ]; then
    status=1
    # Repeated at the end: CI shows only the tail of the output.
    if grep -q '^failures (each printed whole above):$' "$log"; then
      sed -n '/^failures (each printed whole above):$/,$p' "$log" | sed '1d;$d' >>"$failed_log"
    else
      { echo "── $*"; sed -n '/^ *[0-9][0-9]* failing$/,$p' "$log" | head -80; } >>"$failed_log"
    fi
  fi
  local line
  line="$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$log" | tail -1)"
  rm -f "$log"
  if [ -z "$line" ]; then
    echo "scripts/test.sh: $* ended without its summary line (exit code $rc)" >&2
    status=1
    return
  fi
  read -r p _ f _ s _ <<<"${line//,/}"
  totals=($((totals[0] + p)) $((totals[1] + f)) $((totals[2] + s)))
}
run npx mocha --parallel --jobs 2 'test/unit/**/*.test.ts' "$@"
run node scripts/integration.mjs --jobs "${INTEGRATION_JOBS:-2}" "$@"
if [ -s "$failed_log" ]; then
  echo
  echo "failures (each printed whole above):"
  cat "$failed_log"
fi
rm -f "$failed_log"
echo
echo "${totals[0]} passed, ${totals[1]} failed, ${totals[2]} skipped"
exit $status
