#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Interactive shells in the unikernel on a real terminal (tmux): busybox sh with external
# commands, a pipeline, ^C ending the foreground job while the shell goes on; then job
# control in busybox sh, bash-static and zsh-static: ^Z, bg, fg, a background job, a background
# reader stopped by SIGTTIN, kill -9 of a stopped job (each shell prints what it does on Linux).
#
# The guest runs under QEMU in a tmux pane (microvm, TCG, direct boot); keys are typed with
# tmux send-keys and every step waits until the pane shows what it expects.
# Environment (set by meson): KERNEL, MKIMAGE; QEMU (default qemu-system-x86_64).
# Exits 77 when the kernel, busybox-static or tmux is missing; the bash and zsh parts are
# skipped without bash-static or zsh-static.
set -u
QEMU=${QEMU:-qemu-system-x86_64}
BUSYBOX=/bin/busybox
BASH_STATIC=/bin/bash-static
ZSH_STATIC=/bin/zsh-static
for v in KERNEL MKIMAGE; do
	[ -e "${!v:-}" ] || { echo "skip: $v not built (${!v:-unset})"; exit 77; }
done
command -v tmux >/dev/null || { echo "skip: tmux is not installed"; exit 77; }
[ -x "$BUSYBOX" ] || { echo "skip: $BUSYBOX not installed (tests/deps.sh)"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/capstan-tty.XXXXXX") || exit 1
# shellcheck source=tests/cli/ttylib.sh
. "$(dirname "$0")/../cli/ttylib.sh"
new_server "$tmp" # one server; a session per guest, named S
cleanup() {
	end_server
	rm -rf "$tmp"
}
trap cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() {
	fail=$((fail + 1))
	echo "FAIL $1"
	T capture-pane -p -S -40 -t "$S" 2>/dev/null | sed 's/^/    /' | tail -40
}
# wait_for waits 60 s at most by default: TCG on a busy host.
# fresh: an empty pane, so what the next step waits for cannot be an older line (zsh's fg
# prints the job as its jobs did).
fresh() { T send-keys -t "$S" -R \; clear-history -t "$S"; }
# interrupt: ^C until the shell prompts again; one typed before the shell handed the
# terminal to the job it brought back reaches the shell, which ignores it (bounded).
interrupt() {
	for _ in $(seq 30); do
		key C-c
		wait_for 'sh> ?$' 50 && return 0
	done
	return 1
}
# retype_until REGEX LINE: type LINE again until the pane shows REGEX (for what comes true in
# its own time, as a background job's stop; a bounded number of times).
retype_until() {
	for _ in $(seq 100); do
		screen | grep -Eq -- "$1" && return 0
		type_line "$2"
		sleep 0.3
	done
	return 1
}

# boot NAME CMDLINE FILE...: the guest in tmux session NAME, the shell's console its pane.
boot() {
	S=$1
	if ! "$MKIMAGE" "$tmp/$1.img" --kernel "$KERNEL" --cmdline "$2" "${@:3}" >"$tmp/mk" 2>&1; then
		echo "FAIL mkimage: $(head -1 "$tmp/mk")"
		exit 1
	fi
	# signal=off: ^C typed in the pane goes to the guest, not to QEMU
	T -f /dev/null new-session -d -s "$1" -x 120 -y 40 \
		"'$QEMU' -nodefaults -no-user-config -display none -no-reboot -m 128M \
		-chardev stdio,id=con,signal=off -serial chardev:con \
		-device isa-debug-exit,iobase=0xf4,iosize=4 \
		-chardev file,id=st,path='$tmp/$1.status' -device isa-debugcon,iobase=0xe9,chardev=st \
		-M microvm,x-option-roms=off,pit=off,pic=off,rtc=on -accel tcg -kernel '$KERNEL' \
		-drive id=d0,file='$tmp/$1.img',format=raw,if=none -device virtio-blk-device,drive=d0; \
		echo RC=\$?; sleep 600" || { echo "FAIL tmux session $1 starts"; exit 1; }
	wait_for '^sh> ?$' && ok "$1: the interactive shell prompts" || bad "$1: the interactive shell prompts"
}

# Job control: ^Z stops the foreground job, bg continues it in the background, fg brings it
# back, ^C ends it; a background job; one that reads the terminal stops.  (busybox sh, bash
# and zsh word a few things differently.)
job_control() {
	type_line 'busybox sh -c "echo job two; exec busybox sleep 600"'
	wait_for '^job two$' || bad "$S: the second foreground job starts"
	key C-z
	wait_for '^(\[1\]\+ +Stopped|zsh: suspended) +busybox sh -c' && ok "$S: ^Z stops the foreground job" ||
		bad "$S: ^Z stops the foreground job"
	type_line 'echo "stopped $?"'
	wait_for '^stopped 148$' && ok "$S: a stopped job's status is 128+SIGTSTP" ||
		bad "$S: a stopped job's status is 128+SIGTSTP"
	type_line 'bg'
	retype_until '^\[1\] *\+ +[Rr]unning +busybox sh -c' jobs && ok "$S: bg continues the job in the background" ||
		bad "$S: bg continues the job in the background"
	fresh
	type_line 'fg'
	wait_for '^(\[1\]  \+ running    )?busybox sh -c "echo job two; exec busybox sleep 600"$' ||
		bad "$S: fg names the job"
	interrupt || bad "$S: ^C ends the job fg continued"
	type_line 'echo "after fg $?"'
	wait_for '^after fg 130$' && ok "$S: fg continues the job in the foreground, ^C ends it" ||
		bad "$S: fg continues the job in the foreground, ^C ends it"
	type_line 'busybox sleep 600 &'
	type_line 'jobs'
	wait_for '^\[1\] *\+ +[Rr]unning +busybox sleep 600( &)?$' && ok "$S: jobs lists the background job" ||
		bad "$S: jobs lists the background job"
	fresh
	type_line 'fg'
	wait_for '^(\[1\]  \+ running    )?busybox sleep 600$' || bad "$S: fg brings the background job"
	interrupt || bad "$S: ^C ends the job fg brought back"
	type_line 'echo "after bg $?"'
	wait_for '^after bg 130$' && ok "$S: fg brings a background job to the foreground, ^C ends it" ||
		bad "$S: fg brings a background job to the foreground, ^C ends it"
	type_line 'busybox cat &'
	retype_until '^\[1\] *\+ +([Ss]topped|suspended)( \(tty input\))? +busybox cat$' jobs &&
		ok "$S: a background job reading the terminal stops (SIGTTIN)" ||
		bad "$S: a background job reading the terminal stops (SIGTTIN)"
	type_line 'kill -9 %1'
	retype_until '^\[1\] *\+ +[Kk]illed +busybox cat$' jobs && ok "$S: kill -9 ends a stopped job" ||
		bad "$S: kill -9 ends a stopped job"
	type_line 'exit 7'
	wait_for '^RC=' && grep -qx 'exit 7' "$tmp/$S.status" && ok "$S: exit 7 ends the VM with status 7" ||
		bad "$S: exit 7 ends the VM with status 7 ($(cat "$tmp/$S.status" 2>/dev/null))"
}

boot busybox "--quiet '--env=PS1=sh> ' /bin/busybox sh -i" "/bin/busybox=$BUSYBOX"
type_line 'busybox echo one two three | busybox wc -w'
wait_for '^3$' && ok "busybox: a pipeline of external commands" || bad "busybox: a pipeline of external commands"
type_line 'busybox sh -c "echo job started; exec busybox sleep 600"'
wait_for '^job started$' || bad "busybox: the foreground job starts"
key C-c
type_line 'echo "after $?"'
wait_for '^after 130$' && ok "busybox: ^C ends the foreground job (status 130), the shell goes on" ||
	bad "busybox: ^C ends the foreground job (status 130), the shell goes on"
job_control

if [ -x "$BASH_STATIC" ]; then
	boot bash "--quiet '--env=PS1=sh> ' /bin/bash --norc --noprofile -i" \
		"/bin/busybox=$BUSYBOX" "/bin/bash=$BASH_STATIC"
	job_control
else
	echo "skip bash: $BASH_STATIC not installed (tests/deps.sh)"
fi
if [ -x "$ZSH_STATIC" ]; then
	boot zsh "--quiet '--env=PS1=sh> ' /bin/zsh -f -i" "/bin/busybox=$BUSYBOX" "/bin/zsh=$ZSH_STATIC"
	job_control
else
	echo "skip zsh: $ZSH_STATIC not installed (tests/deps.sh)"
fi
echo "$pass passed, $fail failed"
[ $fail = 0 ]
