#!/usr/bin/env bash
# capstan run in the foreground under TCG: exit status, names, errors that leave nothing behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pvh/lib.sh"
pvh_image || { echo "cannot build the PVH test guest"; exit 1; }
export CAPSTAN_DISABLE_KVM=1

expect 42 "foreground run exits with the program's status" "$CAPSTAN" run test/pvh -e "42 hello" </dev/null
has "$OUT" '^Created instance: test-pvh$' "run says which instance it created"
has "$OUT" '^pvh: 42 hello$' "the console reaches the terminal"
[ "$(field test-pvh status)" = "exited (42)" ] && ok "instances shows exited (42)" || fail "instances shows exited (42)"
[ -f "$CAPSTAN_ROOT/instances/qemu/test-pvh/console.log" ] && grep -q 'pvh: 42 hello' "$CAPSTAN_ROOT/instances/qemu/test-pvh/console.log" &&
	ok "the foreground console is also in console.log" || fail "the foreground console is also in console.log"
[ "$(stat -c %a "$CAPSTAN_ROOT/instances/qemu/test-pvh")" = 700 ] && ok "instance folder is 0700" || fail "instance folder is 0700"
expect 0 "status 0" "$CAPSTAN" run --name zero test/pvh </dev/null
expect 200 "status 200 (beyond isa-debug-exit's 127, from the status channel)" "$CAPSTAN" run --name big -i test/pvh -e 200 </dev/null

# The overlay is O(1): a few hundred KiB whatever the image, backed by the repository file.
img=$(qemu-img info --output=json "$CAPSTAN_ROOT/instances/qemu/test-pvh/disk.qcow2")
echo "$img" | grep -q "repository/test/pvh/pvh.qemu" && ok "disk.qcow2 is an overlay of the image" || fail "disk.qcow2 is an overlay of the image"

# An ended instance of the same name is replaced, as Capstan relaunches it.
expect 1 "running an ended name again replaces it" "$CAPSTAN" run test/pvh -e 1 </dev/null
has "$OUT" '^Created instance: test-pvh$' "the replacement is announced"
[ "$(field test-pvh status)" = "exited (1)" ] && ok "the row is the new run's" || fail "the row is the new run's"

n=$(rows)
expect 65 "an image not in the repository" "$CAPSTAN" run no/such </dev/null
has "$ERR" "image 'no/such' is not in the local repository" "missing image is named"
[ ! -e "$CAPSTAN_ROOT/instances/qemu/no-such" ] && [ "$(rows)" = "$n" ] && ok "missing image: no row, no folder" || fail "missing image: no row, no folder"

port=$(free_port)
python3 -c 'import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); time.sleep(30)' "$port" &
holder=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
expect 69 "a host port already bound" "$CAPSTAN" run --name bound -f "127.0.0.1:$port:80" test/pvh </dev/null
has "$ERR" "host port $port is already in use" "bound port is named"
[ ! -e "$CAPSTAN_ROOT/instances/qemu/bound" ] && [ "$(rows)" = "$n" ] && ok "bound port: no row, no folder" || fail "bound port: no row, no folder"
kill $holder 2>/dev/null
wait $holder 2>/dev/null

CAPSTAN_QEMU_PATH=/nonexistent/qemu expect 69 "QEMU missing" "$CAPSTAN" run --name noq test/pvh </dev/null
has "$ERR" "QEMU '/nonexistent/qemu'" "QEMU missing says which"
[ ! -e "$CAPSTAN_ROOT/instances/qemu/noq" ] && [ "$(rows)" = "$n" ] && ok "QEMU missing: no row, no folder" || fail "QEMU missing: no row, no folder"

expect 64 "bad port spec" "$CAPSTAN" run -f 80 test/pvh
has "$ERR" "port forward '80'" "bad port spec quoted"
expect 64 "bad memory" "$CAPSTAN" run -m 12X test/pvh
expect 64 "bad accel" "$CAPSTAN" run --accel hvf test/pvh
expect 64 "--connect without libvirt" "$CAPSTAN" run --connect test:///default test/pvh
expect 64 "bad instance name" "$CAPSTAN" run --name 'a b' test/pvh </dev/null
expect 64 "no image and no Capstanfile" "$CAPSTAN" run

# -v shows the QEMU command line: direct boot on microvm, forwards as hostfwd.
p1=$(free_port)
expect 0 "run -v" "$CAPSTAN" run -v --name fwd -f "127.0.0.1:$p1:80" -f "$((p1 + 1)):53/udp" -m 32M -c 2 test/pvh </dev/null
has "$OUT" "hostfwd=tcp:127.0.0.1:$p1-:80" "tcp forward with address"
has "$OUT" "hostfwd=udp::$((p1 + 1))-:53" "udp forward without address"
has "$OUT" " -M microvm" "direct boot on microvm"
has "$OUT" " -kernel [^ ]*/cache/kernels/k-" "the kernel comes from the cache"
has "$OUT" " -m 32M -smp 2 " "memory and cpus"
has "$OUT" " -nodefaults -no-user-config -display none" "no default devices or display"
hasnt "$OUT" "vnc|tcp::[0-9]+,server|telnet" "no VNC or TCP listeners"
has "$OUT" "qmp unix:qmp.sock" "QMP on the instance's unix socket"
[ "$(field fwd ports)" = "127.0.0.1:$p1->80/tcp,$((p1 + 1))->53/udp" ] && ok "ports are recorded" || fail "ports are recorded ($(field fwd ports))"
expect 124 "disk boot on pc, --timeout powers it off" "$CAPSTAN" run -v --name disk --boot disk --timeout 1 test/pvh </dev/null
has "$OUT" " -M pc " "disk boot on pc"
hasnt "$OUT" " -kernel " "disk boot has no -kernel"
[ "$(field disk status)" = "stopped" ] && ok "timed out instance is stopped" || fail "timed out instance is stopped ($(field disk status))"

expect 5 "--rm deletes the instance when it ends" "$CAPSTAN" run --rm --name gone test/pvh -e 5 </dev/null
[ ! -e "$CAPSTAN_ROOT/instances/qemu/gone" ] && [ "$(field gone name)" = "-" ] && ok "--rm left nothing" || fail "--rm left nothing"

# In a Capstanfile folder, run runs the folder's image.
mkdir -p "$TESTDIR/pvh"
printf 'base: test/pvh\ncmdline: "3"\n' >"$TESTDIR/pvh/Capstanfile"
"$CAPSTAN" import pvh "$TESTDIR/pvh.qcow2" >/dev/null
(cd "$TESTDIR/pvh" && "$CAPSTAN" run -e 3 </dev/null >"$OUT" 2>"$ERR")
[ $? = 3 ] && ok "run in a Capstanfile folder" || fail "run in a Capstanfile folder"
has "$OUT" "^Created instance: pvh$" "named after the folder's image"

# KVM where it works (nested KVM needs -cpu host,-arch-capabilities).
if [ -w /dev/kvm ]; then
	unset CAPSTAN_DISABLE_KVM
	expect 9 "run under KVM" "$CAPSTAN" run -v --accel kvm --name kvm test/pvh -e 9 </dev/null
	has "$OUT" "-accel kvm -cpu host,-arch-capabilities" "KVM with the nested-safe CPU model"
	export CAPSTAN_DISABLE_KVM=1
	expect 0 "CAPSTAN_DISABLE_KVM makes auto pick TCG" "$CAPSTAN" run -v --name nokvm test/pvh </dev/null
	has "$OUT" "-accel tcg" "auto is TCG when KVM is disabled"
else
	expect 69 "KVM asked for but unusable" "$CAPSTAN" run --accel kvm --name kvm test/pvh </dev/null
	has "$ERR" "KVM was asked for but is not usable" "unusable KVM is explained"
fi
done_testing
