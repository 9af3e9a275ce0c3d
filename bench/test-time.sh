#!/usr/bin/env bash
# How long `npm test` takes from a fresh clone, as CI runs it (issue 11: under 60 s on the 2-core machine).
#
#   bash bench/test-time.sh [rounds]     # default 2 rounds
#
# Clones HEAD into a temporary directory, runs `npm ci` once, then per round, in alternating order:
#   - `npm test` as CI runs it (jest and eslint side by side, scripts/test.js);
#   - the baseline: the same with MESH_RELEASE_SERIAL_TESTS=1 (jest, then eslint: the task before issue 11).
# Every run starts cold: a new jest cache directory (no transformed files, no test timings) and no eslint cache.
# Prints each run's wall-clock and CPU seconds (user + sys of npm test and everything it started) and the ratio
# of the medians. Run it on a quiet machine: other load shows up in both columns.
set -euo pipefail
rounds="${1:-2}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git clone -q "$root" "$work/repo"
cd "$work/repo"
echo "git $(git rev-parse --short HEAD); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
npm ci --no-audit --no-fund >/dev/null 2>&1

run() { # label env...
  local label="$1"
  shift
  rm -rf node_modules/.cache/eslint "$work/jest-cache" .cli-build
  local start end
  start=$(date +%s.%N)
  if ! env "$@" /usr/bin/time -f '%U %S' -o "$work/cpu" npm test -- --cacheDirectory "$work/jest-cache" >"$work/log" 2>&1; then
    echo "$label: npm test FAILED"
    tail -30 "$work/log"
    exit 1
  fi
  end=$(date +%s.%N)
  local wall cpu
  wall=$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')
  cpu=$(awk '{ print $1 + $2 }' "$work/cpu")
  printf '%-22s wall %6.1f s  cpu %6.1f s  (%s; load %s)\n' "$label" "$wall" "$cpu" \
    "$(grep -m1 '^Tests:' "$work/log" | tr -s ' ')" "$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "$label $wall" >>"$work/results"
}

for i in $(seq 1 "$rounds"); do
  if [ $((i % 2)) = 1 ]; then
    run "side by side" MESH_RELEASE_SERIAL_TESTS=0
    run "serial (baseline)" MESH_RELEASE_SERIAL_TESTS=1
  else
    run "serial (baseline)" MESH_RELEASE_SERIAL_TESTS=1
    run "side by side" MESH_RELEASE_SERIAL_TESTS=0
  fi
done

median() { grep "^$1 " "$work/results" | awk '{ print $NF }' | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
side=$(median "side by side")
serial=$(median "serial (baseline)")
awk -v side="$side" -v serial="$serial" 'BEGIN {
  printf "\nmedian wall: npm test %.1f s (target < 60: %s); serial baseline %.1f s; npm test / serial = %.2f\n",
    side, (side < 60 ? "PASS" : "MISS"), serial, side / serial
}'
