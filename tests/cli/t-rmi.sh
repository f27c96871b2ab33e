#!/usr/bin/env bash
# capstan rmi: removes every platform of a name, errors, namespaces, Capstan's layout.
. "$(dirname "$0")/lib.sh"
cd "$TESTDIR"
repo="$CAPSTAN_ROOT/repository"
qemu-img create -q -f qcow2 q.img 16M
qemu-img create -q -f raw r.img 1M
"$CAPSTAN" import a q.img >/dev/null
"$CAPSTAN" import a r.img >/dev/null
"$CAPSTAN" import ns/b q.img >/dev/null
"$CAPSTAN" import ns/c q.img >/dev/null

expect 0 "rmi a" "$CAPSTAN" rmi a
has "$OUT" "removed 'a'" "rmi says what it did"
[ -e "$repo/a" ] && fail "every platform of a is gone" || ok "every platform of a is gone"
expect 0 "rmi ns/b" "$CAPSTAN" rmi ns/b
[ -d "$repo/ns" ] && ok "namespace with images left stays" || fail "namespace with images left stays"
expect 0 "rmi ns/c" "$CAPSTAN" rmi ns/c
[ -e "$repo/ns" ] && fail "empty namespace folder removed" || ok "empty namespace folder removed"
expect 0 "images after rmi" "$CAPSTAN" images
[ "$(wc -l <"$OUT")" = 1 ] && ok "nothing listed" || fail "nothing listed"
[ -z "$(find "$repo" -name '.rmi.*')" ] && ok "no trash left" || fail "no trash left"

expect 65 "rmi of a missing image" "$CAPSTAN" rmi nope
[ "$(cat "$ERR")" = "capstan: rmi 'nope': image 'nope' not found in '$repo'" ] && ok "missing image message" || fail "missing image message"
expect 64 "rmi with no name" "$CAPSTAN" rmi
one_line "$ERR" "usage error is one line"
expect 64 "rmi of an invalid name" "$CAPSTAN" rmi ../etc
has "$ERR" "invalid image name '../etc'" "invalid name message"

# several names: every one is tried, the first failure sets the status
"$CAPSTAN" import x q.img >/dev/null
"$CAPSTAN" import y q.img >/dev/null
expect 65 "rmi x nope y" "$CAPSTAN" rmi x nope y
[ -e "$repo/x" ] || [ -e "$repo/y" ] && fail "x and y removed despite nope" || ok "x and y removed despite nope"
has "$ERR" "rmi 'nope'" "the failing name is reported"

# Capstan's layout: an un-namespaced image, and one sharing a folder with a namespace
mkdir -p "$repo/old/sub"
cp q.img "$repo/old/old.qemu"
cp r.img "$repo/old/old.vmware"
echo 'version: "1"' >"$repo/old/index.yaml"
cp q.img "$repo/old/sub/sub.qemu"
expect 0 "rmi old (folder shared with old/sub)" "$CAPSTAN" rmi old
[ ! -e "$repo/old/old.qemu" ] && [ ! -e "$repo/old/old.vmware" ] && [ ! -e "$repo/old/index.yaml" ] && ok "old's files gone" || fail "old's files gone"
[ -f "$repo/old/sub/sub.qemu" ] && ok "old/sub kept" || fail "old/sub kept"
expect 0 "images lists old/sub" "$CAPSTAN" images
has "$OUT" '^old/sub ' "old/sub still listed"
hasnt "$OUT" '^old ' "old no longer listed"
done_testing
