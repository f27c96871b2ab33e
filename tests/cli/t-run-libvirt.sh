#!/usr/bin/env bash
# capstan run --backend libvirt against a real libvirtd (QEMU driver) that this test starts itself.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pvh/lib.sh"

if [ "${CAPSTAN_HAVE_LIBVIRT:-1}" = 0 ]; then
	echo "SKIP: capstan was built without libvirt (meson -Dlibvirt=disabled)"
	echo "0 passed, 0 failed"
	exit 77
fi
if ! command -v libvirtd >/dev/null || [ ! -e /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so ]; then
	echo "SKIP: libvirtd or its QEMU driver is not installed (tests/deps.sh installs them)"
	echo "0 passed, 0 failed"
	exit 77
fi
if [ "$(id -u)" != 0 ] || ! unshare -m --propagation private true 2>/dev/null; then
	echo "SKIP: a private libvirtd needs root and a mount namespace here"
	echo "0 passed, 0 failed"
	exit 77
fi

# A private system-mode libvirtd: its own /etc/libvirt, /run/libvirt, /var/lib and
# /var/cache/libvirt bind-mounted in a mount namespace, QEMU run as root without
# a security driver (the instance folders are 0700), no virtlogd, no networks, and
# no private /dev for QEMU (libvirt cannot build one where /dev is not a devtmpfs,
# as in some containers).
LV=$TESTDIR/lv
mkdir -p "$LV"/etc "$LV"/run "$LV"/lib "$LV"/cache
cp -r /etc/libvirt/. "$LV/etc/"
rm -rf "$LV"/etc/qemu/networks/autostart "$LV"/etc/nwfilter
cat >"$LV/etc/qemu.conf" <<'CONF'
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
stdio_handler = "file"
namespaces = []
CONF
cat >"$LV/etc/libvirtd.conf" <<'CONF'
unix_sock_group = "root"
unix_sock_rw_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
CONF
unshare -m --propagation private sh -c '
	mkdir -p /run/libvirt && mount --bind "$1/etc" /etc/libvirt && mount --bind "$1/run" /run/libvirt &&
	mkdir -p /var/lib/libvirt /var/cache/libvirt &&
	mount --bind "$1/lib" /var/lib/libvirt && mount --bind "$1/cache" /var/cache/libvirt &&
	exec libvirtd --pid-file "$1/run/libvirtd.pid"' sh "$LV" >"$LV/libvirtd.log" 2>&1 &
daemon=$!
URI="qemu:///system?socket=$LV/run/libvirt-sock"
cleanup() {
	"$CAPSTAN" delete lv lvs >/dev/null 2>&1
	kill "$daemon" 2>/dev/null
	wait "$daemon" 2>/dev/null
	rm -rf "$TESTDIR"
}
trap cleanup EXIT
for _ in $(seq 100); do virsh -c "$URI" version >/dev/null 2>&1 && break; sleep 0.1; done
if ! virsh -c "$URI" version >/dev/null 2>&1; then
	echo "SKIP: libvirtd did not start:"
	tail -5 "$LV/libvirtd.log"
	echo "0 passed, 0 failed"
	exit 77
fi
ok "a private libvirtd runs"

pvh_image || { echo "cannot build the PVH test guest"; exit 1; }
export CAPSTAN_DISABLE_KVM=1

expect 42 "foreground run through libvirt exits with the program's status" \
	"$CAPSTAN" run --backend libvirt --connect "$URI" --name lv test/pvh -e "42 via libvirt" </dev/null
has "$OUT" '^Created instance: lv$' "run names the instance"
has "$OUT" '^pvh: 42 via libvirt$' "the console (a file) reaches the terminal"
[ "$(field lv backend)" = libvirt ] && ok "backend recorded" || fail "backend recorded"
[ "$(field lv status)" = "exited (42)" ] && ok "state exited (42)" || fail "state exited (42) ($(field lv status))"
[ "$(field lv connect)" = "$URI" ] && ok "connection recorded" || fail "connection recorded"
uuid=$(field lv uuid)
virsh -c "$URI" domstate "$uuid" 2>/dev/null | grep -q 'shut off' && ok "libvirt says shut off" || fail "libvirt says shut off"

expect 0 "detached run through libvirt" "$CAPSTAN" run -d --backend libvirt --connect "$URI" --name lvs test/pvh -e sleep
for _ in $(seq 100); do "$CAPSTAN" logs lvs 2>/dev/null | grep -q 'pvh: sleep' && break; sleep 0.1; done
virsh -c "$URI" domstate capstan-lvs 2>/dev/null | grep -q running && ok "libvirt says running" || fail "libvirt says running"
[ "$(field lvs state)" = running ] && ok "instances says running" || fail "instances says running"
expect 0 "logs" "$CAPSTAN" logs lvs
has "$OUT" '^pvh: sleep$' "logs through the console file"
expect 0 "stop through libvirt" "$CAPSTAN" stop lvs
has "$OUT" '^Stopped instance: lvs \(powered off\)$' "graceful stop through the ACPI power button"
has "$LV/../root/instances/qemu/lvs/console.log" '^pvh: power button$' "the guest saw the power button"
[ "$(field lvs state)" = stopped ] && ok "state stopped" || fail "state stopped"
expect 0 "delete" "$CAPSTAN" delete lvs
virsh -c "$URI" dominfo capstan-lvs >/dev/null 2>&1 && fail "domain undefined" || ok "domain undefined"
# The real image: capstan/hello from the default registry, booted through libvirt.
if "$CAPSTAN" search capstan/hello 2>/dev/null | grep -q 'capstan/hello'; then
	expect 0 "capstan/hello through libvirt" "$CAPSTAN" run --backend libvirt --connect "$URI" --name lvh capstan/hello </dev/null
	has "$OUT" '^Hello, world!' "hello's output through the libvirt console file"
	[ "$(field lvh status)" = "exited (0)" ] && ok "hello: exited (0)" || fail "hello: exited (0) ($(field lvh status))"
	virsh -c "$URI" domstate capstan-lvh 2>/dev/null | grep -q 'shut off' && ok "hello: libvirt says shut off" || fail "hello: libvirt says shut off"
	expect 0 "disk boot through libvirt" "$CAPSTAN" run --backend libvirt --connect "$URI" --boot disk --name lvd capstan/hello </dev/null
	has "$OUT" '^Hello, world!' "disk boot: hello's output"
	expect 0 "delete them" "$CAPSTAN" delete lvh lvd
else
	echo "# no capstan/hello in the default registry (built with -Dkernel=false): real-image part skipped"
fi
expect 69 "an unreachable libvirt URI" "$CAPSTAN" run --backend libvirt --connect "qemu:///system?socket=$LV/nope" --name x test/pvh
has "$ERR" "libvirt: " "the libvirt error is passed on"
[ "$(field x name)" = "-" ] && ok "no row left" || fail "no row left"
done_testing
