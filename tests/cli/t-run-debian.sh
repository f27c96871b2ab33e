#!/usr/bin/env bash
# Debian's own dynamic programs (sqlite3, lua5.4, coreutils sort and ls, python3) built from a
# Capstanfile that names them and run in our kernel: the same output and exit status as on Linux.
. "$(dirname "$0")/lib.sh"
export CAPSTAN_DATADIR="${CAPSTAN_DATADIR:-$CAPSTAN_BUILD_ROOT}"
[ -f "$CAPSTAN_DATADIR/src/kernel/capstan-kernel.elf" ] || [ -f "$CAPSTAN_DATADIR/capstan-kernel.elf" ] ||
	{ echo "skip: no kernel built"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "skip: no QEMU"; exit 77; }
export TZ=UTC SOURCE_DATE_EPOCH=1700000000
accels="tcg"
# KVM too where it works (nested KVM may refuse): a first boot tells.
mkdir -p "$TESTDIR/probe"
printf 'cmdline: /usr/bin/sort --version\nfiles:\n  /usr/bin/sort: /usr/bin/sort\n' >"$TESTDIR/probe/Capstanfile"
if [ -w /dev/kvm ] && "$CAPSTAN" build -q -f "$TESTDIR/probe/Capstanfile" probe >/dev/null 2>&1 &&
	timeout 60 "$CAPSTAN" -q run --accel kvm --rm probe </dev/null >/dev/null 2>&1; then
	accels="tcg kvm"
fi

# The console's lines without the kernel's banner and carriage returns.
program_output() { tr -d '\r' <"$1" | grep -v -e '^capstan [0-9.]*: ' -e '^eth0: '; } # the kernel's boot lines

# case NAME PROGRAM ARGS: build NAME from $TESTDIR/NAME/Capstanfile (written by the caller, its
# cmdline the program with ARGS), boot it, and compare with PROGRAM ARGS run here in $TESTDIR/NAME.
case_() {
	local name=$1
	shift
	local dir=$TESTDIR/$name
	expect 0 "$name: capstan build" "$CAPSTAN" build -q -f "$dir/Capstanfile" "$name"
	(cd "$dir" && "$@") >"$TESTDIR/native" 2>&1 # after the build: what it writes stays out of the image
	local want=$?
	for accel in $accels; do
		run timeout 600 "$CAPSTAN" -q run --accel "$accel" --rm "$name" </dev/null
		[ "$RC" = "$want" ] && ok "$name ($accel): exit status $RC, as on Linux" ||
			fail "$name ($accel): exit status $RC, Linux $want"
		program_output "$OUT" >"$TESTDIR/guest"
		if cmp -s "$TESTDIR/native" "$TESTDIR/guest"; then
			ok "$name ($accel): output as on Linux"
		else
			fail "$name ($accel): output as on Linux: $(diff "$TESTDIR/native" "$TESTDIR/guest" | head -5)"
		fi
	done
}

# capstan parses the cmdline like sh: these words are the same argv on both sides.
cmdline() { printf 'cmdline: >-\n  %s\nfiles:\n' "$1"; }

if [ -x /usr/bin/sqlite3 ]; then
	sql="create table t(a integer primary key, b text); with recursive c(x) as (select 1 union all select x + 1 from c where x < 10000) insert into t select x, 'row ' || x from c; select count(*), sum(a), min(b), max(b) from t where a % 7 = 3;"
	mkdir -p "$TESTDIR/sqlite/tmp"
	{ cmdline "/usr/bin/sqlite3 tmp/t.db \"$sql\""; printf '  /usr/bin/sqlite3: /usr/bin/sqlite3\n  /tmp/: tmp\n'; } >"$TESTDIR/sqlite/Capstanfile"
	case_ sqlite /usr/bin/sqlite3 tmp/t.db "$sql"
	mkdir -p "$TESTDIR/sqlerr"
	{ cmdline "/usr/bin/sqlite3 :memory: 'select * from missing;'"; printf '  /usr/bin/sqlite3: /usr/bin/sqlite3\n'; } >"$TESTDIR/sqlerr/Capstanfile"
	case_ sqlerr /usr/bin/sqlite3 :memory: 'select * from missing;'
else
	echo "skip: sqlite3 is not installed"
fi

if [ -x /usr/bin/lua5.4 ]; then
	lua='local t = {} for i = 1, 1000 do t[#t + 1] = i * i end table.sort(t, function(a, b) return a > b end) print(#t, t[1], string.format("%.3f", math.pi)) os.exit(3)'
	mkdir -p "$TESTDIR/lua"
	{ cmdline "/usr/bin/lua5.4 -e '$lua'"; printf '  /usr/bin/lua5.4: /usr/bin/lua5.4\n'; } >"$TESTDIR/lua/Capstanfile"
	case_ lua /usr/bin/lua5.4 -e "$lua"
else
	echo "skip: lua5.4 is not installed"
fi

# coreutils: files with fixed times and owners that /etc/passwd names.
mkdir -p "$TESTDIR/cu/data/dir"
printf 'pear\napple\nfig\nbanana\napple\nFig\n' >"$TESTDIR/cu/data/fruits"
printf 'hello\n' >"$TESTDIR/cu/data/dir/a.txt"
head -c 5000 /dev/zero >"$TESTDIR/cu/data/dir/big"
chmod 600 "$TESTDIR/cu/data/dir/big"
ln -s a.txt "$TESTDIR/cu/data/dir/link"
touch -h -d @1700000000 "$TESTDIR/cu/data/dir"/* "$TESTDIR/cu/data/fruits"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$TESTDIR/cu/passwd"
printf 'root:x:0:\n' >"$TESTDIR/cu/group"
cu_files='  /usr/bin/sort: /usr/bin/sort\n  /usr/bin/ls: /usr/bin/ls\n  /data: data\n  /etc/passwd: passwd\n  /etc/group: group\n'
if [ "$(id -u)" = 0 ] && [ "$(id -g)" = 0 ]; then # the image's files are root's, like these
	{ cmdline "/usr/bin/ls -l data/dir"; printf "$cu_files"; } >"$TESTDIR/cu/Capstanfile"
	case_ cu /usr/bin/ls -l data/dir
else
	echo "skip: ls -l compares owners: run as root"
fi
mkdir -p "$TESTDIR/sort" && cp -a "$TESTDIR/cu/data" "$TESTDIR/sort/"
{ cmdline "/usr/bin/sort -f -u -r data/fruits"; printf '  /usr/bin/sort: /usr/bin/sort\n  /data: data\n'; } >"$TESTDIR/sort/Capstanfile"
case_ sort /usr/bin/sort -f -u -r data/fruits

py=$(readlink -f /usr/bin/python3 2>/dev/null)
if [ -x "$py" ] && [ -d "/usr/lib/$(basename "$py")" ]; then
	# extension modules that the Capstanfile's folder brings (dlopen'ed, with their libraries)
	code="import json, lzma, decimal, sqlite3, sys; print(json.dumps({'b': [1, 2], 'v': sys.version_info[:2], 'd': str(decimal.Decimal(1) / 7), 'x': len(lzma.compress(b'x' * 1000)), 'q': sqlite3.connect(':memory:').execute('select 6 * 7').fetchone()[0]}, sort_keys=True)); print(sys.modules['_lzma'].__file__)"
	mkdir -p "$TESTDIR/python"
	{ cmdline "$py -c \"$code\""; printf '  %s: %s\n  /usr/lib/%s: /usr/lib/%s\n' "$py" "$py" "$(basename "$py")" "$(basename "$py")"; } >"$TESTDIR/python/Capstanfile"
	case_ python "$py" -c "$code"
else
	echo "skip: python3 is not installed"
fi
done_testing
