#!/usr/bin/env bash
# Benchmark: the analyzer's ingest + verdicts on synthetic messaging measurements,
# beside the same file loaded into SQLite by the sqlite3 shell and into ClickHouse by
# clickhouse-client (JSONEachRow), in the same run, on the same machine; and end to end,
# `vigil analyze FILE` as a user runs it (read, parse, score, store, commit) into a fresh
# SQLite file and into a fresh ClickHouse database, beside clickhouse-client's load.
#
#   bench/analyze_bench.sh [--count N] [--seed S]
#
# The measurements come from bench/gen_measurements.py (OONI's shape, a few KB each,
# whatsapp/telegram/signal/facebook_messenger/web_connectivity with a mix of blocking).
# Baselines only load: sqlite3 stores each line and extracts the envelope's fields with
# json_extract; clickhouse-client parses each line into a MergeTree table of those
# fields. vigil parses every field the rows hold, observations included, and scores;
# end to end it also stores every measurement, observation and verdict.
# /proc/loadavg is printed before and after: the figures depend on what else runs.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/clickhouse_lib.sh

count=50000 seed=1
while [ $# -gt 0 ]; do
  case $1 in
    --count) count=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    *) echo "usage: $0 [--count N] [--seed S]" >&2; exit 2 ;;
  esac
done

./scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target vigil vigil_ingest_bench >/dev/null

work=$(mktemp -d /tmp/vigil-analyze-bench.XXXXXX)
ch_pid=
cleanup() {
  [ -n "$ch_pid" ] && kill "$ch_pid" 2>/dev/null && wait "$ch_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

python3 bench/gen_measurements.py --count "$count" --seed "$seed" --output "$work/m.jsonl"
bytes=$(stat -c %s "$work/m.jsonl")
cat "$work/m.jsonl" >/dev/null  # into the page cache

seconds() {  # wall seconds of a command
  python3 - "$@" <<'PY'
import subprocess, sys, time
t0 = time.monotonic()
rc = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(f"{time.monotonic() - t0:.3f} {rc}")
PY
}

echo "load before: $(cat /proc/loadavg)"
vigil=build/release/apps/vigil/vigil
analyze_into() {  # best of three wall seconds of `vigil analyze FILE --store SPEC`
  local best=1e9 w rc
  for _ in 1 2 3; do
    "$@"  # resets the store
    read -r w rc < <(seconds "$vigil" analyze "$work/m.jsonl" --store "$spec")
    [ "$rc" = 0 ] || { echo "vigil analyze --store $spec: exit $rc" >&2; echo "0 $rc"; return; }
    best=$(python3 -c "print(min(float('$w'), float('$best')))")
  done
  echo "$best 0"
}

# vigil: ingest + verdicts on one core.
build/release/bench/vigil_ingest_bench "$work/m.jsonl" --repeat 3 | tee "$work/vigil.txt"
v_rate=$(awk '/^  ingest \+ verdict \(1 core\)/ {print $(NF-1)}' "$work/vigil.txt")
p_rate=$(awk '/^  ingest \+ verdict \([0-9]+ cores\)/ {print $(NF-1)}' "$work/vigil.txt")

# sqlite3 shell: each line into a table, then the envelope's fields out of it.
us=$'\x1f'  # a column separator no JSON text holds unescaped
cat >"$work/load.sql" <<EOF
PRAGMA journal_mode=WAL;
CREATE TABLE raw(j TEXT);
.mode ascii
.separator "$us" "\n"
.import $work/m.jsonl raw
CREATE TABLE measurements AS SELECT json_extract(j,'\$.report_id') AS report_id,
  json_extract(j,'\$.measurement_start_time') AS start_time, json_extract(j,'\$.probe_cc') AS probe_cc,
  json_extract(j,'\$.probe_asn') AS probe_asn, json_extract(j,'\$.test_name') AS test_name,
  json_extract(j,'\$.input') AS input FROM raw;
EOF
read -r s_wall s_rc < <(seconds sqlite3 "$work/s.db" ".read $work/load.sql")

# vigil analyze end to end into SQLite (the default store), a fresh file each time.
spec="$work/analysis.sqlite"
reset_sqlite() { rm -f "$spec" "$spec-wal" "$spec-shm"; }
read -r e_wall e_rc < <(analyze_into reset_sqlite)
e_rows=$(sqlite3 "$spec" "SELECT count(*) FROM measurements")

# clickhouse-client: the same lines into MergeTree (JSONEachRow, unknown keys skipped),
# best of three loads into the emptied table.
ch_rate=n/a
if start_clickhouse "$work/ch"; then
  port=$ch_port
  clickhouse-client --port "$port" --query "CREATE TABLE m (report_id String,
    measurement_start_time String, probe_cc String, probe_asn String, test_name String,
    input Nullable(String)) ENGINE = MergeTree ORDER BY (probe_cc, probe_asn, test_name)"
  # Best of three loads, as vigil's figures are best of three repeats.
  c_wall=
  for _ in 1 2 3; do
    clickhouse-client --port "$port" --query "TRUNCATE TABLE m"
    read -r w c_rc < <(seconds sh -c "clickhouse-client --port $port \
      --input_format_skip_unknown_fields=1 --query 'INSERT INTO m FORMAT JSONEachRow' <'$work/m.jsonl'")
    c_wall=$(python3 -c "print(min(float('$w'), float('${c_wall:-1e9}')))")
    [ "$c_rc" = 0 ] || break
  done
  c_rows=$(clickhouse-client --port "$port" --query "SELECT count() FROM m")
  ch_rate=$(python3 -c "print(f'{$bytes / 1e6 / $c_wall:.0f}')")
  # vigil analyze end to end into ClickHouse, a fresh database each time.
  spec="clickhouse://127.0.0.1:$ch_http_port/vigil_bench"
  reset_clickhouse() { clickhouse-client --port "$port" --query "DROP DATABASE IF EXISTS vigil_bench"; }
  read -r h_wall h_rc < <(analyze_into reset_clickhouse)
  h_rows=$(clickhouse-client --port "$port" --query \
    "SELECT count() FROM (SELECT DISTINCT measurement_uid FROM vigil_bench.measurements)")
  # Like for like: clickhouse-client loading the rows vigil stored (its three tables,
  # exported as TabSeparated) into fresh tables of the same definition, the three in
  # parallel, best of three: the server's own cost of those rows, with no JSON to read.
  for t in measurements observations verdicts; do
    clickhouse-client --port "$port" --query "SELECT * FROM vigil_bench.$t FORMAT TabSeparated" >"$work/$t.tsv"
  done
  r_wall=
  for _ in 1 2 3; do
    clickhouse-client --port "$port" --query "DROP DATABASE IF EXISTS rows_bench"
    clickhouse-client --port "$port" --query "CREATE DATABASE rows_bench"
    for t in measurements observations verdicts; do
      clickhouse-client --port "$port" --format TabSeparatedRaw \
        --query "SHOW CREATE TABLE vigil_bench.$t" | sed "s/vigil_bench\./rows_bench./" |
        clickhouse-client --port "$port" --multiquery
    done
    read -r w r_rc < <(seconds sh -c "for t in measurements observations verdicts; do \
      clickhouse-client --port $port --query \"INSERT INTO rows_bench.\$t FORMAT TabSeparated\" \
        <'$work'/\$t.tsv & done; wait")
    r_wall=$(python3 -c "print(min(float('$w'), float('${r_wall:-1e9}')))")
  done
fi
echo "load after: $(cat /proc/loadavg)"

python3 - "$bytes" "$count" "$v_rate" "$p_rate" "$s_wall" "$s_rc" "${c_wall:-0}" "${c_rc:-1}" "${c_rows:-0}" \
  "$e_wall" "$e_rc" "$e_rows" "${h_wall:-0}" "${h_rc:-1}" "${h_rows:-0}" "${r_wall:-0}" <<'PY'
import sys
(size, n, v_rate, p_rate, s_wall, s_rc, c_wall, c_rc, c_rows,
 e_wall, e_rc, e_rows, h_wall, h_rc, h_rows, r_wall) = sys.argv[1:]
size, n, v_rate, p_rate, s_wall, c_wall = int(size), int(n), float(v_rate), float(p_rate), float(s_wall), float(c_wall)
e_wall, h_wall, r_wall = float(e_wall), float(h_wall), float(r_wall)
mb = size / 1e6
print(f"analyze benchmark: {n} measurements, {mb:.1f} MB of JSONL ({size / n / 1e3:.1f} KB each)")
print(f"  {'':40} {'MB/s':>8} {'measurements/s':>15}")
print(f"  {'vigil ingest + verdict (1 core)':40} {v_rate:8.0f} {v_rate * 1e6 / (size / n):15.0f}")
print(f"  {'vigil ingest + verdict (all cores)':40} {p_rate:8.0f} {p_rate * 1e6 / (size / n):15.0f}")
print(f"  {'sqlite3 shell: .import + json_extract':40} {mb / s_wall:8.0f} {n / s_wall:15.0f}  (exit {s_rc})")
if c_wall > 0:
    print(f"  {'clickhouse-client JSONEachRow':40} {mb / c_wall:8.0f} {n / c_wall:15.0f}  (exit {c_rc}, {c_rows} rows)")
print(f"  end to end (read, parse, score, store, commit; best of 3):")
if e_wall > 0:
    print(f"  {'vigil analyze --store SQLite file':40} {mb / e_wall:8.0f} {n / e_wall:15.0f}  (exit {e_rc}, {e_rows} measurements)")
if h_wall > 0:
    print(f"  {'vigil analyze --store clickhouse://':40} {mb / h_wall:8.0f} {n / h_wall:15.0f}  (exit {h_rc}, {h_rows} measurements)")
if c_wall > 0:
    print(f"  {'clickhouse-client JSONEachRow (load)':40} {mb / c_wall:8.0f} {n / c_wall:15.0f}")
if r_wall > 0:
    print(f"  {'clickhouse-client, vigil rows as TSV':40} {mb / r_wall:8.0f} {n / r_wall:15.0f}  (the same rows vigil stores; MB/s of the JSONL they came from)")
print(f"  OONI's observation stage, for scale: 7,000-8,000 measurements/s")
print(f"  targets: >= 300 MB/s per core ({'met' if v_rate >= 300 else 'NOT met'}); "
      f"faster than clickhouse-client on the same cores ({'met' if c_wall > 0 and p_rate > mb / c_wall else 'NOT met'})")
print(f"  end to end: >= 100 MB/s into SQLite ({'met' if e_wall > 0 and mb / e_wall >= 100 else 'NOT met'}); "
      f"into ClickHouse faster than clickhouse-client ({'met' if h_wall > 0 and c_wall > 0 and h_wall < c_wall else 'NOT met'})")
PY
