#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Boot benchmarks: kernel size, direct and disk boot against do-nothing peers, kernel entry to program entry.
#
# Each figure is a ratio or difference against a peer measured in the same run:
#  1. the kernel file against its 256 KiB budget; hello must boot with -m 8M;
#  2. direct boot under TCG (microvm, -kernel, virtio-mmio disk): QEMU spawn to
#     hello's exit, against an empty PVH kernel that exits at its first
#     instruction (target: ratio <= 1.5);
#  3. disk boot under TCG (pc, SeaBIOS, our MBR, virtio-blk-pci): hello against
#     a boot sector that exits at once, on the same disk (target: <= 20 ms more);
#  4. under KVM where it works: the kernel's boot trace from its first
#     instruction to the program's entry point (target: < 1 ms);
#  5. QEMU spawn to hello's output on the console: our kernel (direct boot) against
#     the same hello in the Linux guest (linuxguest.sh: Debian's cloud kernel on pc,
#     a minimal initramfs), both with -m 256M (Debian's kernel does not boot in 64M),
#     each console line stamped as it arrives; medians of LG_RUNS (default 5), TCG and,
#     where it works, KVM.
# Medians of RUNS (default 15) runs, the two commands of a pair interleaved so
# that load from elsewhere on the machine hits both alike.  Environment (set by meson):
# KERNEL, MBR, MKIMAGE, HELLO (hello.musl), EMPTY_PVH, EXIT_MBR, CAPSTAN_BUILD_ROOT; QEMU.
# Fails only when something does not run or the size budget is exceeded;
# the timing targets are reported, not asserted.
set -u
QEMU=${QEMU:-qemu-system-x86_64}
RUNS=${RUNS:-15}
for v in KERNEL MBR MKIMAGE HELLO EMPTY_PVH EXIT_MBR; do
	[ -e "${!v:-}" ] || { echo "skip: $v not built (${!v:-unset})"; exit 77; }
done
# shellcheck source=tests/bench/linuxguest.sh
. "$(dirname "$0")/linuxguest.sh"
LG_RUNS=${LG_RUNS:-5}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/capstan-bench.XXXXXX") || exit 1
trap 'lg_cleanup; rm -rf "$tmp"' EXIT
bad=0

calc() { awk "BEGIN { print $1 }"; }

# pair A B: runs the commands A and B (word-split) RUNS times each, after a
# warm-up, alternating; sets ma and mb to their median wall times in ms.
pair() {
	local i t0 t1 st
	: >"$tmp/a"
	: >"$tmp/b"
	for i in $(seq 0 "$RUNS"); do
		for which in a b; do
			local cmd=$1
			[ $which = a ] || cmd=$2
			t0=$EPOCHREALTIME
			timeout 60 $cmd </dev/null >/dev/null 2>&1
			st=$?
			t1=$EPOCHREALTIME
			[ $st != 124 ] || { echo "timed out: $cmd"; exit 1; }
			[ "$i" = 0 ] || calc "($t1 - $t0) * 1000" >>"$tmp/$which"
		done
	done
	ma=$(med "$tmp/a")
	mb=$(med "$tmp/b")
}
med() { sort -n "$1" | awk '{ a[NR] = $1 } END { printf "%.1f\n", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# 1. size
size=$(stat -c %s "$KERNEL")
budget=$((256 * 1024))
printf 'kernel size: %d bytes, %.1f%% of the %d-byte budget\n' "$size" "$(calc "$size * 100 / $budget")" "$budget"
[ "$size" -le "$budget" ] || { echo "kernel size: OVER BUDGET"; bad=1; }

hello=$tmp/hello.img
"$MKIMAGE" "$hello" --kernel "$KERNEL" --mbr "$MBR" --cmdline "/hello" "/hello=$HELLO" >/dev/null || exit 1
exitimg=$tmp/exit.img
"$MKIMAGE" "$exitimg" --kernel "$KERNEL" --mbr "$EXIT_MBR" --cmdline "/hello" "/hello=$HELLO" >/dev/null || exit 1

common="$QEMU -nodefaults -no-user-config -display none -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4"
direct="$common -serial stdio -M microvm,x-option-roms=off,pit=off,pic=off,rtc=off -accel tcg -drive id=d0,file=$hello,format=raw,if=none -device virtio-blk-device,drive=d0"
disk="$common -serial stdio -M pc -accel tcg"

# hello must work, in 8 MiB, before its time means anything
for m in "$direct -m 8M -kernel $KERNEL" "$disk -m 8M -drive file=$hello,format=raw,if=virtio"; do
	out=$(timeout 60 $m </dev/null 2>&1)
	st=$?
	if [ $st != 1 ] || ! grep -q '^hello, world' <<<"$out"; then
		echo "hello with -m 8M: FAILED (status $st): $(head -c 300 <<<"$out")"
		exit 1
	fi
done
echo "hello with -m 8M: ok (direct and disk boot)"

# 2. direct boot
pair "$direct -m 64M -kernel $KERNEL" "$direct -m 64M -kernel $EMPTY_PVH"
printf 'direct boot, TCG, median of %d: hello %s ms, empty PVH kernel %s ms, ratio %.2f (target <= 1.5)\n' \
	"$RUNS" "$ma" "$mb" "$(calc "$ma / $mb")"

# 3. disk boot
pair "$disk -m 64M -drive file=$hello,format=raw,if=virtio" "$disk -m 64M -drive file=$exitimg,format=raw,if=virtio"
printf 'disk boot, TCG, median of %d: hello %s ms, exiting MBR %s ms, difference %.1f ms (target <= 20)\n' \
	"$RUNS" "$ma" "$mb" "$(calc "$ma - $mb")"

# 4. kernel entry to program entry, from the boot trace: KVM is the target,
# TCG is shown for comparison.
"$MKIMAGE" "$tmp/trace.img" --kernel "$KERNEL" --cmdline "--trace /hello" "/hello=$HELLO" >/dev/null || exit 1
trace() { # trace ACCEL-ARGS...: sets us to the median over RUNS boots (no subshell: the EXIT trap)
	local i
	: >"$tmp/us"
	for i in $(seq "$RUNS"); do
		timeout 60 $common -serial stdio -M microvm,x-option-roms=off,pit=off,pic=off,rtc=off -m 64M "$@" \
			-kernel "$KERNEL" -drive "id=d0,file=$tmp/trace.img,format=raw,if=none" \
			-device virtio-blk-device,drive=d0 </dev/null 2>&1 | tr -d '\r' |
			sed -n "s/.*boot trace: .*program entry at \([0-9][0-9]*\) us.*/\1/p" >>"$tmp/us"
	done
	us=
	[ -s "$tmp/us" ] && us=$(med "$tmp/us")
	[ -n "$us" ]
}
if trace -accel tcg; then
	printf 'kernel entry to program entry, TCG, median of %d: %s us\n' "$RUNS" "$us"
else
	echo "kernel entry to program entry, TCG: no trace line in the output"; bad=1
fi
# KVM is usable when the empty kernel runs under it (isa-debug-exit: odd status above 1).
timeout 20 $common -M microvm -accel kvm -cpu host,-arch-capabilities -kernel "$EMPTY_PVH" </dev/null >/dev/null 2>&1
st=$?
kvm=0
if [ -r /dev/kvm ] && [ $st != 124 ] && [ $st -gt 1 ] && [ $((st % 2)) = 1 ]; then
	kvm=1
	if trace -accel kvm -cpu host,-arch-capabilities; then
		printf 'kernel entry to program entry, KVM, median of %d: %s us (target < 1000)\n' "$RUNS" "$us"
	else
		echo "kernel entry to program entry, KVM: no trace line in the output"; bad=1
	fi
else
	echo "kernel entry to program entry, KVM: skipped (no usable /dev/kvm)"
fi

# 5. spawn to hello's output: our kernel against the Linux guest
to_output() { # to_output PREFIX: ms to "hello, world", appended to PREFIX.ms ('-' if none)
	lg_wait "$1" 300
	local ms
	ms=$(lg_ms "$1" '^hello, world')
	echo "${ms:--}" >>"$1.ms"
	[ -n "$ms" ]
}
if lg_kernel 2>"$tmp/lgerr" && lg_initramfs "$tmp/hello.cpio.gz" "$HELLO" 2>>"$tmp/lgerr"; then
	accels=tcg
	[ $kvm = 0 ] || accels="tcg kvm"
	for accel in $accels; do
		: >"$tmp/ours.ms"
		: >"$tmp/lg.ms"
		lg_ok=1
		for i in $(seq "$LG_RUNS"); do
			# shellcheck disable=SC2046 # the accelerator's words
			lg_stamp "$tmp/ours" $common -serial stdio -M microvm,x-option-roms=off,pit=off,pic=off,rtc=off \
				-m 256M $(lg_accel_args $accel) -kernel "$KERNEL" -drive "id=d0,file=$hello,format=raw,if=none" \
				-device virtio-blk-device,drive=d0
			to_output "$tmp/ours" || { echo "our kernel, $accel: no hello: $(tr -d '\r' <"$tmp/ours.log" | head -c 300)"; bad=1; }
			[ "$lg_ok" = 1 ] || continue
			lg_start "$tmp/lg" $accel 1 256M "$tmp/hello.cpio.gz"
			if ! to_output "$tmp/lg"; then
				# one failure is enough: a guest that does not boot here will not next time
				echo "Linux guest, $accel: no hello (${LG_FAILURE:-status $LG_STATUS}); not tried again"
				lg_ok=0
			fi
		done
		sed -i '/^-$/d' "$tmp/ours.ms" "$tmp/lg.ms"
		mo=-
		ml=-
		[ -s "$tmp/ours.ms" ] && mo=$(med "$tmp/ours.ms")
		[ -s "$tmp/lg.ms" ] && ml=$(med "$tmp/lg.ms")
		printf 'QEMU spawn to hello'"'"'s output, %s, -m 256M, median of %d: our kernel (microvm, -kernel) %s ms, Linux guest (%s, pc) %s ms' \
			"$accel" "$LG_RUNS" "$mo" "$(basename "$LG_VMLINUZ")" "$ml"
		if [ "$mo" != - ] && [ "$ml" != - ]; then printf ', ratio %.3f\n' "$(calc "$mo / $ml")"; else echo; fi
	done
else
	echo "QEMU spawn to hello's output, Linux guest: unavailable: $(cat "$tmp/lgerr")"
fi
exit $bad
