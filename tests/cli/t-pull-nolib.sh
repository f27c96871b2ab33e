#!/usr/bin/env bash
# libcurl and libarchive are loaded on first use: commands that need neither run without them, the others fail in one line.
. "$(dirname "$0")/lib.sh"

if ldd "$CAPSTAN" | grep -Eq 'libcurl|libarchive'; then
	echo "skip: this build links libcurl and libarchive (sanitizers)"
	exit 77
fi
# Empty files by the libraries' names: the dynamic loader finds them first and cannot load them.
BAD="$TESTDIR/badlib"
mkdir -p "$BAD"
: >"$BAD/libcurl.so.4"
: >"$BAD/libarchive.so.13"

expect 0 "version runs without them" env LD_LIBRARY_PATH="$BAD" "$CAPSTAN" version
expect 0 "images runs without them" env LD_LIBRARY_PATH="$BAD" "$CAPSTAN" images
expect 69 "pull needs libcurl" env LD_LIBRARY_PATH="$BAD" "$CAPSTAN" pull -u "file://$TESTDIR/reg" foo/bar
one_line "$ERR" "pull: one-line error"
has "$ERR" "cannot load libcurl\.so\.[0-9]+: .*\(install libcurl4\)$" "pull: names the library and the package"
expect 69 "search needs libcurl" env LD_LIBRARY_PATH="$BAD" "$CAPSTAN" search -u "file://$TESTDIR/reg"
one_line "$ERR" "search: one-line error"
[ ! -e "$CAPSTAN_ROOT/repository/foo" ] && ok "nothing half-written" || fail "nothing half-written"
expect 65 "with the library the same search gets as far as the registry" "$CAPSTAN" search -u "file://$TESTDIR/reg"
has "$ERR" "has no catalog" "the registry's own error"
done_testing
