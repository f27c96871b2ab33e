#!/usr/bin/env bash
# Boots an image of the local repository with QEMU directly (disk boot through
# our MBR, console on stdio) and exits with the application's status: the
# image without 'capstan run' (no instance, no overlay kept).
# usage: examples/boot.sh [NAME]     (NAME defaults to the current folder's name)
set -u
name=${1:-$(basename "$PWD")}
root=${CAPSTAN_ROOT:-$HOME/.capstan}
img="$root/repository/$name/${name##*/}.qemu"
[ -f "$img" ] || { echo "boot.sh: no image '$name' in $root/repository (run 'capstan build' first)" >&2; exit 65; }
# KVM when /dev/kvm is usable and CAPSTAN_DISABLE_KVM is unset, else TCG; BOOT_ACCEL overrides.
accel=tcg
[ -w /dev/kvm ] && [ -z "${CAPSTAN_DISABLE_KVM:-}" ] && accel=kvm
accel=${BOOT_ACCEL:-$accel}
# -snapshot: the image in the repository is never written.
"${CAPSTAN_QEMU_PATH:-qemu-system-x86_64}" -M pc -accel "$accel" -m 128M -nodefaults -no-user-config \
	-display none -serial stdio -no-reboot -snapshot \
	-device isa-debug-exit,iobase=0xf4,iosize=4 \
	-drive "file=$img,format=qcow2,if=virtio"
st=$?
# The kernel leaves through isa-debug-exit with min(status, 127): QEMU exits 2v+1.
if [ $((st % 2)) = 1 ]; then exit $(((st - 1) / 2)); fi
exit "$st"
