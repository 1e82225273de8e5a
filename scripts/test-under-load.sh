#!/usr/bin/env bash
# Runs the full `bun test` RUNS times in a row (default 10) while one busy process per core keeps
# every core saturated, as a CI machine shared with other jobs would be. Prints pass/fail and the
# duration of each run, the failing tests of a failed run, and a summary; exits 1 on any failure.
#
#   bash scripts/test-under-load.sh [runs] [extra bun test arguments…]
#   bun run test:load -- 3
#
# Each run's full output is kept in reports/test-under-load/run-<n>.log.
set -uo pipefail
cd "$(dirname "$0")/.."

runs="${1:-10}"
shift || true
cores="$(nproc)"
logs="reports/test-under-load"
mkdir -p "$logs"

burners=()
stop_burners() {
  for pid in "${burners[@]}"; do kill "$pid" 2>/dev/null; done
  wait "${burners[@]}" 2>/dev/null
}
trap stop_burners EXIT
for _ in $(seq 1 "$cores"); do
  yes >/dev/null &
  burners+=("$!")
done
echo "load: ${#burners[@]} busy processes (one per core, pids ${burners[*]}); ${runs} runs of bun test $*"

passed=0
failed=0
for run in $(seq 1 "$runs"); do
  log="${logs}/run-${run}.log"
  started=$(date +%s)
  bun test "$@" >"$log" 2>&1
  status=$?
  seconds=$(($(date +%s) - started))
  counts="$(grep -Eo '^ *[0-9]+ (pass|fail)$' "$log" | tr -s ' ' | tr '\n' ',' | sed 's/^ //; s/,$//; s/, / /')"
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
    echo "run ${run}/${runs}: pass (${counts}) in ${seconds} s"
  else
    failed=$((failed + 1))
    echo "run ${run}/${runs}: FAIL (exit ${status}; ${counts}) in ${seconds} s; log: ${log}"
    grep -E '^\(fail\)' "$log" | sed 's/^/    /'
  fi
done

echo
echo "bun test under load: ${passed} passed, ${failed} failed (runs)"
[ "$failed" -eq 0 ]
