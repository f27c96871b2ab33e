#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Process benchmarks: procbench (fork+exit+wait per second, dd of 256 MiB through a pipe into
# cat, a script running 1,000 external commands; busybox-static for the last two) on the host
# and in the unikernel under TCG and, where /dev/kvm works, KVM, one after the other in the same
# run, with the ratio of each figure to the host's.
# Environment (set by meson): KERNEL, MBR, MKIMAGE, PROCBENCH; QEMU.
# Reports figures; fails only when something does not run.
set -u
QEMU=${QEMU:-qemu-system-x86_64}
BUSYBOX=/bin/busybox
for v in KERNEL MBR MKIMAGE PROCBENCH; do
	[ -e "${!v:-}" ] || { echo "skip: $v not built (${!v:-unset})"; exit 77; }
done
[ -x "$BUSYBOX" ] || { echo "skip: $BUSYBOX not installed (tests/deps.sh)"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/capstan-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
bad=0

# figure FILE PATTERN: the number after PATTERN's colon
figure() { sed -n "s/^$2: \([0-9.]*\).*/\1/p" "$1" | tr -d '\r' | head -1; }
# ratios FILE: each figure against the host's (higher is better except for the time)
ratios() {
	local f h g
	for f in 'fork+exit+wait' 'pipe (dd 256 MiB | cat)' '1000 external commands'; do
		h=$(figure "$tmp/host" "$f") g=$(figure "$1" "$f")
		[ -n "$h" ] && [ -n "$g" ] || continue
		case $f in
		1000*) awk -v h="$h" -v g="$g" -v f="$f" 'BEGIN { printf "  %s: %.2fx the host'"'"'s time\n", f, g / h }' ;;
		*) awk -v h="$h" -v g="$g" -v f="$f" 'BEGIN { printf "  %s: %.2fx the host'"'"'s rate\n", f, g / h }' ;;
		esac
	done
}

echo "host (Linux $(uname -r)):"
(cd "$tmp" && "$PROCBENCH" "$BUSYBOX") >"$tmp/host" 2>&1 || bad=1
sed 's/^/  /' "$tmp/host"
"$MKIMAGE" "$tmp/disk.img" --kernel "$KERNEL" --mbr "$MBR" --cmdline "--quiet /bin/procbench" \
	"/bin/procbench=$PROCBENCH" "/bin/busybox=$BUSYBOX" >/dev/null || exit 1
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
	grep -q 'external commands' "$tmp/$accel" || { echo "  did not finish"; bad=1; continue; }
	ratios "$tmp/$accel"
done
exit $bad
