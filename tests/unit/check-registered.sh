#!/bin/sh
# Fails when a test file exists that its meson.build does not name.
set -eu
top=$1
bad=0
for f in "$top"/unit/*_test.c; do
	[ -e "$f" ] || continue
	n=$(basename "$f" _test.c)
	grep -q "'$n'" "$top/unit/meson.build" || { echo "tests/unit/$n""_test.c is not registered"; bad=1; }
done
for f in "$top"/cli/t-*.sh; do
	[ -e "$f" ] || continue
	n=$(basename "$f")
	grep -q "'$n'" "$top/cli/meson.build" || { echo "tests/cli/$n is not registered"; bad=1; }
done
for f in "$top"/kernel/t-*.sh "$top"/kernel/progs/*.c; do
	[ -e "$f" ] || continue
	n=$(basename "$f")
	grep -q "'${n%.c}'" "$top/kernel/meson.build" || grep -q "'$n'" "$top/kernel/meson.build" || { echo "tests/kernel/$n is not registered"; bad=1; }
done
[ $bad = 0 ] && echo "all test files registered"
exit $bad
