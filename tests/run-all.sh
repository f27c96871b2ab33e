#!/usr/bin/env bash
# Sets everything up and runs every test suite: the normal build, then ASan+UBSan, a build
# without libvirt, and the fuzzers for a short bounded run.
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
# Built without libvirt, the host code must still configure, compile and pass its hv test.
if [ ! -d build-nolibvirt ]; then
  meson setup build-nolibvirt -Dlibvirt=disabled -Dkernel=false
fi
meson compile -C build-nolibvirt
meson test -C build-nolibvirt --print-errorlogs hv
# Fuzzers (clang, libFuzzer, ASan+UBSan): every harness over its seed corpus, then 10 s of new
# inputs each; a crash fails the run and keeps the input in build-fuzz/fuzz-artifacts/.
if [ ! -d build-fuzz ]; then
  CC=clang meson setup build-fuzz -Dfuzz=true -Dkernel=false -Db_sanitize=address,undefined -Db_lundef=false
fi
# only the harnesses (and libcapstan under them): the rest of the tree is tested above
meson compile -C build-fuzz $(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//')
bash tests/fuzz/run-fuzzers.sh build-fuzz 10
echo "all suites passed"
