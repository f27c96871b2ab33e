# Shared by the server tests (t-run-go-http.sh, t-run-nginx.sh, t-run-python-http.sh,
# t-run-redis.sh): an example of examples/ built on the build's registry and run
# detached under TCG with a forward, reached from the host, stopped through the
# power button (SIGTERM in the guest), its console read back.
# shellcheck shell=bash
tree="${CAPSTAN_DATADIR:-$CAPSTAN_BUILD_ROOT}/repo"
[ -f "$tree/index.yaml" ] || { echo "skip: no registry tree at $tree (built with -Dkernel=true)"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "skip: no qemu-system-x86_64"; exit 77; }
export CAPSTAN_DATADIR="${CAPSTAN_DATADIR:-$CAPSTAN_BUILD_ROOT}"
export CAPSTAN_DISABLE_KVM=1
INST=
cleanup() {
	[ -z "$INST" ] || "$CAPSTAN" delete "$INST" >/dev/null 2>&1
	rm -rf "$TESTDIR"
}
trap cleanup EXIT

# needs PATH...: skip (77) unless each of the Debian package's files is there
needs() {
	local f
	for f in "$@"; do
		[ -e "$f" ] || { echo "skip: $f missing (its Debian package is not installed)"; exit 77; }
	done
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_until SECS CMD...: runs CMD every 0.25 s until it succeeds; false after SECS seconds
wait_until() {
	local end=$((SECONDS + $1))
	shift
	while [ $SECONDS -lt $end ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.25
	done
	return 1
}

# build_example NAME: examples/NAME copied into $TESTDIR and built there
build_example() {
	cp -r "$CAPSTAN_SOURCE_ROOT/examples/$1" "$TESTDIR/$1"
	cd "$TESTDIR/$1" || exit 1
	expect 0 "capstan build examples/$1" "$CAPSTAN" build -q
	[ "$RC" = 0 ] || { cat "$OUT" "$ERR"; done_testing; exit 1; }
}

# start_example NAME GUEST-PORT: runs it detached as NAME with HOST_PORT forwarded to the guest port
start_example() {
	HOST_PORT=$(free_port)
	INST=$1
	expect 0 "run -d -f $HOST_PORT:$2 $1" "$CAPSTAN" run -d --name "$1" -f "$HOST_PORT:$2" "$1"
	[ "$RC" = 0 ] || { done_testing; exit 1; }
}

# serving SECS CMD...: the server answers CMD within SECS seconds (else its console is shown)
serving() {
	if wait_until "$@"; then
		ok "$INST answers from the host"
		return 0
	fi
	fail "$INST answers from the host"
	"$CAPSTAN" logs "$INST"
	done_testing
	exit 1
}

# stop_example STATUS: capstan stop powers it off gracefully; the program's own exit status
stop_example() {
	expect 0 "stop $INST" "$CAPSTAN" stop "$INST"
	has "$OUT" "^Stopped instance: $INST \\(powered off\\)$" "$INST powered off through the power button, not forced"
	run "$CAPSTAN" instances -a --json
	local st
	st=$(python3 -c 'import json, sys; print([i["exit_status"] for i in json.load(open(sys.argv[1])) if i["name"] == sys.argv[2]][0])' "$OUT" "$INST" 2>&1)
	[ "$st" = "$1" ] && ok "$INST exited with status $1" || fail "$INST exited with status $1 (got $st)"
	expect 0 "logs $INST" "$CAPSTAN" logs "$INST"
	LOG="$TESTDIR/console"
	tr -d '\r' <"$OUT" >"$LOG" # the console ends lines with CR LF
}
