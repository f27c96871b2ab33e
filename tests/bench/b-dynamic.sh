#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Dynamic programs: boot cost, image size, and the vDSO's clock against the system call.
#
#  1. hello linked dynamically (glibc: ld.so, libc.so.6) against the same hello static (glibc),
#     QEMU spawn to exit, direct boot, same accelerator, interleaved, medians of
#     RUNS (default 15) (target: at most 10 ms more);
#  2. the image capstan build makes for Debian's sqlite3 against the sum of its
#     files (the program, its interpreter and libraries) plus the base image
#     (the bundled kernel with no files) (target: at most that);
#  3. clock_gettime(CLOCK_MONOTONIC) 10 million times in a static glibc
#     program: through the C library (the vDSO) against syscall(2), under the
#     same accelerator (target: at least 10 times the calls per second).  Under
#     KVM the syscall loop runs SYSCALL_LOOPS_KVM (default 10000) times: on
#     nested hosts whose KVM traps every system call, 10 million take hours.
# TCG always, KVM where it works.  Environment (set by meson): KERNEL, MKIMAGE,
# HELLO_STATIC, HELLO_DYNAMIC, CLOCKLOOP, CAPSTAN, CAPSTAN_DATADIR; QEMU.
# Fails only when something does not run; the targets are reported, not asserted.
set -u
QEMU=${QEMU:-qemu-system-x86_64}
RUNS=${RUNS:-15}
LOOPS=${LOOPS:-10000000}
SYSCALL_LOOPS_KVM=${SYSCALL_LOOPS_KVM:-10000}
for v in KERNEL MKIMAGE HELLO_STATIC HELLO_DYNAMIC CLOCKLOOP CAPSTAN; do
	[ -e "${!v:-}" ] || { echo "skip: $v not built (${!v:-unset})"; exit 77; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/capstan-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
calc() { awk "BEGIN { print $1 }"; }
med() { sort -n "$1" | awk '{ a[NR] = $1 } END { printf "%.1f\n", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

accels="tcg"
timeout 20 "$QEMU" -M microvm -accel kvm -cpu host,-arch-capabilities -nodefaults -display none -kernel "$KERNEL" \
	-append /none -device isa-debug-exit,iobase=0xf4,iosize=4 </dev/null >/dev/null 2>&1
st=$?
[ -r /dev/kvm ] && [ $st != 124 ] && [ $st -gt 1 ] && accels="tcg kvm"
accel_args() { if [ "$1" = kvm ]; then echo "-accel kvm -cpu host,-arch-capabilities"; else echo "-accel tcg"; fi; }
boot() { # boot ACCEL IMAGE: direct boot, output on stdout
	timeout 600 "$QEMU" -nodefaults -no-user-config -display none -no-reboot -serial stdio -m 128M \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -M microvm,x-option-roms=off,pit=off,pic=off,rtc=on \
		$(accel_args "$1") -kernel "$KERNEL" -drive "id=d0,file=$2,format=raw,if=none" \
		-device virtio-blk-device,drive=d0 </dev/null 2>&1 | tr -d '\r'
}

# 1. dynamic against static hello
"$MKIMAGE" "$tmp/static.img" --kernel "$KERNEL" --cmdline /hello "/hello=$HELLO_STATIC" >/dev/null || exit 1
"$MKIMAGE" "$tmp/dynamic.img" --kernel "$KERNEL" --cmdline /hello --deps "/hello=$HELLO_DYNAMIC" >/dev/null || exit 1
for accel in $accels; do
	boot "$accel" "$tmp/dynamic.img" | grep -q '^hello, world' || { echo "dynamic hello ($accel): FAILED"; exit 1; }
	: >"$tmp/a"
	: >"$tmp/b"
	for i in $(seq 0 "$RUNS"); do
		for which in a b; do
			img=$tmp/dynamic.img
			[ $which = a ] || img=$tmp/static.img
			t0=$EPOCHREALTIME
			boot "$accel" "$img" >/dev/null
			t1=$EPOCHREALTIME
			[ "$i" = 0 ] || calc "($t1 - $t0) * 1000" >>"$tmp/$which"
		done
	done
	ma=$(med "$tmp/a")
	mb=$(med "$tmp/b")
	printf 'boot to exit, %s, median of %d: dynamic hello (glibc) %s ms, static hello (glibc) %s ms, difference %.1f ms (target <= 10)\n' \
		"$accel" "$RUNS" "$ma" "$mb" "$(calc "$ma - $mb")"
done

# 2. sqlite3's image against its files and the base image
if [ -x /usr/bin/sqlite3 ]; then
	export CAPSTAN_ROOT=$tmp/root
	mkdir -p "$tmp/base" "$tmp/sq"
	printf 'cmdline: /none\n' >"$tmp/base/Capstanfile"
	printf 'cmdline: /usr/bin/sqlite3 -version\nfiles:\n  /usr/bin/sqlite3: /usr/bin/sqlite3\n' >"$tmp/sq/Capstanfile"
	"$CAPSTAN" build -q -f "$tmp/base/Capstanfile" base >/dev/null || exit 1
	"$CAPSTAN" build -v -f "$tmp/sq/Capstanfile" sq >/dev/null 2>"$tmp/added" || exit 1
	files=$(stat -L -c %s /usr/bin/sqlite3)
	for f in $(sed -n 's/^added [^ ]* from \([^ ]*\) .*/\1/p' "$tmp/added"); do
		files=$((files + $(stat -L -c %s "$f")))
	done
	base=$(stat -c %s "$CAPSTAN_ROOT/repository/base/base.qemu")
	img=$(stat -c %s "$CAPSTAN_ROOT/repository/sq/sq.qemu")
	printf 'sqlite3 image (qcow2): %d bytes; its %d files %d bytes + base image %d bytes = %d bytes; ratio %.3f (target <= 1)\n' \
		"$img" "$(($(grep -c '^added .* from ' "$tmp/added") + 1))" "$files" "$base" "$((files + base))" "$(calc "$img / ($files + $base)")"
else
	echo "sqlite3 image: skipped (sqlite3 is not installed)"
fi

# 3. the vDSO against the system call, in the same boot
"$MKIMAGE" "$tmp/clock-vdso.img" --kernel "$KERNEL" --cmdline "/clockloop vdso $LOOPS" "/clockloop=$CLOCKLOOP" >/dev/null || exit 1
rate() { sed -n 's/^clockloop [a-z]*: .* \([0-9][0-9]*\) calls\/s.*/\1/p'; }
for accel in $accels; do
	n=$LOOPS
	[ "$accel" = tcg ] || n=$SYSCALL_LOOPS_KVM
	"$MKIMAGE" "$tmp/clock-sys.img" --kernel "$KERNEL" --cmdline "/clockloop syscall $n" "/clockloop=$CLOCKLOOP" >/dev/null || exit 1
	v=$(boot "$accel" "$tmp/clock-vdso.img" | rate)
	s=$(boot "$accel" "$tmp/clock-sys.img" | rate)
	[ -n "$v" ] && [ -n "$s" ] || { echo "clockloop ($accel): FAILED"; exit 1; }
	printf 'clock_gettime, %s: vDSO %d calls/s (x %d), syscall %d calls/s (x %d), ratio %.1f (target >= 10)\n' \
		"$accel" "$v" "$LOOPS" "$s" "$n" "$(calc "$v / $s")"
done
v=$("$CLOCKLOOP" vdso "$LOOPS" | rate)
s=$("$CLOCKLOOP" syscall "$LOOPS" | rate)
printf 'clock_gettime x %d, Linux on this host: vDSO %d calls/s, syscall %d calls/s, ratio %.1f\n' "$LOOPS" "$v" "$s" "$(calc "$v / $s")"
exit 0
