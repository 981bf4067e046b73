#!/usr/bin/env bash
# Runs a GoogleTest binary as N shards in parallel. The integration tests mostly wait (on
# timeouts, delays, child processes), so shards overlap well even on a 2-core machine.
# Test suites whose name ends in "AloneTest" (a flood of 10,000 connections) load the whole
# machine: beside them a shard's timed check would measure the flood, not its server. They run
# after the shards, by themselves (unless the caller chose its own --gtest_filter).
# Prints each failing shard's log and a closing "N passed, N failed" line.
#   tests/run_sharded.sh BINARY [SHARDS] [gtest flags...]
set -uo pipefail
binary=$1
shards=${2:-4}
shift $(( $# >= 2 ? 2 : 1 ))
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

alone='*AloneTest.*'
split=()
[[ " $* " == *" --gtest_filter="* ]] || split=(--gtest_filter="-$alone")

pids=()
for ((i = 0; i < shards; i++)); do
  GTEST_TOTAL_SHARDS=$shards GTEST_SHARD_INDEX=$i "$binary" "$@" "${split[@]}" \
    >"$logs/$i.log" 2>&1 &
  pids+=($!)
done
status=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    status=1
    echo "---- shard $i of $(basename "$binary") failed:"
    cat "$logs/$i.log"
  fi
done
if [[ ${#split[@]} -gt 0 ]] && ! "$binary" "$@" --gtest_filter="$alone" >"$logs/alone.log" 2>&1; then
  status=1
  echo "---- the tests run alone ($alone) of $(basename "$binary") failed:"
  cat "$logs/alone.log"
fi
passed=$(cat "$logs"/*.log | grep -c '^\[       OK \]' || true)
# A failing test's own line ends in its time; the summary's list repeats it without one.
failed=$(cat "$logs"/*.log | grep -cE '^\[  FAILED  \] .* \([0-9]+ ms\)$' || true)
[[ $status -ne 0 && $failed -eq 0 ]] && failed=1  # a crash or a timeout: count it
echo "$(basename "$binary"): $passed passed, $failed failed"
exit $status
