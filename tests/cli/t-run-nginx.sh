#!/usr/bin/env bash
# examples/nginx: Debian's nginx in the unikernel, a master and two workers (the master hears its
# channels by SIGIO), reached with curl through -f under TCG, stopped by SIGTERM (the power
# button), which the master passes to its workers; its access log on the console.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serverlib.sh"
needs /usr/sbin/nginx /etc/nginx/mime.types
command -v curl >/dev/null || { echo "skip: no curl"; exit 77; }

build_example nginx
head -c 1048576 /dev/urandom >www/big.bin
want=$(sha256sum <www/big.bin | cut -d' ' -f1)
expect 0 "rebuild with a 1 MiB file" "$CAPSTAN" build -q
start_example nginx 80
url="http://127.0.0.1:$HOST_PORT"
serving 60 curl -sf -m 2 "$url/healthz"
run curl -s -m 20 "$url/"
has "$OUT" "Served by Debian's nginx in a capstan unikernel" "the index page"
run curl -s -m 20 -o /dev/null -w '%{http_code} %{content_type}' "$url/index.html"
[ "$(cat "$OUT")" = "200 text/html" ] && ok "200 with the type from mime.types" || fail "200 with the type from mime.types"
run curl -s -m 20 -o /dev/null -w '%{http_code}' "$url/missing"
[ "$(cat "$OUT")" = 404 ] && ok "a missing page is 404" || fail "a missing page is 404"
got=$(curl -s -m 60 "$url/big.bin" | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] && ok "1 MiB file intact (sha256)" || fail "1 MiB file intact (sha256)"
run curl -s -m 20 "$url/healthz" "$url/healthz" "$url/healthz"
[ "$(tr -d '\n' <"$OUT")" = okokok ] && ok "three requests on one connection" || fail "three requests on one connection"
run curl -s -m 20 "$url/worker"
worker=$(sed -n 's/^served by worker \([0-9]*\)$/\1/p' "$OUT")
[ -n "$worker" ] && [ "$worker" != 1 ] && ok "a worker (pid $worker), not the master, answered" ||
	fail "a worker, not the master, answered"

stop_example 0
has "$LOG" '\[notice\] 1#1: nginx/' "the console shows nginx's error log (stderr)"
has "$LOG" '"GET /big.bin HTTP/1.1" 200 1048576 ' "the access log (/dev/stdout) is on the console"
has "$LOG" 'signal 15 \(SIGTERM\) received, exiting' "nginx saw SIGTERM"
workers=$(sed -n 's/.*\[notice\] 1#1: start worker process \([0-9]*\)$/\1/p' "$LOG" | sort -n | tr '\n' ' ')
[ "$(wc -w <<<"$workers")" = 2 ] && ok "the master started two workers ($workers)" ||
	fail "the master started two workers (got: $workers)"
case " $workers" in *" ${worker:-none} "*) ok "the worker that answered is one of them" ;;
*) fail "the worker that answered ($worker) is one of them ($workers)" ;; esac
for w in $workers; do
	has "$LOG" "\\[notice\\] $w#$w: exit\$" "worker $w exited by itself"
	has "$LOG" "\\[notice\\] 1#1: worker process $w exited with code 0\$" "the master reaped worker $w (code 0)"
done
has "$LOG" '\[notice\] 1#1: exit$' "nginx exited by itself"
hasnt "$LOG" 'emerg|alert|crit' "no alerts"
done_testing
