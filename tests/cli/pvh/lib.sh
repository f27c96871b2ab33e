# Builds the tiny PVH test guest into a capstan image and imports it as test/pvh.
# shellcheck shell=bash
PVH_SRC="$(dirname "${BASH_SOURCE[0]}")"
pvh_image() {
	as --32 -o "$TESTDIR/pvh.o" "$PVH_SRC/pvh.S" &&
		ld -m elf_i386 -e start -Ttext=0x100000 -o "$TESTDIR/pvh.elf" "$TESTDIR/pvh.o" &&
		python3 "$PVH_SRC/mkimage.py" "$TESTDIR/pvh.raw" "$TESTDIR/pvh.elf" "" &&
		qemu-img convert -O qcow2 "$TESTDIR/pvh.raw" "$TESTDIR/pvh.qcow2" &&
		"$CAPSTAN" import test/pvh "$TESTDIR/pvh.qcow2" >/dev/null
}
# A free TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# rows: the number of instance rows (all states).
rows() {
	"$CAPSTAN" instances -a --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}
# field NAME KEY: one field of an instance from --json.
field() {
	"$CAPSTAN" instances -a --json |
		python3 -c 'import json,sys; r=[i for i in json.load(sys.stdin) if i["name"]==sys.argv[1]]; print(r[0][sys.argv[2]] if r else "-")' "$1" "$2"
}
