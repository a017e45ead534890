#!/usr/bin/env bash
# Sets up (Debian packages), builds with warnings as errors, and runs the whole
# test suite: first the Debug build, then the same suites under AddressSanitizer and
# UBSan (the lab's suites, which drive whole programs in namespaces, run once).
# Extra arguments go to both ctest runs (e.g. -R Dns). VIGIL_SKIP_SANITIZERS=1
# skips the second pass.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
jobs=$(nproc)

cmake --preset dev >/dev/null
cmake --build --preset dev -j "$jobs"
ctest --preset dev -j "$jobs" "$@"

if [ "${VIGIL_SKIP_SANITIZERS:-0}" != 1 ]; then
  cmake --preset asan-ubsan >/dev/null
  cmake --build --preset asan-ubsan -j "$jobs"
  ASAN_OPTIONS=detect_leaks=1 ctest --preset asan-ubsan -j "$jobs" -LE lab "$@"
fi
