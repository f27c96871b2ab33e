#!/usr/bin/env bash
# capstan build: a dynamic program brings its interpreter and shared libraries; missing ones fail the build.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || { echo "skip: qemu-img missing"; exit 77; }
command -v cc >/dev/null || { echo "skip: no C compiler"; exit 77; }
command -v readelf >/dev/null || { echo "skip: no readelf"; exit 77; }
# The bundled kernel of a data folder of our own (a tiny PVH ELF): nothing is booted here.
data="$TESTDIR/data"
mkdir -p "$data"
printf '.section .note.Xen, "a"\n.align 4\n.long 4, 4, 18\n.asciz "Xen"\n.long _start\n.text\n.globl _start\n_start: hlt\n' >"$data/k.S"
cc -nostdlib -static -no-pie -Wl,--build-id=none -o "$data/capstan-kernel.elf" "$data/k.S" || exit 1
{ head -c 510 /dev/zero; printf '\125\252'; } >"$data/mbr.bin"
export CAPSTAN_DATADIR="$data" SOURCE_DATE_EPOCH=1700000000
repo="$CAPSTAN_ROOT/repository"
DUMP="$(cd "$(dirname "$0")" && pwd)/imgdump.py"
dump() {
	qemu-img convert -f qcow2 -O raw "$repo/$1/$1.qemu" "$TESTDIR/img.raw" &&
		python3 "$DUMP" "$TESTDIR/img.raw" >"$TESTDIR/dump"
}
interp_of() { readelf -l "$1" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p'; }

# A program of ours, its library beside it found through RUNPATH $ORIGIN/../lib.
mkdir -p "$TESTDIR/app/bin" "$TESTDIR/app/lib" && cd "$TESTDIR/app" || exit 1
printf 'const char *greet(void) { return "hi"; }\n' >greet.c
printf '#include <stdio.h>\nconst char *greet(void);\nint main(void) { puts(greet()); return 0; }\n' >main.c
cc -shared -fPIC -Wl,-soname,libgreet.so -o lib/libgreet.so greet.c || exit 1
cc -o bin/prog main.c -Llib -lgreet -Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/../lib' || exit 1
interp=$(interp_of bin/prog)
libc=$(ldd bin/prog | sed -n 's/^\tlibc.so.6 => \([^ ]*\) .*/\1/p')
cat >Capstanfile <<'EOC'
cmdline: /opt/app/bin/prog
files:
  /opt/app/bin/prog: bin/prog
  /opt/app/lib/libgreet.so: lib/libgreet.so
EOC
expect 0 "a dynamic program builds" "$CAPSTAN" build -v app
has "$ERR" "^added $interp from .* \\(interpreter, needed by /opt/app/bin/prog\\)$" "-v names the interpreter"
has "$ERR" "^added $libc from .* \\(ld.so.cache, needed by /opt/app/bin/prog\\)$" "-v names libc and how it was found"
hasnt "$ERR" "libgreet" "a library the Capstanfile gives is not added again"
dump app
has "$TESTDIR/dump" "^100[0-9]+ [0-9]+ 1700000000 $interp\$" "the interpreter is in the image at its path"
has "$TESTDIR/dump" "^100[0-9]+ [0-9]+ 1700000000 $libc\$" "libc is in the image at its path"
cp "$repo/app/app.qemu" "$TESTDIR/first.qemu"
expect 0 "rebuild" "$CAPSTAN" build -q app
cmp -s "$repo/app/app.qemu" "$TESTDIR/first.qemu" && ok "same inputs give the same bytes" || fail "same inputs give the same bytes"

# Without its library in the Capstanfile: found through RUNPATH from the host file's folder.
printf 'cmdline: /opt/app/bin/prog\nfiles:\n  /opt/app/bin/prog: bin/prog\n' >Capstanfile
expect 0 "the library comes along through \$ORIGIN" "$CAPSTAN" build -v app
has "$ERR" "^added /opt/app/lib/libgreet.so from .*/app/bin/../lib/libgreet.so \\(RUNPATH, needed by /opt/app/bin/prog\\)$" "RUNPATH \$ORIGIN read against the guest and host folders"

# A program named through a symbolic link brings the file it points to (and what that needs).
ln -s prog bin/prog-link
printf 'cmdline: /opt/app/bin/prog-link\nfiles:\n  /opt/app/bin/prog-link: bin/prog-link\n' >Capstanfile
expect 0 "a symbolic link to a dynamic program builds" "$CAPSTAN" build -v app
has "$ERR" "^added /opt/app/bin/prog from .*/bin/prog \\(the target of /opt/app/bin/prog-link\\)$" "the link's target added"
has "$ERR" "^added /opt/app/lib/libgreet.so from " "the target's library added"
dump app
has "$TESTDIR/dump" "^120777 4 1700000000 /opt/app/bin/prog-link -> prog\$" "the link kept as a link"

# A library that cannot be found: one line, naming the program and the library, nothing installed.
rm -f "$repo/app/app.qemu"
mv lib/libgreet.so lib/gone.so
expect 65 "a missing library fails the build" "$CAPSTAN" build app
one_line "$ERR" "the missing library is one line"
has "$ERR" "/opt/app/bin/prog: library 'libgreet.so' not found" "the program and the library are named"
[ ! -e "$repo/app/app.qemu" ] && ok "nothing installed" || fail "nothing installed"
mv lib/gone.so lib/libgreet.so

# A host program named by its host path, when the host has one.
if [ -x /usr/bin/sqlite3 ]; then
	printf 'cmdline: /usr/bin/sqlite3 -version\nfiles:\n  /usr/bin/sqlite3: /usr/bin/sqlite3\n' >Capstanfile
	expect 0 "Debian's sqlite3 builds" "$CAPSTAN" build -v sqlite
	has "$ERR" "^added [^ ]*/libsqlite3.so.0 from " "libsqlite3 added"
fi

# musl: the interpreter is the libc; libc.so is not looked up.
if command -v musl-gcc >/dev/null; then
	musl-gcc -o bin/mprog main.c -Llib -lgreet -Wl,-rpath,'$ORIGIN/../lib' || exit 1
	printf 'cmdline: /opt/app/bin/mprog\nfiles:\n  /opt/app/bin/mprog: bin/mprog\n' >Capstanfile
	expect 0 "a musl dynamic program builds" "$CAPSTAN" build -v musl
	has "$ERR" "^added $(interp_of bin/mprog) from .* \\(interpreter, " "musl's interpreter added"
	hasnt "$ERR" "libc.so " "musl's libc.so is its interpreter"
fi
done_testing
