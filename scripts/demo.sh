#!/usr/bin/env bash
# Sets up (Debian packages), builds, then:
#  0. onboards a demo volunteer (`vigil onboard --yes`: it says what it accepted; the
#     config, spool and results database live in build/demo/) and starts a collector
#     on loopback with one command (`vigil collector`), feeding an analysis store;
#  1. runs `vigil run im` on this machine's own network: without internet access every
#     step fails, and each failure is recorded as data (that is a measurement too);
#     the measurements are uploaded to the collector; `vigil results list` and
#     `vigil query` over what the collector received show the round trip;
#  2. as root, brings up the interference lab (tests/lab/lab.sh) and runs `vigil run im`
#     from its censored network under a clean network, GFW-style DNS injection, SNI
#     RSTs with residual blocking, blackholed Telegram data centres and partial
#     blocking, printing each verdict table beside what the censor did.
# Measurements land in build/demo/. VIGIL_DEMO_SCENARIOS overrides the scenario list.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake --preset dev >/dev/null
cmake --build --preset dev -j "$(nproc)" --target vigil lab_censor
vigil=$PWD/build/dev/apps/vigil/vigil
out=$PWD/build/demo
mkdir -p "$out"

# A demo volunteer of its own, so the demo never touches the user's config.
export VIGIL_CONFIG=$out/config.json
rm -rf "$out/spool" "$out/results.sqlite" "$out/archive" "$out/analysis.sqlite"
printf '{"spool_dir": "%s", "results_db": "%s"}\n' "$out/spool" "$out/results.sqlite" >"$VIGIL_CONFIG"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "== vigil onboard --yes (a demo volunteer; uploads to a collector on this machine)"
"$vigil" onboard --yes --upload --collector "http://127.0.0.1:$port"
echo
echo "== vigil collector, on 127.0.0.1:$port"
"$vigil" collector --archive "$out/archive" --listen "127.0.0.1:$port" --quiet \
  --store "sqlite:$out/analysis.sqlite" 2>"$out/collector.log" &
collector=$!
stop_collector() { kill "$collector" 2>/dev/null || true; wait "$collector" 2>/dev/null || true; }
trap stop_collector EXIT
for _ in $(seq 100); do grep -q listening "$out/collector.log" 2>/dev/null && break; sleep 0.05; done
cat "$out/collector.log"

echo
echo "== vigil run im, on this machine's network"
"$vigil" run im --timeout 5 --output "$out/here.jsonl"
echo
echo "== vigil results list"
"$vigil" results list
stop_collector
echo
echo "== vigil query over what the collector received"
"$vigil" query --store "sqlite:$out/analysis.sqlite" --axis test --since 2012-01-01 2>/dev/null

if [ "$(id -u)" != 0 ]; then
  echo
  echo "The lab part of the demo needs root (network namespaces): run it as root."
  exit 0
fi

state=$(mktemp -d /tmp/vigil-demo-lab.XXXXXX)
cleanup() { bash tests/lab/lab.sh down --state "$state" >/dev/null 2>&1 || true; rm -rf "$state"; stop_collector; }
trap cleanup EXIT INT TERM
export VIGIL_LAB_CENSOR=$PWD/build/dev/tests/lab/lab_censor
bash tests/lab/lab.sh up --scenario clean --state "$state" >/dev/null
# A scenario's description (folded YAML text on one line).
describe() {
  awk '/^description:/ { sub(/^description: *>? */, ""); d = $0; on = 1; next }
       on && /^  / { sub(/^ +/, ""); d = d (d == "" ? "" : " ") $0; next }
       { on = 0 }
       END { print d }' "$1"
}
read -r -a scenarios <<<"${VIGIL_DEMO_SCENARIOS:-clean gfw-dns gfw-sni-rst blackhole-ips telegram-partial}"
for scenario in "${scenarios[@]}"; do
  if ! bash tests/lab/lab.sh scenario "$scenario" --state "$state" >"$state/switch.log" 2>&1; then
    cat "$state/switch.log" >&2
    exit 1
  fi
  echo
  echo "== lab scenario $scenario: $(describe "tests/lab/scenarios/$scenario.yaml")"
  ip netns exec vgl-client "$vigil" run im --no-upload --timeout 2 --ca-file "$state/ca.pem" \
    --endpoints "$state/endpoints.csv" --asn-db "$state/asn.mmdb" \
    --output "$out/lab-$scenario.jsonl" 2>/dev/null
  python3 - "$state/truth.jsonl" <<'PY'
import collections, json, sys
acted = collections.Counter()
for line in open(sys.argv[1]):
    t = json.loads(line)
    if "action" in t:
        acted[(t["rule"], t["action"])] += 1
print("censor's ground truth: " + (", ".join(f"{r} ({a}) x{n}" for (r, a), n in sorted(acted.items())) or "no action"))
PY
done
echo
echo "measurements in $out/"
