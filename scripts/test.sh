#!/usr/bin/env bash
# Sets up (Debian packages), checks the formatting (scripts/check_format.sh), builds
# with warnings as errors, and runs the whole test suite in one build: AddressSanitizer
# + UBSan (the asan-ubsan preset). What the lab's suites need is built first; they run
# (driving whole programs in network namespaces, mostly waiting on the network) while
# the rest builds at low priority; then the unit suites run, with leak detection. One
# build instead of a Debug build and a sanitizer build keeps a cold run on two cores
# near twenty minutes instead of forty.
# Extra arguments go to every ctest run (e.g. -R Dns). VIGIL_TEST_PRESET=dev runs the
# same suites on the Debug build without sanitizers (VIGIL_SKIP_SANITIZERS=1 too).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/check_format.sh
jobs=$(nproc)

preset=${VIGIL_TEST_PRESET:-asan-ubsan}
[ "${VIGIL_SKIP_SANITIZERS:-0}" = 1 ] && preset=dev
case $preset in
  dev | asan-ubsan) ;;
  *) echo "test.sh: VIGIL_TEST_PRESET must be dev or asan-ubsan" >&2; exit 2 ;;
esac

cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$jobs" \
  --target vigil lab_censor censor_integration_test lab_scenarios_test lab_experiments_test \
  lab_truth_test lab_events_test lab_platform lab_posts_test lab_delivery_test lab_evidence_test \
  lab_packets_test \
  lab_dns_injection_test

# The lab's daemons are killed rather than stopped: leaks are checked in the unit
# suites (which run the vigil binary too), not here.
ASAN_OPTIONS=detect_leaks=0 ctest --preset "$preset" -L lab "$@" &
lab_pid=$!
build_log=build/$preset-build.log
build_status=0
nice -n 19 cmake --build --preset "$preset" -j "$jobs" >"$build_log" 2>&1 || build_status=$?
lab_status=0
wait "$lab_pid" || lab_status=$?
if [ "$build_status" != 0 ]; then
  cat "$build_log"
  echo "test.sh: the $preset build failed" >&2
  exit 1
fi
tail -n 1 "$build_log"

ASAN_OPTIONS=detect_leaks=1 ctest --preset "$preset" -j "$jobs" -LE lab "$@"
exit "$lab_status"
