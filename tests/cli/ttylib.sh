# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# What the tests on a terminal share (sourced; tests/cli/t-run-tty.sh, t-run-erlang-tty.sh,
# tests/kernel/t-shell-tty.sh): a tmux server of their own, keys typed into a pane and waits
# for what the pane shows.
#
# The caller names the session in S; new_server DIR puts the socket in DIR.  Optional:
# SCREEN_OPTS, more capture-pane options for screen (-J -S - for the history, lines joined);
# WAIT_TENTHS, how long wait_for waits by default (tenths of a second; 60 s).
S=
SOCK=
SERVERS=0

T() { tmux -S "$SOCK" "$@"; }

# end_server: the current tmux server is gone, its socket too.
end_server() {
	[ -n "$SOCK" ] || return 0
	T kill-server 2>/dev/null
	for _ in $(seq 100); do [ -e "$SOCK" ] || break; sleep 0.05; done
	rm -f "$SOCK"
}

# new_server DIR: the next sessions go to a fresh server on a private socket in DIR (a server
# still shutting down after the last session can never be the one the next one meets).
# SERVERS counts them.
new_server() {
	end_server
	SERVERS=$((SERVERS + 1))
	SOCK="$1/tmux-$SERVERS.sock"
}

# screen: what the pane shows.
screen() {
	# shellcheck disable=SC2086 # SCREEN_OPTS is words
	T capture-pane -p ${SCREEN_OPTS:-} -t "$S"
}

# wait_for REGEX [TENTHS]: until the pane shows a line matching REGEX; false after the wait.
wait_for() {
	for _ in $(seq "${2:-${WAIT_TENTHS:-600}}"); do
		screen | grep -Eq -- "$1" && return 0
		sleep 0.1
	done
	return 1
}

# type_line TEXT: TEXT typed as it is, then Enter.
type_line() { T send-keys -t "$S" -l -- "$1" && T send-keys -t "$S" Enter; }

# key KEY...: keys by tmux's names (Up, C-c, BSpace).
key() { T send-keys -t "$S" "$@"; }
