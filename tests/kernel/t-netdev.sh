#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Each virtio-net model the kernel drives, booted under TCG on QEMU's user network:
# busybox wget in the guest fetches a file (280 KiB) from a server on the host
# (10.0.2.2) and the test compares its sha256; the boot line must show the DHCP address and, with
# --verbose, the driver that took the device, its interrupt line, and at the end that interrupts
# came (the device is not merely polled).
#   mmio     microvm, virtio-net-device (virtio-mmio)
#   legacy   pc, virtio-net-pci (transitional: the legacy I/O interface)
#   modern   pc, virtio-net-pci,disable-legacy=on (virtio 1.0 only: capabilities, MMIO BARs)
# Environment (set by meson): KERNEL, MKIMAGE; QEMU; BOOT_TIMEOUT (s, default 60).
# Exits 77 when a piece is missing (busybox-static, python3, QEMU).
set -u
QEMU=${QEMU:-qemu-system-x86_64}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-60}
# shellcheck source=tests/kernel/lib.sh
. "$(dirname "$0")/lib.sh"
need_built KERNEL MKIMAGE
need_cmd "$QEMU" python3
file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' || { echo "skip: no static /bin/busybox"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/capstan-nd.XXXXXX") || exit 1
srv=
trap '[ -z "$srv" ] || kill "$srv" 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0

mkdir "$tmp/www"
# text, so that it can come back over the console (there is no fork for a pipe to sha256sum)
python3 -c 'import hashlib, os; print("BEGIN"); [print("%05d %s" % (i, hashlib.sha256(os.urandom(8)).hexdigest())) for i in range(4000)]; print("END")' >"$tmp/www/data.txt"
want=$(sha256sum <"$tmp/www/data.txt" | cut -d' ' -f1)
# a server on a free port, which it reports once it listens
python3 -u -c '
import http.server, os, socketserver, sys
os.chdir(sys.argv[1])
s = socketserver.TCPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
print(s.server_address[1], flush=True)
s.serve_forever()' "$tmp/www" >"$tmp/port" 2>/dev/null &
srv=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(head -1 "$tmp/port")
[ -n "$port" ] || { echo "FAIL: the host server did not start"; exit 1; }

"$MKIMAGE" "$tmp/img" --kernel "$KERNEL" \
	--cmdline "--verbose /bin/busybox wget -q -O - http://10.0.2.2:$port/data.txt" \
	/bin/busybox=/bin/busybox >"$tmp/mk" 2>&1 || { echo "FAIL: mkimage: $(head -1 "$tmp/mk")"; exit 1; }

boot() { # boot NAME DRIVER-NAME QEMU-ARGS...
	local name=$1 driver=$2
	shift 2
	rm -f "$tmp/status"
	timeout -k 5 "$BOOT_TIMEOUT" "$QEMU" -nodefaults -no-user-config -display none -serial stdio \
		-no-reboot -m 128M -device isa-debug-exit,iobase=0xf4,iosize=4 \
		-chardev "file,id=st,path=$tmp/status" -device isa-debugcon,iobase=0xe9,chardev=st \
		-accel tcg -kernel "$KERNEL" -netdev user,id=n0 "$@" </dev/null 2>&1 | tr -d '\r' >"$tmp/out"
	local st
	st=$(grep -E '^(exit|fault|panic)' "$tmp/status" 2>/dev/null | tail -1)
	if [ "$st" != "exit 0" ]; then
		echo "FAIL $name: ${st:-no status}"
	elif ! grep -qF "capstan: $driver 52:54:" "$tmp/out"; then
		echo "FAIL $name: the kernel did not name $driver"
	elif ! grep -F "capstan: $driver 52:54:" "$tmp/out" | grep -qE ' irq [0-9]+$'; then
		echo "FAIL $name: the device has no interrupt line"
	elif ! grep -qE '^capstan: eth0: [1-9][0-9]* interrupts$' "$tmp/out"; then
		echo "FAIL $name: no interrupt came"
	elif ! grep -q '^eth0: 10\.0\.2\.15$' "$tmp/out"; then
		echo "FAIL $name: no DHCP address on the boot line"
	elif [ "$(sed -n '/^BEGIN$/,/^END$/p' "$tmp/out" | sha256sum | cut -d' ' -f1)" != "$want" ]; then
		echo "FAIL $name: the fetched file's sha256 differs"
	else
		pass=$((pass + 1))
		echo "ok   $name"
		return
	fi
	fail=$((fail + 1))
	sed 's/^/    /' "$tmp/out" | tail -15
}

boot mmio 'virtio-net-mmio' -M microvm,x-option-roms=off,pit=off,pic=off,rtc=on \
	-drive "id=d0,file=$tmp/img,format=raw,if=none" -device virtio-blk-device,drive=d0 \
	-device virtio-net-device,netdev=n0
boot legacy 'virtio-net-pci' -M pc -drive "file=$tmp/img,format=raw,if=virtio" \
	-device virtio-net-pci,romfile=,netdev=n0
boot modern 'virtio-net-pci (modern)' -M pc -drive "file=$tmp/img,format=raw,if=virtio" \
	-device virtio-net-pci,disable-legacy=on,romfile=,netdev=n0
echo "$pass passed, $fail failed"
[ $fail = 0 ]
