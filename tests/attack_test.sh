#!/usr/bin/env bash
# Short run of `make attack`: every model against slowhttptest's slow headers (-H), slow body (-B)
# and slow read (-X), 200 connections for 5 s each, six attacks at once (distinct ports; one
# slow read at a time: see bench/attack.py). Every
# model but single_server must answer a fresh client during the attack; every model must answer
# after it and exit 0 on SIGINT with nothing left running. Nothing is written but the raw results
# (build/attack/quick.json). About 40 s.
#   BIN=bin bash tests/attack_test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}

for tool in slowhttptest ss; do
  command -v "$tool" >/dev/null ||
    { echo "attack_test: FAIL: $tool is not installed (scripts/install-deps.sh test)"; exit 1; }
done
[[ -x "$BIN/http_server" ]] || { echo "attack_test: FAIL: $BIN/http_server is not built"; exit 1; }

start=$SECONDS
if python3 bench/attack.py --quick --bin "$BIN" --json build/attack/quick.json; then
  echo "attack_test: OK ($((SECONDS - start)) s)"
else
  echo "attack_test: FAIL ($((SECONDS - start)) s; raw results: build/attack/quick.json)"
  exit 1
fi
