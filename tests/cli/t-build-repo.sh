#!/usr/bin/env bash
# The registry tree the build makes from repo/ (build/repo): catalog, per-image
# index with size and sha256, gzip'd images within the size targets; then
# examples/hello built on it and booted under QEMU.
. "$(dirname "$0")/lib.sh"
tree="${CAPSTAN_DATADIR:-$CAPSTAN_BUILD_ROOT}/repo"
[ -f "$tree/index.yaml" ] || { echo "skip: no registry tree at $tree (built with -Dkernel=true)"; exit 77; }
export CAPSTAN_DATADIR="${CAPSTAN_DATADIR:-$CAPSTAN_BUILD_ROOT}"

has "$tree/index.yaml" '^format_version: "1"$' "catalog format_version"
has "$tree/index.yaml" '^  - name: capstan/base$' "catalog lists capstan/base"
has "$tree/index.yaml" '^  - name: capstan/hello$' "catalog lists capstan/hello"
for n in base hello; do
	idx="$tree/capstan/$n/index.yaml"
	for k in format_version version created description build; do
		has "$idx" "^$k: \"" "capstan/$n index has $k"
	done
	has "$idx" "^    file: $n.qemu.gz$" "capstan/$n index names its file"
	size=$(sed -n 's/^    size: //p' "$idx")
	sha=$(sed -n 's/^    sha256: "\(.*\)"$/\1/p' "$idx")
	gunzip -c "$tree/capstan/$n/$n.qemu.gz" >"$TESTDIR/$n.qemu"
	[ "$(stat -c %s "$TESTDIR/$n.qemu")" = "$size" ] && ok "capstan/$n size matches" || fail "capstan/$n size matches"
	[ "$(sha256sum <"$TESTDIR/$n.qemu" | cut -d' ' -f1)" = "$sha" ] && ok "capstan/$n sha256 matches" ||
		fail "capstan/$n sha256 matches"
	[ "$size" -le 524288 ] && ok "capstan/$n is at most 512 KiB ($size bytes)" || fail "capstan/$n is at most 512 KiB ($size bytes)"
	run qemu-img check "$TESTDIR/$n.qemu"
	[ "$RC" = 0 ] && ok "capstan/$n passes qemu-img check" || fail "capstan/$n passes qemu-img check"
	expect 0 "info on capstan/$n" "$CAPSTAN" info --files "$TESTDIR/$n.qemu"
	has "$OUT" '^  -rwxr-xr-x +[0-9]+ /bin/sh$' "capstan/$n has the shell"
done
has "$OUT" '^cmdline: +/hello$' "capstan/hello runs /hello"

# The tree is reproducible: made again from the same inputs, the same digests.
if [ -x "$CAPSTAN_BUILD_ROOT/repo/shell" ] && [ -x "$CAPSTAN_BUILD_ROOT/repo/hello" ]; then
	mkdir -p "$TESTDIR/again"
	sh "$CAPSTAN_SOURCE_ROOT/repo/mkrepo.sh" "$CAPSTAN" "$CAPSTAN_SOURCE_ROOT/repo" \
		"$TESTDIR/again/repo" "$(sed -n 's/^version: "\(.*\)"$/\1/p' "$tree/capstan/base/index.yaml")" \
		"$CAPSTAN_BUILD_ROOT/repo/shell" "$CAPSTAN_BUILD_ROOT/repo/hello" "$CAPSTAN_BUILD_ROOT" >"$OUT" 2>"$ERR"
	for n in base hello; do
		if cmp -s "$tree/capstan/$n/index.yaml" "$TESTDIR/again/repo/capstan/$n/index.yaml" &&
			cmp -s "$tree/capstan/$n/$n.qemu.gz" "$TESTDIR/again/repo/capstan/$n/$n.qemu.gz"; then
			ok "capstan/$n rebuilt byte for byte"
		else
			fail "capstan/$n rebuilt byte for byte"
		fi
	done
fi

# examples/hello on top of it, then booted (TCG, bounded).
cp -r "$CAPSTAN_SOURCE_ROOT/examples/hello" "$TESTDIR/hello"
cd "$TESTDIR/hello" || exit 1
make -s >/dev/null 2>&1 || { fail "examples/hello builds with make"; done_testing; exit; }
expect 0 "capstan build examples/hello" "$CAPSTAN" build
has "$OUT" '^pulled capstan/base \(qemu\), [0-9]+ bytes, sha256 [0-9a-f]{64}' "base pulled from the default registry, verified"
if command -v qemu-system-x86_64 >/dev/null; then
	BOOT_TIMEOUT=${BOOT_TIMEOUT:-60}
	export BOOT_ACCEL=${BOOT_ACCEL:-tcg} # TCG: quick to start, the same everywhere
	timeout -k 5 "$BOOT_TIMEOUT" bash "$CAPSTAN_SOURCE_ROOT/examples/boot.sh" hello >"$OUT" 2>"$ERR" </dev/null
	RC=$?
	has "$OUT" '^Hello, world!' "examples/hello boots and greets"
	[ "$RC" = 0 ] && ok "the app's exit status comes back" || fail "the app's exit status comes back (got $RC)"
	printf 'echo from-the-shell\nexit 7\n' >"$TESTDIR/in"
	timeout -k 5 "$BOOT_TIMEOUT" bash "$CAPSTAN_SOURCE_ROOT/examples/boot.sh" capstan/base >"$OUT" 2>"$ERR" <"$TESTDIR/in"
	RC=$?
	# the console echoes input when it comes, as Linux's tty does: a line piped in at boot
	# shows before the shell's banner, and the echo's output after the shell's prompt
	has "$OUT" '^(\$ )?from-the-shell' "capstan/base boots into the shell"
	[ "$RC" = 7 ] && ok "shell exit code is the VM's" || fail "shell exit code is the VM's (got $RC)"
	# run: the shell forks the program and waits for it; the VM ends with the first shell
	printf 'run /no/such/program\nrun /bin/sh\nexit 4\nstatus\nexit 5\n' >"$TESTDIR/in"
	timeout -k 5 "$BOOT_TIMEOUT" bash "$CAPSTAN_SOURCE_ROOT/examples/boot.sh" capstan/base >"$OUT" 2>"$ERR" <"$TESTDIR/in"
	RC=$?
	has "$OUT" 'run: /no/such/program: No such file or directory' "run of a missing program fails, the shell goes on"
	n=$(grep -c 'capstan shell;' "$OUT") # a banner may follow a prompt
	[ "$n" = 2 ] && ok "run /bin/sh starts a second shell" || fail "run /bin/sh starts a second shell ($n banners)"
	has "$OUT" '^4' "the shell shows the program's exit status"
	[ "$RC" = 5 ] && ok "the first shell's status is the VM's" || fail "the first shell's status is the VM's (got $RC)"
fi
done_testing
