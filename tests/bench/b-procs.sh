#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Process benchmarks: procbench (fork+exit+wait per second, dd of 256 MiB through a pipe into
# cat, a script running 1,000 external commands; busybox-static for the last two) on the host,
# in our kernel and in the Linux guest (linuxguest.sh: Debian's cloud kernel, a minimal
# initramfs, -M pc) under the same QEMU, TCG and, where /dev/kvm works, KVM, one after the
# other in the same run, with the ratio of ours to the Linux guest's on each figure.
# Environment (set by meson): KERNEL, MBR, MKIMAGE, PROCBENCH; QEMU; BENCH_ACCELS (default:
# tcg, and kvm where it works).
# Reports figures; fails only when something does not run (the Linux guest under nested KVM
# may not boot: that is reported, not failed).
set -u
QEMU=${QEMU:-qemu-system-x86_64}
BUSYBOX=/bin/busybox
for v in KERNEL MBR MKIMAGE PROCBENCH; do
	[ -e "${!v:-}" ] || { echo "skip: $v not built (${!v:-unset})"; exit 77; }
done
[ -x "$BUSYBOX" ] || { echo "skip: $BUSYBOX not installed (tests/deps.sh)"; exit 77; }
# shellcheck source=tests/bench/linuxguest.sh
. "$(dirname "$0")/linuxguest.sh"
# shellcheck source=tests/bench/benchlib.sh
. "$(dirname "$0")/benchlib.sh"
ACCELS=${BENCH_ACCELS:-$(lg_accels | tr '\n' ' ')}
bench_setup

# figures FILE: "forks/s MiB/s ms" from procbench's output, '-' for what is missing
figures() {
	tr -d '\r' <"$1" | awk '
		/^fork\+exit\+wait:/ { f = $2 }
		/^pipe \(dd 256 MiB \| cat\):/ { p = $7 }
		/^1000 external commands:/ { c = $4 }
		END { print (f == "" ? "-" : f), (p == "" ? "-" : p), (c == "" ? "-" : c) }'
}
# row LABEL ACCEL FILE: one line of the table; the figures kept in FILE.fig
row() {
	local f p c
	read -r f p c < <(figures "$3")
	printf '%-16s %-4s %18s %16s %20s\n' "$1" "$2" "$f" "$p" "$c"
	echo "$f $p $c" >"$3.fig"
}
# ratio ACCEL OURS LINUX: ours against the Linux guest's (above 1: ours is better); the awk
# reads the Linux guest's figures first (f p c), then ours ($1 $2 $3)
ratio() {
	if [ ! -e "$2.fig" ] || [ ! -e "$3.fig" ]; then
		echo "$1: ours against the Linux guest not measured"
		return
	fi
	awk -v a="$1" 'NR == FNR { f = $1; p = $2; c = $3; next }
		function r(x, y) { return (x + 0 > 0 && y + 0 > 0) ? sprintf("%.2fx", x / y) : "-" }
		END { printf "%s, ours / Linux guest: fork+exit+wait %s, pipe %s, 1000 commands %s (time: Linux / ours)\n",
			a, r($1, f), r($2, p), r(c, $3) }' "$3.fig" "$2.fig"
}

ours() { # ours ACCEL OUT
	bench_ours "$1" 1200 512M "$2"
	grep -q 'external commands' "$2" || { echo "capstan kernel, $1: did not finish:"; sed 's/^/    /' "$2" | tail -n 8; bad=1; }
}

linuxguest() { # linuxguest ACCEL OUT
	lg_start "$tmp/lg" "$1" 1 512M "$tmp/initrd.gz"
	lg_wait "$tmp/lg" 1200
	lg_output "$tmp/lg" >"$2"
	lg_clock_check "$tmp/lg"
	if [ "$LG_STATUS" != 0 ]; then
		echo "Linux guest, $1: ${LG_FAILURE:-status $LG_STATUS}:"
		bench_lg_tail
		[ "$1" = kvm ] || bad=1 # nested KVM may refuse Debian's kernel; TCG must work
	fi
}

"$MKIMAGE" "$tmp/disk.img" --kernel "$KERNEL" --mbr "$MBR" --cmdline "--quiet /bin/procbench" \
	"/bin/procbench=$PROCBENCH" "/bin/busybox=$BUSYBOX" >/dev/null || exit 1
if [ $linux = 1 ]; then
	LG_FILES=("$BUSYBOX:/bin/busybox")
	lg_initramfs "$tmp/initrd.gz" "$PROCBENCH" /bin/busybox || exit 1
fi
echo "procbench: fork+exit+wait, dd 256 MiB | cat, a busybox sh loop of 1,000 external commands"
printf '%-16s %-4s %18s %16s %20s\n' guest accel "fork+exit+wait/s" "pipe MiB/s" "1000 commands (ms)"
for accel in $ACCELS; do
	ours "$accel" "$tmp/ours.$accel"
	row "capstan kernel" "$accel" "$tmp/ours.$accel"
	[ $linux = 1 ] || continue
	linuxguest "$accel" "$tmp/linux.$accel"
	row "Linux guest" "$accel" "$tmp/linux.$accel"
done
(cd "$tmp" && "$PROCBENCH" "$BUSYBOX") >"$tmp/host" 2>&1 || bad=1
row "host $(uname -r | cut -d- -f1)" - "$tmp/host"
for accel in $ACCELS; do
	[ $linux = 0 ] || ratio "$accel" "$tmp/ours.$accel" "$tmp/linux.$accel"
done
exit $bad
