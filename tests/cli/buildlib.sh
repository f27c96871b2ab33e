# Shared by the build tests: a data folder of our own (a tiny kernel ELF with
# a PVH note, a boot sector) and a default registry holding capstan/base
# built from them, so no real kernel or network is needed.
# shellcheck shell=bash
command -v qemu-img >/dev/null || { echo "skip: qemu-img missing"; exit 77; }
command -v cc >/dev/null || { echo "skip: no C compiler"; exit 77; }
data="$TESTDIR/data"
mkdir -p "$data/base"
printf '.section .note.Xen, "a"\n.align 4\n.long 4, 4, 18\n.asciz "Xen"\n.long _start\n.text\n.globl _start\n_start: hlt\n' >"$data/k.S"
cc -nostdlib -static -no-pie -Wl,--build-id=none -o "$data/capstan-kernel.elf" "$data/k.S" || exit 1
{ head -c 510 /dev/zero; printf '\125\252'; } >"$data/mbr.bin"
printf 'echo base\n' >"$data/base/sh"
chmod 755 "$data/base/sh"
printf 'cmdline: /bin/sh\nfiles:\n  /bin/sh: sh\n' >"$data/base/Capstanfile"
export CAPSTAN_DATADIR="$data"
CAPSTAN_ROOT="$data/root" SOURCE_DATE_EPOCH=1 "$CAPSTAN" build -q -f "$data/base/Capstanfile" capstan/base >"$OUT" 2>"$ERR"
RC=$?
[ "$RC" = 0 ] && ok "base image built on the bundled kernel" || fail "base image built on the bundled kernel"
sh "$CAPSTAN_SOURCE_ROOT/repo/mkregistry.sh" "$data/repo" 0.1.0 2025-01-01T00:00:00Z test \
	capstan/base "$data/root/repository/capstan/base/base.qemu" "test base" || exit 1
rm -rf "$data/root"
DUMP="$(dirname "$0")/imgdump.py"
export SOURCE_DATE_EPOCH=1700000000
repo="$CAPSTAN_ROOT/repository"
# dump NAME [--data]: the image's content (imgdump.py) into $TESTDIR/dump
dump() {
	qemu-img convert -f qcow2 -O raw "$repo/$1/$(basename "$1").qemu" "$TESTDIR/img.raw" &&
		python3 "$DUMP" "$TESTDIR/img.raw" ${2:-} >"$TESTDIR/dump"
}
