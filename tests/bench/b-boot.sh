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
#     instruction to the program's entry point (target: < 1 ms).
# Medians of RUNS (default 15) runs with hyperfine.  Environment (set by meson):
# KERNEL, MBR, MKIMAGE, HELLO (hello.musl), EMPTY_PVH, EXIT_MBR; QEMU.
# Fails only when something does not run or the size budget is exceeded;
# the timing targets are reported, not asserted.
set -u
QEMU=${QEMU:-qemu-system-x86_64}
RUNS=${RUNS:-15}
for v in KERNEL MBR MKIMAGE HELLO EMPTY_PVH EXIT_MBR; do
	[ -e "${!v:-}" ] || { echo "skip: $v not built (${!v:-unset})"; exit 77; }
done
command -v hyperfine >/dev/null || { echo "skip: hyperfine not installed"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/capstan-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
bad=0

calc() { awk "BEGIN { print $1 }"; }

# median NAME JSON: the median of the named command in ms.
median() {
	awk -v want="$1" '
		/"command":/ { cmd = $0; sub(/.*"command": *"/, "", cmd); sub(/".*/, "", cmd) }
		/"median":/ && cmd == want { v = $0; sub(/.*"median": */, "", v); sub(/,.*/, "", v); printf "%.1f\n", v * 1000 }' "$2"
}

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
hyperfine -N -i --style none --runs "$RUNS" --warmup 2 --export-json "$tmp/direct.json" \
	-n hello "$direct -m 64M -kernel $KERNEL" -n empty "$direct -m 64M -kernel $EMPTY_PVH" >/dev/null 2>&1 || { echo "hyperfine failed"; exit 1; }
h=$(median hello "$tmp/direct.json") e=$(median empty "$tmp/direct.json")
printf 'direct boot, TCG, median of %d: hello %s ms, empty PVH kernel %s ms, ratio %.2f (target <= 1.5)\n' \
	"$RUNS" "$h" "$e" "$(calc "$h / $e")"

# 3. disk boot
hyperfine -N -i --style none --runs "$RUNS" --warmup 2 --export-json "$tmp/disk.json" \
	-n hello "$disk -m 64M -drive file=$hello,format=raw,if=virtio" \
	-n exitmbr "$disk -m 64M -drive file=$exitimg,format=raw,if=virtio" >/dev/null 2>&1 || { echo "hyperfine failed"; exit 1; }
h=$(median hello "$tmp/disk.json") e=$(median exitmbr "$tmp/disk.json")
printf 'disk boot, TCG, median of %d: hello %s ms, exiting MBR %s ms, difference %.1f ms (target <= 20)\n' \
	"$RUNS" "$h" "$e" "$(calc "$h - $e")"

# 4. kernel entry to program entry under KVM, from the boot trace
kvm="$common -M microvm,x-option-roms=off,pit=off,pic=off,rtc=off -accel kvm -cpu host,-arch-capabilities -m 64M"
if [ -r /dev/kvm ] && timeout 20 $kvm -kernel "$EMPTY_PVH" </dev/null >/dev/null 2>&1; [ $? = 1 ]; then
	"$MKIMAGE" "$tmp/trace.img" --kernel "$KERNEL" --cmdline "--trace /hello" "/hello=$HELLO" >/dev/null || exit 1
	: >"$tmp/us"
	for _ in $(seq "$RUNS"); do
		timeout 60 $kvm -serial stdio -kernel "$KERNEL" -drive "id=d0,file=$tmp/trace.img,format=raw,if=none" \
			-device virtio-blk-device,drive=d0 </dev/null 2>&1 | tr -d '\r' |
			sed -n 's/.*trace: .*entry.* \([0-9][0-9]*\) us.*/\1/p' >>"$tmp/us"
	done
	n=$(wc -l <"$tmp/us")
	if [ "$n" -gt 0 ]; then
		printf 'kernel entry to program entry, KVM, median of %d: %s us (target < 1000)\n' "$n" "$(sort -n "$tmp/us" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')"
	else
		echo "kernel entry to program entry, KVM: no trace line in the output"; bad=1
	fi
else
	echo "kernel entry to program entry, KVM: skipped (no usable /dev/kvm)"
fi
exit $bad
