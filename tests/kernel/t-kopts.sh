#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Kernel options, exit statuses of the kernel's own errors, and the graceful stop (QMP system_powerdown).
#
# Environment (set by meson): KERNEL, MKIMAGE, PROGS; QEMU (default qemu-system-x86_64).
# Boots under TCG on microvm (direct, virtio-mmio) and pc (virtio-blk-pci); every boot has a timeout.
# Prints one line per check and "N passed, N failed"; exits 77 when a piece is missing.
set -u
QEMU=${QEMU:-qemu-system-x86_64}
for v in KERNEL MKIMAGE PROGS; do
	[ -e "${!v:-}" ] || { echo "skip: $v not built"; exit 77; }
done
command -v python3 >/dev/null || { echo "skip: python3 missing"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/capstan-kopts.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1: $2"; sed 's/^/    /' "$tmp/out" "$tmp/status" 2>/dev/null | head -20; }

# image CMDLINE: an image with hello, cat, enosys, stdin and a data folder
image() {
	mkdir -p "$tmp/data"
	printf 'hello, file\n' >"$tmp/data/hello.txt"
	"$MKIMAGE" "$tmp/img" --kernel "$KERNEL" --cmdline "$1" "/bin/hello=$PROGS/hello.musl" \
		"/bin/cat=$PROGS/cat.glibc" "/bin/enosys=$PROGS/enosys.musl" "/bin/stdin=$PROGS/stdin.musl-pie" \
		"/data=$tmp/data" >"$tmp/mk" 2>&1 || { cat "$tmp/mk"; exit 1; }
}

# boot MACHINE [QEMU-ARGS...]: console in $tmp/out, status line in $tmp/status, QEMU status in $st
boot() {
	local m=$1
	shift
	local q=("$QEMU" -nodefaults -no-user-config -display none -serial stdio -no-reboot -m 64M -accel tcg
		-device isa-debug-exit,iobase=0xf4,iosize=4
		-chardev "file,id=st,path=$tmp/status" -device isa-debugcon,iobase=0xe9,chardev=st)
	case $m in
	microvm) q+=(-M microvm,x-option-roms=off,pit=off,pic=off,rtc=off -kernel "$KERNEL") ;;
	pc) q+=(-M pc -kernel "$KERNEL") ;;
	esac
	rm -f "$tmp/status"
	timeout -k 5 60 "${q[@]}" "$@" </dev/null >"$tmp/out" 2>&1
	st=$?
	echo "$st" >"$tmp/qst" # for boots run in the background
	touch "$tmp/status"
}
mmio() { echo -drive "id=d0,file=$tmp/img,format=raw,if=none" -device virtio-blk-device,drive=d0; }

# check LABEL QEMU-STATUS STATUS-LINE-PREFIX [CONSOLE-SUBSTRING...]
check() {
	local label=$1 want=$2 line=$3 s
	shift 3
	[ "$st" = "$want" ] || { bad "$label" "qemu status $st, want $want"; return; }
	grep -q "^$line" "$tmp/status" || { bad "$label" "status line is not '$line...'"; return; }
	for s in "$@"; do
		case $s in
		!*) ! tr -d '\r' <"$tmp/out" | grep -qF -- "${s#!}" || { bad "$label" "console has '${s#!}'"; return; } ;;
		*) tr -d '\r' <"$tmp/out" | grep -qF -- "$s" || { bad "$label" "console lacks '$s'"; return; } ;;
		esac
	done
	ok "$label"
}

image "--quiet /bin/hello"
boot microvm $(mmio)
check "--quiet" 1 "exit 0" "hello, world" "!capstan 0"

image "--verbose /bin/hello"
boot microvm $(mmio)
check "--verbose" 1 "exit 0" "capstan 0" "capstan: disk: virtio-blk-mmio" "capstan: command line from the disk: --verbose /bin/hello" "capstan: exec /bin/hello (static"

image "--trace /bin/hello"
boot microvm $(mmio)
check "--trace" 1 "exit 0" "capstan: boot trace: program entry at" "cpio index" "hello, world"

image "--nosys /bin/enosys"
boot microvm $(mmio)
check "--nosys" 1 "exit 0" "capstan: unimplemented syscalls: tuxcall(184) x1, ?(400) x1"

image "--strace /bin/enosys"
boot microvm $(mmio)
check "--strace" 1 "exit 0" "[1.1] tuxcall(0x" "[1.1] tuxcall = -38" "[1.1] exit_group(0x0, " "enosys: syscall 1000"
# each line starts with the seconds since boot, to the microsecond
if tr -d '\r' <"$tmp/out" | grep -Eq '^[0-9]+\.[0-9]{6} \[1\.1\] tuxcall\(0x' &&
	! tr -d '\r' <"$tmp/out" | grep -E '\[1\.1\] ' | grep -Evq '^[0-9]+\.[0-9]{6} \[1\.1\] '; then
	ok "--strace: a timestamp on every line"
else
	bad "--strace: a timestamp on every line" "$(tr -d '\r' <"$tmp/out" | grep -E '\[1\.1\] ' | head -3)"
fi

image "--cwd=/data --env=X=1 /bin/cat hello.txt"
boot microvm $(mmio)
check "--cwd" 1 "exit 0" "hello, file"

image "/bin/hello"
boot microvm $(mmio) -append "--quiet /bin/cat /data/hello.txt"
check "-append overrides the disk" 1 "exit 0" "hello, file" "!hello, world"

image "--bogus /bin/hello"
boot microvm $(mmio)
check "unknown option: 126" 253 "exit 126 command line: unknown kernel option: --bogus"

image "--ip=10.0.2.99/24,10.0.2.2 /bin/hello"
boot microvm $(mmio) -netdev user,id=n0 -device virtio-net-device,netdev=n0
check "--ip: a static address" 1 "exit 0" "eth0: 10.0.2.99" "hello, world"

image "--ip=10.0.2.999 /bin/hello"
boot microvm $(mmio) -netdev user,id=n0 -device virtio-net-device,netdev=n0
check "--ip: a bad address: 126" 253 "exit 126 --ip: expected ADDR/PREFIX"

image "--ip=10.0.2.99/24 /bin/hello"
boot microvm $(mmio)
check "--ip without a network device: 126" 253 "exit 126 --ip: no virtio-net device"

image "/bin/nope"
boot microvm $(mmio)
check "missing program: 127" 255 "exit 127 /bin/nope: program not found in the image"

image "'/bin/hello"
boot microvm $(mmio)
check "bad quoting: 126" 253 "exit 126 command line: unterminated single quote"

boot microvm
check "no disk: panic" 255 "panic no virtio-blk disk"

# graceful stop: stdin waits for a line; system_powerdown (SIGTERM, no handler) ends it with 143
cat >"$tmp/qmp.py" <<'PY'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX)
for _ in range(200):
    try:
        s.connect(sys.argv[1])
        break
    except OSError:
        time.sleep(0.05)
f = s.makefile("rw")
f.readline()
for cmd in ("qmp_capabilities", "system_powerdown"):
    if cmd == "system_powerdown":  # once the program says "ready" (its handler is in place)
        for _ in range(1000):
            try:
                with open(sys.argv[2], "rb") as out:
                    if b"ready" in out.read():
                        break
            except FileNotFoundError:
                pass
            time.sleep(0.05)
    f.write(json.dumps({"execute": cmd}) + "\n")
    f.flush()
    f.readline()
PY
image "/bin/stdin"
for m in microvm pc; do
	args=(-qmp "unix:$tmp/qmp.sock,server=on,wait=off")
	if [ $m = microvm ]; then args+=($(mmio)); else args+=(-drive "file=$tmp/img,format=raw,if=virtio"); fi
	rm -f "$tmp/qmp.sock" "$tmp/qst" "$tmp/out"
	boot $m "${args[@]}" &
	bootpid=$!
	python3 "$tmp/qmp.py" "$tmp/qmp.sock" "$tmp/out" || true
	wait $bootpid
	st=$(cat "$tmp/qst")
	check "graceful stop ($m)" 255 "exit 143 stopped by power button" "ready" "capstan: stopped by power button"
done

# a program that handles SIGTERM: the power button interrupts its read, it exits with its own status
image "/bin/stdin term"
for m in microvm pc; do
	args=(-qmp "unix:$tmp/qmp.sock,server=on,wait=off")
	if [ $m = microvm ]; then args+=($(mmio)); else args+=(-drive "file=$tmp/img,format=raw,if=virtio"); fi
	rm -f "$tmp/qmp.sock" "$tmp/qst" "$tmp/out"
	boot $m "${args[@]}" &
	bootpid=$!
	python3 "$tmp/qmp.py" "$tmp/qmp.sock" "$tmp/out" || true
	wait $bootpid
	st=$(cat "$tmp/qst")
	check "SIGTERM handled ($m)" 7 "exit 3" "ready" "SIGTERM while reading (EINTR)" "!stopped by power button"
done

echo "$pass passed, $fail failed"
[ $fail = 0 ]
