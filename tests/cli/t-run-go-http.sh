#!/usr/bin/env bash
# examples/go-http: a Go net/http server built by `capstan build` with Debian's Go
# (CGO_ENABLED=0), reached with curl through -f under TCG; SIGTERM (the power button)
# makes it shut down cleanly and exit 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serverlib.sh"
needs /usr/bin/go
command -v curl >/dev/null || { echo "skip: no curl"; exit 77; }
command -v make >/dev/null || { echo "skip: no make"; exit 77; }
# the compiled standard library is kept in the build tree between runs; nothing is downloaded
export GOCACHE="${GOCACHE:-$CAPSTAN_BUILD_ROOT/tests/cli/go-cache}" GOPATH="$TESTDIR/gopath" GOPROXY=off
export PATH="/usr/bin:$PATH" # Debian's go ahead of any other

build_example go-http
file server | grep -q 'statically linked' && ok "the server is a static executable" ||
	fail "the server is a static executable"
start_example go-http 8080
url="http://127.0.0.1:$HOST_PORT"
serving 60 curl -sf -m 2 "$url/healthz"
run curl -s -m 20 "$url/"
has "$OUT" '^Hello from Go go[0-9.]+ on capstan$' "the greeting"
run curl -s -m 20 -o /dev/null -w '%{http_code}' "$url/missing"
[ "$(cat "$OUT")" = 404 ] && ok "a missing page is 404" || fail "a missing page is 404"
run curl -s -m 20 "$url/healthz" "$url/healthz" "$url/healthz"
[ "$(tr -d '\n' <"$OUT")" = okokok ] && ok "three requests on one connection" || fail "three requests on one connection"
# 20 clients at once: goroutines over the kernel's threads and epoll
run python3 - "$HOST_PORT" <<'EOP'
import concurrent.futures, sys, urllib.request
url = "http://127.0.0.1:%s/healthz" % sys.argv[1]
def get(_):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read()
with concurrent.futures.ThreadPoolExecutor(20) as ex:
    print(sum(b == b"ok\n" for b in ex.map(get, range(200))))
EOP
[ "$(cat "$OUT")" = 200 ] && ok "200 requests from 20 clients at once" || fail "200 requests from 20 clients at once"

stop_example 0
has "$LOG" 'go-http: listening on :8080$' "the console shows the server's log"
has "$LOG" 'go-http: terminated: shutting down$' "the server saw SIGTERM"
has "$LOG" 'go-http: stopped$' "the server shut down cleanly"
done_testing
