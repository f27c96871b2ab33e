#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Thread benchmarks: threadbench (create+join rate, futex ping-pong) on the host and in the
# unikernel under TCG and, where /dev/kvm works, KVM, one after the other in the same run.
# Environment (set by meson): KERNEL, MBR, MKIMAGE, THREADBENCH; QEMU.
# Reports figures; fails only when something does not run.
set -u
QEMU=${QEMU:-qemu-system-x86_64}
for v in KERNEL MBR MKIMAGE THREADBENCH; do
	[ -e "${!v:-}" ] || { echo "skip: $v not built (${!v:-unset})"; exit 77; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/capstan-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
bad=0

echo "host (Linux $(uname -r)):"
"$THREADBENCH" | sed 's/^/  /' || bad=1
"$MKIMAGE" "$tmp/disk.img" --kernel "$KERNEL" --mbr "$MBR" --cmdline /bin/threadbench \
	"/bin/threadbench=$THREADBENCH" >/dev/null || exit 1
for accel in tcg kvm; do
	cpu=()
	if [ $accel = kvm ]; then
		[ -w /dev/kvm ] || { echo "kvm: skipped, no usable /dev/kvm"; continue; }
		cpu=(-cpu host,-arch-capabilities)
	fi
	echo "capstan kernel, $accel:"
	timeout 600 "$QEMU" -nodefaults -no-user-config -display none -serial stdio -no-reboot -m 256M \
		-M microvm,x-option-roms=off,pit=off,pic=off,rtc=on -accel $accel "${cpu[@]}" \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "$KERNEL" \
		-drive "id=d0,file=$tmp/disk.img,format=raw,if=none" -device virtio-blk-device,drive=d0 \
		</dev/null >"$tmp/out" 2>&1
	grep '^threadbench' "$tmp/out" | tr -d '\r' | sed 's/^/  /'
	grep -q 'ping-pong' "$tmp/out" || { echo "  did not finish"; sed 's/^/    /' "$tmp/out"; bad=1; }
done
exit $bad
