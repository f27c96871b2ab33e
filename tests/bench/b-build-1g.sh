#!/usr/bin/env bash
# A build whose files total 1 GiB against 'cp -r' of the same files to the same
# disk, in the same run (target: at most 1.5x).  Caches are warm for both.
set -eu
: "${CAPSTAN:?}"
tmp=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/var/tmp}}/capstan-bench1g.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export CAPSTAN_ROOT="$tmp/root"
mkdir -p "$tmp/app/data"
# 64 files of 16 MiB, incompressible
for i in $(seq -w 1 64); do head -c $((16 << 20)) /dev/urandom >"$tmp/app/data/f$i"; done
cat >"$tmp/app/Capstanfile" <<EOC
base: capstan/base
cmdline: /bin/ls /data
files:
  /data: data
EOC
cd "$tmp/app"
"$CAPSTAN" build -q big >/dev/null # the base is pulled here, outside the timing
now() { date +%s.%N; }
best_b=999 best_c=999
for run in 1 2 3; do
	rm -rf "$tmp/copy"
	sync
	t0=$(now); cp -r "$tmp/app/data" "$tmp/copy"; sync; t1=$(now)
	c=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
	"$CAPSTAN" rmi big >/dev/null # as cp's old copy, the old image goes outside the timing
	sync
	t0=$(now); "$CAPSTAN" build -q big >/dev/null; sync; t1=$(now)
	b=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
	best_c=$(awk -v x="$c" -v y="$best_c" 'BEGIN { print (x < y) ? x : y }')
	best_b=$(awk -v x="$b" -v y="$best_b" 'BEGIN { print (x < y) ? x : y }')
done
size=$(stat -c %s "$CAPSTAN_ROOT/repository/big/big.qemu")
awk -v b="$best_b" -v c="$best_c" -v s="$size" 'BEGIN {
	printf "1 GiB of files: capstan build %.2f s, cp -r %.2f s (best of 3, each with sync); ratio %.2fx (target <= 1.5x: %s); image %d MiB\n",
		b, c, b / c, b / c <= 1.5 ? "met" : "MISSED", s / 1048576 }'
