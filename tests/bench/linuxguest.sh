#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The Linux guest the benchmarks compare our kernel with: Debian's cloud kernel
# (linux-image-cloud-amd64) and a minimal initramfs holding lginit.c, one program,
# its arguments and, for a dynamic program, its shared libraries, booted under QEMU.
#
# As a library (`. tests/bench/linuxguest.sh`), for the b-*.sh scripts:
#   lg_kernel                 the kernel, downloaded once into $LG_CACHE (apt-get download,
#                             dpkg-deb -x; nothing is installed on the host): sets
#                             LG_VMLINUZ, LG_MODDIR; on failure prints apt's error, returns 69
#   lg_initramfs OUT PROG [ARG]...
#                             writes a gzip'd cpio newc initramfs; with LG_NET=1 it carries
#                             virtio_net and its modules and init brings up eth0 (QEMU user
#                             networking's 10.0.2.15/24, gateway 10.0.2.2, DNS 10.0.2.3);
#                             LG_FILES (an array of HOST[:GUEST]) adds files or folders
#   lg_start PREFIX ACCEL CPUS MEM INITRD [HOSTFWD]...
#                             boots it in the background (-M pc: Debian's kernel does not
#                             boot on microvm without a PIT), each console line stamped
#                             with its arrival time into PREFIX.log; LG_PID, LG_T0
#   lg_stamp PREFIX CMD [ARG]...
#                             the same for any command (our kernel's QEMU, to time it alike)
#   lg_wait PREFIX [SECS]     waits for QEMU's end (killing it after SECS, default 600, or
#                             when init has said nothing after LG_BOOT_SECS, default 120, or
#                             when KVM gave up on the guest); sets LG_STATUS to the program's
#                             exit status (-1 if none) and LG_FAILURE to why there is none
#   lg_stop PREFIX            ends a guest that does not end by itself (a server)
#   lg_cleanup                ends every guest still running (for an EXIT trap)
#   lg_ms PREFIX REGEX        ms from QEMU's spawn to the first console line matching REGEX
#   lg_clock_check PREFIX     warns when the guest's clock ran faster than the host's
#   lg_output PREFIX          the program's output: the console lines between init's
#                             "program start" and "exit" lines, without stamps or CRs
#   lg_accels                 "tcg", plus "kvm" when /dev/kvm works
# As a command:
#   linuxguest.sh [-a tcg|kvm] [-c CPUS] [-m MEM] [-n] [-f HOSTPORT:GUESTPORT]... PROG [ARG]...
#                             boots PROG, prints its output, the times to init's marker lines,
#                             and exits with PROG's status.
# Environment: LG_CACHE (default: the build folder's bench-cache), QEMU, CC,
# LG_APPEND (extra kernel command-line words).

LG_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LG_CACHE=${LG_CACHE:-${CAPSTAN_BUILD_ROOT:-$LG_SRC/../../build}/bench-cache}
LG_PKG=linux-image-cloud-amd64
LG_NET_MODULES="virtio_pci virtio_net"
LG_BOOT_SECS=${LG_BOOT_SECS:-120}
QEMU=${QEMU:-qemu-system-x86_64}

# The versioned package the meta-package depends on, e.g. linux-image-6.1.0-57-cloud-amd64.
lg_package() {
	apt-cache depends "$LG_PKG" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1
}

lg_kernel() {
	local pkg dir err
	pkg=$(lg_package)
	[ -n "$pkg" ] || { echo "linuxguest: $LG_PKG: apt-cache knows no kernel package it depends on" >&2; return 69; }
	dir=$LG_CACHE/$pkg
	if ! compgen -G "$dir/root/boot/vmlinuz-*" >/dev/null; then
		mkdir -p "$dir" || return 74
		rm -rf "$dir/root" "$dir"/*.deb
		# apt-get download writes into the current folder; _apt may not reach it (a warning only).
		if ! err=$(cd "$dir" && apt-get download -q "$pkg" 2>&1); then
			echo "linuxguest: apt-get download $pkg: $(grep -E '^(E|Err):' <<<"$err" | head -n 3 | tr '\n' ' ')" >&2
			return 69
		fi
		dpkg-deb -x "$dir"/*.deb "$dir/root.part" && mv "$dir/root.part" "$dir/root" || return 74
		rm -f "$dir"/*.deb
	fi
	LG_VMLINUZ=$(compgen -G "$dir/root/boot/vmlinuz-*" | head -n 1)
	LG_MODDIR=$(compgen -G "$dir/root/lib/modules/*" | head -n 1)
	[ -r "$LG_VMLINUZ" ] && [ -d "$LG_MODDIR" ]
}

# lg_module_deps NAME: prints the module files NAME needs, dependencies first.
# (modules.dep is made by depmod at install time, so read each module's .modinfo.)
lg_module_deps() {
	local name=$1 ko dep
	ko=$(find "$LG_MODDIR/kernel" -name "$name.ko" | head -n 1)
	if [ -z "$ko" ]; then
		grep -q "/$name.ko\$" "$LG_MODDIR/modules.builtin" && return 0
		echo "linuxguest: module $name: not in $LG_MODDIR" >&2
		return 65
	fi
	# objcopy writes a temporary file and renames it over its output: never name
	# /dev/stdout there (it would replace the host's /dev/stdout link)
	local info
	info=$(mktemp) || return
	objcopy -O binary --only-section=.modinfo "$ko" "$info" || { rm -f "$info"; return 65; }
	for dep in $(tr '\0' '\n' <"$info" | sed -n 's/^depends=//p' | tr ',' ' '); do
		lg_module_deps "$dep" || { rm -f "$info"; return 65; }
	done
	rm -f "$info"
	echo "$ko"
}

lg_init_bin() {
	local out=$LG_CACHE/lginit
	if [ ! -x "$out" ] || [ "$LG_SRC/lginit.c" -nt "$out" ]; then
		if ! { mkdir -p "$LG_CACHE" &&
			"${CC:-cc}" -O2 -Wall -Werror -static -o "$out.part" "$LG_SRC/lginit.c" &&
			mv "$out.part" "$out"; }; then
			echo "linuxguest: lginit.c does not build" >&2
			return 1
		fi
	fi
	LG_INIT=$out
}

# lg_put STAGE HOSTPATH GUESTPATH: a file or folder into the staging tree, links followed.
lg_put() {
	mkdir -p "$1$(dirname "$3")" && cp -rL "$2" "$1$3"
}

lg_initramfs() {
	local out=$1 prog=$2 stage st
	[ -x "$prog" ] || { echo "linuxguest: $prog: not an executable" >&2; return 65; }
	[ -n "${LG_VMLINUZ:-}" ] || lg_kernel || return
	lg_init_bin || return
	stage=$(mktemp -d "${TMPDIR:-/tmp}/lg-stage.XXXXXX") || return 74
	chmod 755 "$stage" # the guest's /: mktemp's 0700 kept nginx's workers (user nobody) out
	shift 2
	lg_stage "$stage" "$prog" "$@" &&
		(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip) >"$out.part" &&
		mv "$out.part" "$out"
	st=$?
	rm -rf "$stage" "$out.part"
	return $st
}

# lg_stage STAGE PROG [ARG]...: the initramfs's tree
lg_stage() {
	local stage=$1 prog=$2 f lib m mods a seen=" "
	shift 2
	cp "$LG_INIT" "$stage/init" || return 74
	lg_put "$stage" "$prog" "/bin/$(basename "$prog")" || return 74
	: >"$stage/lg.conf"
	# a dynamic program's interpreter and libraries, at the paths ldd names
	if ! LC_ALL=C ldd "$prog" 2>&1 | grep -q 'not a dynamic executable'; then
		for lib in $(ldd "$prog" | sed -n 's/.*=> \(\/[^ ]*\) (.*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'); do
			lg_put "$stage" "$lib" "$lib" || return 74
		done
	fi
	for f in "${LG_FILES[@]}"; do
		lg_put "$stage" "${f%%:*}" "$(if [[ $f == *:* ]]; then echo "${f#*:}"; else echo "$f"; fi)" || return 74
	done
	if [ "${LG_NET:-0}" = 1 ]; then
		mkdir -p "$stage/lib/modules" "$stage/etc"
		for m in $LG_NET_MODULES; do
			mods=$(lg_module_deps "$m") || return
			for f in $mods; do
				case $seen in *" $f "*) continue ;; esac
				seen="$seen$f "
				cp "$f" "$stage/lib/modules/" || return 74
				echo "module /lib/modules/$(basename "$f")" >>"$stage/lg.conf"
			done
		done
		echo "net 10.0.2.15/24 10.0.2.2" >>"$stage/lg.conf"
		echo "nameserver 10.0.2.3" >"$stage/etc/resolv.conf"
	fi
	{
		echo "env PATH=/bin:/usr/bin:/sbin:/usr/sbin"
		echo "env HOME=/"
		echo "arg /bin/$(basename "$prog")"
		for a in "$@"; do echo "arg $a"; done
	} >>"$stage/lg.conf"
}

lg_accel_args() {
	if [ "$1" = kvm ]; then echo "-accel kvm -cpu host,-arch-capabilities"; else echo "-accel tcg"; fi
}

lg_start() {
	local prefix=$1 accel=$2 cpus=$3 mem=$4 initrd=$5 net=(-nic none) fwd
	shift 5
	if [ "${LG_NET:-0}" = 1 ]; then
		fwd=
		for f in "$@"; do fwd="$fwd,hostfwd=tcp:127.0.0.1:${f%%:*}-:${f#*:}"; done
		# shellcheck disable=SC2054 # QEMU's commas
		net=(-netdev "user,id=n0$fwd" -device virtio-net-pci,netdev=n0,romfile=)
	fi
	[ -n "${LG_VMLINUZ:-}" ] || lg_kernel || return
	# shellcheck disable=SC2046 # the accelerator's words
	lg_stamp "$prefix" "$QEMU" -nodefaults -no-user-config -display none -serial stdio -no-reboot \
		-M pc $(lg_accel_args "$accel") -smp "$cpus" -m "$mem" \
		-device isa-debug-exit,iobase=0xf4,iosize=4 "${net[@]}" \
		-kernel "$LG_VMLINUZ" -initrd "$initrd" -append "console=ttyS0 quiet ${LG_APPEND:-}"
}

# lg_stamp PREFIX CMD [ARG]...: runs CMD in the background, its output's lines stamped with
# their arrival time into PREFIX.log, its pid in PREFIX.pid, its status in PREFIX.status;
# sets LG_T0 (just before the spawn) and LG_PID. lg_start uses it; a benchmark may boot
# our kernel through it to time both guests alike.
lg_stamp() {
	local prefix=$1
	shift
	: >"$prefix.log"
	rm -f "$prefix.status" "$prefix.pid" "$prefix.stopped"
	LG_T0=$EPOCHREALTIME
	{
		"$@" </dev/null 2>&1 &
		echo $! >"$prefix.pid"
		wait $!
		echo $? >"$prefix.status"
	} | while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done >>"$prefix.log" &
	LG_PID=$!
	LG_STARTED="${LG_STARTED:-} $prefix"
}

lg_wait() {
	local prefix=$1 secs=${2:-600} i st
	LG_FAILURE=
	for ((i = 0; i < secs * 10; i++)); do
		[ -s "$prefix.status" ] && break
		if grep -q 'KVM internal error' "$prefix.log"; then
			LG_FAILURE="KVM internal error (QEMU pauses the guest)"
		elif [ $i -ge $((LG_BOOT_SECS * 10)) ] && ! grep -q '^[^ ]* lginit: ' "$prefix.log"; then
			LG_FAILURE="no sign of init within $LG_BOOT_SECS s"
		fi
		[ -z "$LG_FAILURE" ] || break
		sleep 0.1
	done
	[ -s "$prefix.status" ] || lg_stop "$prefix"
	[ -n "$LG_FAILURE" ] || [ ! -e "$prefix.stopped" ] || LG_FAILURE="still running after $secs s"
	wait "$LG_PID" 2>/dev/null
	st=$(cat "$prefix.status" 2>/dev/null)
	LG_STATUS=-1
	# isa-debug-exit: QEMU exits with (status << 1) | 1
	if [ ! -e "$prefix.stopped" ] && [ -n "$st" ] && [ "$st" -ge 1 ] && [ $((st % 2)) = 1 ]; then
		LG_STATUS=$((st >> 1))
	fi
}

lg_stop() {
	local i
	for ((i = 0; i < 50; i++)); do [ -s "$1.pid" ] && break; sleep 0.1; done
	: >"$1.stopped"
	[ -s "$1.pid" ] && kill "$(cat "$1.pid")" 2>/dev/null
	wait "$LG_PID" 2>/dev/null
}

# lg_cleanup: ends every guest lg_start started that is still running (for an EXIT trap).
lg_cleanup() {
	local p
	for p in ${LG_STARTED:-}; do
		[ -s "$p.status" ] || [ ! -s "$p.pid" ] || kill "$(cat "$p.pid")" 2>/dev/null
	done
}

lg_ms() {
	awk -v t0="$LG_T0" -v re="$2" '{ sub(/\r$/, "") } { line = $0; sub(/^[^ ]* /, "", line) }
		line ~ re { printf "%.1f\n", ($1 - t0) * 1000; exit }' "$1.log"
}

# lg_clock_check PREFIX: warns when the guest's clock ran faster than the host's (init's
# CLOCK_BOOTTIME at its last line beyond the host's time since QEMU's spawn, which includes
# the firmware): Linux calibrates its TSC at boot, and on a loaded host it can get it wrong.
lg_clock_check() {
	local host guest
	host=$(lg_ms "$1" '^lginit: (exit|program start)')
	guest=$(tr -d '\r' <"$1.log" | sed -n 's/^[^ ]* lginit: \(exit [0-9]*\|program start\) at \([0-9.]*\) ms$/\2/p' | head -n 1)
	[ -n "$host" ] && [ -n "$guest" ] || return 0
	awk -v h="$host" -v g="$guest" 'BEGIN { exit !(g > h * 1.05) }' || return 0
	echo "linuxguest: warning: the guest's clock ran fast ($guest ms since its boot at a line the host saw $host ms after QEMU's spawn); its own timings are suspect"
}

lg_output() {
	tr -d '\r' <"$1.log" | sed 's/^[^ ]* //' |
		sed -n '/^lginit: program start/,/^lginit: exit/{/^lginit: /d;p}'
}

lg_accels() {
	echo tcg
	[ -w /dev/kvm ] && echo kvm
	return 0
}

lg_main() {
	local accel=tcg cpus=1 mem=256M fwds=() opt t
	while getopts a:c:m:nf: opt; do
		case $opt in
		a) accel=$OPTARG ;;
		c) cpus=$OPTARG ;;
		m) mem=$OPTARG ;;
		n) LG_NET=1 ;;
		f) fwds+=("$OPTARG") LG_NET=1 ;;
		*) echo "usage: linuxguest.sh [-a tcg|kvm] [-c CPUS] [-m MEM] [-n] [-f HOST:GUEST]... PROG [ARG]..." >&2; return 64 ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -ge 1 ] || { echo "usage: linuxguest.sh [options] PROG [ARG]..." >&2; return 64; }
	t=$(mktemp -d "${TMPDIR:-/tmp}/linuxguest.XXXXXX") || return 74
	# shellcheck disable=SC2064 # $t is fixed now
	trap "lg_cleanup; rm -rf '$t'" EXIT
	lg_kernel || return
	lg_initramfs "$t/initrd.gz" "$@" || return
	echo "linuxguest: $(basename "$LG_VMLINUZ"), initramfs $(stat -c %s "$t/initrd.gz") bytes, $accel, -smp $cpus, -m $mem" >&2
	lg_start "$t/g" "$accel" "$cpus" "$mem" "$t/initrd.gz" "${fwds[@]}"
	tail -f --pid="$LG_PID" -n +1 "$t/g.log" | sed 's/^[^ ]* //' &
	lg_wait "$t/g" 3600
	wait
	[ -z "$LG_FAILURE" ] || echo "linuxguest: $LG_FAILURE" >&2
	lg_clock_check "$t/g" >&2
	echo "linuxguest: program start at $(lg_ms "$t/g" '^lginit: program start') ms, exit at $(lg_ms "$t/g" '^lginit: exit') ms after QEMU's spawn; status $LG_STATUS" >&2
	return $((LG_STATUS < 0 ? 1 : LG_STATUS))
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	lg_main "$@"
	exit
fi
