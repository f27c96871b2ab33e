# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# What the b-*.sh scripts that set our kernel against the Linux guest share (sourced after
# linuxguest.sh): the run's folder and its cleanup, the guest's kernel, how our kernel boots
# (microvm, -kernel, the image as a virtio-mmio disk), and how a failed guest is shown.

# bench_setup: $tmp (removed at exit, the guest stopped), bad=0, and linux=1 when the Linux
# guest's kernel is at hand (else linux=0, and why is printed)
# shellcheck disable=SC2034 # tmp, bad and linux are for the caller
bench_setup() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/capstan-bench.XXXXXX") || exit 1
	trap 'lg_cleanup; rm -rf "$tmp"' EXIT
	bad=0
	linux=1
	if ! lg_kernel 2>"$tmp/lgerr"; then
		echo "Linux guest: unavailable: $(cat "$tmp/lgerr")"
		linux=0
	fi
}

# bench_ours ACCEL TIMEOUT MEM OUT [QEMU-ARG]...: our kernel boots $tmp/disk.img; its console
# goes to OUT
bench_ours() {
	local accel=$1 limit=$2 mem=$3 out=$4 cpu=()
	shift 4
	[ "$accel" = kvm ] && cpu=(-cpu "host,-arch-capabilities")
	timeout "$limit" "$QEMU" -nodefaults -no-user-config -display none -serial stdio -no-reboot -m "$mem" \
		-M microvm,x-option-roms=off,pit=off,pic=off,rtc=on -accel "$accel" "${cpu[@]}" "$@" \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "$KERNEL" \
		-drive "id=d0,file=$tmp/disk.img,format=raw,if=none" -device virtio-blk-device,drive=d0 \
		</dev/null >"$out" 2>&1
}

# bench_lg_tail: the last lines of the Linux guest's console, without its register dumps
bench_lg_tail() {
	tr -d '\r' <"$tmp/lg.log" | sed 's/^[^ ]* /    /' | grep -v '^    [A-Z][A-Z0-9 ]*[=:]' | tail -n 8
}
