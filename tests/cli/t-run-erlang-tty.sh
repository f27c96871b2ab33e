#!/usr/bin/env bash
# The Erlang shell of examples/erlang through capstan run on a terminal (tmux), under TCG:
# erl's shell takes the terminal raw and edits lines itself (terminfo from the image),
# evaluates what is typed, prints with io:format, recalls history with the Up key, and
# halt(N) and q() end the instance with their status.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serverlib.sh"
needs /usr/lib/erlang/bin/erl /usr/bin/erlc /bin/dash /lib/terminfo/l/linux
command -v tmux >/dev/null || { echo "skip: no tmux"; exit 77; }

build_example erlang
. "$(dirname "$0")/ttylib.sh"
S=erl
SCREEN_OPTS="-J -S -" # the history too, wrapped lines joined
WAIT_TENTHS=1200      # 120 s: Erlang boots in seconds under TCG, more on a loaded machine
cleanup() {
	end_server
	for i in $(seq "$SERVERS"); do "$CAPSTAN" delete "erl-tty-$i" >/dev/null 2>&1; done
	rm -rf "$TESTDIR"
}
trap cleanup EXIT
# session: a fresh terminal running the example in the foreground, then run's status.
session() {
	new_server "$TESTDIR"
	T -f /dev/null new-session -d -s "$S" -x 160 -y 40 \
		"env CAPSTAN_ROOT='$CAPSTAN_ROOT' CAPSTAN_DATADIR='$CAPSTAN_DATADIR' CAPSTAN_DISABLE_KVM=1 '$CAPSTAN' run --name erl-tty-$SERVERS erlang; printf '\\nRC=%s\\n' \$?; sleep 60" ||
		fail "tmux session $SERVERS starts"
}
status_is() { wait_for '^RC=' && screen | grep -q "^RC=$1\$"; }

session
wait_for '^1> ' && ok "the Erlang shell prompts" || { fail "the Erlang shell prompts"; screen | grep -v "^$" | tail -5; }
screen | grep -q '^Erlang/OTP [0-9]* \[erts-' && ok "erl's banner (the full shell, not -oldshell)" ||
	fail "erl's banner (the full shell, not -oldshell)"
type_line '1+2.'
wait_for '^3$' && wait_for '^2> ' && ok "1+2. gives 3" || { fail "1+2. gives 3"; screen | grep -v "^$" | tail -5; }
type_line 'io:format("typed ~p and ~s~n", [42, "more"]).'
wait_for '^typed 42 and more$' && wait_for '^3> ' && ok "io:format prints on the console" ||
	{ fail "io:format prints on the console"; screen | grep -v "^$" | tail -5; }
# Up recalls the last line, Up again "1+2."; two backspaces and "40." make it "1+40."
# (-J pads a line edited in place with spaces).  Each Up is a write of its own: erl (OTP 25)
# moves back one line only for two Ups in one write, on the host's own terminal as well.
key Up
wait_for '^3> io:format.* *$' || fail "Up recalls the last line"
key Up
wait_for '^3> 1\+2\. *$' && ok "Up recalls an earlier line" || { fail "Up recalls an earlier line"; screen | grep -v "^$" | tail -5; }
key BSpace BSpace
type_line '40.'
wait_for '^41$' && wait_for '^4> ' && ok "an edited line is evaluated" || { fail "an edited line is evaluated"; screen | grep -v "^$" | tail -5; }
type_line 'halt(7).'
status_is 7 && ok "halt(7) ends run with 7" || { fail "halt(7) ends run with 7"; screen | grep -v "^$" | tail -5; }

session
wait_for '^1> ' || fail "second session: the prompt"
type_line 'q().'
status_is 0 && ok "q() ends run with 0" || { fail "q() ends run with 0"; screen | grep -v "^$" | tail -5; }
st=$("$CAPSTAN" instances -a --json | python3 -c 'import json,sys; print([i["status"] for i in json.load(sys.stdin) if i["name"]=="erl-tty-2"][0])')
[ "$st" = "exited (0)" ] && ok "the instance exited (0)" || fail "the instance exited (0) (got $st)"
done_testing
