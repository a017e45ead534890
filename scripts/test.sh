#!/usr/bin/env bash
# Sets up (Debian packages), builds with warnings as errors, and runs the whole
# test suite: first the Debug build (the unit suites, then the lab's suites, which
# drive whole programs in network namespaces), then the same non-lab suites under
# AddressSanitizer and UBSan. The sanitizer build runs at low priority while the
# lab's suites run: they spend most of their time waiting on the network.
# Extra arguments go to every ctest run (e.g. -R Dns). VIGIL_SKIP_SANITIZERS=1
# skips the sanitizer pass.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
jobs=$(nproc)

cmake --preset dev >/dev/null
cmake --build --preset dev -j "$jobs"
ctest --preset dev -j "$jobs" -LE lab "$@"

asan_pid=
if [ "${VIGIL_SKIP_SANITIZERS:-0}" != 1 ]; then
  cmake --preset asan-ubsan >/dev/null
  nice -n 19 cmake --build --preset asan-ubsan -j "$jobs" >build/asan-ubsan-build.log 2>&1 &
  asan_pid=$!
fi
lab_status=0
ctest --preset dev -L lab "$@" || lab_status=$?

if [ -n "$asan_pid" ]; then
  if ! wait "$asan_pid"; then
    cat build/asan-ubsan-build.log
    echo "test.sh: the asan-ubsan build failed" >&2
    exit 1
  fi
  tail -n 1 build/asan-ubsan-build.log
  ASAN_OPTIONS=detect_leaks=1 ctest --preset asan-ubsan -j "$jobs" -LE lab "$@"
fi
exit "$lab_status"
