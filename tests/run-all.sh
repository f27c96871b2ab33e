#!/usr/bin/env bash
# Sets everything up and runs every test suite: the normal build, then ASan+UBSan.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash tests/deps.sh
if [ ! -d build ]; then meson setup build; fi
meson compile -C build
meson test -C build --print-errorlogs --num-processes 2
# Sanitizers over the host code; the kernel and images come from the normal build.
if [ ! -d build-asan ]; then
  meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dkernel=false -Dbuildtype=debug
fi
meson compile -C build-asan
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  CAPSTAN_DATADIR="$top/build" \
  meson test -C build-asan --print-errorlogs --num-processes 2 --suite unit --suite cli
echo "all suites passed"
