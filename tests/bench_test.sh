#!/usr/bin/env bash
# Smoke test of `make bench`: the driver's quick mode on one model and nginx,
# written to a temporary file -- never to the committed benchmark.md. Checks that the report has
# every table with numbers in it and that the chart was drawn. About 20 s.
#   BIN=bin bash tests/bench_test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}

if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
  echo "bench_test: FAIL: wrk or nginx is not installed (scripts/install-deps.sh bench)"
  exit 1
fi
model=single
[[ -x "$BIN/single_server" ]] || { echo "bench_test: FAIL: $BIN/single_server is not built"; exit 1; }
models=$model,nginx

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
report=$out/benchmark.md

start=$SECONDS
if ! python3 bench/bench.py --quick --models "$models" --bin "$BIN" --output "$report" \
    >"$out/log" 2>&1; then
  cat "$out/log"
  echo "bench_test: FAIL: bench/bench.py exited with an error"
  exit 1
fi
echo "bench_test: quick run of $models took $((SECONDS - start)) s"

fail() {
  echo "bench_test: FAIL: $*"
  echo "---- $report:"
  cat "$report"
  exit 1
}

# Every table is there, and the driver's progress showed the time left.
for heading in "## At a glance" "## 1. The lab's configuration" "## 2. Maximum throughput" \
    "## 3. Scale" "## 4. Memory per idle connection" "## 5. Concurrency in one number" \
    "## 6. Slow clients" "## 8. Several cores" "## How these numbers were taken"; do
  grep -qF "$heading" "$report" || fail "no '$heading' section"
done
grep -q "left ~" "$out/log" || fail "no progress with the time left on the terminal"

# A table row for the model, whose first cell after the name is a number (req/s, time, ...).
row_has_number() {  # section-heading binary
  awk -v h="$1" -v b="\`$2\`" '
    index($0, h) == 1 { on = 1; next }
    on && /^## / { exit }
    on && index($0, "| " b " |") == 1 { print; exit }' "$report" |
    grep -Eq '^\| `[a-z_]+` \| [^|]*[0-9]' || fail "no numbers for $2 under '$1'"
}
row_has_number "## 1. The lab's configuration" single_server
row_has_number "## 2. Maximum throughput" single_server
row_has_number "## 3. Scale" single_server
row_has_number "## 4. Memory per idle connection" single_server
row_has_number "## 5. Concurrency in one number" single_server
# Table 7 when perf or strace is there to count; table 8 runs nginx with 2 workers.
if command -v perf >/dev/null || command -v strace >/dev/null; then
  row_has_number "## 7. System calls per request" single_server
fi
if [[ $models == *nginx* ]]; then
  row_has_number "## 8. Several cores" nginx
fi
if [[ $models == *nginx* ]]; then
  row_has_number "## 1. The lab's configuration" nginx
  grep -Eq '^\| `single_server` \|.*\| [0-9.]+× \|' "$report" || fail "no ratio to nginx"
fi
# The lab table names the exact command; single_server waits for slow clients one at a time.
grep -q -- "-t10 -c10 -d" "$report" || fail "the lab table does not show the wrk command"
grep -q "starved" "$report" || fail "single_server was not starved by slow clients"
# --delay=0.5 and 4 requests, one at a time: about 2 s.
grep -Eq '^\| `single_server` \| 2\.0[0-9] s \|' "$report" || fail "single_server's delay row is not ~2 s"
# Graceful shutdown of every server was checked and clean.
grep -q "Problems during this run" "$report" && fail "the run reported problems"

if command -v gnuplot >/dev/null; then
  [[ -s $out/benchmark.svg ]] || fail "no chart"
  grep -q "<svg" "$out/benchmark.svg" || fail "the chart is not SVG"
  grep -q "(benchmark.svg)" "$report" || fail "the chart is not embedded"
fi
echo "bench_test: OK"
