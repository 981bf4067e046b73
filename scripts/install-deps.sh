#!/usr/bin/env bash
# Installs the Debian packages a group of make targets needs, only when some are missing.
#   scripts/install-deps.sh build [test] [bench] [attack] [fuzz]
set -euo pipefail

declare -A GROUP=(
  # media-types: /etc/mime.types, the Content-Type table the servers read at start-up.
  [build]="g++ make pkg-config libabsl-dev libgtest-dev libgmock-dev libcxxopts-dev media-types"
  # chromium: tests/browser_test.sh loads www/ in a real browser; wrk, nginx, gnuplot and ss
  # (iproute2): tests/bench_test.sh runs the benchmark driver's quick mode; slowhttptest:
  # tests/attack_test.sh runs make attack's short version.
  [test]="curl procps chromium wrk nginx-light gnuplot-nox iproute2 slowhttptest"
  [browser]="chromium"
  # bench: nginx, lighttpd, h2o and apache2 are the reference servers make bench measures beside
  # our models (bench/*.conf.template; the driver skips one that is missing, with a note);
  # linux-perf (perf stat) counts table 7's system calls, strace if perf cannot.
  [bench]="wrk nginx-light lighttpd h2o apache2 gnuplot-nox procps iproute2 linux-perf strace"
  # attack: make attack (bench/attack.py) attacks every model with slowhttptest, counts with ss.
  [attack]="slowhttptest procps iproute2"
  [fuzz]="clang libclang-rt-dev"
  [format]="clang-format"
)

wanted=()
for group in "${@:-build}"; do
  [[ -n "${GROUP[$group]+x}" ]] || { echo "install-deps: unknown group '$group'" >&2; exit 2; }
  wanted+=(${GROUP[$group]})
done

missing=()
for pkg in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
