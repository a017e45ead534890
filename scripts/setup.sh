#!/usr/bin/env bash
# Installs every Debian package vigil needs to build, run and test.
# Idempotent: asks apt only for what is missing, and prints nothing when all is present.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build ccache pkg-config git
  # libraries
  libssl-dev libc-ares-dev libpcap-dev libtins-dev libspdlog-dev libfmt-dev
  libasio-dev libcli11-dev nlohmann-json3-dev zlib1g-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # real servers and tools the tests drive
  unbound nginx-light openssl dnsutils curl iproute2 ca-certificates python3
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
for svc in unbound nginx; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    $SUDO systemctl stop "$svc" >/dev/null 2>&1 || true
    $SUDO systemctl disable "$svc" >/dev/null 2>&1 || true
  fi
done
exit 0
