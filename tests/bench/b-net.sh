#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Network benchmark, figures printed (no timed asserts), in one table: the same static binaries
# on the host (the upper bound), in our kernel (capstan run -d -f) and in the Linux guest
# (linuxguest.sh: Debian's cloud kernel, a minimal initramfs), both guests with -m 256M, one CPU
# and QEMU user networking with hostfwd, under TCG and, where /dev/kvm works, KVM:
#   - examples/httpd: QEMU spawn to the first answered request, and wrk's requests/s with
#     keep-alive and with a new connection each (Connection: close);
#   - tcpbench.c: bulk TCP throughput guest -> host and host -> guest (best of 3 transfers of
#     BENCH_BULK_SECS each), and
#     connection setup latency (connect to the server's first byte, median).
# Our kernel boots as capstan run boots it (microvm, virtio-net-device); Debian's kernel does
# not boot on microvm without its PIT, so the Linux guest boots on pc (virtio-net-pci).
# Env: CAPSTAN, CAPSTAN_BUILD_ROOT, CAPSTAN_SOURCE_ROOT (meson); BENCH_ACCELS (default: tcg,
# and kvm where /dev/kvm works), BENCH_WRK_SECS (5), BENCH_BULK_SECS (5), BENCH_CONNS (200),
# BENCH_BOOT_SECS (how long a guest may take to answer, 180).
set -u
: "${CAPSTAN:?}" "${CAPSTAN_BUILD_ROOT:?}" "${CAPSTAN_SOURCE_ROOT:?}"
WRK_SECS=${BENCH_WRK_SECS:-5}
BULK_SECS=${BENCH_BULK_SECS:-5}
CONNS=${BENCH_CONNS:-200}
BOOT_SECS=${BENCH_BOOT_SECS:-180}
[ -f "$CAPSTAN_BUILD_ROOT/repo/index.yaml" ] || { echo "skip: no registry tree (built with -Dkernel=true)"; exit 77; }
for c in qemu-system-x86_64 wrk curl python3; do
	command -v $c >/dev/null || { echo "skip: no $c"; exit 77; }
done
# shellcheck source=tests/bench/linuxguest.sh
. "$(dirname "$0")/linuxguest.sh"
ACCELS=${BENCH_ACCELS:-$(lg_accels | tr '\n' ' ')}
TMP=$(mktemp -d /tmp/capstan-bnet.XXXXXX)
export CAPSTAN_ROOT=$TMP/root CAPSTAN_DATADIR=$CAPSTAN_BUILD_ROOT
hostpids=()
# shellcheck disable=SC2317 # run by the trap
cleanup() {
	"$CAPSTAN" delete bnet >/dev/null 2>&1
	[ ${#hostpids[@]} = 0 ] || kill "${hostpids[@]}" 2>/dev/null
	lg_cleanup
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
results=$TMP/results
: >"$results"
bad=0

cp -r "$CAPSTAN_SOURCE_ROOT/examples/httpd" "$TMP/httpd" && cd "$TMP/httpd" || exit 1
make -s >/dev/null || { echo "httpd does not build"; exit 1; }
CC_STATIC=$(command -v musl-gcc || echo "${CC:-cc}")
"$CC_STATIC" -O2 -Wall -Werror -static -o "$TMP/tcpbench" "$CAPSTAN_SOURCE_ROOT/tests/bench/tcpbench.c" ||
	{ echo "tcpbench does not build"; exit 1; }

# gone [PREFIX]: a Linux guest that has ended or that KVM gave up on
gone() {
	[ -n "${1:-}" ] && { [ -s "$1.status" ] || grep -q 'KVM internal error' "$1.log"; }
}
# wait_http PORT T0 LABEL [PREFIX]: waits for the first answered request; records the time from T0
wait_http() {
	local end=$((SECONDS + BOOT_SECS))
	while [ $SECONDS -lt $end ] && ! gone "${4:-}"; do
		if curl -s -f -m 2 -o /dev/null "http://127.0.0.1:$1/healthz"; then
			awk -v a="$2" -v b="$EPOCHREALTIME" -v l="$3" 'BEGIN { printf "%s boot %.0f\n", l, (b - a) * 1000 }' >>"$results"
			return 0
		fi
		sleep 0.05
	done
	echo "$3: no answer on port $1 (waited up to $BOOT_SECS s)"
	bad=1
	return 1
}
# wait_tcp PORT [PREFIX]: waits for tcpbench's latency port to send its byte
wait_tcp() {
	python3 - "$1" "$BOOT_SECS" "${2:-}" <<'EOP'
import os, socket, sys, time
end = time.time() + int(sys.argv[2])
def gone(p):
    return p and (os.path.exists(p + ".status") and os.path.getsize(p + ".status") > 0
                  or "KVM internal error" in open(p + ".log", errors="replace").read())
while time.time() < end and not gone(sys.argv[3]):
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
        if s.recv(1) == b"!":
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.05)
sys.exit(1)
EOP
}
# http LABEL PORT: wrk's requests/s with keep-alive and with a new connection each
http() {
	local ka close
	ka=$(wrk -t1 -c8 -d"${WRK_SECS}s" "http://127.0.0.1:$2/healthz" | awk '/^Requests\/sec:/ { print $2 }')
	close=$(wrk -t1 -c8 -d"${WRK_SECS}s" -H 'Connection: close' "http://127.0.0.1:$2/healthz" |
		awk '/^Requests\/sec:/ { print $2 }')
	echo "$1 ka ${ka:--}" >>"$results"
	echo "$1 close ${close:--}" >>"$results"
}
# tcp LABEL LATENCY-PORT SINK-PORT SOURCE-PORT: throughput both ways and setup latency.
# Each transfer lasts BULK_SECS (the guests' speeds differ a thousandfold between TCG and
# nested KVM): the client sends for that long, then waits for the server's byte count; or
# asks for an endless stream and reads it for that long.
tcp() {
	python3 - "$@" "$BULK_SECS" "$CONNS" >>"$results" <<'EOP' || { echo "$1: tcpbench client failed"; bad=1; }
import socket, statistics, sys, time
label, lat, sink, src, secs, conns = sys.argv[1], *map(int, sys.argv[2:])
def conn(port):
    s = socket.socket()
    # a small send buffer: what is queued when the time is up must drain at the guest's pace
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 18)
    s.settimeout(120)
    s.connect(("127.0.0.1", port))
    return s
ts = []
for _ in range(conns):
    t = time.perf_counter(); s = conn(lat)
    if s.recv(1) != b"!":
        sys.exit("latency port: no byte")
    ts.append(time.perf_counter() - t); s.close()
print(label, "setup", "%.2f" % (statistics.median(ts) * 1000))
chunk = b"x" * 65536
up = down = 0
for _ in range(3):
    s = conn(sink); t = time.perf_counter(); sent = 0
    while time.perf_counter() - t < secs:
        s.sendall(chunk); sent += len(chunk)
    s.shutdown(socket.SHUT_WR)
    got = int(s.makefile().readline() or -1); dt = time.perf_counter() - t; s.close()
    if got != sent:
        sys.exit("sink got %d of %d bytes" % (got, sent))
    up = max(up, got / dt)
    s = conn(src); t = time.perf_counter(); s.sendall(b"%d\n" % (1 << 50)); got = 0
    while time.perf_counter() - t < secs:
        b = s.recv(1 << 16)
        if not b:
            sys.exit("source stopped after %d bytes" % got)
        got += len(b)
    dt = time.perf_counter() - t; s.close()
    down = max(down, got / dt)
print(label, "down", "%.2f" % (down / 1e6))
print(label, "up", "%.2f" % (up / 1e6))
EOP
}

# --- the host: the upper bound
hp=$(free_port)
./httpd -p "$hp" www >/dev/null 2>&1 &
hostpids+=($!)
for _ in $(seq 100); do curl -s -f -m 2 -o /dev/null "http://127.0.0.1:$hp/healthz" && break; sleep 0.05; done
http host "$hp"
p1=$(free_port) p2=$(free_port) p3=$(free_port)
"$TMP/tcpbench" "$p1" "$p2" "$p3" >/dev/null 2>&1 &
hostpids+=($!)
wait_tcp "$p1" && tcp host "$p1" "$p2" "$p3"
kill "${hostpids[@]}" 2>/dev/null
wait 2>/dev/null
hostpids=()

# --- the images of our kernel
"$CAPSTAN" build -q >/dev/null || { echo "capstan build failed"; exit 1; }
"$CAPSTAN" compose -c "/tcpbench 5001 5002 5003" tcpb "$TMP/tcpbench" >/dev/null || { echo "capstan compose failed"; exit 1; }
# --- the Linux guest's initramfs images, the same binaries and files
linux=1
if lg_kernel 2>"$TMP/lgerr"; then
	# shellcheck disable=SC2034 # linuxguest.sh reads them
	LG_NET=1 LG_FILES=("$TMP/httpd/www:/www")
	lg_initramfs "$TMP/httpd.cpio.gz" "$TMP/httpd/httpd" -p 80 /www || exit 1
	# shellcheck disable=SC2034
	LG_FILES=()
	lg_initramfs "$TMP/tcpb.cpio.gz" "$TMP/tcpbench" 5001 5002 5003 || exit 1
else
	echo "Linux guest: unavailable: $(cat "$TMP/lgerr")"
	linux=0
fi

for accel in $ACCELS; do
	# our kernel
	l="capstan/$accel"
	hp=$(free_port)
	t0=$EPOCHREALTIME
	if "$CAPSTAN" run -d -m 256M -c 1 --accel "$accel" --name bnet -f "$hp:80" httpd >/dev/null &&
		wait_http "$hp" "$t0" "$l"; then
		http "$l" "$hp"
	fi
	"$CAPSTAN" delete bnet >/dev/null 2>&1
	p1=$(free_port) p2=$(free_port) p3=$(free_port)
	if "$CAPSTAN" run -d -m 256M -c 1 --accel "$accel" --name bnet -f "$p1:5001" -f "$p2:5002" -f "$p3:5003" tcpb >/dev/null &&
		wait_tcp "$p1"; then
		tcp "$l" "$p1" "$p2" "$p3"
	else
		echo "$l: tcpbench did not answer"
		bad=1
	fi
	"$CAPSTAN" delete bnet >/dev/null 2>&1

	# the Linux guest
	[ $linux = 1 ] || continue
	l="linux/$accel"
	hp=$(free_port)
	lg_start "$TMP/lgh" "$accel" 1 256M "$TMP/httpd.cpio.gz" "$hp:80"
	was_bad=$bad
	if wait_http "$hp" "$LG_T0" "$l" "$TMP/lgh"; then
		http "$l" "$hp"
	else
		# nested KVM may refuse Debian's kernel (see README): reported, not failed; TCG must work
		[ "$accel" != kvm ] || bad=$was_bad
		tr -d '\r' <"$TMP/lgh.log" | sed 's/^[^ ]* /    /' | grep -v '^    [A-Z][A-Z0-9 ]*[=:]' | tail -n 8
		lg_stop "$TMP/lgh"
		continue
	fi
	lg_stop "$TMP/lgh"
	p1=$(free_port) p2=$(free_port) p3=$(free_port)
	lg_start "$TMP/lgt" "$accel" 1 256M "$TMP/tcpb.cpio.gz" "$p1:5001" "$p2:5002" "$p3:5003"
	if wait_tcp "$p1" "$TMP/lgt"; then
		tcp "$l" "$p1" "$p2" "$p3"
	else
		echo "$l: tcpbench did not answer"
		bad=1
	fi
	lg_stop "$TMP/lgt"
done

python3 - "$results" "$WRK_SECS" "$BULK_SECS" "$CONNS" <<'EOP'
import sys
rows = [("boot", "QEMU spawn to first answered request (ms)"),
        ("ka", "httpd, wrk keep-alive (req/s)"),
        ("close", "httpd, wrk Connection: close (req/s)"),
        ("down", "bulk TCP guest -> host (MB/s)"),
        ("up", "bulk TCP host -> guest (MB/s)"),
        ("setup", "connection setup, connect to first byte (ms)")]
cols, vals = [], {}
for line in open(sys.argv[1]):
    label, key, val = line.split()
    if label not in cols:
        cols.append(label)
    vals[label, key] = val
print("network, QEMU user networking with hostfwd, -m 256M, 1 CPU; wrk -t1 -c8 -d%ss, transfers of %s s (best of 3), %s connections (median)" % tuple(sys.argv[2:]))
print("%-46s" % "" + "".join("%14s" % c for c in cols))
for key, name in rows:
    print("%-46s" % name + "".join("%14s" % vals.get((c, key), "-") for c in cols))
EOP
exit $bad
