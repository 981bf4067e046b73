#!/usr/bin/env bash
# Race test: www/race.html, in headless Chromium, shows each model's shape. single_server and
# async_server are started with --delay=0.5; the page is loaded as race.html?auto=6, which fires
# 6 image requests at once (over the loopback names 127.0.0.1 and 127.0.0.2, 4 per name: a
# browser opens at most 6 connections per name) and writes each one's seconds, from setting
# `src` to its load event, into <pre id="result"> as JSON. The images are set before the page's
# load event, so --dump-dom prints the DOM after they are all in.
#   single_server: served one after another: the k-th fastest takes about k x 0.5 s, the last 3 s
#   async_server:  served at once: every request takes about 0.5 s
#   BIN=bin bash tests/race_test.sh
set -uo pipefail
[[ -n "${BIN:-}" && "$BIN" != /* ]] && BIN="$PWD/$BIN"  # relative to where we were started
cd "$(dirname "$0")/.." || exit 1
BIN=${BIN:-bin}
DELAY=0.5
COUNT=6
LOAD_TIMEOUT=60  # seconds for one page load (Chromium's first start builds its caches)

NAME=race
# $chromium, $work (removed at exit), $server_pid (killed at exit), wait_for_port
source tests/browser_lib.sh

# Reads the JSON in the dumped DOM's <pre id="result"> and checks the shape; prints a verdict.
check_shape() {
  python3 - "$1" "$2" "$DELAY" "$COUNT" <<'PY'
import html, json, re, sys
dom_path, shape, delay, count = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
dom = open(dom_path, encoding="utf-8", errors="replace").read()
match = re.search(r'<pre id="result"[^>]*>(.*?)</pre>', dom, re.S)
if not match or not match.group(1).strip():
    state = re.search(r'<body[^>]*data-race="(\w+)"', dom)
    sys.exit(f"no result in the page (race: {state.group(1) if state else 'never started'})")
result = json.loads(html.unescape(match.group(1)))
seconds = sorted(result["seconds"])
shown = " ".join(f"{s:.2f}" for s in seconds)
if result["n"] != count or len(seconds) != count or result["failed"]:
    sys.exit(f"expected {count} requests, none failed: {result}")
if len(set(h.split(":")[0] for h in result["hosts"])) < 2:
    sys.exit(f"the requests were not spread over loopback names: {result['hosts']}")
if shape == "serial":
    # The k-th to finish waited for k-1 others: about k x delay (never much less).
    for k, s in enumerate(seconds, 1):
        if s < k * delay * 0.9 - 0.05:
            sys.exit(f"serial expected, but the {k}-th took {s:.2f} s < {k} x {delay} s ({shown})")
    if seconds[-1] > count * delay + 1.5:
        sys.exit(f"the last should take about {count} x {delay} s ({shown})")
else:
    if seconds[0] < delay * 0.9 or seconds[-1] > delay + 0.4:
        sys.exit(f"parallel expected: each about {delay} s, none near 2 x {delay} s ({shown})")
print(f"{shape}: {shown} s")
PY
}

passed=0
failed=0
for case in "single_server serial" "async_server parallel"; do
  read -r model shape <<<"$case"
  if [[ ! -x "$BIN/$model" ]]; then
    echo "race: $model FAILED: not built in $BIN (make all)"
    failed=$((failed + 1))
    continue
  fi
  log="$work/$model.stderr"
  "$BIN/$model" -p 0 -f www --delay="$DELAY" 2>"$log" &
  server_pid=$!
  if ! port=$(wait_for_port "$log" "$server_pid"); then
    echo "race: $model FAILED: no 'listening on port' line; stderr:"
    sed 's/^/    /' "$log"
    failed=$((failed + 1))
    continue
  fi
  dom="$work/$model.dom"
  # A profile of its own: an empty cache (each image also has a query of its own).
  dump_dom "http://127.0.0.1:$port/race.html?auto=$COUNT" "$dom" "$work/profile-$model" \
    "$work/$model.chromium.log"
  chromium_status=$?
  kill -INT "$server_pid" 2>/dev/null
  wait "$server_pid"
  server_status=$?
  server_pid=
  if [[ $chromium_status -ne 0 ]]; then
    echo "race: $model FAILED: chromium exited with status $chromium_status; its log:"
    tail -n 20 "$work/$model.chromium.log" | sed 's/^/    /'
    failed=$((failed + 1))
  elif ! verdict=$(check_shape "$dom" "$shape" 2>&1); then
    echo "race: $model FAILED: $verdict"
    failed=$((failed + 1))
  elif [[ $server_status -ne 0 ]]; then
    echo "race: $model FAILED: exit status $server_status after SIGINT"
    failed=$((failed + 1))
  else
    echo "race: $model ok ($verdict)"
    passed=$((passed + 1))
  fi
done
echo "race: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
