#!/usr/bin/env bash
# Checks that every C++ file git tracks is formatted with the repo's .clang-format by
# Debian 12's clang-format 14 (another major version formats some constructs
# differently, so the version is pinned). Prints each file that differs and exits 1;
# `scripts/check_format.sh --fix` formats them in place instead.
set -euo pipefail
cd "$(dirname "$0")/.."

clang_format=${CLANG_FORMAT:-clang-format-14}
command -v "$clang_format" >/dev/null 2>&1 || clang_format=clang-format
if ! "$clang_format" --version 2>/dev/null | grep -q 'version 14\.'; then
  echo "check_format.sh: needs clang-format 14 (Debian 12's clang-format package); found: $("$clang_format" --version 2>&1 | head -n 1)" >&2
  exit 2
fi

mapfile -t files < <(git ls-files '*.cc' '*.h')
[ ${#files[@]} -eq 0 ] && exit 0

if [ "${1:-}" = --fix ]; then
  "$clang_format" -i "${files[@]}"
  exit 0
fi

# One run over every file: clang-format names each file that differs in its warnings.
mapfile -t unformatted < <("$clang_format" --dry-run "${files[@]}" 2>&1 |
  sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: warning: code should be clang-formatted.*/\1/p' | sort -u)
if [ ${#unformatted[@]} -ne 0 ]; then
  printf '%s\n' "${unformatted[@]}" >&2
  echo "check_format.sh: ${#unformatted[@]} file(s) not formatted; run scripts/check_format.sh --fix" >&2
  exit 1
fi
