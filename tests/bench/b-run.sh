#!/usr/bin/env bash
# Instance benchmarks, figures printed (no timed asserts):
#  1. 'capstan run capstan/hello' wall time against plain qemu-system-x86_64 with the same
#     arguments, interleaved in the same run (median of BENCH_RUNS, default 10);
#  2. 'capstan instances' over 10,000 rows against sqlite3 reading the same table;
#  3. how many idle instances (a program that sleeps) run at once with -m 8M (up to
#     BENCH_IDLE, default 200), and their memory (RSS of QEMU and of the supervisors).
# Env: CAPSTAN, KERNEL, MBR, MKIMAGE, HELLO (from meson); BENCH_RUNS, BENCH_IDLE.
set -u
: "${CAPSTAN:?}" "${KERNEL:?}" "${MKIMAGE:?}" "${HELLO:?}"
RUNS=${BENCH_RUNS:-10}
IDLE=${BENCH_IDLE:-200}
TMP=$(mktemp -d /tmp/capstan-bench.XXXXXX)
export CAPSTAN_ROOT=$TMP/root
cleanup() {
	"$CAPSTAN" instances -a --json 2>/dev/null |
		python3 -c 'import json,sys; [print(i["name"]) for i in json.load(sys.stdin)]' 2>/dev/null |
		xargs -r -n 50 "$CAPSTAN" delete >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

image() { # image NAME CMDLINE GUEST=HOST...
	local name=$1 cmd=$2
	shift 2
	"$MKIMAGE" "$TMP/$name.raw" --kernel "$KERNEL" ${MBR:+--mbr "$MBR"} --cmdline "$cmd" "$@" >/dev/null &&
		qemu-img convert -O qcow2 "$TMP/$name.raw" "$TMP/$name.qcow2" &&
		"$CAPSTAN" import "capstan/$name" "$TMP/$name.qcow2" >/dev/null
}
image hello /bin/hello "/bin/hello=$HELLO" || { echo "cannot make the hello image"; exit 1; }

# 1. capstan run against plain QEMU with the same arguments.
"$CAPSTAN" run -v --name warm capstan/hello </dev/null >"$TMP/v.out" 2>&1
args=$(sed -n 's/^Invoking QEMU: //p' "$TMP/v.out")
accel=$(echo "$args" | grep -o -- '-accel [a-z]*')
plain=$TMP/plain
mkdir -p "$plain"
qemu-img create -q -f qcow2 -F qcow2 -b "$CAPSTAN_ROOT/repository/capstan/hello/hello.qemu" "$plain/disk.qcow2"
# The same command line, pointed at a copy of the instance folder's files.
pargs=${args//$CAPSTAN_ROOT\/instances\/qemu\/warm/$plain}
: >"$TMP/t.capstan"
: >"$TMP/t.plain"
for i in $(seq 1 "$RUNS"); do
	t0=$(ms)
	"$CAPSTAN" run --name "b$i" capstan/hello </dev/null >/dev/null 2>&1
	t1=$(ms)
	(cd "$plain" && eval "$pargs" </dev/null >/dev/null 2>&1)
	t2=$(ms)
	echo $((t1 - t0)) >>"$TMP/t.capstan"
	echo $((t2 - t1)) >>"$TMP/t.plain"
done
c=$(median <"$TMP/t.capstan")
p=$(median <"$TMP/t.plain")
echo "run capstan/hello ($accel, median of $RUNS): capstan run ${c} ms, plain qemu ${p} ms," \
	"capstan adds $(awk -v c="$c" -v p="$p" 'BEGIN { printf "%.1f", c - p }') ms" \
	"(ratio $(awk -v c="$c" -v p="$p" 'BEGIN { printf "%.3f", c / p }'); goal: adds < 10 ms)"

# 2. capstan instances over 10,000 rows.
"$CAPSTAN" instances >/dev/null
python3 - "$CAPSTAN_ROOT/capstan.db" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
now = int(time.time() * 1000)
db.executemany("INSERT INTO instances (name, image, backend, platform, boot, accel, net, memory, cpus, ports,"
               " state, exit_status, created) VALUES (?, 'capstan/hello', 'qemu', 'qemu', 'direct', 'tcg', 'nat',"
               " 67108864, 1, '8080->80/tcp', 'exited', 0, ?)",
               [("row%05d" % i, now - i) for i in range(10000)])
db.commit()
PY
: >"$TMP/t.list"
: >"$TMP/t.sql"
for i in $(seq 1 5); do
	t0=$(ms)
	"$CAPSTAN" instances -a >/dev/null
	t1=$(ms)
	sqlite3 "$CAPSTAN_ROOT/capstan.db" 'SELECT * FROM instances' >/dev/null
	t2=$(ms)
	echo $((t1 - t0)) >>"$TMP/t.list"
	echo $((t2 - t1)) >>"$TMP/t.sql"
done
rows=$("$CAPSTAN" instances -a | wc -l)
echo "instances -a over $((rows - 1)) rows (median of 5): $(median <"$TMP/t.list") ms;" \
	"sqlite3 SELECT * of the same table: $(median <"$TMP/t.sql") ms (goal: < 50 ms)"
sqlite3 "$CAPSTAN_ROOT/capstan.db" "DELETE FROM instances WHERE name LIKE 'row%'"

# 3. Idle instances at -m 8M.
if command -v musl-gcc >/dev/null && musl-gcc -static -O2 -o "$TMP/idle" "$(dirname "$0")/idle.c"; then
	image idle /bin/idle "/bin/idle=$TMP/idle" || exit 1
	n=0
	t0=$(ms)
	for i in $(seq 1 "$IDLE"); do
		if ! "$CAPSTAN" run -d -m 8M --name "idle$i" capstan/idle >"$TMP/idle.err" 2>&1; then
			echo "idle instance $i failed: $(head -1 "$TMP/idle.err")"
			break
		fi
		n=$i
	done
	t1=$(ms)
	sleep 2
	up=$("$CAPSTAN" instances --json | python3 -c 'import json,sys; print(len([i for i in json.load(sys.stdin) if i["name"].startswith("idle") and i["state"]=="running"]))')
	qrss=$(ps -eo rss=,args= | awk '/-name capstan-idle[0-9]+ / && !/awk/ { s += $1 } END { print s + 0 }')
	srss=0
	for pid in $(pgrep -f -- '-name capstan-idle[0-9]+ '); do
		pp=$(ps -o ppid= -p "$pid" | tr -d ' ')
		[ -n "$pp" ] && srss=$((srss + $(ps -o rss= -p "$pp" | tr -d ' ')))
	done
	load=$(cut -d' ' -f1 /proc/loadavg)
	echo "idle instances at -m 8M: $n started in $(((t1 - t0) / 1000)) s, $up running (goal: 200);" \
		"QEMU RSS $((qrss / 1024)) MiB total, $((qrss / (up > 0 ? up : 1))) KiB each;" \
		"supervisors $((srss / 1024)) MiB total; load average $load"
	t0=$(ms)
	"$CAPSTAN" instances -a --json | python3 -c 'import json,sys; [print(i["name"]) for i in json.load(sys.stdin) if i["name"].startswith("idle")]' |
		xargs -r -n 50 "$CAPSTAN" delete >/dev/null 2>&1
	echo "deleting them (graceful stop each): $((($(ms) - t0) / 1000)) s"
else
	echo "idle instances: skipped (musl-gcc cannot build tests/bench/idle.c)"
fi
