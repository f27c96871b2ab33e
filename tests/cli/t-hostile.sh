#!/usr/bin/env bash
# Hostile local state, images and registries (issue 9): each reproduction must
# fail on the code before its fix.  Sections are kept apart by owner so they
# merge cleanly; a section is a function, called at the end.
. "$(dirname "$0")/lib.sh"
cd "$TESTDIR" || exit 1
# bounded: a hang is a failure, not a stuck test
T="timeout 60"

# ---- local state and Capstanfiles (issue 9: 11, 12, 13, 16, 18, 19, 20) ----
hostile_local() {
	local repo="$CAPSTAN_ROOT/repository"
	qemu-img create -q -f raw r.raw 1M

	# 19: a new state folder is private; one that exists keeps its mode
	expect 0 "import into a new root" $T "$CAPSTAN" import good r.raw
	[ "$(stat -c %a "$CAPSTAN_ROOT")" = 700 ] && ok "new root is 0700" || fail "new root is 0700"

	# 11: a FIFO and a link to /dev/zero as index.yaml: listing neither hangs nor aborts
	"$CAPSTAN" import -q fifo r.raw && rm "$repo/fifo/index.yaml" && mkfifo "$repo/fifo/index.yaml"
	"$CAPSTAN" import -q ns/zero r.raw && ln -sf /dev/zero "$repo/ns/zero/index.yaml"
	expect 0 "images with a FIFO and /dev/zero as index.yaml" $T "$CAPSTAN" images
	has "$OUT" '^good ' "the good image is listed"
	hasnt "$OUT" '^(fifo|ns/zero) ' "the broken ones are skipped"
	[ "$(grep -c "skipping image 'fifo'" "$ERR")" = 1 ] && ok "one warning for the FIFO" || fail "one warning for the FIFO"
	has "$ERR" "skipping image 'ns/zero': .*index.yaml' is not a regular file" "the /dev/zero link is named"
	expect 0 "info of another image" $T "$CAPSTAN" info good
	hasnt "$ERR" . "info of another image says nothing of the broken ones"
	expect 65 "info of the broken image" $T "$CAPSTAN" info fifo
	one_line "$ERR" "info of the broken image is one line"
	expect 0 "rmi of the broken image" $T "$CAPSTAN" rmi fifo

	# 16: what a killed import, build or rmi left is removed by the next one that can tell
	printf 'partial' >"$repo/.incoming.tmp.ABC123"
	printf 'partial' >"$repo/.build.tmp.DEF456"
	printf 'partial' >"$repo/.build.tmp.DEF456.qcow2"
	mkdir -p "$repo/.rmi.4242.GHI789/img" && printf 'old' >"$repo/.rmi.4242.GHI789/img/x.qemu"
	printf 'partial' >"$repo/good/index.yaml.tmp.JKL012"
	expect 0 "an import after killed ones" $T "$CAPSTAN" import good2 r.raw
	left=$(ls -A "$repo" "$repo/good" | grep -e '\.tmp\.' -e '^\.rmi\.')
	[ -z "$left" ] && ok "stale temp files and folders removed" || fail "stale temp files and folders removed ($left)"

	# 18: a Capstanfile that is a device or a FIFO is refused at once
	mkdir -p proj && cd proj || return
	expect 65 "build -f /dev/zero" $T "$CAPSTAN" build -f /dev/zero
	has "$ERR" "'/dev/zero' is not a regular file" "/dev/zero refused by type"
	mkfifo fifo
	expect 65 "build -f FIFO" $T "$CAPSTAN" build -f fifo
	one_line "$ERR" "the FIFO is one line"

	# 20: invalid UTF-8 is reported where it is
	printf 'cmdline: /x\nbase: caf\351\n' >Capstanfile
	expect 65 "invalid UTF-8 on line 2" $T "$CAPSTAN" build
	has "$ERR" 'Capstanfile:2:[0-9]+: invalid YAML' "reported on line 2"
	cd "$TESTDIR" || return
}

# 12, 13: need a kernel to build on (buildlib.sh)
hostile_build() {
	local deep
	mkdir -p "$TESTDIR/deep" && cd "$TESTDIR/deep" || return
	deep=ROOTFS$(printf '/d%.0s' $(seq 1950))
	mkdir -p "$deep" && printf 'bottom' >"$deep/f"
	printf 'cmdline: /x\n' >Capstanfile
	expect 0 "1950 nested folders build" $T "$CAPSTAN" build
	dump deep
	has "$TESTDIR/dump" "^100644 6 [0-9]+ ${deep#ROOTFS}/f\$" "the deepest file is in the image"

	mkdir -p "$TESTDIR/long" && cd "$TESTDIR/long" || return
	printf 'x' >f
	{ printf 'cmdline: /x\nfiles:\n  ? '; printf '/%0200d' $(seq 21); printf '\n  : f\n'; } >Capstanfile
	expect 65 "a guest path over 4095 bytes" $T "$CAPSTAN" build
	has "$ERR" 'is 4221 bytes, longer than 4095' "the limit is named"
	[ ! -e "$repo/long" ] && ok "no image made" || fail "no image made"
	cd "$TESTDIR" || return
}

hostile_local
. "$(dirname "$0")/buildlib.sh"
hostile_build
done_testing
