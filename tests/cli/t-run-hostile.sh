#!/usr/bin/env bash
# Hostile images and clumsy operators against run, stop, delete: backing files, kernel
# cache poisoning, FIFOs, a killed 'run -d', a lost database, a full disk, a VM dead at start.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pvh/lib.sh"
pvh_image || { echo "cannot build the PVH test guest"; exit 1; }
export CAPSTAN_DISABLE_KVM=1
MNT=""
cleanup() {
	for d in "$CAPSTAN_ROOT"/instances/qemu/*/ ${MNT:+"$MNT"/root/instances/qemu/*/}; do
		[ -f "$d/pid" ] && kill -9 "$(cut -d' ' -f1 "$d/pid")" 2>/dev/null
	done
	[ -n "$MNT" ] && umount "$MNT" 2>/dev/null
	rm -rf "$TESTDIR"
}
trap cleanup EXIT
SECRET="$TESTDIR/secret"
head -c 65536 /dev/zero | tr '\0' 'S' >"$SECRET"
REPO="$CAPSTAN_ROOT/repository"

# put_by_hand NAME FILE: an image placed in the repository without import's checks.
put_by_hand() {
	mkdir -p "$REPO/test/$1"
	cp "$2" "$REPO/test/$1/$1.qemu"
	printf 'format_version: "1"\nversion: "1"\ncreated: "2025-01-01T00:00:00Z"\ndescription: x\nbuild: x\n' \
		>"$REPO/test/$1/index.yaml"
}

# --- issue 9.1: a backing file never reaches QEMU ---
qemu-img create -q -f qcow2 -F raw -b "$SECRET" "$TESTDIR/abs.qcow2" 1M
mkdir -p "$TESTDIR/sub"
qemu-img create -q -f qcow2 -F raw -b ../secret "$TESTDIR/sub/rel.qcow2" 1M
expect 65 "import refuses an absolute backing file" "$CAPSTAN" import test/abs "$TESTDIR/abs.qcow2"
one_line "$ERR" "backing file refused: one line"
has "$ERR" "names a backing file \('$SECRET'\)" "the refusal names the backing file"
expect 65 "import refuses a ../ backing file" "$CAPSTAN" import test/rel "$TESTDIR/sub/rel.qcow2"
[ ! -e "$REPO/test/abs" ] && [ ! -e "$REPO/test/rel" ] && ok "refused imports leave nothing" ||
	fail "refused imports leave nothing"

# pull: an original-Capstan registry (no sha256) and a verified one both serve the image
REG="$TESTDIR/reg"
mkdir -p "$REG/test/evil"
gzip -c "$TESTDIR/abs.qcow2" >"$REG/test/evil/evil.qemu.gz"
printf 'format_version: "1"\nversion: "1"\ncreated: 2016-03-02 13:10\ndescription: x\nbuild: x\n' \
	>"$REG/test/evil/index.yaml"
expect 65 "pull refuses a backing file (unverified index)" "$CAPSTAN" pull -u "file://$REG" test/evil
has "$ERR" "names a backing file" "pull says why"
mkdir -p "$REG/test/evil2"
cp "$TESTDIR/abs.qcow2" "$TESTDIR/evil2.qemu"
gzip -c "$TESTDIR/evil2.qemu" >"$REG/test/evil2/evil2.qemu.gz"
printf 'format_version: "1"\nversion: "1"\ncreated: "2025-01-01T00:00:00Z"\ndescription: x\nbuild: x\nplatforms:\n  qemu:\n    file: evil2.qemu.gz\n    size: %s\n    sha256: "%s"\n' \
	"$(stat -c %s "$TESTDIR/evil2.qemu")" "$(sha256sum "$TESTDIR/evil2.qemu" | cut -d' ' -f1)" \
	>"$REG/test/evil2/index.yaml"
expect 65 "pull refuses a backing file (verified index)" "$CAPSTAN" pull -u "file://$REG" test/evil2
[ ! -e "$REPO/test/evil" ] && [ ! -e "$REPO/test/evil2" ] && [ -z "$(find "$CAPSTAN_ROOT/cache/partial" -type f ! -name '*.lock' 2>/dev/null)" ] &&
	ok "refused pulls keep nothing" || fail "refused pulls keep nothing"

# by hand: run refuses it before any QEMU starts
qemu-img convert -O raw "$TESTDIR/pvh.qcow2" "$TESTDIR/pvh.raw2"
qemu-img create -q -f qcow2 -F raw -b "$SECRET" "$TESTDIR/hand.qcow2" 1M
put_by_hand hand "$TESTDIR/hand.qcow2"
expect 65 "run refuses a hand-placed image with a backing file" "$CAPSTAN" run -d test/hand
has "$ERR" "image 'test/hand' names a backing file" "run names the image"
[ ! -e "$CAPSTAN_ROOT/instances/qemu/test-hand" ] && ok "no instance folder for it" || fail "no instance folder for it"
# every QEMU capstan starts gets the repository image with "backing": null
expect 0 "run -v shows the disk chain" "$CAPSTAN" run -v --rm test/pvh -e 0 </dev/null
has "$OUT" '"node-name":"base","read-only":true,"backing":null' "the repository layer has no backing"
has "$OUT" '"backing":"base"' "the overlay's backing is named by node"
hasnt "$OUT" ' -drive ' "no -drive that would follow file names"

# The chain itself: QEMU given the hostile image as the repository layer, as run would give
# it, never opens the file its header names (the guest would read zeroes there).
qemu-img create -q -f qcow2 -F qcow2 -b "$TESTDIR/hand.qcow2" "$TESTDIR/over.qcow2" 1M
qemu-system-x86_64 -nodefaults -display none -S -M microvm -accel tcg \
	-blockdev "{\"driver\":\"file\",\"filename\":\"$TESTDIR/hand.qcow2\",\"node-name\":\"base-file\",\"read-only\":true}" \
	-blockdev '{"driver":"qcow2","file":"base-file","node-name":"base","read-only":true,"backing":null}' \
	-blockdev "{\"driver\":\"file\",\"filename\":\"$TESTDIR/over.qcow2\",\"node-name\":\"hd0-file\"}" \
	-blockdev '{"driver":"qcow2","file":"hd0-file","node-name":"hd0","backing":"base"}' \
	-device virtio-blk-device,drive=hd0 -qmp "unix:$TESTDIR/chain.sock,server=on,wait=off" &
chain=$!
# The blockdevs open in order: once the overlay (the last) is open, the base chain is set up.
# (Without "backing": null this showed the backing file open; with it, never.)
for _ in $(seq 400); do ls -l "/proc/$chain/fd" 2>/dev/null | grep -q over.qcow2 && break; sleep 0.05; done
fds=$(ls -l "/proc/$chain/fd" 2>/dev/null)
echo "$fds" | grep -q "hand.qcow2" && ! echo "$fds" | grep -q "$SECRET" &&
	ok "QEMU opens the image but not the backing file it names" || fail "QEMU opens the image but not the backing file it names"
kill "$chain"
wait "$chain" 2>/dev/null

# --- issue 9.10: a FIFO as backing file or image hangs nothing ---
mkfifo "$TESTDIR/fifo"
qemu-img create -q -f qcow2 -F raw -u -b "$TESTDIR/fifo" "$TESTDIR/fifo.qcow2" 1M
put_by_hand fifo "$TESTDIR/fifo.qcow2"
expect 65 "run of an image backed by a FIFO fails at once" timeout 20 "$CAPSTAN" run -d test/fifo
expect 65 "import of a FIFO fails at once" timeout 20 "$CAPSTAN" import test/f "$TESTDIR/fifo"
put_by_hand fifo2 /dev/null
rm -f "$REPO/test/fifo2/fifo2.qemu" && mkfifo "$REPO/test/fifo2/fifo2.qemu"
run timeout 20 "$CAPSTAN" run -d test/fifo2
[ "$RC" != 124 ] && [ "$RC" != 0 ] && ok "run of a FIFO image fails at once (exit $RC)" || fail "run of a FIFO image fails at once"

# --- issue 9.20: an image we cannot run is named with its platform ---
qemu-img create -q -f vdi "$TESTDIR/x.vdi" 1M
expect 0 "import a VDI" "$CAPSTAN" import test/vdi "$TESTDIR/x.vdi"
expect 65 "run of a VDI-only image" "$CAPSTAN" run test/vdi </dev/null
has "$ERR" "image 'test/vdi' is in the local repository for vbox only; capstan runs qemu" "says it is there, as vbox"

# qcow2 errors at run time name the image
head -c 327680 "$TESTDIR/pvh.qcow2" >"$TESTDIR/trunc.qcow2"
put_by_hand trunc "$TESTDIR/trunc.qcow2"
expect 65 "run of a truncated qcow2" "$CAPSTAN" run test/trunc </dev/null
has "$ERR" "^capstan: image 'test/trunc': qcow2: " "the qcow2 error names the image"

# --- issue 9.2: the kernel cache is keyed by SHA-256 of the kernel bytes ---
# The old key (CRC32 and size) was forgeable; a kernel planted under it must not boot.
rm -rf "$CAPSTAN_ROOT/cache/kernels"
expect 0 "a run fills the kernel cache" "$CAPSTAN" run --rm test/pvh -e 0 </dev/null
kfile=$(ls "$CAPSTAN_ROOT"/cache/kernels/ | grep '^k-' | head -1)
ksum=$(sha256sum "$CAPSTAN_ROOT/cache/kernels/$kfile" | cut -d' ' -f1)
[ "$kfile" = "k-$ksum" ] && ok "the cached kernel is named by its SHA-256" || fail "the cached kernel is named by its SHA-256 ($kfile)"
# Poison every name a CRC32-and-size key could take, then run a fresh copy of the image.
crcname=$(python3 -c 'import sys,zlib; d=open(sys.argv[1],"rb").read(); print("k-%08x-%d" % (zlib.crc32(d) & 0xffffffff, len(d)))' "$CAPSTAN_ROOT/cache/kernels/$kfile")
rm -rf "$CAPSTAN_ROOT/cache/kernels"
mkdir -p "$CAPSTAN_ROOT/cache/kernels"
head -c "$(stat -c %s "$TESTDIR/pvh.elf")" /dev/zero >"$CAPSTAN_ROOT/cache/kernels/$crcname"
expect 42 "a kernel planted under the old CRC32 key is never booted" timeout 60 "$CAPSTAN" run --rm test/pvh -e "42 x" </dev/null

# --- issue 9.6: kill -9 of 'run -d' while it starts leaves no unreachable QEMU ---
"$CAPSTAN" run -d --name k9 test/pvh -e sleep >/dev/null 2>&1 &
runner=$!
for _ in $(seq 400); do [ -s "$CAPSTAN_ROOT/instances/qemu/k9/pid" ] && break; sleep 0.01; done
kill -9 "$runner" 2>/dev/null
wait "$runner" 2>/dev/null
qpid=$(cut -d' ' -f1 "$CAPSTAN_ROOT/instances/qemu/k9/pid" 2>/dev/null)
if [ -n "$qpid" ] && [ -d "/proc/$qpid" ]; then
	[ "$(field k9 state)" = running ] && ok "the killed run's QEMU is found running" || fail "the killed run's QEMU is found running ($(field k9 state))"
	expect 0 "stop reaches it" "$CAPSTAN" stop -t 1 k9
	for _ in $(seq 100); do [ -d "/proc/$qpid" ] || break; sleep 0.05; done
	[ ! -d "/proc/$qpid" ] && ok "stop ended the QEMU" || fail "stop ended the QEMU"
else
	ok "the run finished before the kill (nothing to reach)"
fi
expect 0 "delete it" "$CAPSTAN" delete k9
# The same state made deterministic: the row as a run killed before recording leaves it
# ("created", no pid), and as a reconcile later marks it ("crashed", no pid).
for st in created crashed; do
	expect 0 "run -d k9$st" "$CAPSTAN" run -d --name "k9$st" test/pvh -e sleep
	qpid=$(cut -d' ' -f1 "$CAPSTAN_ROOT/instances/qemu/k9$st/pid")
	python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("update instances set state=?, pid=0, pid_start=0 where name=?", (sys.argv[2], sys.argv[3])); c.commit()' \
		"$CAPSTAN_ROOT/capstan.db" "$st" "k9$st"
	[ "$(field "k9$st" state)" = running ] && ok "a $st row over a live QEMU reads as running" || fail "a $st row over a live QEMU reads as running ($(field "k9$st" state))"
	expect 0 "stop k9$st" "$CAPSTAN" stop -t 1 "k9$st"
	for _ in $(seq 100); do [ -d "/proc/$qpid" ] || break; sleep 0.05; done
	[ ! -d "/proc/$qpid" ] && ok "stop ended the $st row's QEMU" || fail "stop ended the $st row's QEMU"
	expect 0 "delete k9$st" "$CAPSTAN" delete "k9$st"
done

# --- issue 9.7: with the database lost, a running VM's folder is never removed ---
expect 0 "run -d lost" "$CAPSTAN" run -d --name lost test/pvh -e sleep
lpid=$(cut -d' ' -f1 "$CAPSTAN_ROOT/instances/qemu/lost/pid")
rm -f "$CAPSTAN_ROOT"/capstan.db*
expect 65 "run --name of a live folder is refused" "$CAPSTAN" run -d --name lost test/pvh -e sleep
has "$ERR" "belongs to a running QEMU \(pid $lpid\)" "the refusal names the QEMU"
[ -f "$CAPSTAN_ROOT/instances/qemu/lost/disk.qcow2" ] && [ -d "/proc/$lpid" ] &&
	ok "the live VM keeps its folder and runs" || fail "the live VM keeps its folder and runs"
expect 0 "delete without a row ends the QEMU" "$CAPSTAN" delete lost
for _ in $(seq 100); do [ -d "/proc/$lpid" ] || break; sleep 0.05; done
[ ! -d "/proc/$lpid" ] && [ ! -e "$CAPSTAN_ROOT/instances/qemu/lost" ] && ok "QEMU and folder gone" || fail "QEMU and folder gone"

# --- issue 9.9: run -d of a VM that dies at start is an error with QEMU's own words ---
# (-n bridge without the bridge helper's ACL: QEMU has its QMP socket up, then fails)
[ -e /etc/qemu/bridge.conf ] && echo "# /etc/qemu/bridge.conf exists: the bridge may start"
expect 69 "run -d of a VM that cannot start" "$CAPSTAN" run -d --name dead -n bridge -b capstan-nobr0 test/pvh -e sleep
one_line "$ERR" "dead at start: one line"
has "$ERR" "QEMU failed to start: .*(bridge|acl)" "the error quotes qemu.log"
[ ! -e "$CAPSTAN_ROOT/instances/qemu/dead" ] && [ "$(field dead name)" = "-" ] && ok "nothing left of it" || fail "nothing left of it"

# --- issue 9.8: on a full disk, stop and delete still end the VM ---
if [ "$(id -u)" = 0 ] && MNT="$TESTDIR/mnt" && mkdir -p "$MNT" && mount -t tmpfs -o size=24m capstan-test "$MNT" 2>/dev/null; then
	export CAPSTAN_ROOT="$MNT/root"
	"$CAPSTAN" import test/pvh "$TESTDIR/pvh.qcow2" >/dev/null
	expect 0 "run -d on the small disk" "$CAPSTAN" run -d --name full test/pvh -e sleep
	fpid=$(cut -d' ' -f1 "$CAPSTAN_ROOT/instances/qemu/full/pid")
	dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null
	expect 0 "instances reads on a full disk" "$CAPSTAN" instances
	has "$OUT" '^full ' "it lists the VM"
	expect 0 "stop on a full disk" "$CAPSTAN" stop -t 1 full
	for _ in $(seq 100); do [ -d "/proc/$fpid" ] || break; sleep 0.05; done
	[ ! -d "/proc/$fpid" ] && ok "the VM is off" || fail "the VM is off"
	rm -f "$MNT/filler"
	expect 0 "run -d full2" "$CAPSTAN" run -d --name full2 test/pvh -e sleep
	f2pid=$(cut -d' ' -f1 "$CAPSTAN_ROOT/instances/qemu/full2/pid")
	dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null
	expect 0 "delete on a full disk" "$CAPSTAN" delete full2
	for _ in $(seq 100); do [ -d "/proc/$f2pid" ] || break; sleep 0.05; done
	[ ! -d "/proc/$f2pid" ] && [ ! -e "$CAPSTAN_ROOT/instances/qemu/full2" ] && ok "delete ended the VM and freed its folder" ||
		fail "delete ended the VM and freed its folder"
	rm -f "$MNT/filler"
	"$CAPSTAN" delete full >/dev/null 2>&1
	export CAPSTAN_ROOT="$TESTDIR/root"
else
	MNT=""
	ok "# SKIP full disk: needs root to mount a small tmpfs"
fi

done_testing
