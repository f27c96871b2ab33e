#!/usr/bin/env bash
# capstan run with our kernel (capstan/base from the default registry): standard input's end
# reaching the guest, --env, --boot disk -e, -p, --execute, --mac, run INSTANCE.
. "$(dirname "$0")/lib.sh"
if ! "$CAPSTAN" search capstan/base 2>/dev/null | grep -q 'capstan/base'; then
	echo "SKIP: the default registry has no capstan/base (built with -Dkernel=false?)"
	exit 77
fi
export CAPSTAN_DISABLE_KVM=1
cleanup() { "$CAPSTAN" instances -a --json 2>/dev/null | python3 -c 'import json,sys; [print(i["name"]) for i in json.load(sys.stdin)]' 2>/dev/null | xargs -r "$CAPSTAN" delete >/dev/null 2>&1; rm -rf "$TESTDIR"; }
trap cleanup EXIT
"$CAPSTAN" pull capstan/base >/dev/null 2>&1 || { echo "cannot pull capstan/base"; exit 1; }

# Standard input at its end: the shell reads end of file and leaves (it hung before).
expect 0 "stdin at EOF ends the guest's read (</dev/null)" timeout 120 "$CAPSTAN" run capstan/base </dev/null
has "$OUT" '^capstan shell' "the shell ran"
printf 'echo piped in\nexit 3' >"$TESTDIR/in"
expect 3 "piped commands, the last without a newline" timeout 120 "$CAPSTAN" run capstan/base <"$TESTDIR/in"
has "$OUT" '^(\$ )?piped in' "the piped command ran"

# --env NAME=VALUE reaches the program's environment; --execute is -e.
printf 'env\n' >"$TESTDIR/env"
expect 0 "--env" timeout 120 "$CAPSTAN" run --env FOO=bar --env 'SP=a b' --execute /bin/sh capstan/base <"$TESTDIR/env"
has "$OUT" '^(\$ )?FOO=bar' "--env FOO=bar"
has "$OUT" '^SP=a b' "--env with a space"
expect 64 "--env without =" "$CAPSTAN" run --env FOO capstan/base </dev/null
one_line "$ERR" "--env without =: one line"

# --boot disk: -e reaches the kernel through the disk (it ran the image's own before).
expect 127 "--boot disk -e runs the given program" timeout 120 "$CAPSTAN" run --boot disk -e /bin/nope capstan/base </dev/null
has "$OUT" '/bin/nope: program not found' "the kernel got -e"
expect 0 "--boot disk --env" timeout 120 "$CAPSTAN" run --boot disk --env WHERE=disk capstan/base <"$TESTDIR/env"
has "$OUT" '^(\$ )?WHERE=disk' "--env with --boot disk"

# -p as Capstan has it: qemu runs, what we cannot run says what we run.
expect 0 "-p qemu" timeout 120 "$CAPSTAN" run -p qemu capstan/base </dev/null
expect 64 "-p vbox" "$CAPSTAN" run -p vbox capstan/base </dev/null
one_line "$ERR" "-p vbox: one line"
has "$ERR" "platform 'vbox' cannot be run here: capstan runs qemu" "-p vbox says what we run"

# --mac reaches QEMU's NIC; a bad one is a usage error.
expect 0 "--mac" timeout 120 "$CAPSTAN" run -v --mac 52:54:00:12:34:56 capstan/base </dev/null
has "$OUT" 'virtio-net-device,mac=52:54:00:12:34:56,netdev=n0' "the NIC has the address"
expect 64 "--mac that is no MAC" "$CAPSTAN" run --mac 52:54:00 capstan/base </dev/null

# -n vhost: a tap device with vhost-net, where the host has it.
if [ -c /dev/vhost-net ] && [ "$(id -u)" = 0 ]; then
	expect 0 "-n vhost" timeout 120 "$CAPSTAN" run -v -n vhost -b capvh$$ capstan/base </dev/null
	has "$OUT" 'tap,id=n0,ifname=capvh[0-9]+,script=no,downscript=no,vhost=on' "vhost-net on the tap"
else
	expect 69 "-n vhost without /dev/vhost-net" "$CAPSTAN" run -n vhost capstan/base </dev/null
	has "$ERR" "-n vhost needs /dev/vhost-net" "says what is missing"
fi

# run INSTANCE relaunches an ended instance as it was.
expect 0 "run -d --name keep -m 80M" "$CAPSTAN" run -d --name keep -m 80M capstan/base
expect 0 "stop keep" "$CAPSTAN" stop keep
expect 0 "run keep relaunches it" "$CAPSTAN" run -d keep
[ "$(cat "$OUT")" = keep ] && ok "relaunched under its name" || fail "relaunched under its name"
expect 0 "instances" "$CAPSTAN" instances --json
python3 -c 'import json,sys; r=[i for i in json.load(open(sys.argv[1])) if i["name"]=="keep"][0]; sys.exit(0 if r["image"]=="capstan/base" and r["memory"]==80*1024*1024 and r["state"]=="running" else 1)' "$OUT" &&
	ok "with its image and memory" || fail "with its image and memory ($(cat "$OUT"))"
expect 65 "run of a running instance" "$CAPSTAN" run keep </dev/null
has "$ERR" "instance 'keep' is running" "says it runs"
expect 0 "delete keep" "$CAPSTAN" delete keep

# In a Capstanfile folder, run builds the image first when it is missing, as Capstan does.
mkdir -p "$TESTDIR/mine"
printf 'base: capstan/base\ncmdline: /bin/sh\n' >"$TESTDIR/mine/Capstanfile"
(cd "$TESTDIR/mine" && timeout 120 "$CAPSTAN" run </dev/null >"$OUT" 2>"$ERR")
[ $? = 0 ] && ok "run in a Capstanfile folder builds the missing image" || fail "run in a Capstanfile folder builds the missing image"
has "$OUT" "^Building 'mine' from the Capstanfile first$" "says it builds first"
has "$OUT" "^Created instance: mine$" "then runs it"
"$CAPSTAN" images >"$OUT" 2>&1
has "$OUT" "^mine " "the built image is in the repository"

done_testing
