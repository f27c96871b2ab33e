#!/usr/bin/env bash
# examples/redis: Debian's redis-server, reached with the host's redis-cli through -f
# under TCG; SIGTERM (the power button) makes it save its data and exit 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serverlib.sh"
needs /usr/bin/redis-server /usr/bin/redis-cli

build_example redis
start_example redis 6379
cli() { redis-cli -h 127.0.0.1 -p "$HOST_PORT" "$@"; }
pong() { [ "$(cli ping)" = PONG ]; }
serving 60 pong
run cli set greeting "hello from redis"
[ "$(cat "$OUT")" = OK ] && ok "SET" || fail "SET"
run cli get greeting
[ "$(cat "$OUT")" = "hello from redis" ] && ok "GET gives the value back" || fail "GET gives the value back"
run cli incrby counter 41
run cli incr counter
[ "$(cat "$OUT")" = 42 ] && ok "INCR" || fail "INCR"
run cli rpush list a b c
run cli lrange list 0 -1
[ "$(tr '\n' ' ' <"$OUT")" = "a b c " ] && ok "a list" || fail "a list"
run cli dbsize
[ "$(cat "$OUT")" = 3 ] && ok "DBSIZE" || fail "DBSIZE"
# a pipeline of 1000 commands over one connection
run sh -c "for i in \$(seq 1000); do echo \"SET key:\$i \$i\"; done | redis-cli -h 127.0.0.1 -p $HOST_PORT --pipe"
has "$OUT" 'errors: 0, replies: 1000' "1000 pipelined SETs"
run cli get key:777
[ "$(cat "$OUT")" = 777 ] && ok "a pipelined key reads back" || fail "a pipelined key reads back"

# BGSAVE forks a child that writes the snapshot while the parent serves
run cli bgsave
has "$OUT" 'Background saving started' "BGSAVE starts"
saved() { cli info persistence | tr -d '\r' | grep -q '^rdb_bgsave_in_progress:0$'; }
wait_until 60 saved && ok "the forked child finished the snapshot" || fail "the forked child finished the snapshot"
run cli info persistence
has "$OUT" '^rdb_last_bgsave_status:ok' "the background save succeeded"

stop_example 0
has "$LOG" 'Ready to accept connections' "the console shows redis' log"
has "$LOG" 'Received SIGTERM scheduling shutdown' "redis saw SIGTERM"
has "$LOG" 'DB saved on disk' "redis saved its data (in the overlay) before exiting"
has "$LOG" 'Redis is now ready to exit, bye bye' "redis exited by itself"
has "$LOG" 'Background saving terminated with success' "the console shows the forked save"
done_testing
