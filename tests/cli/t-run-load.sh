#!/usr/bin/env bash
# examples/httpd under load, under TCG: 10,000 sequential requests (a connection each),
# then 256 connections open at once, with no error; then the kernel's count of what is
# left at exit (--netstat) must be the listening socket alone: no socket leaked.
# Every connection is followed to its end (the guest's FIN seen on the host), so the
# guest has closed them all when it is stopped.
. "$(dirname "$0")/lib.sh"
needs_guest_net
cleanup() {
	"$CAPSTAN" delete load >/dev/null 2>&1
	rm -rf "$TESTDIR"
}
trap cleanup EXIT

cp -r "$CAPSTAN_SOURCE_ROOT/examples/httpd" "$TESTDIR/httpd"
cd "$TESTDIR/httpd" || exit 1
expect 0 "capstan build examples/httpd" "$CAPSTAN" build -q
port=$(free_port)
expect 0 "run -d -f $port:80 with --netstat" "$CAPSTAN" run -d --name load -f "$port:80" \
	-e "--netstat /httpd /www" httpd
wait_http "$port" || fail "httpd answers on port $port"
run python3 - "$port" <<'EOP'
import socket, sys
port = int(sys.argv[1])
REQ = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

def until_eof(s):
    data = b""
    while True:
        d = s.recv(4096)
        if not d:
            return data
        data += d

def good(data):
    return data.startswith(b"HTTP/1.1 200") and data.endswith(b"\r\n\r\nok\n")

errors = 0
for i in range(10000):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall(REQ)
        errors += not good(until_eof(s))  # the server closes: its FIN ends the read
        s.close()
    except OSError:
        errors += 1
print("sequential errors=%d" % errors)
errors = 0
socks = [socket.create_connection(("127.0.0.1", port), timeout=60) for _ in range(256)]
for s in socks:
    s.sendall(REQ.replace(b"close", b"keep-alive"))
for s in socks:
    try:
        data = b""
        while not data.endswith(b"ok\n"):
            d = s.recv(4096)
            if not d:
                break
            data += d
        errors += not good(data)
        s.shutdown(socket.SHUT_WR)
        errors += until_eof(s) != b""  # and the server's close answers ours
    except OSError:
        errors += 1
    s.close()
print("concurrent errors=%d" % errors)
EOP
[ "$(tr '\n' ' ' <"$OUT")" = "sequential errors=0 concurrent errors=0 " ] &&
	ok "10000 sequential requests, then 256 connections at once, without an error" ||
	fail "10000 sequential requests, then 256 connections at once, without an error"
expect 0 "stop" "$CAPSTAN" stop load
expect 0 "logs" "$CAPSTAN" logs load
has "$OUT" '^capstan: netstat: sockets 1 \(tcp 1, udp 0, unix 0\); tcp connections [0-9]+ \(listen 1, established 0,' \
	"only the listening socket is left (no socket leaked)"
done_testing
