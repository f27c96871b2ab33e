#!/usr/bin/env bash
# Server benchmark, figures printed (no timed asserts): each server of examples/ (nginx,
# redis, python-http, go-http) in our guest (capstan build, capstan run -d -f) against the
# same Debian binary and files in the Linux guest of linuxguest.sh (Debian's cloud kernel, a
# minimal initramfs), in the same run, under the same QEMU, accelerator, memory and network
# backend (user networking with a host forward):
#   boot    ms from the start (capstan run -d; QEMU's spawn for Linux) to the first request
#           answered in full (a new connection every 20 ms, each given 100 ms)
#   req/s   wrk (HTTP: -t2 -c16 on /) or redis-benchmark (-c16, SET and GET: their mean)
#   image   our image (.qemu, qcow2) and gzip'd as a registry ships it, beside the Linux
#           guest's initramfs (gzip'd cpio)
# Logging is what each example does, but nginx's access log is off for both guests: the
# Linux guest has no /dev/stdout without udev.
# Env: CAPSTAN, CAPSTAN_BUILD_ROOT, CAPSTAN_SOURCE_ROOT (meson); BENCH_ACCEL (tcg|kvm, default
#     tcg), BENCH_MEM (default 256M), BENCH_SECS (wrk's duration, default 5), BENCH_SERVERS
#     (default "nginx redis python-http go-http").
set -u
: "${CAPSTAN:?}" "${CAPSTAN_BUILD_ROOT:?}" "${CAPSTAN_SOURCE_ROOT:?}"
ACCEL=${BENCH_ACCEL:-tcg}
MEM=${BENCH_MEM:-256M}
SECS=${BENCH_SECS:-5}
SERVERS=${BENCH_SERVERS:-nginx redis python-http go-http}
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
	for s in $SERVERS; do "$CAPSTAN" delete "b-$s" >/dev/null 2>&1; done
	[ -z "$LG_RUNNING" ] || lg_stop "$LG_RUNNING"
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
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

echo "server       guest    boot ms    req/s      image bytes (gzip'd)"
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
	printf '%-12s %-8s %7s %9s %12s (%s)\n' "$s" capstan "$boot" "$rps" "$size" "$gz"

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
	printf '%-12s %-8s %7s %9s %12s\n' "$s" linux "$boot" "$rps" "$(stat -c %s "$TMP/$s.initrd.gz")"
done
echo "($ACCEL, -m $MEM, QEMU user networking; load average: $(cut -d' ' -f1-3 /proc/loadavg))"
