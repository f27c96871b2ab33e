#!/usr/bin/env bash
# capstan import: every format by its magic, metadata, errors, concurrency, nothing half-written.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
cd "$TESTDIR"
qemu-img create -q -f qcow2 disk.qcow2 64M
qemu-img create -q -f vmdk disk.vmdk 64M
qemu-img create -q -f vdi disk.vdi 64M
qemu-img create -q -f raw disk.raw 64M
cp disk.qcow2 misleading.raw # the name lies; the magic does not
repo="$CAPSTAN_ROOT/repository"

# no partial state check: no temp files, no folders without an image
clean() {
	if [ -z "$(find "$CAPSTAN_ROOT" -name '*.tmp.*' -o -name '.rmi.*' 2>/dev/null)" ]; then ok "$1: no temp files left"; else fail "$1: temp files left"; fi
}

expect 0 "import qcow2" "$CAPSTAN" import ns/q disk.qcow2 -v 1.2 -c 2024-05-01T10:00:00Z -d "a qcow2 image" -b "qemu-img create"
has "$OUT" "imported 'ns/q'" "import says what it did"
[ -f "$repo/ns/q/q.qemu" ] && ok "qcow2 stored as q.qemu" || fail "qcow2 stored as q.qemu"
cmp -s disk.qcow2 "$repo/ns/q/q.qemu" && ok "qcow2 copied byte for byte" || fail "qcow2 copied byte for byte"
idx="$repo/ns/q/index.yaml"
if $PY -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); assert d == {"format_version": "1", "version": "1.2", "created": "2024-05-01T10:00:00Z", "description": "a qcow2 image", "build": "qemu-img create", "platform": "qemu"}, d' "$idx" 2>"$ERR"; then ok "index.yaml has Capstan's fields"; else fail "index.yaml has Capstan's fields"; fi
expect 0 "import vmdk" "$CAPSTAN" import v disk.vmdk
[ -f "$repo/v/v.vmw" ] && ok "vmdk stored as v.vmw" || fail "vmdk stored as v.vmw"
expect 0 "import vdi" "$CAPSTAN" import d disk.vdi --version 2 --description "vbox disk"
[ -f "$repo/d/d.vbox" ] && ok "vdi stored as d.vbox" || fail "vdi stored as d.vbox"
expect 0 "import raw" "$CAPSTAN" import r disk.raw -c "2015-01-02 15:04"
[ -f "$repo/r/r.raw" ] && ok "raw stored as r.raw" || fail "raw stored as r.raw"
[ "$(du -k "$repo/r/r.raw" | cut -f1)" -lt 1024 ] && ok "a sparse raw image stays sparse" || fail "a sparse raw image stays sparse"
[ "$(stat -c %s "$repo/r/r.raw")" = 67108864 ] && ok "raw keeps its size" || fail "raw keeps its size"
expect 0 "import by magic, not name" "$CAPSTAN" import m misleading.raw
[ -f "$repo/m/m.qemu" ] && ok "a qcow2 named .raw is stored as qemu" || fail "a qcow2 named .raw is stored as qemu"
created=$(sed -n 's/^created: "\(.*\)"$/\1/p' "$repo/m/index.yaml")
[[ "$created" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] && ok "created defaults to now, RFC 3339 UTC" || fail "created defaults to now ($created)"
expect 0 "import again replaces" "$CAPSTAN" import r disk.raw -v 3
has "$repo/r/index.yaml" '^version: "3"$' "replaced index has the new version"
qemu-img create -q -f qcow2 -b disk.qcow2 -F qcow2 overlay.qcow2
# A backing file would let the image choose a host file for QEMU to open: refused.
expect 65 "import of an overlay is refused" "$CAPSTAN" import ov overlay.qcow2
has "$ERR" "^capstan: import 'ov': image 'overlay.qcow2' names a backing file \('disk.qcow2'\): a repository image must stand alone" "overlay import names the backing file"
expect 0 "-q is quiet" "$CAPSTAN" import -q q2 disk.qcow2
[ -s "$OUT" ] && fail "-q is quiet" || ok "-q prints nothing"
clean "after imports"

# usage errors: 64, one line
expect 64 "no arguments" "$CAPSTAN" import
one_line "$ERR" "no arguments is one line"
expect 64 "one argument" "$CAPSTAN" import x
expect 64 "three arguments" "$CAPSTAN" import x disk.raw extra
expect 64 "bad created" "$CAPSTAN" import x disk.raw -c yesterday
has "$ERR" "created 'yesterday' is not a date and time" "bad created is named"
one_line "$ERR" "bad created is one line"
expect 64 "bad name" "$CAPSTAN" import "../evil" disk.raw
has "$ERR" "^capstan: import '../evil': invalid image name '../evil'" "bad name message"
expect 64 "three-part name" "$CAPSTAN" import a/b/c disk.raw
expect 64 "option without value" "$CAPSTAN" import x disk.raw -v

# data and I/O errors
expect 74 "missing file" "$CAPSTAN" import foo /nonexistent/x.img
if [ "$(cat "$ERR")" = "capstan: import 'foo': cannot read '/nonexistent/x.img': No such file or directory" ]; then ok "missing file message"; else fail "missing file message"; fi
expect 74 "a folder is not an image" "$CAPSTAN" import foo "$TESTDIR"
has "$ERR" "is a folder, not an image" "folder message"
head -c 100 disk.qcow2 >trunc.qcow2
expect 65 "truncated qcow2 header" "$CAPSTAN" import bad trunc.qcow2
has "$ERR" "^capstan: import 'bad': 'trunc.qcow2': qcow2 header: truncated" "truncated header message"
one_line "$ERR" "bad header is one line"
head -c 200000 disk.qcow2 >t2.qcow2
truncate -s 196608 t2.qcow2 # cut inside the L1 table
expect 65 "qcow2 cut inside its L1 table" "$CAPSTAN" import bad t2.qcow2
has "$ERR" "l1_table_offset 0x30000 is past the end of the file" "L1 past the end is named"
cp disk.qcow2 badcluster.qcow2
printf '\x00\x00\x00\x1e' | dd of=badcluster.qcow2 bs=1 seek=20 conv=notrunc status=none
expect 65 "qcow2 with cluster_bits 30" "$CAPSTAN" import bad badcluster.qcow2
has "$ERR" "cluster_bits 30 is out of range" "bad field is named"
gzip -c disk.raw >disk.raw.gz
expect 65 "gzip is not a disk" "$CAPSTAN" import bad disk.raw.gz
has "$ERR" "gzip-compressed" "gzip message"
qemu-img create -q -f vmdk -o subformat=monolithicFlat flat.vmdk 1M
expect 65 "a VMDK descriptor with separate extents" "$CAPSTAN" import bad flat.vmdk
has "$ERR" "VMDK descriptor" "descriptor message"
[ -e "$repo/bad" ] && fail "failed imports leave no image folder" || ok "failed imports leave no image folder"
clean "after failed imports"

# a root that cannot be written: a file where the folder should be
echo x >"$TESTDIR/rootfile"
CAPSTAN_ROOT="$TESTDIR/rootfile" expect 74 "root is a file" "$CAPSTAN" import foo disk.raw
has "$ERR" "^capstan: .*'$TESTDIR/rootfile/" "root-is-a-file message names the path"
one_line "$ERR" "root-is-a-file is one line"
mkdir -p "$TESTDIR/r1"
echo x >"$TESTDIR/r1/repository"
CAPSTAN_ROOT="$TESTDIR/r1" expect 74 "repository is a file" "$CAPSTAN" import foo disk.raw
has "$ERR" "^capstan: import 'foo': '$TESTDIR/r1/repository' is not a folder$" "repository-is-a-file message"
mkdir -p "$TESTDIR/r2/repository"
echo x >"$TESTDIR/r2/repository/foo"
CAPSTAN_ROOT="$TESTDIR/r2" expect 74 "image folder is a file" "$CAPSTAN" import foo disk.raw
[ -z "$(ls -A "$TESTDIR/r2/repository" | grep -v -e '^foo$' -e '^.lock$')" ] && ok "nothing else left beside it" || fail "nothing else left beside it"

# a missing root is created, several levels deep, private (0700) as ~/.ssh is
CAPSTAN_ROOT="$TESTDIR/new/deep/root" expect 0 "a missing root is created" "$CAPSTAN" import fresh disk.vdi
[ -f "$TESTDIR/new/deep/root/repository/fresh/fresh.vbox" ] && ok "image in the new root" || fail "image in the new root"
[ "$(stat -c %a "$TESTDIR/new/deep/root")" = 700 ] && ok "a new root is 0700" || fail "a new root is 0700 ($(stat -c %a "$TESTDIR/new/deep/root"))"
mkdir -p "$TESTDIR/open" && chmod 755 "$TESTDIR/open"
CAPSTAN_ROOT="$TESTDIR/open" expect 0 "import into an existing root" "$CAPSTAN" import fresh disk.vdi
[ "$(stat -c %a "$TESTDIR/open")" = 755 ] && ok "an existing root keeps its mode" || fail "an existing root keeps its mode"

# the date forms OSv's scripts and Capstan write
for c in 2019-12-15T17:31:12 "2019-12-15 17:31:12" "2006-01-02 15:04" 2024-05-01T10:00:00.5Z; do
	expect 0 "import -c '$c'" "$CAPSTAN" import dated disk.raw -c "$c"
	has "$repo/dated/index.yaml" "^created: \"$c\"\$" "created '$c' kept as written"
done
expect 64 "a date without a time" "$CAPSTAN" import dated disk.raw -c 2019-12-15

# a killed import leaves a temp file; the next import removes it (its owner is gone)
printf 'partial' >"$repo/.incoming.tmp.DEAD01"
printf 'partial' >"$repo/dated/index.yaml.tmp.DEAD02"
expect 0 "an import after a killed one" "$CAPSTAN" import dated disk.raw
[ ! -e "$repo/.incoming.tmp.DEAD01" ] && [ ! -e "$repo/dated/index.yaml.tmp.DEAD02" ] &&
	ok "stale temp files removed" || fail "stale temp files removed"

# read-only root and full disk, with real mounts in a private mount namespace (needs root)
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
	mkdir -p "$TESTDIR/ro/repository" "$TESTDIR/full"
	unshare -m bash -c "mount --bind '$TESTDIR/ro' '$TESTDIR/ro' && mount -o remount,bind,ro '$TESTDIR/ro' && CAPSTAN_ROOT='$TESTDIR/ro' '$CAPSTAN' import foo disk.raw" >"$OUT" 2>"$ERR"
	RC=$?
	[ "$RC" = 74 ] && ok "read-only root: exit 74" || fail "read-only root: exit 74 (got $RC)"
	has "$ERR" "Read-only file system" "read-only root message"
	one_line "$ERR" "read-only root is one line"
	[ -z "$(ls -A "$TESTDIR/ro/repository")" ] && ok "read-only root: nothing written" || fail "read-only root: nothing written"
	head -c 3M /dev/urandom >big.raw
	unshare -m bash -c "mount -t tmpfs -o size=2m tmpfs '$TESTDIR/full' && CAPSTAN_ROOT='$TESTDIR/full' '$CAPSTAN' import big big.raw; rc=\$?; find '$TESTDIR/full' -type f ! -name .lock; exit \$rc" >"$OUT" 2>"$ERR"
	RC=$?
	[ "$RC" = 74 ] && ok "full disk: exit 74" || fail "full disk: exit 74 (got $RC)"
	has "$ERR" "No space left on device" "full disk message"
	one_line "$ERR" "full disk is one line"
	[ -s "$OUT" ] && fail "full disk: nothing half-written" || ok "full disk: no file left behind"
else
	echo "ok - # SKIP read-only and full-disk mounts need root and unshare"
fi

# concurrency: 10 imports at once into one root, 2 of them the same name
CR="$TESTDIR/conc"
pids=()
for i in 0 1 2 3 4 5 6 7; do
	CAPSTAN_ROOT="$CR" "$CAPSTAN" import "ns$((i % 2))/img$i" disk.qcow2 -v "$i" >"$TESTDIR/c$i.out" 2>&1 &
	pids+=($!)
done
CAPSTAN_ROOT="$CR" "$CAPSTAN" import same disk.raw -v a >"$TESTDIR/c8.out" 2>&1 &
pids+=($!)
CAPSTAN_ROOT="$CR" "$CAPSTAN" import same disk.raw -v b >"$TESTDIR/c9.out" 2>&1 &
pids+=($!)
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=1; done
cat "$TESTDIR"/c[0-9].out >"$ERR"
: >"$OUT"
[ $bad = 0 ] && ok "10 concurrent imports all succeed" || fail "10 concurrent imports all succeed"
run env CAPSTAN_ROOT="$CR" "$CAPSTAN" images --json
if $PY -c 'import json, sys; v = json.load(open(sys.argv[1])); names = sorted(i["name"] for i in v); assert names == sorted(["ns%d/img%d" % (i % 2, i) for i in range(8)] + ["same"]), names' "$OUT" 2>"$ERR"; then ok "every concurrent import is listed"; else fail "every concurrent import is listed"; fi
if $PY -c '
import glob, sys, yaml
files = glob.glob(sys.argv[1] + "/repository/**/index.yaml", recursive=True)
assert len(files) == 9, files
for f in files:
    d = yaml.safe_load(open(f))
    assert d["format_version"] == "1" and d["version"] in [str(i) for i in range(8)] + ["a", "b"], (f, d)
' "$CR" 2>"$ERR"; then ok "every index.yaml parses"; else fail "every index.yaml parses"; fi
bad=0
for i in 0 1 2 3 4 5 6 7; do cmp -s disk.qcow2 "$CR/repository/ns$((i % 2))/img$i/img$i.qemu" || bad=1; done
[ $bad = 0 ] && ok "every concurrent image is intact" || fail "every concurrent image is intact"
[ -z "$(find "$CR" -name '*.tmp.*')" ] && ok "no temp files after concurrent imports" || fail "no temp files after concurrent imports"
done_testing
