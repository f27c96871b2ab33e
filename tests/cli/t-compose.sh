#!/usr/bin/env bash
# capstan compose: an image from a folder or a file without a Capstanfile (Capstan v0.4+).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/buildlib.sh"

mkdir -p "$TESTDIR/app/bin" "$TESTDIR/app/etc" && cd "$TESTDIR" || exit 1
printf '#!/bin/sh\n' >app/bin/tool && chmod 755 app/bin/tool
printf 'x=1\n' >app/etc/tool.conf
expect 0 "compose a folder" "$CAPSTAN" compose -c "/bin/tool --conf /etc/tool.conf" tools app
has "$OUT" '^Composed tools \(qemu\) on the bundled kernel' "compose says what it made"
dump tools
has "$TESTDIR/dump" '^cmdline /bin/tool --conf /etc/tool.conf$' "the command line"
has "$TESTDIR/dump" '^100755 10 1700000000 /bin/tool$' "the folder's content at /"
has "$TESTDIR/dump" '^100644 4 [0-9]+ /etc/tool.conf$' "nested files"
hasnt "$TESTDIR/dump" ' /app' "the folder itself is not in the image"
has "$repo/tools/index.yaml" '^build: "capstan compose"$' "index.yaml says how"

expect 0 "compose a file, long options, a size" "$CAPSTAN" compose --size 1G ns/one app/bin/tool
dump ns/one
has "$TESTDIR/dump" '^cmdline /tool$' "a file's default command line is itself"
has "$TESTDIR/dump" '^100755 10 [0-9]+ /tool$' "a file goes to /NAME"
run qemu-img info --output=json "$repo/ns/one/one.qemu"
has "$OUT" '"virtual-size": 1073741824' "-s sets the disk's size"
ln -s app/bin/tool tool-link
expect 0 "compose a link to a file" "$CAPSTAN" compose linked tool-link
dump linked
has "$TESTDIR/dump" '^100755 10 [0-9]+ /tool-link$' "the link is followed, as in Capstan"
expect 0 "--command_line" "$CAPSTAN" compose --command_line "/tool -v" one2 app/bin/tool
dump one2
has "$TESTDIR/dump" '^cmdline /tool -v$' "--command_line"
expect 0 "info on a composed image" "$CAPSTAN" info tools
has "$OUT" '^cmdline: +/bin/tool --conf /etc/tool.conf$' "info shows its cmdline"

# errors: one line, the documented code, nothing installed
expect 64 "a folder needs -c" "$CAPSTAN" compose bare app
one_line "$ERR" "a folder without -c is one line"
expect 65 "content over -s" "$CAPSTAN" compose -c /x -s 1 small app
has "$ERR" "needs an image of .*, more than the 1.0M of -s" "too small is explained"
expect 74 "missing source" "$CAPSTAN" compose x nothing-here
expect 65 "a device" "$CAPSTAN" compose -c /x dev /dev/null
expect 64 "one operand" "$CAPSTAN" compose only
expect 64 "bad name" "$CAPSTAN" compose -c /x 'bad name' app
expect 64 "bad size" "$CAPSTAN" compose -c /x -s lots big app
for n in bare small x dev big; do
	[ ! -e "$repo/$n" ] || fail "nothing installed for $n"
done
[ -z "$(ls -A "$repo" | grep -v -e '^tools$' -e '^ns$' -e '^one2$' -e '^linked$' -e '^.lock$')" ] &&
	ok "no temp file left" || fail "no temp file left ($(ls -A "$repo"))"
done_testing
