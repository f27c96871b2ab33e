#!/usr/bin/env bash
# Network benchmark, figures printed (no timed asserts): examples/httpd in our guest
# (capstan run -d -f, QEMU user networking) against the same binary on the host (the upper
# bound), in the same run: requests/s with a new connection each and keep-alive, and the
# time to fetch an 8 MiB file (guest -> host).  The Linux-guest peer the issue asks for is
# not here yet (no Linux kernel on this machine).
# Env: CAPSTAN, CAPSTAN_BUILD_ROOT (meson); BENCH_REQS (default 2000), BENCH_ACCEL
#     (auto|kvm|tcg, default tcg: the same everywhere).
set -u
: "${CAPSTAN:?}" "${CAPSTAN_BUILD_ROOT:?}" "${CAPSTAN_SOURCE_ROOT:?}"
REQS=${BENCH_REQS:-2000}
ACCEL=${BENCH_ACCEL:-tcg}
[ -f "$CAPSTAN_BUILD_ROOT/repo/index.yaml" ] || { echo "skip: no registry tree (built with -Dkernel=true)"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "skip: no qemu-system-x86_64"; exit 77; }
TMP=$(mktemp -d /tmp/capstan-bnet.XXXXXX)
export CAPSTAN_ROOT=$TMP/root CAPSTAN_DATADIR=$CAPSTAN_BUILD_ROOT
hostpid=
cleanup() {
	"$CAPSTAN" delete bnet >/dev/null 2>&1
	[ -z "$hostpid" ] || kill "$hostpid" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

cp -r "$CAPSTAN_SOURCE_ROOT/examples/httpd" "$TMP/httpd" && cd "$TMP/httpd" || exit 1
head -c 8388608 /dev/urandom >www/big.bin
make -s >/dev/null || { echo "httpd does not build"; exit 1; }

# measure PORT LABEL: one line of figures
measure() {
	python3 - "$1" "$2" "$REQS" <<'EOP'
import http.client, sys, time
port, label, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
def conn():
    return http.client.HTTPConnection("127.0.0.1", port, timeout=60)
t = time.time()
for _ in range(n):
    c = conn(); c.request("GET", "/healthz", headers={"Connection": "close"})
    c.getresponse().read(); c.close()
new = n / (time.time() - t)
c = conn(); t = time.time()
for _ in range(n):
    c.request("GET", "/healthz"); c.getresponse().read()
ka = n / (time.time() - t); c.close()
best = None
for _ in range(3):
    c = conn(); t = time.time(); c.request("GET", "/big.bin")
    size = len(c.getresponse().read()); c.close()
    best = min(best or 1e9, time.time() - t)
print("%-6s %10.0f req/s new connection  %8.0f req/s keep-alive  8 MiB in %.3f s (%.1f MB/s)"
      % (label, new, ka, best, size / best / 1e6))
EOP
}

hport=$(free_port)
./httpd -p "$hport" www >/dev/null 2>&1 &
hostpid=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$hport/healthz" && break; sleep 0.1; done
host=$(measure "$hport" host)
kill "$hostpid"
hostpid=

"$CAPSTAN" build -q >/dev/null || { echo "capstan build failed"; exit 1; }
gport=$(free_port)
"$CAPSTAN" run -d --accel "$ACCEL" --name bnet -f "$gport:80" httpd >/dev/null || { echo "capstan run failed"; exit 1; }
for _ in $(seq 120); do curl -s -m 2 -o /dev/null "http://127.0.0.1:$gport/healthz" && break; sleep 0.5; done
guest=$(measure "$gport" guest)
echo "httpd, $REQS requests each way, guest under $ACCEL with QEMU user networking:"
echo "$host"
echo "$guest"
python3 - "$host" "$guest" <<'EOP'
import re, sys
h = [float(x) for x in re.findall(r"([\d.]+) req/s", sys.argv[1])] + [float(re.findall(r"in ([\d.]+) s", sys.argv[1])[0])]
g = [float(x) for x in re.findall(r"([\d.]+) req/s", sys.argv[2])] + [float(re.findall(r"in ([\d.]+) s", sys.argv[2])[0])]
print("guest/host: %.3fx new connection, %.3fx keep-alive, %.3fx transfer speed" % (g[0] / h[0], g[1] / h[1], h[2] / g[2]))
EOP
