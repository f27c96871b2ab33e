#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Address-space benchmark: mmbench (a 1 GiB PROT_NONE reservation, part of it made usable,
# fork+exit+wait with it, munmap) on the host and in the unikernel under TCG and, where /dev/kvm
# works, KVM (where page-table writes are what costs).
# Environment (set by meson): KERNEL, MBR, MKIMAGE, MMBENCH; QEMU.
# Reports figures; fails only when something does not run.
set -u
QEMU=${QEMU:-qemu-system-x86_64}
for v in KERNEL MBR MKIMAGE MMBENCH; do
	[ -e "${!v:-}" ] || { echo "skip: $v not built (${!v:-unset})"; exit 77; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/capstan-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
bad=0

echo "host (Linux $(uname -r)):"
"$MMBENCH" 2>&1 | sed 's/^/  /'
"$MKIMAGE" "$tmp/disk.img" --kernel "$KERNEL" --mbr "$MBR" --cmdline "--quiet /bin/mmbench" \
	"/bin/mmbench=$MMBENCH" >/dev/null || exit 1
for accel in tcg kvm; do
	cpu=()
	if [ $accel = kvm ]; then
		[ -w /dev/kvm ] || { echo "kvm: skipped, no usable /dev/kvm"; continue; }
		cpu=(-cpu host,-arch-capabilities)
	fi
	echo "capstan kernel, $accel:"
	timeout 1200 "$QEMU" -nodefaults -no-user-config -display none -serial stdio -no-reboot -m 512M \
		-M microvm,x-option-roms=off,pit=off,pic=off,rtc=on -accel $accel "${cpu[@]}" \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "$KERNEL" \
		-drive "id=d0,file=$tmp/disk.img,format=raw,if=none" -device virtio-blk-device,drive=d0 \
		</dev/null >"$tmp/$accel" 2>&1
	tr -d '\r' <"$tmp/$accel" | grep -v '^capstan' | sed 's/^/  /'
	grep -q '^munmap 1 GiB' "$tmp/$accel" || { echo "  did not finish"; bad=1; }
done
exit $bad
