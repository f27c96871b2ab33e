#!/usr/bin/env bash
# capstan build on Capstanfiles in the shapes real projects write (tests/data/capstanfiles):
# each is copied to a clean folder, built, and its image checked against its 'expect' file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/buildlib.sh"

corpus="$CAPSTAN_SOURCE_ROOT/tests/data/capstanfiles"
n=0
for src in "$corpus"/*/; do
	name=$(basename "$src")
	n=$((n + 1))
	rm -rf "${TESTDIR:?}/$name"
	cp -a "$src" "$TESTDIR/$name" && cd "$TESTDIR/$name" || exit 1
	expect 0 "$name: builds" "$CAPSTAN" build
	hasnt "$ERR" 'capstan: [^w]' "$name: no error printed"
	dump "$name" || { fail "$name: image readable"; continue; }
	while IFS= read -r re; do
		has "$TESTDIR/dump" "$re" "$name: $re"
	done <"$src/expect"
	# the build step's products were made here, not taken from the source tree
	[ ! -e "$src/out" ] && [ ! -e "$src/build" ] && ok "$name: source tree untouched" ||
		fail "$name: source tree untouched"
done
[ "$n" -ge 7 ] && ok "corpus has $n Capstanfiles" || fail "corpus has $n Capstanfiles"

# what each shape adds beyond its image
cd "$TESTDIR/lua-relative" && expect 0 "relative guest path builds" "$CAPSTAN" build
has "$ERR" "^capstan: warning: .*Capstanfile:3:3: guest path 'liblua.so' is relative: it goes to '/liblua.so', as in Capstan$" \
	"relative guest path warned about, with its line:col"
cd "$TESTDIR/build-rootfs" && rm -rf out
expect 0 "rootfs made by the build step on a clean tree" "$CAPSTAN" build
done_testing
