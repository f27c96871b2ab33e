#!/usr/bin/env bash
# capstan pull against a fault-injecting server: every fault ends in its documented error and
# an untouched repository; dropped and killed pulls resume with a Range request and verify.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/reglib.sh"

REG="$TESTDIR/reg"
make_image test/app 8 || { echo "cannot make a test image"; exit 1; }
CAPSTAN_ROOT=$SRC_ROOT "$CAPSTAN" push -q test/app "file://$REG" || { echo "cannot push"; exit 1; }
SRC_IMG="$SRC_ROOT/repository/test/app/app.qemu"
GZ_SIZE=$(stat -c %s "$REG/test/app/app.qemu.gz")
start_faultd "$REG"
export CAPSTAN_NET_RETRIES=0 CAPSTAN_NET_TIMEOUT=2

# fault CODE REGEX DESC URL: pull fails with CODE, one line matching REGEX, nothing installed.
fault() {
	rm -rf "$CAPSTAN_ROOT"
	expect "$1" "$3" "$CAPSTAN" pull -u "$4" test/app
	one_line "$ERR" "$3: one line"
	has "$ERR" "$2" "$3: says why"
	untouched "$CAPSTAN_ROOT" "$3: repository untouched"
}
identical() {
	if cmp -s "$SRC_IMG" "$CAPSTAN_ROOT/repository/test/app/app.qemu"; then ok "$1"; else fail "$1"; fi
}

fault 65 "truncated gzip stream" "truncated download" "$FAULT_URL/truncate"
[ ! -e "$CAPSTAN_ROOT/cache/partial/test/app.qemu.gz" ] && ok "bad data is not kept for resume" || fail "bad data is not kept for resume"
fault 65 "corrupt gzip data|incorrect data check" "corrupt byte in the gzip" "$FAULT_URL/corrupt"
fault 65 "sha256 mismatch: the index says [0-9a-f]{64}, the image has [0-9a-f]{64}; nothing installed" \
	"valid gzip of a changed image" "$FAULT_URL/tamper"
fault 65 "size mismatch: the index says [0-9]+ bytes, the image has [0-9]+; nothing installed" "wrong size" \
	"$FAULT_URL/wrongsize"
fault 69 "timed out" "stalled transfer" "$FAULT_URL/stall"
fault 69 "server error \(HTTP 500\)" "HTTP 500 without retries" "$FAULT_URL/flaky-1"
fault 69 "too many redirects" "redirect loop" "$FAULT_URL/loop"
fault 65 "no such image 'test/app' in $FAULT_URL/nothere" "404" "$FAULT_URL/nothere"
port=$(free_port)
fault 69 "connection refused" "connection refused" "http://127.0.0.1:$port"
fault 69 "cannot resolve the host name \(DNS\)" "DNS failure" "http://no-such-host.invalid"

# retries: 500 then 200 succeeds
unset CAPSTAN_NET_RETRIES
rm -rf "$CAPSTAN_ROOT"
: >"$FAULT_LOG"
expect 0 "HTTP 500 twice, then 200: retried" "$CAPSTAN" pull -u "$FAULT_URL/flaky" test/app
identical "image intact after retries"
n=$(grep -c "GET /flaky/test/app/index.yaml" "$FAULT_LOG")
[ "$n" = 3 ] && ok "index asked three times" || fail "index asked three times ($n)"

# a dropped connection: the retry resumes with Range and the whole image verifies
rm -rf "$CAPSTAN_ROOT"
: >"$FAULT_LOG"
CAPSTAN_NET_RETRIES=20 expect 0 "pull through dropped connections" "$CAPSTAN" pull -u "$FAULT_URL/drop-$((GZ_SIZE / 4 + 1))" test/app
identical "image intact after dropped connections"
has "$FAULT_LOG" "GET /drop-[0-9]+/test/app/app.qemu.gz bytes=[1-9][0-9]*-" "retries asked for a Range"

# a drop with no retries keeps the partial download; the next pull resumes it
rm -rf "$CAPSTAN_ROOT"
: >"$FAULT_LOG"
CAPSTAN_NET_RETRIES=0 expect 69 "dropped connection, no retries" "$CAPSTAN" pull -u "$FAULT_URL/drop-$((GZ_SIZE / 2))" test/app
has "$ERR" "connection closed before the end of the file.*; [0-9]+ bytes kept, pull again to resume$" "drop: says why and that it can resume"
untouched "$CAPSTAN_ROOT" "drop: repository untouched"
part="$CAPSTAN_ROOT/cache/partial/test/app.qemu.gz"
[ "$(stat -c %s "$part" 2>/dev/null)" = "$((GZ_SIZE / 2))" ] && ok "partial download kept" || fail "partial download kept"
expect 0 "next pull resumes" "$CAPSTAN" pull -u "$FAULT_URL/ok" test/app
has "$OUT" "resuming test/app \(qemu\) from $((GZ_SIZE / 2)) bytes" "resume announced"
has "$FAULT_LOG" "GET /ok/test/app/app.qemu.gz bytes=$((GZ_SIZE / 2))-$" "server saw the Range request"
identical "resumed image verifies and is intact"
[ ! -e "$part" ] && ok "partial removed after install" || fail "partial removed after install"

# a resumed download whose server ignores the range validator starts over cleanly
rm -rf "$CAPSTAN_ROOT"
CAPSTAN_NET_RETRIES=0 "$CAPSTAN" pull -q -u "$FAULT_URL/drop-$((GZ_SIZE / 3))" test/app 2>/dev/null
printf '%s\n%s\n%s\n' "$FAULT_URL/ok/test/app/app.qemu.gz" "$(sed -n 2p "$CAPSTAN_ROOT/cache/partial/test/app.qemu.info")" '"stale"' \
	>"$CAPSTAN_ROOT/cache/partial/test/app.qemu.info"
: >"$FAULT_LOG"
expect 0 "stale validator: full download" "$CAPSTAN" pull -u "$FAULT_URL/ok" test/app
has "$FAULT_LOG" "GET /ok/test/app/app.qemu.gz bytes=[1-9][0-9]*-$" "stale validator: Range asked"
identical "image intact after a 200 answer to a Range request"

# a damaged partial download is detected and downloaded again, never installed
rm -rf "$CAPSTAN_ROOT"
CAPSTAN_NET_RETRIES=0 "$CAPSTAN" pull -q -u "$FAULT_URL/drop-$((GZ_SIZE / 2))" test/app 2>/dev/null
printf '\xff\xff\xff\xff' | dd of="$part" bs=1 seek=$((GZ_SIZE / 4)) conv=notrunc status=none
expect 0 "damaged partial: pulled again" "$CAPSTAN" pull -u "$FAULT_URL/ok" test/app
identical "image intact after a damaged partial"

# kill -9 in the middle of a slow pull, then pull again: resumes (Range) and verifies
rm -rf "$CAPSTAN_ROOT"
: >"$FAULT_LOG"
"$CAPSTAN" pull -q -u "$FAULT_URL/slow-$((GZ_SIZE / 3))" test/app >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do
	s=$(stat -c %s "$part" 2>/dev/null || echo 0)
	[ "$s" -gt $((GZ_SIZE / 4)) ] && break
	sleep 0.05
done
kill -9 $pid
wait $pid 2>/dev/null
s=$(stat -c %s "$part" 2>/dev/null || echo 0)
[ "$s" -gt 0 ] && [ "$s" -lt "$GZ_SIZE" ] && ok "killed mid-transfer ($s of $GZ_SIZE bytes)" || fail "killed mid-transfer ($s of $GZ_SIZE)"
[ ! -e "$CAPSTAN_ROOT/repository/test/app/app.qemu" ] && ok "killed pull installed nothing" || fail "killed pull installed nothing"
expect 0 "pull after kill -9" "$CAPSTAN" pull -u "$FAULT_URL/ok" test/app
has "$FAULT_LOG" "GET /ok/test/app/app.qemu.gz bytes=[1-9][0-9]*-$" "server saw a Range request after kill -9"
identical "image after kill -9 and resume is intact"
left=$(find "$CAPSTAN_ROOT/repository" -name '*.tmp.*' | wc -l)
[ "$left" = 0 ] && ok "killed pull's temp file cleaned up" || fail "killed pull's temp file cleaned up ($left)"

# Ctrl-C (SIGINT) ends the pull cleanly: exit 74, partial kept, nothing installed
rm -rf "$CAPSTAN_ROOT"
"$CAPSTAN" pull -u "$FAULT_URL/slow-$((GZ_SIZE / 3))" test/app >"$OUT" 2>"$ERR" &
pid=$!
for _ in $(seq 100); do
	s=$(stat -c %s "$part" 2>/dev/null || echo 0)
	[ "$s" -gt $((GZ_SIZE / 4)) ] && break
	sleep 0.05
done
kill -INT $pid
wait $pid
RC=$?
[ $RC = 74 ] && ok "SIGINT: exit 74" || fail "SIGINT: exit 74 (got $RC)"
has "$ERR" "interrupted \(run it again to resume\)" "SIGINT: says it can resume"
untouched "$CAPSTAN_ROOT" "SIGINT: repository untouched"
[ -s "$part" ] && ok "SIGINT: partial kept" || fail "SIGINT: partial kept"
expect 0 "pull after SIGINT" "$CAPSTAN" pull -q -u "$FAULT_URL/ok" test/app
identical "image after SIGINT and resume is intact"

# Ctrl-C while run pulls a missing image: the pull stops, no VM starts, exit 128+SIGINT
rm -rf "$CAPSTAN_ROOT"
"$CAPSTAN" run --timeout 60 --accel tcg -u "$FAULT_URL/slow-$((GZ_SIZE / 3))" test/app </dev/null >"$OUT" 2>"$ERR" &
pid=$!
for _ in $(seq 100); do
	s=$(stat -c %s "$part" 2>/dev/null || echo 0)
	[ "$s" -gt $((GZ_SIZE / 4)) ] && break
	sleep 0.05
done
kill -INT $pid
wait $pid
RC=$?
[ $RC = 130 ] && ok "run, SIGINT during its pull: exit 130" || fail "run, SIGINT during its pull: exit 130 (got $RC)"
has "$ERR" "interrupted" "run, SIGINT during its pull: says interrupted"
s=$(stat -c %s "$part" 2>/dev/null || echo 0)
[ "$s" -gt 0 ] && [ "$s" -lt "$GZ_SIZE" ] && ok "run, SIGINT: the pull stopped ($s of $GZ_SIZE bytes)" || fail "run, SIGINT: the pull stopped ($s of $GZ_SIZE)"
untouched "$CAPSTAN_ROOT" "run, SIGINT: repository untouched"
hasnt "$OUT" "Created instance" "run, SIGINT: no instance created"
[ -z "$(ls -A "$CAPSTAN_ROOT/instances/qemu" 2>/dev/null)" ] && ok "run, SIGINT: no instance folder" || fail "run, SIGINT: no instance folder"

# two pulls of the same image at once: one downloads, the other waits and finds it up to date
rm -rf "$CAPSTAN_ROOT"
: >"$FAULT_LOG"
"$CAPSTAN" pull -u "$FAULT_URL/slow-$((GZ_SIZE * 2))" test/app >"$TESTDIR/c1" 2>&1 &
p1=$!
for _ in $(seq 100); do [ -s "$part" ] && break; sleep 0.02; done
"$CAPSTAN" pull -u "$FAULT_URL/slow-$((GZ_SIZE * 2))" test/app >"$TESTDIR/c2" 2>&1 &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
if [ $r1 = 0 ] && [ $r2 = 0 ]; then ok "concurrent pulls both succeed"; else fail "concurrent pulls ($r1, $r2)"; fi
has "$TESTDIR/c2" "waiting for another capstan to finish with 'test/app' \(qemu\)" "second pull waits"
has "$TESTDIR/c2" "test/app \(qemu\) is up to date" "second pull reuses the first one's image"
n=$(grep -c "GET /slow-[0-9]*/test/app/app.qemu.gz" "$FAULT_LOG")
[ "$n" = 1 ] && ok "the image was downloaded once" || fail "the image was downloaded once ($n)"
identical "image intact after concurrent pulls"

# a full disk (a file size limit standing in for it) installs nothing and says so
rm -rf "$CAPSTAN_ROOT"
(
	trap '' XFSZ
	ulimit -f 2048
	exec "$CAPSTAN" pull -u "$FAULT_URL/ok" test/app
) >"$OUT" 2>"$ERR"
RC=$?
[ $RC = 74 ] && ok "write failure: exit 74" || fail "write failure: exit 74 (got $RC)"
one_line "$ERR" "write failure: one line"
has "$ERR" "cannot (write image 'test/app'|save the download of 'test/app' in the cache): File too large" "write failure: says which"
untouched "$CAPSTAN_ROOT" "write failure: repository untouched"
done_testing
