# Shared by the headless-Chromium tests (browser_test.sh, race_test.sh); sourced, not run.
# Usage: NAME=browser; source tests/browser_lib.sh
# Sets $chromium (or fails the test when Chromium is missing) and $work (a scratch folder removed
# at exit, with the server in $server_pid killed), and defines wait_for_port and dump_dom.

chromium=$(command -v chromium || command -v chromium-browser || true)
if [[ -z "$chromium" ]]; then
  echo "$NAME: chromium is not installed (scripts/install-deps.sh test)"
  echo "$NAME: 0 passed, 1 failed"
  exit 1
fi

work=$(mktemp -d "/tmp/hs-$NAME-XXXXXX")
server_pid=
cleanup() {
  [[ -n "$server_pid" ]] && kill -KILL "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# Prints the port from the server's "listening on port N" line; fails after 10 s or if it exits.
wait_for_port() {
  local log=$1 pid=$2 line
  for _ in $(seq 200); do
    line=$(grep -m1 -o 'listening on port [0-9]*' "$log" 2>/dev/null) && {
      echo "${line##* }"
      return 0
    }
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# Loads URL in headless Chromium with a profile of its own (an empty cache), within $LOAD_TIMEOUT
# seconds; writes the page's DOM to OUT and Chromium's stderr to LOG. Returns Chromium's status.
dump_dom() {
  local url=$1 out=$2 profile=$3 log=$4
  timeout -k 5 "$LOAD_TIMEOUT" "$chromium" --headless --no-sandbox --disable-gpu \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-dev-shm-usage --no-first-run --user-data-dir="$profile" \
    --dump-dom "$url" >"$out" 2>"$log"
}
