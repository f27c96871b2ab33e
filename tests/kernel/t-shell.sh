#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Shell scripts under Debian's static shells, in the unikernel and natively: same output, same status.
#
# t-shell.sh [CASE...] | --list-scripts
#   Each CASE (table below) is a script in tests/kernel/shell/ and a shell
#   (busybox: busybox-static's ash, bash: bash-static, zsh: zsh-static).  The script runs
#   natively with the host's copy of the same static binary in an empty
#   directory, then in the unikernel (microvm, TCG, direct boot) as the
#   program on the kernel command line; the console (without CR) and the
#   status must match exactly.  $SHELL_CMD runs the same shell again;
#   busybox is in every image, for the external commands scripts run (and
#   as /bin/gzip, which its tar -z runs).
#   An interactive case (icase) types INPUT on the console of COMMAND (an
#   interactive shell, say), in the unikernel only (natively there is no
#   terminal): the lines expected must appear in order and the status must
#   be STATUS.
# Environment (set by meson): KERNEL, MKIMAGE, SCRIPTS (tests/kernel/shell);
#   QEMU (default qemu-system-x86_64), BOOT_TIMEOUT (s, default 60).
# Exits 77 when the kernel or both shells are missing.
set -u
QEMU=${QEMU:-qemu-system-x86_64}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-60}
declare -A shell_path=([busybox]=/bin/busybox [bash]=/bin/bash-static [zsh]=/bin/zsh-static)
declare -A shell_argv=([busybox]="/bin/busybox sh" [bash]="/bin/bash --norc --noprofile" [zsh]="/bin/zsh -f")

# case NAME SHELL SCRIPT
cases=()
case_def() { cases+=("$1"); eval "case_$1=(\"\${@:2}\")"; }
case_def heredoc_busybox busybox heredoc.sh
case_def heredoc_bash bash heredoc.sh
case_def heredoc_zsh zsh heredoc.sh
case_def trap_busybox busybox trap.sh
case_def trap_bash bash trap.sh
case_def trap_zsh zsh trap.sh
case_def trapsig_busybox busybox trapsig.sh
case_def trapsig_bash bash trapsig.sh
case_def trapsig_zsh zsh trapsig.sh
case_def builtins_busybox busybox builtins.sh
case_def builtins_bash bash builtins.sh
case_def builtins_zsh zsh builtins.sh
case_def pipelines_busybox busybox pipelines.sh
case_def pipelines_bash bash pipelines.sh
case_def pipelines_zsh zsh pipelines.sh
# icase NAME SHELL STATUS COMMAND INPUT EXPECTED-LINE...
icases=()
icase_def() { icases+=("$1"); eval "icase_$1=(\"\${@:2}\")"; }
icase_def interactive_busybox busybox 5 '/bin/busybox sh -i' \
	$'echo "sum $((6 * 7))"\nx=abc\x7f\x7fyz\necho "x=$x"\nexit 5\n' 'sum 42' 'x=ayz'
icase_def interactive_bash bash 6 '/bin/bash --norc -i' \
	$'echo "sum $((6 * 7))"\nx=abc\x7f\x7fyz\necho "x=$x"\nexit 6\n' 'sum 42' 'x=ayz'
icase_def interactive_zsh zsh 8 '/bin/zsh -f -i' \
	$'echo "sum $((6 * 7))"\nx=abc\x7f\x7fyz\necho "x=$x"\nexit 8\n' 'sum 42' 'x=ayz'
# read -t polls the console: a waiting line is read, none times out
icase_def read_t_line busybox 0 "/bin/busybox sh -c 'read -t 30 x; echo \"status \$? [\$x]\"'" \
	$'typed line\n' 'status 0 [typed line]'
icase_def read_t_timeout busybox 0 "/bin/busybox sh -c 'read -t 1 x; echo \"status \$? [\$x]\"'" \
	'' 'status 1 []'
# ^C typed while the program sleeps: SIGINT, status 130
icase_def intr_sleep busybox 130 '/bin/busybox sleep 600' $'\x03' '^C'
# ... also behind a typed line the program has not read yet
icase_def intr_typeahead busybox 130 '/bin/busybox sleep 600' $'not read\n\x03' '^C'

# the scripts the table runs (for tests/unit/check-registered.sh)
if [ "${1:-}" = --list-scripts ]; then
	for c in "${cases[@]}"; do eval "echo \${case_$c[1]}"; done | sort -u
	exit 0
fi
for v in KERNEL MKIMAGE SCRIPTS; do
	[ -e "${!v:-}" ] || { echo "skip: $v not built (${!v:-unset})"; exit 77; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/capstan-sh.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0 skipped=0

run_case() { # run_case NAME SHELL SCRIPT
	local name=$1 sh=$2 script=$SCRIPTS/$3 bin=${shell_path[$2]}
	if [ ! -x "$bin" ]; then
		skipped=$((skipped + 1))
		echo "skip $name: $bin not installed (tests/deps.sh)"
		return
	fi
	# natively: the shell's argv as in the guest, from an empty directory
	local argv=(${shell_argv[$sh]})
	rm -rf "$tmp/native" && mkdir "$tmp/native"
	(cd "$tmp/native" && SHELL_CMD="$bin ${argv[*]:1:1}" "$bin" "${argv[@]:1}" "$script" \
		</dev/null >"$tmp/want" 2>&1)
	local want=$?
	# in the unikernel
	rm -f "$tmp/img" "$tmp/status"
	if ! "$MKIMAGE" "$tmp/img" --kernel "$KERNEL" \
		--cmdline "--quiet '--env=SHELL_CMD=${argv[*]:0:2}' ${shell_argv[$sh]} /test.sh" \
		"${argv[0]}=$bin" "/bin/busybox=${shell_path[busybox]}" \
		"/bin/gzip=${shell_path[busybox]}" "/test.sh=$script" >"$tmp/mk" 2>&1; then
		fail=$((fail + 1))
		echo "FAIL $name: mkimage: $(head -1 "$tmp/mk")"
		return
	fi
	timeout -k 5 "$BOOT_TIMEOUT" "$QEMU" -nodefaults -no-user-config -display none -serial stdio \
		-no-reboot -m 128M -device isa-debug-exit,iobase=0xf4,iosize=4 \
		-chardev "file,id=st,path=$tmp/status" -device isa-debugcon,iobase=0xe9,chardev=st \
		-M microvm,x-option-roms=off,pit=off,pic=off,rtc=on -accel tcg -kernel "$KERNEL" \
		-drive "id=d0,file=$tmp/img,format=raw,if=none" -device virtio-blk-device,drive=d0 \
		</dev/null 2>&1 | tr -d '\r' >"$tmp/got"
	local got
	got=$(grep -E '^(exit|fault|panic)' "$tmp/status" 2>/dev/null | tail -1 | awk '{ print $2 }')
	if [ "$got" != "$want" ]; then
		fail=$((fail + 1))
		echo "FAIL $name: status ${got:-none}, want $want"
		diff "$tmp/want" "$tmp/got" | sed 's/^/    /' | head -30
		return
	fi
	if ! diff -u "$tmp/want" "$tmp/got" >"$tmp/diff"; then
		fail=$((fail + 1))
		echo "FAIL $name: output differs (- native, + unikernel)"
		sed 's/^/    /' "$tmp/diff" | head -40
		return
	fi
	pass=$((pass + 1))
	echo "ok   $name"
}

run_icase() { # run_icase NAME SHELL STATUS COMMAND INPUT EXPECTED...
	local name=$1 sh=$2 want=$3 cmd=$4 input=$5 bin=${shell_path[$2]}
	shift 5
	if [ ! -x "$bin" ]; then
		skipped=$((skipped + 1))
		echo "skip $name: $bin not installed (tests/deps.sh)"
		return
	fi
	rm -f "$tmp/img" "$tmp/status"
	"$MKIMAGE" "$tmp/img" --kernel "$KERNEL" --cmdline "--quiet $cmd" \
		"${cmd%% *}=$bin" >"$tmp/mk" 2>&1 || { fail=$((fail + 1)); echo "FAIL $name: mkimage"; return; }
	printf '%s' "$input" | timeout -k 5 "$BOOT_TIMEOUT" "$QEMU" -nodefaults -no-user-config \
		-display none -serial stdio -no-reboot -m 128M -device isa-debug-exit,iobase=0xf4,iosize=4 \
		-chardev "file,id=st,path=$tmp/status" -device isa-debugcon,iobase=0xe9,chardev=st \
		-M microvm,x-option-roms=off,pit=off,pic=off,rtc=on -accel tcg -kernel "$KERNEL" \
		-drive "id=d0,file=$tmp/img,format=raw,if=none" -device virtio-blk-device,drive=d0 \
		2>&1 | tr -d '\r' >"$tmp/got"
	local got l
	got=$(grep -E '^(exit|fault|panic)' "$tmp/status" 2>/dev/null | tail -1 | awk '{ print $2 }')
	if [ "$got" != "$want" ]; then
		fail=$((fail + 1))
		echo "FAIL $name: status ${got:-none}, want $want"
		sed 's/^/    /' "$tmp/got" | head -30
		return
	fi
	cp "$tmp/got" "$tmp/rest"
	for l in "$@"; do # each line in order, after the one before
		local at
		at=$(grep -nxF -- "$l" "$tmp/rest" | head -1 | cut -d: -f1)
		if [ -z "$at" ]; then
			fail=$((fail + 1))
			echo "FAIL $name: missing line: $l"
			sed 's/^/    /' "$tmp/got" | head -30
			return
		fi
		tail -n +$((at + 1)) "$tmp/rest" >"$tmp/rest2" && mv "$tmp/rest2" "$tmp/rest"
	done
	pass=$((pass + 1))
	echo "ok   $name"
}

[ $# -gt 0 ] || set -- "${cases[@]}" "${icases[@]}"
for c in "$@"; do
	ref="case_$c[@]"
	spec=("${!ref-}")
	if [ -n "${spec[0]:-}" ]; then
		run_case "$c" "${spec[@]}"
		continue
	fi
	ref="icase_$c[@]"
	spec=("${!ref-}")
	[ -n "${spec[0]:-}" ] || { fail=$((fail + 1)); echo "FAIL $c: no such case"; continue; }
	run_icase "$c" "${spec[@]}"
done
echo "$pass passed, $fail failed, $skipped skipped"
[ $fail = 0 ] || exit 1
[ $pass -gt 0 ] || exit 77
exit 0
