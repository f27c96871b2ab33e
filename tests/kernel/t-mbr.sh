#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Boots our MBR on QEMU pc and q35, virtio-blk and IDE, with the pvhcheck payload, and its error paths.
#
# Environment (set by meson): MBR (mbr.bin), MKIMAGE, PAYLOAD (pvhcheck.elf),
# KERNEL and PROGS (for hello.musl through the real kernel);
# QEMU (default qemu-system-x86_64), BOOT_TIMEOUT (s, default 60).
# pvhcheck checks the PVH state it is entered in and exits through
# isa-debug-exit with 16 (QEMU status 33) on success.
set -u
QEMU=${QEMU:-qemu-system-x86_64}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-60}
for v in MBR MKIMAGE PAYLOAD; do
	[ -e "${!v:-}" ] || { echo "skip: $v not built (${!v:-unset})"; exit 77; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/capstan-mbr.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1: $2"; sed 's/^/    /' "$tmp/out"; }

# boot LABEL IMAGE MACHINE IF: runs QEMU, leaves the console in $tmp/out, the status in $st.
boot() {
	timeout -k 5 "$BOOT_TIMEOUT" "$QEMU" -M "$3" -accel tcg -nodefaults -no-user-config \
		-display none -serial stdio -no-reboot -m 64M \
		-device isa-debug-exit,iobase=0xf4,iosize=4 \
		-drive "file=$2,format=raw,if=$4" </dev/null >"$tmp/out" 2>&1
	st=$?
}

# 512 bytes, boot signature, partition table filled by the host.
size=$(stat -c %s "$MBR")
sig=$(od -An -tx1 -j510 -N2 "$MBR" | tr -d ' ')
if [ "$size" = 512 ] && [ "$sig" = 55aa ]; then ok "mbr.bin is 512 bytes with 55aa"; else
	: >"$tmp/out"; bad "mbr.bin" "size $size, signature $sig"; fi

img=$tmp/ok.img
if ! "$MKIMAGE" "$img" --kernel "$PAYLOAD" --mbr "$MBR" --cmdline 'pvhcheck' >"$tmp/out" 2>&1; then
	bad "mkimage" "failed"
	echo "$pass passed, $fail failed"
	exit 1
fi
for m in pc q35; do
	for i in virtio ide; do
		boot "$m $i" "$img" $m $i
		if [ $st != 33 ]; then bad "$m $i" "status $st, want 33"
		elif ! grep -qx 'pvhcheck: eax 336ec578' "$tmp/out"; then bad "$m $i" "EAX is not the PVH magic"
		elif ! grep -qx 'pvhcheck: cmdline_paddr 0' "$tmp/out"; then bad "$m $i" "cmdline_paddr is not 0"
		elif ! grep -qx 'pvhcheck: SUCCESS' "$tmp/out"; then bad "$m $i" "no SUCCESS"
		else ok "$m $i: $(grep -o 'memmap entries [0-9]*' "$tmp/out")"; fi
	done
done

# A damaged header magic: one line on the console, then a halt (the timeout ends it).
cp "$img" "$tmp/bad.img"
printf 'XXXX' | dd of="$tmp/bad.img" bs=1 seek=32768 conv=notrunc status=none
BOOT_TIMEOUT=5 boot "bad magic" "$tmp/bad.img" pc virtio
if grep -q 'boot: not a capstan image' "$tmp/out"; then ok "bad magic is reported"; else bad "bad magic" "no message"; fi

# A kernel extent past the end of the disk: a read error.
cp "$img" "$tmp/far.img"
printf '\000\000\000\200' | dd of="$tmp/far.img" bs=1 seek=$((32768 + 16)) conv=notrunc status=none
BOOT_TIMEOUT=5 boot "read error" "$tmp/far.img" pc virtio
if grep -q 'boot: disk read error' "$tmp/out"; then ok "read error is reported"; else bad "read error" "no message"; fi

# The real kernel behind the MBR: on virtio-blk it finds its root fs; on IDE
# the MBR still loads it, and it says which disk it needs.
if [ -e "${KERNEL:-}" ] && [ -x "${PROGS:-}/hello.musl" ]; then
	img=$tmp/hello.img
	if "$MKIMAGE" "$img" --kernel "$KERNEL" --mbr "$MBR" --cmdline /hello "/hello=$PROGS/hello.musl" >"$tmp/out" 2>&1; then
		for m in pc q35; do
			boot "kernel $m virtio" "$img" $m virtio
			if [ $st = 1 ] && grep -q '^hello, world' "$tmp/out"; then ok "kernel on $m virtio: hello"
			else bad "kernel on $m virtio" "status $st"; fi
			boot "kernel $m ide" "$img" $m ide
			if [ $st = 255 ] && grep -q 'no virtio-blk disk' "$tmp/out"; then ok "kernel on $m ide: asks for virtio-blk"
			else bad "kernel on $m ide" "status $st"; fi
		done
	else
		bad "mkimage hello" "failed"
	fi
fi

echo "$pass passed, $fail failed"
[ $fail = 0 ]
