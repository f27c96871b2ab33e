#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# TCP over a bad link, without tc netem (which this host's kernel may lack): two guests of our
# kernel on microvm, each with a `-netdev socket,udp=` whose frames go through netrelay.py, which
# drops, duplicates and reorders a seeded share of them (default 2%, 1%, 2%).  One guest runs
# tests/cli/data/xfer.c as the server, the other as the client: SIZE bytes each way; both ends'
# sha256 of each way must match, both programs exit 0, and the relay must have dropped,
# duplicated and reordered frames.  Waits only for processes to end and files to appear.
# Environment (set by meson): KERNEL, MKIMAGE; QEMU; NETLOSS_SIZE (default 16 MiB),
# NETLOSS_SEED (1), NETLOSS_ACCEL (tcg; kvm needs /dev/kvm), BOOT_TIMEOUT (s, default 600).
set -u
QEMU=${QEMU:-qemu-system-x86_64}
SIZE=${NETLOSS_SIZE:-$((16 << 20))}
SEED=${NETLOSS_SEED:-1}
ACCEL=${NETLOSS_ACCEL:-tcg}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-600}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/kernel/lib.sh
. "$here/lib.sh"
need_built KERNEL MKIMAGE
need_cmd "$QEMU" python3
cc_static=$(command -v musl-gcc || command -v cc) || { echo "skip: no C compiler"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/capstan-nl.XXXXXX") || exit 1
relay=
pids=()
cleanup() {
	[ -z "$relay" ] || kill "$relay" 2>/dev/null
	[ ${#pids[@]} = 0 ] || kill "${pids[@]}" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail=0

"$cc_static" -O2 -static -o "$tmp/xfer" "$here/../cli/data/xfer.c" || { echo "FAIL: xfer does not build"; exit 1; }
"$MKIMAGE" "$tmp/a.img" --kernel "$KERNEL" --cmdline "--ip=10.0.9.1/24 /xfer 9000 $SIZE" \
	/xfer="$tmp/xfer" >"$tmp/mk" 2>&1 || { echo "FAIL: mkimage: $(head -1 "$tmp/mk")"; exit 1; }
"$MKIMAGE" "$tmp/b.img" --kernel "$KERNEL" --cmdline "--ip=10.0.9.2/24 /xfer -c 10.0.9.1 9000 $SIZE" \
	/xfer="$tmp/xfer" >"$tmp/mk" 2>&1 || { echo "FAIL: mkimage: $(head -1 "$tmp/mk")"; exit 1; }

python3 "$here/netrelay.py" "$tmp/ports" "$SEED" 0.02 0.01 0.02 >"$tmp/relay" &
relay=$!
while [ ! -s "$tmp/ports" ] && kill -0 "$relay" 2>/dev/null; do sleep 0.05; done
read -r pa pb <"$tmp/ports" || { echo "FAIL: the relay did not start"; exit 1; }

accel=(-accel tcg)
# shellcheck disable=SC2054 # the commas are -cpu's
[ "$ACCEL" = kvm ] && accel=(-accel kvm -cpu host,-arch-capabilities)
guest() { # guest NAME RELAY-PORT MAC
	timeout -k 5 "$BOOT_TIMEOUT" "$QEMU" -nodefaults -no-user-config -display none -serial stdio \
		-no-reboot -m 128M "${accel[@]}" -M microvm,x-option-roms=off,pit=off,pic=off,rtc=on \
		-chardev "file,id=st,path=$tmp/$1.status" -device isa-debugcon,iobase=0xe9,chardev=st \
		-kernel "$KERNEL" -drive "id=d0,file=$tmp/$1.img,format=raw,if=none" \
		-device virtio-blk-device,drive=d0 \
		-netdev "socket,id=n0,udp=127.0.0.1:$2,localaddr=127.0.0.1:0" \
		-device "virtio-net-device,netdev=n0,mac=$3" </dev/null 2>&1 | tr -d '\r' >"$tmp/$1.out"
}
guest a "$pa" 52:54:00:00:09:01 &
pids+=($!)
guest b "$pb" 52:54:00:00:09:02 &
pids+=($!)
wait "${pids[@]}"
pids=()
kill "$relay"
wait "$relay"
relay=

for g in a b; do
	st=$(grep -E '^(exit|fault|panic)' "$tmp/$g.status" 2>/dev/null | tail -1)
	if [ "$st" != "exit 0" ]; then
		echo "FAIL guest $g: ${st:-no status (timed out?)}"
		sed 's/^/    /' "$tmp/$g.out" | tail -8
		fail=1
	fi
done
sum() { sed -n "s/^$2 \\([0-9a-f]\\{64\\}\\)\$/\\1/p" "$tmp/$1.out"; }
a_rx=$(sum a rx) a_tx=$(sum a tx) b_rx=$(sum b rx) b_tx=$(sum b tx)
if [ -n "$a_rx" ] && [ "$a_rx" = "$b_tx" ]; then
	echo "ok   client to server: $SIZE bytes, the sha256 matches"
else
	echo "FAIL client to server: sent ${b_tx:-?}, received ${a_rx:-?}"
	fail=1
fi
if [ -n "$b_rx" ] && [ "$b_rx" = "$a_tx" ]; then
	echo "ok   server to client: $SIZE bytes, the sha256 matches"
else
	echo "FAIL server to client: sent ${a_tx:-?}, received ${b_rx:-?}"
	fail=1
fi
echo "relay: $(cat "$tmp/relay")"
for what in dropped duplicated reordered; do
	n=$(grep -o "$what [0-9]*" "$tmp/relay" | cut -d' ' -f2)
	if [ "${n:-0}" -gt 0 ]; then
		echo "ok   the relay $what $n frames"
	else
		echo "FAIL the relay $what no frame: the link was not bad"
		fail=1
	fi
done
exit $fail
