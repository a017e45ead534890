#!/usr/bin/env bash
# Sets up (Debian packages), builds with warnings as errors, and runs the whole test
# suite in one build: AddressSanitizer + UBSan (the asan-ubsan preset), the unit
# suites (with leak detection), then the lab's suites, which drive whole programs in
# network namespaces. One build instead of a Debug build and a sanitizer build keeps a
# cold run on two cores well under twenty minutes; the lab's programs run sanitized too.
# Extra arguments go to every ctest run (e.g. -R Dns). VIGIL_TEST_PRESET=dev runs the
# same suites on the Debug build without sanitizers (VIGIL_SKIP_SANITIZERS=1 too).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
jobs=$(nproc)

preset=${VIGIL_TEST_PRESET:-asan-ubsan}
[ "${VIGIL_SKIP_SANITIZERS:-0}" = 1 ] && preset=dev
case $preset in
  dev | asan-ubsan) ;;
  *) echo "test.sh: VIGIL_TEST_PRESET must be dev or asan-ubsan" >&2; exit 2 ;;
esac

cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$jobs"
# Leaks are checked in the unit suites (which also run the vigil binary); the lab's
# suites check behaviour across programs, whose daemons are killed rather than stopped.
ASAN_OPTIONS=detect_leaks=1 ctest --preset "$preset" -j "$jobs" -LE lab "$@"
ASAN_OPTIONS=detect_leaks=0 ctest --preset "$preset" -L lab "$@"
