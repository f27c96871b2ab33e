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

# --- guests with a network (t-run-net.sh, t-run-load.sh)
# needs_guest_net: skip (77) unless the build's registry tree, QEMU, curl and a C compiler are
# there; the guests then come from that tree and run under TCG.
needs_guest_net() {
	local tree="${CAPSTAN_DATADIR:-$CAPSTAN_BUILD_ROOT}/repo"
	[ -f "$tree/index.yaml" ] || { echo "skip: no registry tree at $tree (built with -Dkernel=true)"; exit 77; }
	command -v qemu-system-x86_64 >/dev/null || { echo "skip: no qemu-system-x86_64"; exit 77; }
	command -v curl >/dev/null || { echo "skip: no curl"; exit 77; }
	command -v musl-gcc >/dev/null || command -v cc >/dev/null || { echo "skip: no C compiler"; exit 77; }
	export CAPSTAN_DATADIR="${CAPSTAN_DATADIR:-$CAPSTAN_BUILD_ROOT}"
	export CAPSTAN_DISABLE_KVM=1
}
# free_port: a TCP port nothing listens on at 127.0.0.1 now
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# wait_http PORT: until http://127.0.0.1:PORT/healthz answers (the guest boots, takes its
# address, listens), tried every 0.5 s, at most 120 times
wait_http() {
	for _ in $(seq 120); do
		curl -s -m 2 "http://127.0.0.1:$1/healthz" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	return 1
}
