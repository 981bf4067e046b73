#!/usr/bin/env bash
# Timeline test: bench/timeline.py --check records every model small and fast (6 requests at
# once, --delay=0.4, the pools fixed at 2 workers) and asserts each model's shape from what the
# clients saw and the X-Served-By header (--served-by) named:
#   single: serial (never two at once; the last ends at about 6 x 0.4 s), one lane;
#   thread, process: parallel (all end by about 0.4 s), 6 lanes (a thread or process each);
#   thread-pool, process-pool: 2 lanes, never more than 2 at once, ends in 3 waves of 2;
#   async: parallel, and one lane (one process, one thread).
# `make timeline` draws the full-size chart (timeline.svg) the same way.
#   BIN=bin bash tests/timeline_test.sh
set -uo pipefail
[[ -n "${BIN:-}" && "$BIN" != /* ]] && BIN="$PWD/$BIN"  # relative to where we were started
cd "$(dirname "$0")/.." || exit 1
BIN=${BIN:-bin}
work=$(mktemp -d /tmp/hs-timeline-XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 bench/timeline.py --bin "$BIN" --check --delay 0.4 --requests 6 --workers 2 \
  --json "$work/timeline.json" --svg "$work/timeline.svg"
