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
