#!/usr/bin/env bash
# Pull a 256 MiB image from nginx on loopback: capstan pull (inflate, SHA-256, fsync, install)
# against `curl -s URL | gunzip > FILE` in the same run; prints the ratio (target <= 1.1).
set -u
: "${CAPSTAN:?CAPSTAN must point at the built binary}"
TESTDIR=$(mktemp -d "${TMPDIR:-/tmp}/capstan-bench-pull.XXXXXX")
PASS=0 FAIL=0
ok() { :; }
fail() { echo "error: $*"; }
. "$(dirname "$0")/../cli/reglib.sh"
MIB=${BENCH_MIB:-256}
RUNS=${BENCH_RUNS:-3}

# A disk-like mix: program files (compressible about 3:1), zeros and random bytes.
REG="$TESTDIR/reg"
mkdir -p "$REG/bench/big"
img="$TESTDIR/big.img"
pool="$TESTDIR/pool"
find /usr/lib/x86_64-linux-gnu /usr/bin -maxdepth 1 -type f -size +100k 2>/dev/null | head -400 | xargs cat 2>/dev/null |
	head -c $((64 * 1024 * 1024)) >"$pool"
{
	for _ in $(seq $((MIB * 5 / 8 / 64 + 1))); do cat "$pool"; done | head -c $((MIB * 1024 * 1024 * 5 / 8))
	head -c $((MIB * 1024 * 1024 / 4)) /dev/zero
	head -c $((MIB * 1024 * 1024 / 8)) /dev/urandom
} >"$img"
rm -f "$pool"
gzip -6 -c "$img" >"$REG/bench/big/big.qemu.gz"
cat >"$REG/bench/big/index.yaml" <<YAML
format_version: "1"
version: "1"
description: "bench image"
platforms:
  qemu:
    file: big.qemu.gz
    size: $(stat -c %s "$img")
    sha256: "$(sha256sum "$img" | cut -c1-64)"
YAML
start_nginx "$REG" || { echo "cannot start nginx"; exit 1; }
URL="$NGINX_URL/bench/big/big.qemu.gz"
echo "image: $MIB MiB, compressed $(($(stat -c %s "$REG/bench/big/big.qemu.gz") / 1048576)) MiB; $RUNS runs each"

now() { date +%s.%N; }
best_cap=999999 best_curl=999999
for i in $(seq "$RUNS"); do
	rm -rf "$TESTDIR/root" "$TESTDIR/out.img"
	sync
	t0=$(now)
	CAPSTAN_ROOT="$TESTDIR/root" "$CAPSTAN" pull -q -u "$NGINX_URL" bench/big || { echo "pull failed"; exit 1; }
	t1=$(now)
	sync
	t2=$(now)
	curl -s "$URL" | gunzip >"$TESTDIR/out.img"
	t3=$(now)
	cmp -s "$img" "$TESTDIR/out.img" || { echo "curl | gunzip gave a different file"; exit 1; }
	cmp -s "$img" "$TESTDIR/root/repository/bench/big/big.qemu" || { echo "capstan pull gave a different file"; exit 1; }
	c=$(echo "$t1 - $t0" | bc) p=$(echo "$t3 - $t2" | bc)
	printf 'run %d: capstan pull %.3f s, curl | gunzip %.3f s\n' "$i" "$c" "$p"
	best_cap=$(echo "if ($c < $best_cap) $c else $best_cap" | bc)
	best_curl=$(echo "if ($p < $best_curl) $p else $best_curl" | bc)
done
printf 'best: capstan pull %.3f s (%.0f MiB/s), curl -s | gunzip %.3f s (%.0f MiB/s)\n' "$best_cap" \
	"$(echo "$MIB / $best_cap" | bc -l)" "$best_curl" "$(echo "$MIB / $best_curl" | bc -l)"
printf 'ratio capstan/curl+gunzip: %.2fx (target <= 1.10x)\n' "$(echo "$best_cap / $best_curl" | bc -l)"
