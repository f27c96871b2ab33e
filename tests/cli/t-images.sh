#!/usr/bin/env bash
# capstan images / i: the table, --json, a Capstan repository read as is, bad index.yaml.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
cd "$TESTDIR"

expect 0 "images on an empty (missing) root" "$CAPSTAN" images
has "$OUT" '^NAME +VERSION +CREATED +PLATFORM +SIZE +DESCRIPTION$' "header line"
[ "$(wc -l <"$OUT")" = 1 ] && ok "only the header" || fail "only the header"
[ -e "$CAPSTAN_ROOT" ] && fail "listing creates nothing" || ok "listing creates nothing"
expect 0 "--json on an empty root" "$CAPSTAN" images --json
[ "$(cat "$OUT")" = "[]" ] && ok "empty JSON array" || fail "empty JSON array"

qemu-img create -q -f qcow2 q.img 1G
qemu-img create -q -f vdi v.img 32M
qemu-img create -q -f vmdk k.img 32M
qemu-img create -q -f raw r.img 2M
"$CAPSTAN" import app q.img -v 1.0 -c 2024-05-01T10:00:00Z -d "my app" >/dev/null
"$CAPSTAN" import app v.img -v 1.0 -c 2024-05-01T10:00:00Z -d "my app" >/dev/null
"$CAPSTAN" import tools/k k.img >/dev/null
"$CAPSTAN" import raw1 r.img -d "spaces and \"quotes\": ok" >/dev/null
"$CAPSTAN" import multiline r.img -d "$(printf 'two\nlines')" >/dev/null

expect 0 "images" "$CAPSTAN" images
has "$OUT" '^app +1\.0 +2024-05-01T10:00:00Z +qemu +192K +my app$' "qcow2 row"
has "$OUT" '^app +1\.0 +2024-05-01T10:00:00Z +vbox +[0-9.]+K +my app$' "vdi row (same name, other platform)"
has "$OUT" '^tools/k +- +[0-9T:Z-]+ +vmw +[0-9.]+K +-$' "vmdk row with missing fields as -"
has "$OUT" '^raw1 +- .* raw +2\.0M +spaces and "quotes": ok$' "raw row"
has "$OUT" '^multiline +- .* raw +2\.0M +two lines$' "a newline in a description stays on its row"
[ "$(wc -l <"$OUT")" = 6 ] && ok "five images and a header" || fail "five images and a header"
cp "$OUT" "$TESTDIR/images.txt"
expect 0 "alias i" "$CAPSTAN" i
cmp -s "$OUT" "$TESTDIR/images.txt" && ok "i = images" || fail "i = images"
expect 0 "--json before the command" "$CAPSTAN" --json images
expect 0 "images --json" "$CAPSTAN" images --json
$PY -m json.tool "$OUT" >/dev/null 2>"$ERR" && ok "--json parses" || fail "--json parses"
if $PY -c '
import json, sys
v = json.load(open(sys.argv[1]))
assert [(i["name"], i["platform"]) for i in v] == [("app", "qemu"), ("app", "vbox"), ("multiline", "raw"), ("raw1", "raw"), ("tools/k", "vmw")], v
assert v[2]["description"] == "two\nlines", v[2]
v.pop(2)
a = v[0]
assert a["version"] == "1.0" and a["created"] == "2024-05-01T10:00:00Z" and a["description"] == "my app", a
assert a["size"] == 196616 or a["size"] > 0, a
assert v[3]["version"] is None and v[3]["description"] is None, v[3]
assert v[2]["description"] == "spaces and \"quotes\": ok", v[2]
assert v[2]["size"] == 2097152, v[2]
' "$OUT" 2>"$ERR"; then ok "--json fields, nulls and sizes"; else fail "--json fields, nulls and sizes"; fi

# A repository laid out by the original Capstan is read as is.
repo="$CAPSTAN_ROOT/repository"
mkdir -p "$repo/cloudius/osv-base" "$repo/legacy"
cp q.img "$repo/cloudius/osv-base/osv-base.qemu"
printf 'format_version: "1"\nversion: v0.24\ncreated: 2016-01-02 15:04\ndescription: OSv base\nbuild: make\n' >"$repo/cloudius/osv-base/index.yaml"
cp q.img "$repo/legacy/legacy.qemu"
cp k.img "$repo/legacy/legacy.vmware"
expect 0 "images with a Capstan repository" "$CAPSTAN" images
has "$OUT" '^cloudius/osv-base +v0\.24 +2016-01-02 15:04 +qemu +192K +OSv base$' "namespaced Capstan image listed"
has "$OUT" '^legacy +- +- +qemu ' "un-namespaced Capstan image listed"
has "$OUT" '^legacy +- +- +vmw ' "Capstan's .vmware listed as vmw"

# A broken index.yaml is a warning, not the end of the listing.
printf 'version: [broken\n' >"$repo/app/index.yaml"
expect 0 "images with a broken index.yaml" "$CAPSTAN" images
has "$ERR" "^capstan: warning: $repo/app/index.yaml:2:1: invalid YAML" "warning names the file and line:col"
has "$OUT" '^app +- +- +qemu' "image still listed, fields as -"
has "$OUT" '^raw1 ' "other images still listed"

# Terminal controls in an index (ESC, BEL, the C1 CSI) never reach the terminal.
printf 'description: "a \\e[2J\\a \\u009b31m b"\n' >"$repo/app/index.yaml"
expect 0 "images with controls in a description" "$CAPSTAN" images
if grep -q "$(printf '\033')" "$OUT" || grep -q "$(printf '\a')" "$OUT" || grep -q "$(printf '\302\233')" "$OUT"; then
	fail "no control characters in the listing"
else ok "no control characters in the listing"; fi
has "$OUT" '^app .* a  \[2J    31m b$' "controls become spaces"

expect 64 "images takes no arguments" "$CAPSTAN" images foo
one_line "$ERR" "usage error is one line"
echo x >"$TESTDIR/rootfile"
mkdir -p "$TESTDIR/r1" && echo x >"$TESTDIR/r1/repository"
CAPSTAN_ROOT="$TESTDIR/r1" expect 74 "repository is a file" "$CAPSTAN" images
has "$ERR" "^capstan: images: cannot read '$TESTDIR/r1/repository': Not a directory$" "unreadable repository message"
done_testing
