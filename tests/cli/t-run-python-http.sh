#!/usr/bin/env bash
# examples/python-http: Debian's python3 -m http.server, reached with curl through -f
# under TCG; it has no SIGTERM handler, so the power button ends it with 143.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serverlib.sh"
needs /usr/bin/python3.11 /usr/lib/python3.11/http/server.py
command -v curl >/dev/null || { echo "skip: no curl"; exit 77; }

build_example python-http
start_example python-http 8000
url="http://127.0.0.1:$HOST_PORT"
serving 60 curl -sf -m 2 "$url/"
run curl -s -m 20 "$url/"
has "$OUT" 'Served by Debian.s Python' "the index page"
run curl -s -m 20 "$url/files/"
has "$OUT" '<a href="notes.txt">notes.txt</a>' "a folder without index.html is listed"
run curl -s -m 20 "$url/files/notes.txt"
cmp -s "$OUT" www/files/notes.txt && ok "a file comes back intact" || fail "a file comes back intact"
run curl -s -m 20 -o /dev/null -w '%{http_code}' "$url/missing"
[ "$(cat "$OUT")" = 404 ] && ok "a missing page is 404" || fail "a missing page is 404"

stop_example 143
# 0.0.0.0 while the kernel has no IPv6 (socket(AF_INET6) fails, Python falls back); :: with it
has "$LOG" '^Serving HTTP on (0\.0\.0\.0|::) port 8000 ' "the console shows the server's banner"
has "$LOG" '"GET /files/notes.txt HTTP/1.1" 200 ' "the request log is on the console"
has "$LOG" '^capstan: stopped by power button$' "no handler: SIGTERM ends it"
done_testing
