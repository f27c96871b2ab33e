#!/usr/bin/env bash
# Server benchmark, figures printed (no timed asserts): each server of examples/ (erlang,
# nginx, redis, python-http, go-http) in our guest (capstan build, capstan run -d -f) against
# the same Debian binary and files in the Linux guest of linuxguest.sh (Debian's cloud kernel,
# a minimal initramfs), in the same run, under the same QEMU, accelerator, memory and network
# backend (user networking with a host forward):
#   boot    ms from the start (capstan run -d; QEMU's spawn for Linux) to the first request
#           answered in full (a new connection every 20 ms, each given 100 ms)
#   req/s   wrk (HTTP: -t2 -c16 on /) or redis-benchmark (-c16, SET and GET: their mean)
#   min -m  the smallest memory (MiB) with which the guest boots and answers 1,000 sequential
#           requests, each on a new connection (redis: PING), found by bisection between 1
#           MiB and BENCH_MEM (tried first) to within 1 MiB; a probe fails when the guest ends, or gives
#           no first answer within 10 s plus 3 times its boot at BENCH_MEM, or a request
#           fails (the Linux guest gets panic=-1, so that a panic ends it)
#   image   our image (.qemu, qcow2) and gzip'd as a registry ships it, beside the Linux
#           guest's initramfs (gzip'd cpio)
# Logging is what each example does, but nginx's access log is off for both guests: the
# Linux guest has no /dev/stdout without udev.
# Env: CAPSTAN, CAPSTAN_BUILD_ROOT, CAPSTAN_SOURCE_ROOT (meson); BENCH_ACCEL (tcg|kvm, default
#     tcg), BENCH_MEM (default 256M), BENCH_SECS (wrk's duration, default 5), BENCH_SERVERS
#     (default "erlang nginx redis python-http go-http"), BENCH_MINMEM (1, the default: find
#     the smallest -m; 0: skip it).
set -u
: "${CAPSTAN:?}" "${CAPSTAN_BUILD_ROOT:?}" "${CAPSTAN_SOURCE_ROOT:?}"
ACCEL=${BENCH_ACCEL:-tcg}
MEM=${BENCH_MEM:-256M}
SECS=${BENCH_SECS:-5}
SERVERS=${BENCH_SERVERS:-erlang nginx redis python-http go-http}
MINMEM=${BENCH_MINMEM:-1}
[ -f "$CAPSTAN_BUILD_ROOT/repo/index.yaml" ] || { echo "skip: no registry tree (built with -Dkernel=true)"; exit 77; }
for c in qemu-system-x86_64 wrk redis-benchmark; do
	command -v $c >/dev/null || { echo "skip: no $c"; exit 77; }
done
# shellcheck source=linuxguest.sh
. "$CAPSTAN_SOURCE_ROOT/tests/bench/linuxguest.sh"
TMP=$(mktemp -d /tmp/capstan-bservers.XXXXXX)
export CAPSTAN_ROOT=$TMP/root CAPSTAN_DATADIR=$CAPSTAN_BUILD_ROOT CAPSTAN_DISABLE_KVM=
[ "$ACCEL" = tcg ] && export CAPSTAN_DISABLE_KVM=1
export GOCACHE="${GOCACHE:-$CAPSTAN_BUILD_ROOT/tests/cli/go-cache}" GOPATH="$TMP/gopath" GOPROXY=off
LG_RUNNING=
export LG_NET=1 # the Linux guest gets virtio-net and eth0
cleanup() {
	for s in $SERVERS; do "$CAPSTAN" delete "b-$s" >/dev/null 2>&1; "$CAPSTAN" delete "m-$s" >/dev/null 2>&1; done
	[ -z "$LG_RUNNING" ] || lg_stop "$LG_RUNNING"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM # through the EXIT trap
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
lg_kernel || { echo "skip: no Linux kernel for the Linux guest"; exit 77; }

# first_answer http|redis PORT T0: ms from T0 (an $EPOCHREALTIME) to the first full answer
first_answer() {
	python3 - "$@" <<'EOP'
import socket, sys, time
kind, port, t0 = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
ask, good = ((b"PING\r\n", lambda d: d.startswith(b"+PONG")) if kind == "redis" else
             (b"GET / HTTP/1.0\r\n\r\n", lambda d: d.startswith(b"HTTP/1.") and b" 200 " in d[:16]))
while time.time() - t0 < 300:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=0.1)
        s.sendall(ask)
        data = s.recv(64)
        s.close()
        if good(data):
            print("%.0f" % ((time.time() - t0) * 1000))
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.02)
print("-")
EOP
}

# ask http|redis PORT: one request on a new connection answered in full
ask() {
	python3 - "$@" <<'EOP'
import socket, sys
kind, port = sys.argv[1], int(sys.argv[2])
ask, good = ((b"PING\r\n", lambda d: d.startswith(b"+PONG")) if kind == "redis" else
             (b"GET / HTTP/1.0\r\n\r\n", lambda d: d.startswith(b"HTTP/1.") and b" 200 " in d[:16]))
try:
    s = socket.create_connection(("127.0.0.1", port), timeout=0.5)
    s.sendall(ask)
    sys.exit(0 if good(s.recv(64)) else 1)
except OSError:
    sys.exit(1)
EOP
}

# serves_1000 http|redis PORT: 1,000 sequential requests, each on a new connection, all answered
serves_1000() {
	python3 - "$@" <<'EOP'
import socket, sys
kind, port = sys.argv[1], int(sys.argv[2])
ask, good = ((b"PING\r\n", lambda d: d.startswith(b"+PONG")) if kind == "redis" else
             (b"GET / HTTP/1.0\r\n\r\n", lambda d: d.startswith(b"HTTP/1.") and b" 200 " in d[:16]))
for i in range(1000):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(ask)
        data = b""
        while len(data) < 16 and not good(data):
            more = s.recv(64)
            if not more:
                break
            data += more
        s.close()
    except OSError:
        sys.exit(1)
    if not good(data):
        sys.exit(1)
EOP
}

# answers_while KIND PORT SECS ALIVE-CMD...: a first answer within SECS while ALIVE-CMD succeeds
answers_while() {
	local kind=$1 port=$2 end=$((SECONDS + $3))
	shift 3
	while [ $SECONDS -lt $end ]; do
		ask "$kind" "$port" && return 0
		"$@" || return 1
		sleep 0.1
	done
	return 1
}

ours_alive() {
	"$CAPSTAN" instances -a --json | python3 -c 'import json, sys
sys.exit(0 if any(i["name"] == sys.argv[1] and i["state"] == "running" for i in json.load(sys.stdin)) else 1)' "$1"
}

lg_alive() { [ ! -s "$1.status" ]; }

# fits_ours S MIB / fits_linux S MIB: the guest with MIB MiB boots and serves 1,000 requests
fits_ours() {
	local port r=1
	port=$(free_port)
	if "$CAPSTAN" run -d -m "${2}M" --accel "$ACCEL" --name "m-$1" -f "$port:$GPORT" "$1" >/dev/null 2>&1; then
		answers_while "$KIND" "$port" "$LIMIT" ours_alive "m-$1" && serves_1000 "$KIND" "$port"
		r=$?
	fi
	"$CAPSTAN" delete "m-$1" >/dev/null 2>&1
	return $r
}

fits_linux() {
	local port r
	port=$(free_port)
	LG_APPEND="panic=-1" lg_start "$TMP/lgm-$1" "$ACCEL" 1 "${2}M" "$TMP/$1.initrd.gz" "$port:$GPORT"
	LG_RUNNING=$TMP/lgm-$1
	answers_while "$KIND" "$port" "$LIMIT" lg_alive "$TMP/lgm-$1" && serves_1000 "$KIND" "$port"
	r=$?
	lg_stop "$TMP/lgm-$1"
	LG_RUNNING=
	return $r
}

# min_mem FITS S: MIB, the smallest MiB (within 1) from 1 to BENCH_MEM that FITS, by bisection
# (in this shell, not a $(...), so that the EXIT trap sees a guest still running); ">MEM" when
# BENCH_MEM itself does not
min_mem() {
	local lo=0 hi=${MEM%M} mid
	"$1" "$2" "$hi" || { MIB=">$hi"; return; }
	while [ $((hi - lo)) -gt 1 ]; do
		mid=$(((lo + hi) / 2))
		if "$1" "$2" "$mid"; then hi=$mid; else lo=$mid; fi
	done
	MIB=$hi
}

# rate http|redis PORT: requests/s
rate() {
	if [ "$1" = redis ]; then
		redis-benchmark -h 127.0.0.1 -p "$2" -c 16 -n 20000 -t set,get -q 2>/dev/null | tr '\r' '\n' |
			awk '/requests per second/ { for (i = 1; i <= NF; i++) if ($i == "requests") { s += $(i - 1); n++ } }
				END { if (n) printf "%.0f\n", s / n; else print "-" }'
	else
		wrk -t2 -c16 -d"${SECS}s" "http://127.0.0.1:$2/" 2>/dev/null | awk '/^Requests\/sec:/ { printf "%.0f\n", $2 } END { }'
	fi
}

# The example, built; sets KIND, GPORT and the Linux guest's program (LG_PROG, LG_ARGS, LG_FILES).
prepare() {
	local s=$1 dir=$TMP/$1
	cp -r "$CAPSTAN_SOURCE_ROOT/examples/$s" "$dir" && cd "$dir" || exit 1
	KIND=http LG_ARGS=() LG_FILES=()
	case $s in
	erlang)
		# erl is Debian's /bin/sh script: dash, dirname and basename run it; erlexec, beam.smp
		# and erl_child_setup come with /usr/lib/erlang, their libraries from ldd; the
		# arguments are the Capstanfile's (schedulers that sleep at once, no busy wait)
		GPORT=8080 LG_PROG=/usr/lib/erlang/bin/erl
		LG_ARGS=(+sbwt none +sbwtdcpu none +sbwtdio none -pa /app/ebin -s hello_http start 8080)
		LG_FILES=(/usr/lib/erlang "$dir/ebin:/app/ebin" /bin/dash:/bin/sh /usr/bin/dirname /usr/bin/basename)
		make -s -C "$dir" >/dev/null || { echo "$s: make failed"; exit 1; }
		for lib in $(ldd /bin/dash /usr/bin/dirname /usr/lib/erlang/erts-*/bin/* 2>/dev/null |
			sed -n 's/.*=> \(\/[^ ]*\) (.*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p' | sort -u); do
			LG_FILES+=("$lib")
		done ;;
	nginx)
		GPORT=80 LG_PROG=/usr/sbin/nginx LG_ARGS=(-c /etc/nginx/nginx.conf)
		sed -i 's|access_log /dev/stdout;|access_log off;|' nginx.conf
		LG_FILES=("$dir/nginx.conf:/etc/nginx/nginx.conf" /etc/nginx/mime.types "$dir/www:/www"
			"$CAPSTAN_SOURCE_ROOT/repo/base/passwd:/etc/passwd" "$CAPSTAN_SOURCE_ROOT/repo/base/group:/etc/group")
		mkdir -p "$TMP/lgrun" && LG_FILES+=("$TMP/lgrun:/run") ;;
	redis)
		KIND=redis GPORT=6379 LG_PROG=/usr/bin/redis-server LG_ARGS=(/etc/redis/redis.conf)
		LG_FILES=("$dir/redis.conf:/etc/redis/redis.conf" "$dir/data:/var/lib/redis") ;;
	python-http)
		GPORT=8000 LG_PROG=/usr/bin/python3 LG_ARGS=(-m http.server --directory /www 8000)
		LG_FILES=(/usr/lib/python3.11 "$dir/www:/www") ;;
	go-http)
		GPORT=8080 LG_PROG=$dir/server ;;
	esac
	"$CAPSTAN" build -q || { echo "$s: capstan build failed"; exit 1; }
	cd "$TMP" || exit 1
}

echo "server       guest    boot ms    req/s   min -m      image bytes (gzip'd)"
for s in $SERVERS; do
	prepare "$s"
	img=$CAPSTAN_ROOT/repository/$s/$s.qemu
	size=$(stat -c %s "$img")
	gz=$(gzip -c "$img" | wc -c)
	port=$(free_port)
	t0=$EPOCHREALTIME
	if "$CAPSTAN" run -d -m "$MEM" --accel "$ACCEL" --name "b-$s" -f "$port:$GPORT" "$s" >/dev/null; then
		boot=$(first_answer "$KIND" "$port" "$t0")
		rps=$(rate "$KIND" "$port")
	else
		boot=- rps=-
	fi
	"$CAPSTAN" delete "b-$s" >/dev/null 2>&1
	mib=-
	if [ "$MINMEM" = 1 ] && [ "$boot" != - ]; then
		LIMIT=$((10 + 3 * boot / 1000))
		min_mem fits_ours "$s"
		mib=$MIB
	fi
	printf '%-12s %-8s %7s %9s %8s %12s (%s)\n' "$s" capstan "$boot" "$rps" "$mib" "$size" "$gz"

	lg_initramfs "$TMP/$s.initrd.gz" "$LG_PROG" "${LG_ARGS[@]}" || { echo "$s: no initramfs"; continue; }
	port=$(free_port)
	lg_start "$TMP/lg-$s" "$ACCEL" 1 "$MEM" "$TMP/$s.initrd.gz" "$port:$GPORT"
	LG_RUNNING=$TMP/lg-$s
	boot=$(first_answer "$KIND" "$port" "$LG_T0")
	rps=-
	[ "$boot" = - ] || rps=$(rate "$KIND" "$port")
	lg_stop "$TMP/lg-$s"
	LG_RUNNING=
	[ "$boot" != - ] || tr -d '\r' <"$TMP/lg-$s.log" | tail -n 5 | sed 's/^/    linux: /'
	mib=-
	if [ "$MINMEM" = 1 ] && [ "$boot" != - ]; then
		LIMIT=$((10 + 3 * boot / 1000))
		min_mem fits_linux "$s"
		mib=$MIB
	fi
	printf '%-12s %-8s %7s %9s %8s %12s\n' "$s" linux "$boot" "$rps" "$mib" "$(stat -c %s "$TMP/$s.initrd.gz")"
done
echo "($ACCEL, -m $MEM, QEMU user networking; load average: $(cut -d' ' -f1-3 /proc/loadavg))"
