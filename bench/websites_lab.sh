#!/usr/bin/env bash
# Benchmark: `vigil run websites` over generated lab URLs with the censor adding a
# fixed delay each way, beside the round-trip-bound limit and beside curl with the
# same parallelism on the same URLs, with peak RSS. Run as root (the lab).
#
#   bench/websites_lab.sh [--urls N] [--hosts H] [--parallel P] [--per-host K] [--delay-ms D]
#
# The URLs (http://198.18.96.<h>:8000/page/<i>) spread over H stand-in hosts served by
# one nginx in vgl-server; per-host politeness stays on (--per-host). The control
# helper runs in vgl-control. Round trips per URL on the critical path: web_connectivity
# runs its TCP connect (1), its fetch (connect + request: 2) and its control request
# (a POST on a kept connection: 1, or connect + POST: 2; the helper's own work being
# off the delayed path) side by side, so 2; curl needs 2 (connect + request). limit = URLs x round trips x RTT / P.
set -euo pipefail
cd "$(dirname "$0")/.."

urls=2000 hosts=250 parallel=256 per_host=2 delay_ms=50
while [ $# -gt 0 ]; do
  case $1 in
    --urls) urls=$2; shift 2 ;;
    --hosts) hosts=$2; shift 2 ;;
    --parallel) parallel=$2; shift 2 ;;
    --per-host) per_host=$2; shift 2 ;;
    --delay-ms) delay_ms=$2; shift 2 ;;
    *) echo "usage: $0 [--urls N] [--hosts H] [--parallel P] [--per-host K] [--delay-ms D]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "bench/websites_lab.sh needs root (the lab's namespaces)" >&2; exit 2; }
[ "$hosts" -ge 1 ] && [ "$hosts" -le 250 ] || { echo "--hosts must be 1..250" >&2; exit 2; }

./scripts/setup.sh
cmake --preset release >/dev/null
# The censor is optimised too: the lab shares the machine's two cores with the probe.
cmake --build --preset release -j "$(nproc)" --target vigil lab_censor >/dev/null
vigil=$PWD/build/release/apps/vigil/vigil
export VIGIL_LAB_CENSOR=$PWD/build/release/tests/lab/lab_censor

state=$(mktemp -d /tmp/vigil-bench.XXXXXX)
# A volunteer of the benchmark's own (consent recorded unattended, uploads off).
export VIGIL_CONFIG=$state/config.json
printf '{"spool_dir": "%s", "results_db": "%s"}\n' "$state/spool" "$state/results.sqlite" >"$VIGIL_CONFIG"
"$vigil" onboard --yes --no-upload >/dev/null
cleanup() {
  [ -f "$state/nginx.pid" ] && kill "$(cat "$state/nginx.pid")" 2>/dev/null || true
  bash tests/lab/lab.sh down --state "$state/lab" >/dev/null 2>&1 || true
  if [ "${VIGIL_BENCH_KEEP:-0}" = 1 ]; then echo "kept $state" >&2; else rm -rf "$state"; fi
}
trap cleanup EXIT INT TERM

cat >"$state/delay.yaml" <<EOF
name: bench-delay
description: ${delay_ms} ms added each way to every packet, for benchmarks.
phases:
  - start: 0s
    rules:
      - id: delay-all
        match: {proto: any}
        action: delay
        ms: ${delay_ms}
EOF
bash tests/lab/lab.sh up --scenario "$state/delay.yaml" --state "$state/lab" >/dev/null

# H stand-in hosts on the server's service interface, one nginx for all of them.
for h in $(seq 1 "$hosts"); do echo "address add 198.18.96.$h/32 dev svc"; done | ip -n vgl-server -batch -
mkdir -p "$state/www"
cat >"$state/nginx.conf" <<EOF
worker_processes 1;
pid $state/nginx.pid;
error_log $state/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $state/www;
  proxy_temp_path $state/www;
  fastcgi_temp_path $state/www;
  uwsgi_temp_path $state/www;
  scgi_temp_path $state/www;
  keepalive_requests 1000;
  server {
    listen 8000 default_server backlog=4096;
    location / {
      default_type text/html;
      return 200 '<!DOCTYPE html><html><head><title>bench page</title></head><body><p>\$request_uri</p></body></html>\n';
    }
  }
}
EOF
ip netns exec vgl-server nginx -c "$state/nginx.conf"
ip netns exec vgl-control "$vigil" helper --listen 198.18.30.2:8091 --quiet --max-in-flight $((parallel + 16)) \
  >"$state/helper.log" 2>&1 &
for _ in $(seq 50); do
  ip netns exec vgl-control curl -s -o /dev/null http://198.18.30.2:8091/ && break
  sleep 0.1
done

: >"$state/urls.txt"
: >"$state/curl.cfg"
for i in $(seq 0 $((urls - 1))); do
  u="http://198.18.96.$((i % hosts + 1)):8000/page/$i"
  echo "$u" >>"$state/urls.txt"
  printf 'url = "%s"\noutput = "/dev/null"\n' "$u" >>"$state/curl.cfg"
done

rtt_ms=$(ip netns exec vgl-client ping -c 3 -i 0.2 -q 198.18.96.1 | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p')

# Wall time and the peak RSS of the command (its largest process).
measure() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t0 = time.monotonic()
rc = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{wall:.3f} {ru.ru_maxrss / 1024:.1f} {rc} {ru.ru_utime + ru.ru_stime:.2f}")
PY
}

# Retransmissions seen by the client and the helper during a run: loss inside the lab
# (the censor's capture falling behind) shows here, not in vigil's figures.
retrans() {
  local ns total=0 n
  for ns in vgl-client vgl-control; do
    n=$(ip netns exec "$ns" nstat -az TcpRetransSegs 2>/dev/null | awk '$1 == "TcpRetransSegs" {print $2}')
    total=$((total + ${n:-0}))
  done
  echo "$total"
}
# CPU seconds used so far by the lab's own processes (censor, helper, nginx).
cpu_of_lab() {
  local total=0 pid
  for pid in $(pgrep -f "${1:-lab_censor|vigil helper|nginx}"); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
r0=$(retrans)
cpu0=$(cpu_of_lab)
h0=$(cpu_of_lab "vigil helper")
# VIGIL_BENCH_WRAP (e.g. "perf record -g -o /tmp/vigil.perf") prefixes vigil run, for profiles.
read -r v_wall v_rss v_rc v_cpu < <(measure ip netns exec vgl-client ${VIGIL_BENCH_WRAP:-} "$vigil" run websites \
  --input-file "$state/urls.txt" --helper http://198.18.30.2:8091/ --batch \
  --parallel "$parallel" --per-host "$per_host" --timeout 10 --output "$state/vigil.jsonl")
r1=$(retrans)
cpu1=$(cpu_of_lab)
h1=$(cpu_of_lab "vigil helper")
# The same run without packet capture (the run above captures: root holds CAP_NET_RAW),
# for the capture's cost.
read -r n_wall n_rss n_rc n_cpu < <(measure ip netns exec vgl-client "$vigil" run websites \
  --input-file "$state/urls.txt" --helper http://198.18.30.2:8091/ --batch --no-capture \
  --parallel "$parallel" --per-host "$per_host" --timeout 10 --output "$state/vigil-nocap.jsonl")
read -r c_wall c_rss c_rc c_cpu < <(measure ip netns exec vgl-client curl --parallel \
  --parallel-max "$parallel" --parallel-immediate -s -K "$state/curl.cfg")

r2=$(retrans)
cpu2=$(cpu_of_lab)
hz=$(getconf CLK_TCK)
echo "  CPU seconds: vigil run $v_cpu, helper meanwhile $(( (h1 - h0) / hz )).$(( (h1 - h0) % hz * 100 / hz )), lab in all meanwhile $(( (cpu1 - cpu0) / hz )).$(( (cpu1 - cpu0) % hz * 100 / hz )); curl $c_cpu, lab meanwhile $(( (cpu2 - cpu1) / hz )).$(( (cpu2 - cpu1) % hz * 100 / hz ))"
for ns in vgl-client vgl-control vgl-server; do
  echo "  $ns: $(ip netns exec $ns nstat -az TcpExtListenDrops TcpExtListenOverflows TcpExtTCPSynRetrans TcpExtTCPTimeouts TcpExtTCPAbortOnTimeout 2>/dev/null | awk 'NR > 1 && $2 > 0 {printf "%s=%s ", $1, $2}')" >&2
done
python3 - "$urls" "$parallel" "$per_host" "$rtt_ms" "$v_wall" "$v_rss" "$v_rc" "$c_wall" "$c_rss" "$c_rc" \
  "$state/vigil.jsonl" "$((r1 - r0))" "$((r2 - r1))" \
  "$(find "$state/spool/pending" -name '*.batch' 2>/dev/null | wc -l)" "$n_wall" "$n_rss" "$n_cpu" "$v_cpu" \
  "$state/vigil-nocap.jsonl" <<'PY'
import json, sys
urls, par, per_host = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rtt = float(sys.argv[4]) / 1000
v_wall, v_rss, v_rc, c_wall, c_rss, c_rc = map(float, sys.argv[5:11])
ok = blocked = other = 0
runtimes, connects, replies = [], [], []
for line in open(sys.argv[11]):
    m = json.loads(line)
    k = m["test_keys"]
    runtimes.append(m["test_runtime"])
    for e in k.get("network_events") or []:
        if e.get("operation") == "connect":
            connects.append(e["t"] - e["t0"])
        elif e.get("operation") == "read":
            replies.append(e["t"] - e["t0"])
    if k.get("blocking") is False and k.get("accessible") is True:
        ok += 1
    elif k.get("blocking"):
        blocked += 1
    else:
        other += 1
limit = urls * 2 * rtt / par
print(f"websites benchmark: {urls} URLs, {par} in flight, per-host {per_host}, RTT {rtt*1000:.1f} ms")
print(f"  round-trip-bound limit (URLs x 2 RTT / {par}): {limit:.2f} s")
v_re, c_re = int(sys.argv[12]), int(sys.argv[13])
print(f"  {'':24} {'wall s':>8} {'x limit':>8} {'peak RSS MB':>12} {'TCP retrans':>12} {'exit':>5}")
print(f"  {'vigil run websites':24} {v_wall:8.2f} {v_wall/limit:8.2f} {v_rss:12.1f} {v_re:12} {int(v_rc):5}")
n_wall, n_rss, n_cpu, v_cpu = map(float, sys.argv[15:19])
print(f"  {'  ... --no-capture':24} {n_wall:8.2f} {n_wall/limit:8.2f} {n_rss:12.1f} {'':>12} {'':>5}")
print(f"  {'curl --parallel':24} {c_wall:8.2f} {c_wall/limit:8.2f} {c_rss:12.1f} {c_re:12} {int(c_rc):5}")
print(f"  vigil verdicts: {ok} accessible, {blocked} blocking, {other} other (expected: all accessible)")
def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000 if xs else float("nan")
print(f"  per measurement, ms (p50 / p90): runtime {pct(runtimes, .5):.0f} / {pct(runtimes, .9):.0f} "
      f"(its 2 round trips: {2 * rtt * 1000:.0f}); TCP connect {pct(connects, .5):.0f} / {pct(connects, .9):.0f}, "
      f"request to response {pct(replies, .5):.0f} / {pct(replies, .9):.0f} (1 round trip: {rtt * 1000:.0f})")
print(f"  spool commits (batch files): {sys.argv[14]}")
cap = sum(1 for line in open(sys.argv[11]) if (json.loads(line)["test_keys"].get("x_packets") or {}).get("available"))
print(f"  packet capture: {cap} of {ok + blocked + other} measurements with x_packets; wall {v_wall:.2f} s with vs "
      f"{n_wall:.2f} s without ({(v_wall / n_wall - 1) * 100:+.1f} %), CPU {v_cpu:.2f} vs {n_cpu:.2f} s "
      f"(target: within 10 %: {'met' if v_wall <= 1.10 * n_wall else 'NOT met'})")
print(f"  targets: vigil within 1.3x of the limit ({'met' if v_wall <= 1.3*limit else 'NOT met'}), "
      f"RSS under 100 MB ({'met' if v_rss < 100 else 'NOT met'})")
PY
