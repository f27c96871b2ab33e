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
for f in "$top"/kernel/t-*.sh; do
	[ -e "$f" ] || continue
	n=$(basename "$f")
	grep -q "'$n'" "$top/kernel/meson.build" || { echo "tests/kernel/$n is not registered"; bad=1; }
done
# a test program is registered when a case of t-progs.sh's table runs it
progs=$(bash "$top/kernel/t-progs.sh" --list-progs)
for f in "$top"/kernel/progs/*.c "$top"/kernel/progs/*.cc "$top"/kernel/progs/*.go "$top"/kernel/progs/*.rs; do
	[ -e "$f" ] || continue
	n=$(basename "$f")
	n=${n%.c}
	n=${n%.cc}
	n=${n%.go}
	n=${n%.rs}
	printf '%s\n' "$progs" | grep -qx "$n" || { echo "tests/kernel/progs/$(basename "$f") has no case in t-progs.sh"; bad=1; }
done
# a shell script is registered when a case of t-shell.sh's table runs it
scripts=$(bash "$top/kernel/t-shell.sh" --list-scripts)
for f in "$top"/kernel/shell/*.sh; do
	[ -e "$f" ] || continue
	n=$(basename "$f")
	printf '%s\n' "$scripts" | grep -qx "$n" || { echo "tests/kernel/shell/$n has no case in t-shell.sh"; bad=1; }
done
[ $bad = 0 ] && echo "all test files registered"
exit $bad
