#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, the `fuzz` preset: clang with ASan and
# UBSan) and runs each for SECONDS (default 60), one after another, from its seed corpus
# and dictionary. Usage: scripts/fuzz.sh [SECONDS] [TARGET...] (all targets by default).
# The corpus each run grows is kept in build/fuzz/corpus/<target>/ and reused by the
# next run; a crash input is saved as build/fuzz/crashes/<target>-crash-<sha1> and
# the run's log as build/fuzz/logs/<target>.log. Prints per target the executions and
# the crashes; exits non-zero when any target crashed (libFuzzer stops a target at
# its first crash). A crash input, once the parser is fixed, belongs in the seed
# corpus (tests/fuzz/corpus/<target>/crash-*), where every build's ctest replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

seconds=${1:-60}
case $seconds in
  '' | *[!0-9]*) echo "fuzz.sh: SECONDS must be a whole number, not '$seconds'" >&2; exit 2 ;;
esac
shift || true
if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for source in tests/fuzz/*_fuzz.cc; do
    name=${source##*/}
    targets+=("${name%.cc}")
  done
fi

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)" --target "${targets[@]}" >build/fuzz-build.log 2>&1 || {
  cat build/fuzz-build.log
  echo "fuzz.sh: the fuzz build failed" >&2
  exit 1
}

out=build/fuzz
mkdir -p "$out/logs" "$out/crashes"
printf '%-26s %8s %14s %8s\n' target seconds executions crashes
total=0
failed=()
for t in "${targets[@]}"; do
  mkdir -p "$out/corpus/$t"
  dict=()
  [ -f "tests/fuzz/$t.dict" ] && dict=("-dict=tests/fuzz/$t.dict")
  log=$out/logs/$t.log
  status=0
  # One process, one core: the machines this runs on build other things meanwhile.
  "$out/tests/fuzz/$t" "${dict[@]}" -max_total_time="$seconds" -print_final_stats=1 \
    -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$out/crashes/$t-" \
    "$out/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1 || status=$?
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  executions=${executions:-0}
  total=$((total + executions))
  crashes=0
  if [ "$status" != 0 ]; then
    crashes=1
    failed+=("$t")
  fi
  printf '%-26s %8s %14s %8s\n' "$t" "$seconds" "$executions" "$crashes"
done
printf '%-26s %8s %14s\n' total "" "$total"
if [ ${#failed[@]} -gt 0 ]; then
  for t in "${failed[@]}"; do
    echo "fuzz.sh: $t crashed; see $out/logs/$t.log and $out/crashes/$t-*" >&2
  done
  exit 1
fi
