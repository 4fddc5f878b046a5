#!/usr/bin/env bash
# Compiles, runs and closes a small graph on the OpenCL backend N times (default 10,000) in one
# JVM and prints the resident memory before and after; fails if any OpenCL buffer, kernel or
# program is left unreleased or the resident memory grows. CI runs the same test with 300 cycles.
# The heap is fixed at 128 MiB and 10,000 cycles run first (the JIT and the allocators grow
# for about that long, then stay flat), so that the figures show only what the cycles keep.
#   backend-opencl/scripts/native-memory-cycles.sh [N]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cycles="${1:-10000}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
mvn -q -pl backend-opencl -am test -Dtest='dev.kiln.backend.opencl.ResourceReleaseTest' \
    -Dsurefire.failIfNoSpecifiedTests=false -Dkiln.opencl.cycles="$cycles" -Dkiln.opencl.warmup="${KILN_WARMUP:-10000}" \
    "-Dkiln.jvm.args=--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss8m -Xms128m -Xmx128m" \
    >"$log" 2>&1 || status=$?
grep -E '^opencl: ' "$log" || true
if [[ $status -ne 0 ]]; then cat "$log"; exit "$status"; fi
