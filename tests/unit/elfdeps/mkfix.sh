#!/bin/sh
# Build the ELF files elfdeps_test reads: OUT/bin (programs) and OUT/lib (libraries).
#   prog     RUNPATH $ORIGIN/../lib, needs libfixa.so; libfixa and libfixb need each other
#   rpathprog  RPATH $ORIGIN/../lib, needs libfixc.so, which needs libfixd.so (found with the RPATH)
#   plain    needs libfixd.so, no search folders
#   missing  needs libnothere.so, which is not there
# Everything is linked without libc, so only the files here are needed.
# usage: mkfix.sh OUT STAMP CC...
set -eu
out=$1 stamp=$2
shift 2
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib" "$out/tmp"
src=$out/tmp/f.c
echo 'int fix(void) { return 0; }' >"$src"
lib() { # name, then extra arguments
	n=$1
	shift
	"$@" -shared -nostdlib -fPIC -Wl,-soname,"$n" -o "$out/lib/$n" "$src"
}
lib_with() { # name, needed (a library in $out/tmp or $out/lib), extra arguments
	n=$1 dep=$2 dir=$3
	shift 3
	"$@" -shared -nostdlib -fPIC -Wl,-soname,"$n" -Wl,--no-as-needed -o "$out/lib/$n" "$src" \
		"$dir/$dep"
}
prog() { # name, library, extra arguments
	n=$1 dep=$2 dir=$3
	shift 3
	echo 'void _start(void) { for (;;) ; }' >"$out/tmp/p.c"
	"$@" -nostdlib -fPIE -pie -Wl,-e,_start -Wl,--no-as-needed -o "$out/bin/$n" "$out/tmp/p.c" \
		"$dir/$dep"
}
# the cycle: a stub libfixb.so first, libfixa.so needing it, then the real libfixb.so needing libfixa.so
lib libfixb.so "$@"
lib_with libfixa.so libfixb.so "$out/lib" "$@" -Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN'
lib_with libfixb.so libfixa.so "$out/lib" "$@" -Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN'
prog prog libfixa.so "$out/lib" "$@" -Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/../lib'
lib libfixd.so "$@"
lib_with libfixc.so libfixd.so "$out/lib" "$@"
prog rpathprog libfixc.so "$out/lib" "$@" -Wl,--disable-new-dtags -Wl,-rpath,'$ORIGIN/../lib'
prog plain libfixd.so "$out/lib" "$@"
mkdir -p "$out/tmp/gone"
"$@" -shared -nostdlib -fPIC -Wl,-soname,libnothere.so -o "$out/tmp/gone/libnothere.so" "$src"
prog missing libnothere.so "$out/tmp/gone" "$@"
rm -rf "$out/tmp"
touch "$stamp"
