#!/usr/bin/env bash
# capstan help, -h, --version, unknown commands and options.
. "$(dirname "$0")/lib.sh"

expect 0 "help lists commands" "$CAPSTAN" help
has "$OUT" '^  version' "help names version"
expect 0 "--help" "$CAPSTAN" --help
has "$OUT" '^usage: capstan' "--help shows usage"
expect 0 "--version" "$CAPSTAN" --version
has "$OUT" '^capstan version [0-9]+\.[0-9]+\.[0-9]+$' "--version prints the version"
expect 0 "version command" "$CAPSTAN" version
expect 64 "no command is a usage error" "$CAPSTAN"
expect 64 "unknown command" "$CAPSTAN" frobnicate
one_line "$ERR" "unknown command is one line"
expect 64 "misspelt command" "$CAPSTAN" verison
has "$ERR" "did you mean 'version'" "misspelt command gets a hint"
expect 64 "unknown option" "$CAPSTAN" version --frob
one_line "$ERR" "unknown option is one line"

# Output that cannot be written is an I/O error (74), said in one line, not a silent 0.
if [ -w /dev/full ]; then
	for args in "version" "images" "help" "--version" "images --json" "help run"; do
		# shellcheck disable=SC2086
		run "$CAPSTAN" $args
		[ "$RC" = 0 ] && [ -s "$OUT" ] || fail "$args writes something ($RC)"
		"$CAPSTAN" $args >/dev/full 2>"$ERR"
		rc=$?
		[ "$rc" = 74 ] && ok "$args > /dev/full exits 74" || fail "$args > /dev/full exits 74 (got $rc)"
		one_line "$ERR" "$args > /dev/full: one-line error"
		has "$ERR" "No space left on device" "$args > /dev/full names the cause"
	done
fi

# Every command has -h, 'help CMD' shows the same text, and the table is sorted.
prev=""
for c in $("$CAPSTAN" help | sed -n 's/^  \([a-z]*\).*/\1/p'); do
	[ -n "$prev" ] && { [[ "$prev" < "$c" ]] && ok "$prev sorts before $c" || fail "$prev sorts before $c"; }
	prev=$c
	expect 0 "$c -h" "$CAPSTAN" "$c" -h
	cp "$OUT" "$TESTDIR/h1"
	expect 0 "help $c" "$CAPSTAN" help "$c"
	if cmp -s "$OUT" "$TESTDIR/h1"; then ok "help $c = $c -h"; else fail "help $c = $c -h"; fi
	has "$OUT" "^usage: capstan $c" "$c usage line"
done
done_testing
