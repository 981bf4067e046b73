#!/usr/bin/env bash
# Browser test: every model binary in $BIN serves www/ to a real browser. For each model present,
# start it on a free port, load http://127.0.0.1:PORT/ in headless Chromium, and check that
# index.html arrived and every image on it decoded; then stop the server with SIGINT and expect
# exit status 0.
#
# www/index.html carries a small script that, after the page's load event, sets
# data-images="ok" (or "broken") on <body> and writes one line per image -- "src naturalWidth
# ok|BROKEN" -- into a hidden <pre id="image-check">. Chromium's --dump-dom prints the DOM after
# the load, so the verdict is read from the rendered attributes, not from the script's source
# (which itself contains the word BROKEN).
#   BIN=bin bash tests/browser_test.sh
set -uo pipefail
[[ -n "${BIN:-}" && "$BIN" != /* ]] && BIN="$PWD/$BIN"  # relative to where we were started
cd "$(dirname "$0")/.." || exit 1
BIN=${BIN:-bin}
# Every registered model (common/models.h), as the wrapper lists them: name, binary, ...
mapfile -t MODELS < <("$BIN/http_server" --list-models | tail -n +2 | cut -f2)
LOAD_TIMEOUT=60  # seconds for one page load (Chromium's first start builds its caches)

NAME=browser
# $chromium, $work (removed at exit), $server_pid (killed at exit), wait_for_port
source tests/browser_lib.sh

# Sends SIGINT and waits up to 10 s; sets exit_status to the exit status (or "timeout"). Not
# called in a subshell: only this shell can wait for its child.
stop_server() {
  local pid=$1
  kill -INT "$pid" 2>/dev/null
  for _ in $(seq 200); do
    # Exited: gone, or a zombie until this shell reaps it.
    if [[ $(ps -o stat= -p "$pid" 2>/dev/null | tr -d " ") != [^Z]* ]]; then
      wait "$pid"
      exit_status=$?
      return
    fi
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  exit_status=timeout
}

# Checks the dumped DOM; prints the reason and returns 1 when something did not load.
check_dom() {
  local dom=$1 expected_title images lines listed src width
  expected_title=$(grep -o -m1 '<title>[^<]*</title>' www/index.html)
  if [[ -z "$expected_title" ]] || ! grep -qF "$expected_title" "$dom"; then
    echo "index.html did not load (no $expected_title in the page)"
    return 1
  fi
  if ! grep -q '<body[^>]*data-images="ok"' "$dom"; then
    echo "body has no data-images=\"ok\": $(grep -o '<body[^>]*>' "$dom" | head -1)"
    return 1
  fi
  # The <pre> spans several lines: take everything between its tags.
  lines=$(sed -n '/<pre id="image-check"/,/<\/pre>/p' "$dom" |
          sed -e 's/.*<pre id="image-check"[^>]*>//' -e 's/<\/pre>.*//' | sed '/^$/d')
  images=$(grep -o '<img ' "$dom" | wc -l)
  listed=$(printf '%s\n' "$lines" | grep -c .)
  if [[ $images -eq 0 || $listed -ne $images ]]; then
    echo "image-check lists $listed images, the page has $images"
    return 1
  fi
  while read -r src width _; do
    if ! [[ "$width" =~ ^[0-9]+$ ]] || ((width == 0)); then
      echo "image $src did not load (naturalWidth $width)"
      return 1
    fi
  done <<<"$lines"
  echo "$images images"
}

passed=0
failed=0
ran=0
for model in "${MODELS[@]}"; do
  [[ -x "$BIN/$model" ]] || continue
  ran=$((ran + 1))
  log="$work/$model.stderr"
  "$BIN/$model" -p 0 -f www 2>"$log" &
  server_pid=$!
  if ! port=$(wait_for_port "$log" "$server_pid"); then
    echo "browser: $model FAILED: no 'listening on port' line; stderr:"
    sed 's/^/    /' "$log"
    kill -KILL "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=
    failed=$((failed + 1))
    continue
  fi

  dom="$work/$model.dom"
  dump_dom "http://127.0.0.1:$port/" "$dom" "$work/profile-$model" "$work/$model.chromium.log"
  chromium_status=$?
  verdict=$(check_dom "$dom")
  dom_ok=$?
  stop_server "$server_pid"
  server_pid=

  if [[ $chromium_status -ne 0 ]]; then
    echo "browser: $model FAILED: chromium exited with status $chromium_status; its log:"
    tail -n 20 "$work/$model.chromium.log" | sed 's/^/    /'
    failed=$((failed + 1))
  elif [[ $dom_ok -ne 0 ]]; then
    echo "browser: $model FAILED: $verdict"
    failed=$((failed + 1))
  elif [[ "$exit_status" != 0 ]]; then
    echo "browser: $model FAILED: exit status after SIGINT was $exit_status, not 0; stderr:"
    tail -n 20 "$log" | sed 's/^/    /'
    failed=$((failed + 1))
  else
    echo "browser: $model ok (index.html and $verdict loaded, exit 0 after SIGINT)"
    passed=$((passed + 1))
  fi
done

if [[ $ran -eq 0 ]]; then
  echo "browser: no model binary in $BIN (build with make all)"
  failed=1
fi
echo "browser: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
