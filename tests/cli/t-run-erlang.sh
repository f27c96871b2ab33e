#!/usr/bin/env bash
# examples/erlang: Debian's Erlang/OTP started as Debian starts it (the erl shell
# script forks dirname and basename, execs erlexec, which execs beam.smp, which
# forks erl_child_setup), reached with curl through -f under TCG; beam.smp
# handles SIGTERM itself (init:stop), so the power button ends it with 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serverlib.sh"
needs /usr/lib/erlang/bin/erl /usr/bin/erlc /bin/dash /lib/terminfo/l/linux
command -v curl >/dev/null || { echo "skip: no curl"; exit 77; }

build_example erlang
start_example erlang 8080
url="http://127.0.0.1:$HOST_PORT"
serving 90 curl -sf -m 2 "$url/healthz"
run curl -s -m 20 "$url/"
has "$OUT" '^Hello from Erlang/OTP [0-9]* on nonode@nohost$' "the greeting"
run curl -s -m 20 -o /dev/null -w '%{http_code}' "$url/missing"
[ "$(cat "$OUT")" = 404 ] && ok "a missing page is 404" || fail "a missing page is 404"
run curl -s -m 20 "$url/healthz" "$url/healthz" "$url/"
[ "$(grep -c '^ok$' "$OUT")" = 2 ] && ok "three requests on one kept-alive connection" ||
	fail "three requests on one kept-alive connection"

stop_example 0
has "$LOG" '^hello_http: listening on port 8080 ' "the console shows the service's banner"
done_testing
