#!/usr/bin/env bash
# Installs every Debian package vigil needs to build, run and test.
# Idempotent: asks apt only for what is missing, and prints nothing when all is present.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build ccache pkg-config git
  # the formatting check (scripts/check_format.sh pins Debian 12's clang-format 14)
  clang-format
  # libraries
  libssl-dev libc-ares-dev libpcap-dev libtins-dev libspdlog-dev libfmt-dev
  libasio-dev libcli11-dev nlohmann-json3-dev zlib1g-dev libyaml-cpp-dev libcpp-httplib-dev
  # the delivery experiment's XMPP and MQTT transports
  libstrophe-dev libmosquitto-dev
  # `vigil autorun enable --capture` gives the binary CAP_NET_RAW (setcap)
  libcap2-bin
  # the analyzer: JSON at speed, the embedded store, the store at scale
  libsimdjson-dev libsqlite3-dev sqlite3 clickhouse-server clickhouse-client
  # statistics for change points and event correlation (Fisher exact, intervals)
  libboost-math-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # pages and HTML reports are checked in a real browser (headless)
  chromium
  # fuzzing (scripts/fuzz.sh): clang, and libclang-rt-dev for libFuzzer's runtime
  # (libclang_rt.fuzzer) and clang's sanitizer runtimes
  clang libclang-rt-dev
  # real servers and tools the tests drive
  unbound nginx-light openssl dnsutils curl iproute2 ca-certificates python3 tcpdump
  # the interference lab (tests/lab): messaging servers, mmdb writer, network tools
  prosody mosquitto mosquitto-clients coturn libmaxmind-db-writer-perl mmdb-bin
  libmaxminddb-dev iputils-ping traceroute netcat-openbsd ethtool procps psmisc
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts packaged daemons on install; the tests start their own instances
# on loopback with their own configs, so the system copies are not needed.
# The lab (tests/lab) runs its own prosody/mosquitto/coturn inside namespaces, and
# nothing may listen in the host's namespace, so those are stopped and disabled too
# (with systemd, or with the sysv scripts where systemd is not PID 1).
for svc in unbound nginx prosody mosquitto coturn clickhouse-server; do
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    if systemctl is-active --quiet "$svc" 2>/dev/null; then
      $SUDO systemctl stop "$svc" >/dev/null 2>&1 || true
    fi
    if systemctl is-enabled --quiet "$svc" 2>/dev/null; then
      $SUDO systemctl disable "$svc" >/dev/null 2>&1 || true
    fi
  elif [ -x "/etc/init.d/$svc" ]; then
    $SUDO "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
    if command -v update-rc.d >/dev/null 2>&1; then
      $SUDO update-rc.d "$svc" disable >/dev/null 2>&1 || true
    fi
  fi
done
exit 0
