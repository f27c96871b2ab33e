#!/usr/bin/env bash
# Instance benchmarks, figures printed (no timed asserts):
#  1. 'capstan run capstan/hello' wall time against plain qemu-system-x86_64 with the same
#     arguments, interleaved in the same run (median of BENCH_RUNS, default 10);
#  2. 'capstan instances' over 10,000 rows against sqlite3 reading the same table;
#  3. how many idle instances (a program that sleeps) run at once with -m 8M (up to
#     BENCH_IDLE, default 200), and their memory (RSS of QEMU and of the supervisors).
#     Launching stops early when the host's load average passes BENCH_IDLE_LOAD (default 50)
#     or its available memory falls under 512 MiB; every instance is deleted at the end, even
#     when the run is interrupted.
# Env: CAPSTAN, KERNEL, MBR, MKIMAGE, HELLO (from meson); BENCH_RUNS, BENCH_IDLE, BENCH_IDLE_LOAD,
#     BENCH_PARTS (default "run list idle": which of the three to run).
set -u
: "${CAPSTAN:?}" "${KERNEL:?}" "${MKIMAGE:?}" "${HELLO:?}"
RUNS=${BENCH_RUNS:-10}
IDLE=${BENCH_IDLE:-200}
MAXLOAD=${BENCH_IDLE_LOAD:-50}
PARTS=" ${BENCH_PARTS:-run list idle} "
TMP=$(mktemp -d /tmp/capstan-bench.XXXXXX)
export CAPSTAN_ROOT=$TMP/root
# This run's QEMU processes: their command lines name files under this private root.
qemu_pids() { pgrep -f -- "qemu-system.*$CAPSTAN_ROOT/instances/"; }
# Always leave nothing running, even when interrupted: delete every instance (a graceful stop
# each), then end by pid whatever QEMU of this run survived that (a delete cut short, a crash).
cleanup() {
	trap - EXIT INT TERM HUP
	"$CAPSTAN" instances -a --json 2>/dev/null |
		python3 -c 'import json,sys; [print(i["name"]) for i in json.load(sys.stdin)]' 2>/dev/null |
		timeout 600 xargs -r -n 50 "$CAPSTAN" delete >/dev/null 2>&1
	local left
	left=$(qemu_pids)
	if [ -n "$left" ]; then
		kill $left 2>/dev/null
		sleep 1
		left=$(qemu_pids)
		[ -z "$left" ] || kill -9 $left 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
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
if [[ $PARTS == *" run "* ]]; then
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
fi

# 2. capstan instances over 10,000 rows.
if [[ $PARTS == *" list "* ]]; then
	"$CAPSTAN" instances >/dev/null
	python3 - "$CAPSTAN_ROOT/capstan.db" <<-'PY'
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
fi

# 3. Idle instances at -m 8M.
if [[ $PARTS == *" idle "* ]]; then
	mem_avail() { awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo; }
	cpu_ticks() { # utime + stime of the given pids
		local t=0 p
		for p in "$@"; do
			[ -r "/proc/$p/stat" ] && t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
		done
		echo "$t"
	}
	if command -v musl-gcc >/dev/null && musl-gcc -static -O2 -o "$TMP/idle" "$(dirname "$0")/idle.c"; then
		image idle /bin/idle "/bin/idle=$TMP/idle" || exit 1
		n=0 why="goal reached"
		free0=$(mem_avail)
		t0=$(ms)
		for i in $(seq 1 "$IDLE"); do
			load=$(cut -d' ' -f1 /proc/loadavg)
			if awk -v l="$load" -v m="$MAXLOAD" 'BEGIN { exit !(l > m) }'; then
				why="load average $load above $MAXLOAD"
				break
			fi
			if [ "$(mem_avail)" -lt 512 ]; then
				why="available memory under 512 MiB"
				break
			fi
			if ! timeout 60 "$CAPSTAN" run -d -m 8M --name "idle$i" capstan/idle >"$TMP/idle.err" 2>&1; then
				why="instance $i failed: $(head -1 "$TMP/idle.err")"
				break
			fi
			n=$i
		done
		t1=$(ms)
		sleep 5
		up=$("$CAPSTAN" instances --json | python3 -c 'import json,sys; print(len([i for i in json.load(sys.stdin) if i["name"].startswith("idle") and i["state"]=="running"]))')
		pids=$(qemu_pids)
		nq=$(echo $pids | wc -w)
	accel=$(ps -o args= -p "${pids%%[[:space:]]*}" 2>/dev/null | grep -o -- '-accel [a-z]*')
		qrss=0 srss=0
		for pid in $pids; do
			qrss=$((qrss + $(ps -o rss= -p "$pid" | tr -d ' ')))
			pp=$(ps -o ppid= -p "$pid" | tr -d ' ')
			[ -n "$pp" ] && [ "$pp" != 1 ] && srss=$((srss + $(ps -o rss= -p "$pp" | tr -d ' ')))
		done
		c0=$(cpu_ticks $pids)
		sleep 10
		c1=$(cpu_ticks $pids)
		load=$(cut -d' ' -f1 /proc/loadavg)
		echo "idle instances at -m 8M ($accel): $n started in $(((t1 - t0) / 1000)) s ($why), $up running, $nq QEMU processes (goal: 200)"
		echo "  QEMU RSS $((qrss / 1024)) MiB total, $((qrss / (nq > 0 ? nq : 1))) KiB each; supervisors $((srss / 1024)) MiB total;" \
			"host available memory $free0 -> $(mem_avail) MiB; load average $load"
		echo "  their CPU over 10 s: $(awk -v d=$((c1 - c0)) -v t="$(getconf CLK_TCK)" -v n="$nq" \
			'BEGIN { printf "%.1f%% of one host CPU in all, %.2f%% each", d / t * 10, n ? d / t * 10 / n : 0 }')"
		t0=$(ms)
		"$CAPSTAN" instances -a --json | python3 -c 'import json,sys; [print(i["name"]) for i in json.load(sys.stdin) if i["name"].startswith("idle")]' |
			timeout 600 xargs -r -n 50 "$CAPSTAN" delete >/dev/null 2>&1
		echo "deleting them (graceful stop each): $((($(ms) - t0) / 1000)) s; QEMU processes left: $(qemu_pids | wc -l)"
	else
		echo "idle instances: skipped (musl-gcc cannot build tests/bench/idle.c)"
	fi
fi
