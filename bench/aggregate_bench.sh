#!/usr/bin/env bash
# Benchmark: a 10-million-measurement aggregation by day x cc x target, and `vigil
# events`' analysis (series, change points, events, a timeline event), on both stores,
# SQLite (a file under a temp dir) and ClickHouse (a private clickhouse-server on
# loopback), each loaded through the store's own write path by vigil_aggregate_bench,
# which prints best and median times beside the targets (query: 2 s on ClickHouse, 10 s
# on SQLite; events: 3 s and 10 s). Then the command a user runs, `vigil events`, timed
# end to end on each store beside the library's figure.
#
#   bench/aggregate_bench.sh [--rows N] [--runs N]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/clickhouse_lib.sh

rows=10000000 runs=5
while [ $# -gt 0 ]; do
  case $1 in
    --rows) rows=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "usage: $0 [--rows N] [--runs N]" >&2; exit 2 ;;
  esac
done

./scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target vigil_aggregate_bench vigil >/dev/null

work=$(mktemp -d /tmp/vigil-aggregate-bench.XXXXXX)
ch_pid=
cleanup() {
  [ -n "$ch_pid" ] && kill "$ch_pid" 2>/dev/null && wait "$ch_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

args=(--rows "$rows" --runs "$runs" --sqlite "$work/analysis.sqlite")
if start_clickhouse "$work/ch"; then
  args+=(--clickhouse "clickhouse://127.0.0.1:$ch_http_port/bench")
else
  echo "aggregate_bench: clickhouse-server not available; SQLite only" >&2
fi
build/release/bench/vigil_aggregate_bench "${args[@]}"
stores=("$work/analysis.sqlite")
[ -n "$ch_pid" ] && stores+=("clickhouse://127.0.0.1:$ch_http_port/bench")
for store in "${stores[@]}"; do
  start=$(date +%s%N)
  build/release/apps/vigil/vigil events --store "$store" --no-timeline --list events >/dev/null
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  printf '  %-44s vigil events end to end: %d.%02d s\n' "$store" $((ms / 1000)) $((ms % 1000 / 10))
done
du -sh "$work/analysis.sqlite" "$work/ch/data" 2>/dev/null | sed 's/^/  on disk: /'
