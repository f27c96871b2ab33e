#!/usr/bin/env bash
# The network end to end under TCG: examples/httpd built on the build's registry,
# run detached with -f (QEMU user networking, hostfwd), fetched with curl from the
# host on microvm (virtio-net-device) and on pc (virtio-net-pci).
. "$(dirname "$0")/lib.sh"
needs_guest_net
srv=
cleanup() {
	"$CAPSTAN" delete web-micro web-pc echo >/dev/null 2>&1
	[ -z "$srv" ] || kill "$srv" 2>/dev/null
	rm -rf "$TESTDIR"
}
trap cleanup EXIT

cp -r "$CAPSTAN_SOURCE_ROOT/examples/httpd" "$TESTDIR/httpd"
cd "$TESTDIR/httpd" || exit 1
head -c 4194304 /dev/urandom >www/big.bin
want=$(sha256sum <www/big.bin | cut -d' ' -f1)
expect 0 "capstan build examples/httpd" "$CAPSTAN" build -q

for boot in micro pc; do
	port=$(free_port)
	flags=()
	[ $boot = pc ] && flags=(--boot disk)
	expect 0 "run -d -f $port:80 ($boot)" "$CAPSTAN" run -d "${flags[@]}" --name "web-$boot" -f "$port:80" httpd
	if ! wait_http "$port"; then
		fail "httpd answers on port $port ($boot)"
		"$CAPSTAN" logs "web-$boot"
		continue
	fi
	ok "httpd answers on port $port ($boot)"
	expect 0 "logs ($boot)" "$CAPSTAN" logs "web-$boot"
	has "$OUT" '^eth0: 10\.0\.2\.15\b' "the boot line shows eth0's DHCP address ($boot)"
	has "$OUT" '^httpd: listening on port 80' "httpd started ($boot)"
	run curl -s -m 20 "http://127.0.0.1:$port/healthz"
	[ "$(cat "$OUT")" = ok ] && ok "/healthz says ok ($boot)" || fail "/healthz says ok ($boot)"
	run curl -s -m 20 "http://127.0.0.1:$port/"
	has "$OUT" 'Served by a capstan unikernel' "the index page ($boot)"
	run curl -s -m 20 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/missing"
	[ "$(cat "$OUT")" = 404 ] && ok "a missing page is 404 ($boot)" || fail "a missing page is 404 ($boot)"
	got=$(curl -s -m 120 "http://127.0.0.1:$port/big.bin" | sha256sum | cut -d' ' -f1)
	[ "$got" = "$want" ] && ok "4 MiB file intact (sha256) ($boot)" || fail "4 MiB file intact (sha256) ($boot)"
	# keep-alive: several requests over one connection
	run curl -s -m 20 "http://127.0.0.1:$port/healthz" "http://127.0.0.1:$port/healthz" "http://127.0.0.1:$port/healthz"
	[ "$(tr -d '\n' <"$OUT")" = okokok ] && ok "three requests on one connection ($boot)" || fail "three requests on one connection ($boot)"
	if [ $boot = micro ]; then
		# more sequential connections than the guest has descriptors (1024): a leaked
		# socket would end in EMFILE; then 256 connections open at once
		run python3 - "$port" <<'EOP'
import http.client, socket, sys
port = int(sys.argv[1])
errors = 0
for i in range(1100):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("GET", "/healthz", headers={"Connection": "close"})
        r = c.getresponse()
        errors += r.status != 200 or r.read() != b"ok\n"
        c.close()
    except OSError:
        errors += 1
socks = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(256)]
for s in socks:
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
answered = 0
for s in socks:
    data = b""
    try:
        while not data.endswith(b"ok\n"):
            d = s.recv(4096)
            if not d:
                break
            data += d
    except OSError:
        pass
    answered += data.startswith(b"HTTP/1.1 200") and data.endswith(b"ok\n")
    s.close()
print("errors=%d answered=%d" % (errors, answered))
EOP
		[ "$(cat "$OUT")" = "errors=0 answered=256" ] && ok "1100 sequential connections, then 256 at once ($boot)" ||
			fail "1100 sequential connections, then 256 at once ($boot)"
	fi
	expect 0 "instances ($boot)" "$CAPSTAN" instances
	has "$OUT" "^web-$boot .* 10\\.0\\.2\\.15 +$port->80/tcp " "instances shows the address and the forward ($boot)"
	expect 0 "instances --json ($boot)" "$CAPSTAN" instances --json
	has "$OUT" '"address": ?"10\.0\.2\.15"' "the address in JSON ($boot)"
	expect 0 "delete ($boot)" "$CAPSTAN" delete "web-$boot"
done

# UDP: an echo server in the guest, reached through -f HOST:7/udp
mkdir -p "$TESTDIR/echo" && cd "$TESTDIR/echo" || exit 1
cat >echo.c <<'EOC'
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
int main(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(7)}, from;
	char buf[2048];
	if (bind(s, (struct sockaddr *)&a, sizeof(a)))
		return 1;
	printf("udp echo ready\n");
	fflush(stdout);
	for (;;) {
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n >= 0)
			sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
}
EOC
cc_static=$(command -v musl-gcc || command -v cc)
printf 'base: capstan/base\nbuild: %s -static -O2 -o echo echo.c\ncmdline: /echo\nfiles:\n  /echo: echo\n' "$cc_static" >Capstanfile
expect 0 "capstan build a UDP echo server" "$CAPSTAN" build -q
uport=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
expect 0 "run -d -f $uport:7/udp" "$CAPSTAN" run -d --name echo -f "$uport:7/udp" echo
run python3 - "$uport" <<'EOP'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
for _ in range(120):  # the guest boots meanwhile; each try waits 0.5 s
    s.sendto(b"capstan-udp", ("127.0.0.1", int(sys.argv[1])))
    try:
        print(s.recv(2048).decode())
        break
    except socket.timeout:
        pass
EOP
[ "$(cat "$OUT")" = capstan-udp ] && ok "UDP datagram echoed through -f .../udp" || fail "UDP datagram echoed through -f .../udp"
expect 0 "delete echo" "$CAPSTAN" delete echo

# a program that writes 2 MiB to a host server and returns from main without closing:
# the kernel closes the connection at exit and lets the data reach the host first
mkdir -p "$TESTDIR/burst" && cd "$TESTDIR/burst" || exit 1
cat >burst.c <<'EOC'
#include <arpa/inet.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	static unsigned char buf[1 << 21];
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
	inet_pton(AF_INET, "10.0.2.2", &a.sin_addr);
	if (connect(s, (struct sockaddr *)&a, sizeof(a)))
		return 1;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7 + i / 4096);
	for (size_t o = 0; o < sizeof(buf);) {
		ssize_t n = write(s, buf + o, sizeof(buf) - o);
		if (n <= 0)
			return 2;
		o += (size_t)n;
	}
	return 0; /* no close: exit does it */
}
EOC
printf 'base: capstan/base\nbuild: %s -static -O2 -o burst burst.c\ncmdline: /burst\nfiles:\n  /burst: burst\n' "$cc_static" >Capstanfile
expect 0 "capstan build a program that exits right after writing" "$CAPSTAN" build -q
python3 -u -c '
import hashlib, socket, sys
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1)
print(l.getsockname()[1], flush=True)
l.settimeout(120)
c, _ = l.accept(); c.settimeout(60)
h, n = hashlib.sha256(), 0
while True:
    d = c.recv(65536)
    if not d:
        break
    h.update(d); n += len(d)
want = hashlib.sha256(bytes((i * 7 + i // 4096) & 255 for i in range(1 << 21))).hexdigest()
print("got %d bytes, %s" % (n, "intact" if h.hexdigest() == want else "corrupt"))' >"$TESTDIR/burst.out" 2>&1 &
srv=$!
for _ in $(seq 100); do [ -s "$TESTDIR/burst.out" ] && break; sleep 0.1; done
bport=$(head -1 "$TESTDIR/burst.out")
run timeout -k 5 120 "$CAPSTAN" run --rm -e "/burst $bport" burst </dev/null
[ "$RC" = 0 ] && ok "the writer exits 0" || fail "the writer exits 0 (got $RC)"
wait "$srv"
srv=
[ "$(sed -n 2p "$TESTDIR/burst.out")" = "got 2097152 bytes, intact" ] &&
	ok "all it wrote reached the host, then EOF" || fail "all it wrote reached the host, then EOF ($(tail -1 "$TESTDIR/burst.out"))"

# an unmodified static client in the guest: busybox wget from a server on the host
# (QEMU's user network shows the host's loopback as 10.0.2.2)
if file -L /bin/busybox 2>/dev/null | grep -q 'statically linked'; then
	mkdir -p "$TESTDIR/wget/www" && cd "$TESTDIR/wget" || exit 1
	python3 -c 'import hashlib; print("BEGIN"); [print("%06d %s" % (i, hashlib.sha256(str(i).encode()).hexdigest())) for i in range(4000)]; print("END")' >www/data.txt
	want=$(sha256sum <www/data.txt | cut -d' ' -f1)
	hport=$(free_port)
	(cd www && exec python3 -m http.server --bind 127.0.0.1 "$hport") >/dev/null 2>&1 &
	srv=$!
	for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$hport/data.txt" && break; sleep 0.1; done
	cp /bin/busybox busybox
	printf 'base: capstan/base\ncmdline: /bin/busybox true\nfiles:\n  /bin/busybox: busybox\n' >Capstanfile
	expect 0 "capstan build a busybox image" "$CAPSTAN" build -q wget
	run timeout -k 5 120 "$CAPSTAN" run --rm -e "/bin/busybox wget -q -O - http://10.0.2.2:$hport/data.txt" wget </dev/null
	[ "$RC" = 0 ] && ok "busybox wget exits 0" || fail "busybox wget exits 0 (got $RC)"
	got=$(tr -d '\r' <"$OUT" | sed -n '/^BEGIN$/,/^END$/p' | sha256sum | cut -d' ' -f1)
	[ "$got" = "$want" ] && ok "the file fetched in the guest is intact (sha256)" ||
		fail "the file fetched in the guest is intact (sha256)"
	kill "$srv" 2>/dev/null
	srv=
	# the same over IPv6: the guest takes an address from QEMU's router advertisement
	# (SLAAC, fec0::/64) and reaches the host's ::1 as fec0::2.  (QEMU 7.2 cannot
	# forward a host port to the guest over IPv6, so this goes guest to host.)
	hport=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1", 0)); print(s.getsockname()[1])' 2>/dev/null)
	if [ -n "$hport" ]; then
		(cd www && exec python3 -m http.server --bind ::1 "$hport") >/dev/null 2>&1 &
		srv=$!
		for _ in $(seq 100); do curl -s -o /dev/null "http://[::1]:$hport/data.txt" && break; sleep 0.1; done
		run timeout -k 5 120 "$CAPSTAN" run --rm -e "/bin/busybox wget -q -O - http://[fec0::2]:$hport/data.txt" wget </dev/null
		[ "$RC" = 0 ] && ok "busybox wget over IPv6 exits 0" || fail "busybox wget over IPv6 exits 0 (got $RC)"
		got=$(tr -d '\r' <"$OUT" | sed -n '/^BEGIN$/,/^END$/p' | sha256sum | cut -d' ' -f1)
		[ "$got" = "$want" ] && ok "the file fetched over IPv6 is intact (sha256)" ||
			fail "the file fetched over IPv6 is intact (sha256)"
		kill "$srv" 2>/dev/null
		srv=
	else
		echo "skip: the host has no ::1 for the IPv6 fetch"
	fi
else
	echo "skip: no static /bin/busybox for the in-guest client"
fi
done_testing
