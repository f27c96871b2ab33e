#!/usr/bin/env bash
# capstan run on a terminal (tmux): capstan/hello, the capstan/base shell, raw mode restored, Ctrl-A X.
. "$(dirname "$0")/lib.sh"
if ! command -v tmux >/dev/null; then echo "SKIP: tmux is not installed"; echo "0 passed, 0 failed"; exit 77; fi
if ! "$CAPSTAN" search capstan/base 2>/dev/null | grep -q 'capstan/base'; then
	echo "SKIP: the default registry has no capstan/base (built with -Dkernel=false?)"
	echo "0 passed, 0 failed"
	exit 77
fi
export CAPSTAN_DISABLE_KVM=1
. "$(dirname "$0")/ttylib.sh"
S=tty
WAIT_TENTHS=200 # 20 s
cleanup() { end_server; rm -rf "$TESTDIR"; }
trap cleanup EXIT
# session ARGS: a fresh terminal running 'capstan run ARGS', then its status and tty mode.
session() {
	new_server "$TESTDIR"
	T -f /dev/null new-session -d -s "$S" -x 160 -y 40 \
		"env CAPSTAN_ROOT='$CAPSTAN_ROOT' CAPSTAN_DISABLE_KVM=1 '$CAPSTAN' run $*; echo \"RC=\$?\"; stty -a | grep -o -- '-\\?icanon' | sed 's/^/TTY=/'; sleep 60" ||
		fail "tmux session $SERVERS starts"
}

# capstan/hello, pulled from the default registry on first use.
expect 0 "run capstan/hello (pulled on first use)" "$CAPSTAN" run capstan/hello </dev/null
has "$OUT" '^Created instance: capstan-hello$' "hello: instance created"
has "$OUT" '^Hello, world!' "hello: the program's output"
[ "$(cd "$TESTDIR" && "$CAPSTAN" instances -a --json | python3 -c 'import json,sys; print([i["status"] for i in json.load(sys.stdin) if i["name"]=="capstan-hello"][0])')" = "exited (0)" ] &&
	ok "hello: exited (0)" || fail "hello: exited (0)"

# The base image's shell, typed into through the terminal.
session capstan/base
wait_for '^\$( |$)' && ok "base: the shell prompt appears" || { fail "base: the shell prompt appears"; screen | tail -5; }
screen | grep -q '^Created instance: capstan-base' && ok "base: instance line starts its own line" || fail "base: instance line starts its own line"
type_line 'echo typed-through-tty'
wait_for '^typed-through-tty' && ok "base: input reaches the guest and output comes back" || fail "base: input reaches the guest"
type_line 'exit 3'
wait_for '^RC=' && ok "base: run returns when the shell exits" || fail "base: run returns when the shell exits"
screen | grep -q '^RC=3$' && ok "base: run exits with the shell's status" || { fail "base: run exits with the shell's status"; screen | grep RC=; }
wait_for '^TTY=' && screen | grep -q '^TTY=icanon$' && ok "base: the terminal is back in cooked mode" || fail "base: the terminal is back in cooked mode"

# Ctrl-A X leaves, and the terminal comes back too.
session --name leave capstan/base
wait_for '^\$( |$)' || fail "leave: prompt"
key C-a x
wait_for '^RC=' && ok "Ctrl-A X leaves the VM" || fail "Ctrl-A X leaves the VM"
screen | grep -q '^RC=0$' && ok "leaving exits 0" || fail "leaving exits 0"
wait_for '^TTY=' && screen | grep -q '^TTY=icanon$' && ok "Ctrl-A X: the terminal is back in cooked mode" || fail "Ctrl-A X: the terminal is restored"
st=$("$CAPSTAN" instances -a --json | python3 -c 'import json,sys; print([i["state"] for i in json.load(sys.stdin) if i["name"]=="leave"][0])')
[ "$st" = stopped ] && ok "a VM left with Ctrl-A X is stopped" || fail "a VM left with Ctrl-A X is stopped ($st)"

# A signal to capstan run restores the terminal too and stops the VM.
session --name sig capstan/base
wait_for '^\$( |$)' || fail "sig: prompt"
# capstan itself: the child of the pane's shell (env execs it)
kill -TERM "$(pgrep -P "$(T list-panes -t "$S" -F '#{pane_pid}')")"
wait_for '^RC=' && ok "SIGTERM ends run" || fail "SIGTERM ends run"
screen | grep -q '^RC=143$' && ok "run exits 128+SIGTERM" || fail "run exits 128+SIGTERM"
wait_for '^TTY=' && screen | grep -q '^TTY=icanon$' && ok "SIGTERM: the terminal is restored" || fail "SIGTERM: the terminal is restored"
st=$("$CAPSTAN" instances -a --json | python3 -c 'import json,sys; print([i["state"] for i in json.load(sys.stdin) if i["name"]=="sig"][0])')
[ "$st" = stopped ] && ok "a VM ended by a signal to run is stopped" || fail "a VM ended by a signal to run is stopped ($st)"
done_testing
