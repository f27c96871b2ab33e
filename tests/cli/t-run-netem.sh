#!/usr/bin/env bash
# TCP over a bad link: in a network namespace of its own the test makes a tap device
# whose traffic to the guest suffers tc netem (5% loss, 50 ms delay), runs the guest on
# it (capstan run -n tap, a static address) and moves 64 MiB each way between the host
# and a program in the guest (tests/cli/data/xfer.c); both sides' sha256 must match.
# Needs root, network namespaces, tap devices and the netem qdisc: exits 77 without them
# (tests/kernel/t-netloss.sh covers loss, duplicates and reordering without them).
. "$(dirname "$0")/lib.sh"
SIZE=$((64 << 20))
tree="${CAPSTAN_DATADIR:-$CAPSTAN_BUILD_ROOT}/repo"
[ -f "$tree/index.yaml" ] || { echo "skip: no registry tree at $tree (built with -Dkernel=true)"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "skip: no qemu-system-x86_64"; exit 77; }
cc_static=$(command -v musl-gcc || command -v cc) || { echo "skip: no C compiler"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "skip: needs root for a network namespace"; exit 77; }
command -v ip >/dev/null && command -v tc >/dev/null || { echo "skip: no ip or tc"; exit 77; }
[ -c /dev/net/tun ] || { echo "skip: no /dev/net/tun"; exit 77; }
export CAPSTAN_DATADIR="${CAPSTAN_DATADIR:-$CAPSTAN_BUILD_ROOT}"
export CAPSTAN_DISABLE_KVM=1
ns=capstan-netem-$$
cleanup() {
	"$CAPSTAN" delete netem >/dev/null 2>&1
	ip netns del "$ns" 2>/dev/null
	rm -rf "$TESTDIR"
}
trap cleanup EXIT

ip netns add "$ns" 2>/dev/null || { echo "skip: cannot create a network namespace"; exit 77; }
ip -n "$ns" link set lo up
ip -n "$ns" tuntap add dev captap0 mode tap 2>/dev/null || { echo "skip: cannot create a tap device"; exit 77; }
ip -n "$ns" addr add 192.168.77.1/24 dev captap0
ip -n "$ns" link set captap0 up
ip netns exec "$ns" tc qdisc add dev captap0 root netem loss 5% delay 50ms 2>/dev/null ||
	{ echo "skip: no netem qdisc (sch_netem) in this kernel"; exit 77; }

mkdir -p "$TESTDIR/xfer" && cd "$TESTDIR/xfer" || exit 1
cp "$CAPSTAN_SOURCE_ROOT/tests/cli/data/xfer.c" .
printf 'base: capstan/base\nbuild: %s -static -O2 -o xfer xfer.c\ncmdline: /xfer 9000 %s\nfiles:\n  /xfer: xfer\n' \
	"$cc_static" "$SIZE" >Capstanfile
expect 0 "capstan build the transfer program" "$CAPSTAN" build -q
expect 0 "run -d -n tap in the namespace" ip netns exec "$ns" "$CAPSTAN" run -d --name netem -n tap -b captap0 \
	-e "--ip=192.168.77.2/24,192.168.77.1 /xfer 9000 $SIZE" xfer
run ip netns exec "$ns" python3 - "$SIZE" <<'EOP'
import hashlib, os, socket, sys, time
size = int(sys.argv[1])
deadline = time.monotonic() + 120
while True:  # the guest boots meanwhile
    try:
        s = socket.create_connection(("192.168.77.2", 9000), timeout=5)
        break
    except OSError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.5)
s.settimeout(600)
sent = hashlib.sha256()
left = size
while left:
    chunk = os.urandom(min(left, 1 << 20))
    sent.update(chunk)
    s.sendall(chunk)
    left -= len(chunk)
got, n = hashlib.sha256(), 0
while True:
    d = s.recv(1 << 16)
    if not d:
        break
    got.update(d)
    n += len(d)
print("rx %s" % sent.hexdigest())
print("tx %s %d" % (got.hexdigest(), n))
EOP
[ "$RC" = 0 ] && ok "64 MiB each way through the lossy link" || fail "64 MiB each way through the lossy link"
host_rx=$(sed -n 's/^rx //p' "$OUT")
host_tx=$(sed -n 's/^tx \([0-9a-f]*\) .*/\1/p' "$OUT")
grep -q "^tx [0-9a-f]* $SIZE\$" "$OUT" && ok "the host received $SIZE bytes" || fail "the host received $SIZE bytes"
# the guest prints its sums as it finishes, then exits
for _ in $(seq 120); do
	"$CAPSTAN" logs netem 2>/dev/null | grep -q '^tx ' && break
	sleep 0.5
done
expect 0 "logs" "$CAPSTAN" logs netem
tr -d '\r' <"$OUT" >"$TESTDIR/guest.log"
has "$TESTDIR/guest.log" "^rx $host_rx\$" "host to guest: the sha256 matches"
has "$TESTDIR/guest.log" "^tx $host_tx\$" "guest to host: the sha256 matches"
done_testing
