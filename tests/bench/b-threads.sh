#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Thread benchmarks: threadbench (create+join rate, futex ping-pong round trip, two CPU-bound
# threads) in our kernel and in the Linux guest (linuxguest.sh: Debian's cloud kernel, a minimal
# initramfs, the same static binary and arguments), under the same QEMU, accelerator, -m and
# -smp, one after the other in the same run; TCG always, KVM where /dev/kvm works; the host as
# a reference.  Each guest runs with -smp 1 and -smp 2: the speedup is the CPU-bound time with
# one CPU over the time with two.  Our kernel boots as the other benchmarks boot it (microvm,
# -kernel); Debian's kernel does not boot on microvm without its PIT, so it boots on pc.
# Environment (set by meson): KERNEL, MBR, MKIMAGE, THREADBENCH, CAPSTAN_BUILD_ROOT; QEMU;
# TB_ARGS_TCG, TB_ARGS_KVM (threadbench's arguments: threads rounds iterations; nested KVM
# makes our kernel's thread switches slow, so KVM runs fewer); BENCH_ACCELS (default: tcg, and
# kvm where /dev/kvm works).
# Reports figures; fails only when something does not run.
set -u
QEMU=${QEMU:-qemu-system-x86_64}
TB_ARGS_TCG=${TB_ARGS_TCG:-2000 20000 100000000}
TB_ARGS_KVM=${TB_ARGS_KVM:-200 1000 100000000}
for v in KERNEL MBR MKIMAGE THREADBENCH; do
	[ -e "${!v:-}" ] || { echo "skip: $v not built (${!v:-unset})"; exit 77; }
done
# shellcheck source=tests/bench/linuxguest.sh
. "$(dirname "$0")/linuxguest.sh"
# shellcheck source=tests/bench/benchlib.sh
. "$(dirname "$0")/benchlib.sh"
ACCELS=${BENCH_ACCELS:-$(lg_accels | tr '\n' ' ')}
bench_setup
lg_failed=

# figures FILE: "create/s pingpong-us cpu-s" from threadbench's output, '-' for what is missing
figures() {
	tr -d '\r' <"$1" | awk '
		/^threadbench: create\+join/ { c = $3 }
		/^threadbench: futex ping-pong/ { p = $6 }
		/^threadbench: 2 CPU-bound/ { s = $5 }
		END { print (c == "" ? "-" : c), (p == "" ? "-" : p), (s == "" ? "-" : s) }'
}
# row LABEL ACCEL CPUS FILE: one line of the table, and the file's figures kept for the speedup
row() {
	local c p s
	read -r c p s < <(figures "$4")
	printf '%-16s %-4s %3s %14s %16s %18s\n' "$1" "$2" "$3" "$c" "$p" "$s"
	echo "$c $p $s" >"$4.fig"
}
speedup() { # speedup LABEL ACCEL FILE1 FILE2
	if [ ! -e "$3.fig" ] || [ ! -e "$4.fig" ]; then
		echo "$1, $2: speedup not measured"
		return
	fi
	awk -v l="$1" -v a="$2" 'NR == FNR { one = $3; next } { two = $3 }
		END { if (one + 0 > 0 && two + 0 > 0) printf "%s, %s: -smp 2 over -smp 1 speedup %.2fx (%s s / %s s)\n", l, a, one / two, one, two;
		      else printf "%s, %s: speedup not measured\n", l, a }' "$3.fig" "$4.fig"
}

ours() { # ours ACCEL CPUS ARGS OUT
	"$MKIMAGE" "$tmp/disk.img" --kernel "$KERNEL" --mbr "$MBR" --cmdline "/bin/threadbench $3" \
		"/bin/threadbench=$THREADBENCH" >/dev/null || exit 1
	bench_ours "$1" 900 256M "$4" -smp "$2"
	grep -q 'CPU-bound' "$4" || { echo "capstan kernel, $1, -smp $2: did not finish:"; sed 's/^/    /' "$4"; bad=1; }
}

linuxguest() { # linuxguest ACCEL CPUS ARGS OUT
	# shellcheck disable=SC2086 # the arguments' words
	lg_initramfs "$tmp/initrd.gz" "$THREADBENCH" $3 || exit 1
	lg_start "$tmp/lg" "$1" "$2" 256M "$tmp/initrd.gz"
	lg_wait "$tmp/lg" 900
	lg_output "$tmp/lg" >"$4"
	lg_clock_check "$tmp/lg"
	if [ "$LG_STATUS" != 0 ]; then
		echo "Linux guest, $1, -smp $2: ${LG_FAILURE:-status $LG_STATUS}; not tried again under $1:"
		bench_lg_tail
		lg_failed="$lg_failed $1"
		[ "$1" = kvm ] || bad=1 # nested KVM may refuse Debian's kernel; TCG must work
	fi
}

echo "threadbench: create+join rate, futex ping-pong round trip, two CPU-bound threads' wall time"
printf '%-16s %-4s %3s %14s %16s %18s\n' guest accel cpu "create+join/s" "ping-pong us" "2 CPU-bound (s)"
for accel in $ACCELS; do
	args=$TB_ARGS_TCG
	[ "$accel" = tcg ] || args=$TB_ARGS_KVM
	for cpus in 1 2; do
		ours "$accel" "$cpus" "$args" "$tmp/ours.$accel.$cpus"
		row "capstan kernel" "$accel" "$cpus" "$tmp/ours.$accel.$cpus"
		[ $linux = 1 ] || continue
		case $lg_failed in *" $accel"*) continue ;; esac
		linuxguest "$accel" "$cpus" "$args" "$tmp/linux.$accel.$cpus"
		row "Linux guest" "$accel" "$cpus" "$tmp/linux.$accel.$cpus"
	done
	echo "  ($accel: threadbench $args)" >"$tmp/args.$accel"
done
# shellcheck disable=SC2086 # the arguments' words
"$THREADBENCH" $TB_ARGS_TCG >"$tmp/host" || bad=1
row "host $(uname -r | cut -d- -f1)" - "$(nproc)" "$tmp/host"
cat "$tmp"/args.*
echo "  (host: threadbench $TB_ARGS_TCG)"
for accel in $ACCELS; do
	speedup "capstan kernel" "$accel" "$tmp/ours.$accel.1" "$tmp/ours.$accel.2"
	[ $linux = 0 ] || speedup "Linux guest" "$accel" "$tmp/linux.$accel.1" "$tmp/linux.$accel.2"
done
exit $bad
