# Shared helpers for the CLI tests: a temporary root and assertions.
# shellcheck shell=bash
set -u
: "${CAPSTAN:?CAPSTAN must point at the built binary}"
TESTDIR=$(mktemp -d "${TMPDIR:-/tmp}/capstan-test.XXXXXX")
export CAPSTAN_ROOT="$TESTDIR/root"
unset CAPSTAN_REPO_URL
trap 'rm -rf "$TESTDIR"' EXIT
PASS=0
FAIL=0
OUT="$TESTDIR/out"
ERR="$TESTDIR/err"

# run CMD...: runs it, keeps stdout in $OUT, stderr in $ERR, status in $RC.
run() {
	"$@" >"$OUT" 2>"$ERR"
	RC=$?
}
ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
fail() {
	FAIL=$((FAIL + 1))
	echo "not ok - $*"
	echo "  stdout: $(head -c 2000 "$OUT" 2>/dev/null)"
	echo "  stderr: $(head -c 2000 "$ERR" 2>/dev/null)"
}
# expect CODE DESC CMD...: the command exits with CODE.
expect() {
	local code=$1 desc=$2
	shift 2
	run "$@"
	if [ "$RC" = "$code" ]; then ok "$desc"; else fail "$desc (exit $RC, wanted $code)"; fi
}
# has FILE REGEX DESC: the file matches the extended regex.
has() {
	if grep -Eq -- "$2" "$1"; then ok "$3"; else fail "$3 (no /$2/ in $(basename "$1"))"; fi
}
hasnt() {
	if grep -Eq -- "$2" "$1"; then fail "$3 (found /$2/ in $(basename "$1"))"; else ok "$3"; fi
}
# one_line FILE DESC: the file is exactly one line starting with "capstan: ".
one_line() {
	if [ "$(wc -l <"$1")" = 1 ] && grep -q '^capstan: ' "$1"; then ok "$2"; else fail "$2 (not a one-line error)"; fi
}
done_testing() {
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" = 0 ]
}
