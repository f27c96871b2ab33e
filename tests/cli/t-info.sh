#!/usr/bin/env bash
# capstan info: files and repository images in every format; qcow2 header fields; --json; errors.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
cd "$TESTDIR"
qemu-img create -q -f qcow2 q.qcow2 1G
qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=4096 v2.qcow2 10G
qemu-img create -q -f qcow2 -o compression_type=zstd -b q.qcow2 -F qcow2 ov.qcow2
qemu-img create -q -f vmdk k.vmdk 100M
qemu-img create -q -f vdi d.vdi 50M
qemu-img create -q -f raw r.raw 3M

expect 0 "info qcow2" "$CAPSTAN" info q.qcow2
has "$OUT" '^file: +q\.qcow2$' "file"
has "$OUT" '^format: +qcow2$' "format"
has "$OUT" '^virtual size: +1\.0G \(1073741824 bytes\)$' "virtual size"
has "$OUT" "^file size: +192K \\($(stat -c %s q.qcow2) bytes\\)$" "file size"
has "$OUT" '^qcow2 version: +3$' "qcow2 version"
has "$OUT" '^cluster size: +65536$' "cluster size"
has "$OUT" '^backing file: +-$' "no backing file"
has "$OUT" '^compression: +zlib$' "compression"
expect 0 "info qcow2 v2" "$CAPSTAN" info v2.qcow2
has "$OUT" '^qcow2 version: +2$' "v2 version"
has "$OUT" '^cluster size: +4096$' "v2 cluster size"
has "$OUT" '^virtual size: +10G \(10737418240 bytes\)$' "v2 virtual size"
expect 0 "info overlay" "$CAPSTAN" info ov.qcow2
has "$OUT" '^backing file: +q\.qcow2$' "backing file"
has "$OUT" '^backing format: +qcow2$' "backing format"
has "$OUT" '^compression: +zstd$' "zstd compression"
expect 0 "info vmdk" "$CAPSTAN" info k.vmdk
has "$OUT" '^format: +vmdk$' "vmdk format"
has "$OUT" '^virtual size: +100M \(104857600 bytes\)$' "vmdk capacity"
expect 0 "info vdi" "$CAPSTAN" info d.vdi
has "$OUT" '^format: +vdi$' "vdi format"
has "$OUT" '^virtual size: +50M \(52428800 bytes\)$' "vdi disk size"
expect 0 "info raw" "$CAPSTAN" info r.raw
has "$OUT" '^format: +raw$' "raw format"
has "$OUT" '^virtual size: +3\.0M \(3145728 bytes\)$' "raw size"
hasnt "$OUT" 'cluster' "no qcow2 fields for raw"

# Cross-check against qemu-img for every file.
for f in q.qcow2 v2.qcow2 ov.qcow2 k.vmdk d.vdi r.raw; do
	"$CAPSTAN" info --json "$f" >"$TESTDIR/mine.json"
	qemu-img info --output=json "$f" >"$TESTDIR/qemu.json" 2>/dev/null
	if $PY -c '
import json, sys
m, q = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert m["format"] == q["format"], (m, q)
assert m["virtual_size"] == q["virtual-size"], (m, q)
if m["format"] == "qcow2":
    assert m["cluster_size"] == q["cluster-size"], (m, q)
    assert m["backing_file"] == q.get("backing-filename"), (m, q)
    assert m["compression"] == q["format-specific"]["data"].get("compression-type", "zlib"), (m, q)
' "$TESTDIR/mine.json" "$TESTDIR/qemu.json" 2>"$ERR"; then ok "$f agrees with qemu-img info"; else fail "$f agrees with qemu-img info"; fi
done

# Repository images by name.
"$CAPSTAN" import app q.qcow2 -v 2.1 -d "the app" >/dev/null
"$CAPSTAN" import disk d.vdi >/dev/null
"$CAPSTAN" import multi r.raw >/dev/null
"$CAPSTAN" import multi k.vmdk >/dev/null
expect 0 "info NAME" "$CAPSTAN" info app
has "$OUT" '^name: +app$' "name"
has "$OUT" '^platform: +qemu$' "platform"
has "$OUT" '^version: +2\.1$' "version"
has "$OUT" '^description: +the app$' "description"
has "$OUT" "^file: +$CAPSTAN_ROOT/repository/app/app.qemu$" "file in the repository"
has "$OUT" '^format: +qcow2$' "format of a repository image"
expect 0 "info NAME with only a vbox platform" "$CAPSTAN" info disk
has "$OUT" '^platform: +vbox$' "the only platform is used"
expect 64 "info NAME with several non-qemu platforms" "$CAPSTAN" info multi
has "$ERR" "choose one with -p" "asks for -p"
expect 0 "info -p vmw NAME" "$CAPSTAN" info -p vmw multi
has "$OUT" '^format: +vmdk$' "-p picks the platform"
expect 65 "info -p qemu on a name without it" "$CAPSTAN" info -p qemu multi
has "$ERR" "has no 'qemu' platform" "missing platform message"
expect 0 "info --json NAME" "$CAPSTAN" info --json app
$PY -m json.tool "$OUT" >/dev/null 2>"$ERR" && ok "info --json parses" || fail "info --json parses"
if $PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["name"] == "app" and d["format"] == "qcow2" and d["virtual_size"] == 1 << 30, d
assert d["qcow2_version"] == 3 and d["cluster_size"] == 65536 and d["backing_file"] is None, d
assert d["compression"] == "zlib" and isinstance(d["file_size"], int), d
' "$OUT" 2>"$ERR"; then ok "info --json fields"; else fail "info --json fields"; fi

# Errors.
expect 65 "info of something that is neither" "$CAPSTAN" info nothing-here
[ "$(cat "$ERR")" = "capstan: info 'nothing-here': no file or image named 'nothing-here'" ] && ok "neither message" || fail "neither message"
expect 74 "info of a missing path" "$CAPSTAN" info /no/such/file.img
[ "$(cat "$ERR")" = "capstan: info '/no/such/file.img': cannot read '/no/such/file.img': No such file or directory" ] && ok "missing path message" || fail "missing path message"
head -c 50 q.qcow2 >short.qcow2
expect 65 "info of a truncated qcow2" "$CAPSTAN" info short.qcow2
has "$ERR" "^capstan: info 'short.qcow2': 'short.qcow2': qcow2 header: truncated \(50 bytes, a header needs 72\)$" "truncated header message"
cp q.qcow2 badver.qcow2
printf '\x00\x00\x00\x07' | dd of=badver.qcow2 bs=1 seek=4 conv=notrunc status=none
expect 65 "info of a qcow2 version 7" "$CAPSTAN" info badver.qcow2
has "$ERR" "qcow2 header: version 7 is not supported" "bad version message"
one_line "$ERR" "bad header is one line"
expect 74 "info of a folder" "$CAPSTAN" info "$TESTDIR"
expect 65 "info of a character device" "$CAPSTAN" info /dev/null
has "$ERR" "'/dev/null' is not a regular file or block device" "device message"
expect 64 "info with no argument" "$CAPSTAN" info
expect 64 "info with two arguments" "$CAPSTAN" info a b

# A folder of the image's name in the working folder (a project folder) is not an
# image: info NAME describes the repository's image; ./NAME names a file.
"$CAPSTAN" import -q proj r.raw || fail "import proj"
mkdir -p proj
expect 0 "info NAME beside a folder NAME" "$CAPSTAN" info proj
has "$OUT" '^name: +proj$' "the repository image is described"
expect 74 "info ./NAME of a folder" "$CAPSTAN" info ./proj
cp r.raw asfile && "$CAPSTAN" import -q asfile q.qcow2
expect 0 "info NAME beside a file NAME" "$CAPSTAN" info asfile
has "$OUT" '^format: +raw$' "a file of that name wins, as in Capstan"
expect 65 "info of a missing name" "$CAPSTAN" info nothing
has "$ERR" "no file or image named 'nothing'" "missing name message"

# Terminal escapes from an image's index.yaml or name never reach the terminal raw.
idx="$CAPSTAN_ROOT/repository/proj/index.yaml"
printf 'description: "evil \\e]0;owned\\a \\e[31mred \\u009b2J"\nversion: "1\\e[2J"\n' >"$idx"
expect 0 "info of an image with escapes in its index" "$CAPSTAN" info proj
if grep -q "$(printf '\033')" "$OUT" || grep -q "$(printf '\a')" "$OUT" || grep -q "$(printf '\302\233')" "$OUT"; then
	fail "no control characters in info's output"
else ok "no control characters in info's output"; fi
has "$OUT" '^description: +evil  ]0;owned   \[31mred   2J$' "escapes become spaces"
expect 0 "info --json keeps them, escaped" "$CAPSTAN" info --json proj
has "$OUT" '"description":"evil \\u001b]0;owned' "json escapes control characters"
expect 74 "an error naming escapes" "$CAPSTAN" info "$(printf 'x\033[2Jy')"
if grep -q "$(printf '\033')" "$ERR"; then fail "no escape in the error"; else ok "no escape in the error"; fi
one_line "$ERR" "the error is one line"
done_testing
