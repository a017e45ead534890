#!/usr/bin/env bash
# The accuracy table of docs/accuracy.md: as root, brings up the interference lab, and for
# every scenario of tests/lab/scenarios/ (or those named as arguments) runs `vigil run im`
# and web_connectivity over ten lab websites from the censored network (with the helper
# on the control vantage, as a volunteer with a helper would), then `vigil analyze
# --truth` against the censor's ground truth, and
# prints one markdown row per scenario: what the censor acted on and what vigil found,
# missed or got wrong, what it left alone and what vigil flagged anyway (false positives).
# Measurements and per-measurement rows go to build/accuracy/. Cleans up on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "scripts/accuracy.sh needs root (network namespaces)" >&2
  exit 1
fi
cmake --preset dev >/dev/null
cmake --build --preset dev -j "$(nproc)" --target vigil lab_censor >/dev/null
vigil=$PWD/build/dev/apps/vigil/vigil
out=$PWD/build/accuracy
mkdir -p "$out"
export VIGIL_LAB_CENSOR=$PWD/build/dev/tests/lab/lab_censor
export VIGIL_CONFIG=$out/config.json
printf '{"spool_dir": "%s", "results_db": "%s"}\n' "$out/spool" "$out/results.sqlite" >"$VIGIL_CONFIG"
"$vigil" onboard --yes >/dev/null
state=$(mktemp -d /tmp/vigil-accuracy.XXXXXX)
helper=""
cleanup() {
  [ -n "$helper" ] && kill "$helper" 2>/dev/null || true
  bash tests/lab/lab.sh down --state "$state" >/dev/null 2>&1 || true
  rm -rf "$state"
}
trap cleanup EXIT INT TERM
bash tests/lab/lab.sh up --scenario clean --state "$state" >/dev/null
ip netns exec vgl-control "$vigil" helper --listen 198.18.30.2:8090 --ca-file "$state/ca.pem" \
  --asn-db "$state/asn.mmdb" --quiet 2>"$out/helper.log" &
helper=$!
for _ in $(seq 50); do
  ip netns exec vgl-control curl -s -o /dev/null http://198.18.30.2:8090/ && break
  sleep 0.1
done
if [ $# -gt 0 ]; then
  scenarios=("$@")
else
  scenarios=()
  for f in tests/lab/scenarios/*.yaml; do scenarios+=("$(basename "$f" .yaml)"); done
fi
echo "| scenario | censor acted on | found | wrong technique | missed | left alone | false positives | ok |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for scenario in "${scenarios[@]}"; do
  bash tests/lab/lab.sh scenario "$scenario" --state "$state" >"$out/switch.log" 2>&1
  rm -f "$out/$scenario.jsonl"
  ip netns exec vgl-client "$vigil" run im --no-upload --timeout 2 --ca-file "$state/ca.pem" \
    --endpoints "$state/endpoints.csv" --asn-db "$state/asn.mmdb" \
    --country-db "$state/country.mmdb" --helper http://198.18.30.2:8090/ \
    --output "$out/$scenario.jsonl" >"$out/$scenario.run.log" 2>&1
  web=()
  for url in http://twitter.com/ https://twitter.com/ http://www.minghui.org/ https://www.minghui.org/ \
             http://archive.org/ https://archive.org/ http://citizenlab.ca/ https://citizenlab.ca/ \
             https://creativecommons.org/ http://boingboing.net/; do
    web+=(--input "$url")
  done
  ip netns exec vgl-client "$vigil" run web_connectivity --no-upload --timeout 2 \
    --ca-file "$state/ca.pem" --endpoints "$state/endpoints.csv" --asn-db "$state/asn.mmdb" \
    --country-db "$state/country.mmdb" --helper http://198.18.30.2:8090/ "${web[@]}" \
    --output "$out/$scenario.jsonl" >>"$out/$scenario.run.log" 2>&1
  "$vigil" analyze "$out/$scenario.jsonl" --truth "$state/truth.jsonl" --scenario "$scenario" \
    --no-store --truth-json "$out/$scenario-truth.jsonl" >"$out/$scenario.analyze.log" 2>&1
  python3 - "$out/$scenario-truth.jsonl" "$scenario" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    j = json.loads(line)
    if j.get("kind") == "measurement" or j.get("scenario") != sys.argv[2]:
        continue
    t = j["totals"]
    acted = t["found"] + t["wrong_technique"] + t["missed"]
    alone = t["false_positive"] + t["ok"]
    print(f"| {sys.argv[2]} | {acted} | {t['found']} | {t['wrong_technique']} | {t['missed']} "
          f"| {alone} | {t['false_positive']} | {t['ok']} |")
PY
done
