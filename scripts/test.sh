#!/usr/bin/env bash
# test.sh — install what is missing, build, run every test suite, and end with one line
# "N passed, N failed, N skipped" counting individual test cases. Exits non-zero on any failure.
#
# Usage: scripts/test.sh [meson test arguments, e.g. --suite kernels]
#   RUMOR_BUILD_DIR  build folder (default: build)
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${RUMOR_BUILD_DIR:-$root/build}
export RUMOR_BUILD_DIR=$build_dir

if ! "$root/scripts/setup.sh"; then
  echo "test: setup or build failed (see above)"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

# One OpenBLAS/OpenMP thread per test process unless a test says otherwise: the suites run
# two at a time on small machines and must not fight over cores.
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

rm -f "$build_dir/meson-logs/testlog.junit.xml"
meson test -C "$build_dir" --print-errorlogs "$@"
meson_rc=$?

python3 "$root/scripts/summarize_tests.py" "$build_dir/meson-logs/testlog.junit.xml"
summary_rc=$?
if [ $meson_rc -ne 0 ] || [ $summary_rc -ne 0 ]; then exit 1; fi
exit 0
