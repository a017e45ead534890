#!/usr/bin/env bash
# Sets up (Debian packages), builds with warnings as errors, and runs the whole
# test suite. Extra arguments go to ctest (e.g. -R Dns).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake --preset dev >/dev/null
cmake --build --preset dev -j "$(nproc)"
ctest --preset dev -j "$(nproc)" "$@"
