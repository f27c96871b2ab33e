#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Builds one kernel test program one way:
# cc-prog.sh musl|musl-pie|glibc|glibc-pie|dynamic|musl-dynamic|plugin|musl-plugin OUT SRC.
# The dynamic programs export their symbols (-rdynamic) for the libraries they dlopen.
# A C++ source (SRC ending .cc) is built with g++, glibc and glibc-pie only; a Go one (.go)
# with Debian's go, CGO_ENABLED=0 (variant go), its cache in the build tree; a Rust one (.rs)
# with Debian's rustc, statically linked against glibc (variant rust).
set -eu
variant=$1 out=$2 src=$3
case $src in
*.rs)
	[ "$variant" = rust ] || { echo "cc-prog.sh: $variant: no Rust build of that kind" >&2; exit 2; }
	rustc=rustc
	[ ! -x /usr/bin/rustc ] || rustc=/usr/bin/rustc # Debian's, ahead of a rustup one in PATH
	exec "$rustc" -O -C debuginfo=0 -C target-feature=+crt-static -o "$out" "$src" ;;
*.go)
	[ "$variant" = go ] || { echo "cc-prog.sh: $variant: no Go build of that kind" >&2; exit 2; }
	cache=$(cd "$(dirname "$out")" && pwd)/go-cache
	export CGO_ENABLED=0 GOCACHE="$cache" GOPATH="$cache/path" GOFLAGS=-mod=mod GO111MODULE=off
	exec go build -trimpath -o "$out" "$src" ;;
*.cc)
	flags="-O2 -g0 -Wall -Werror"
	case $variant in
	glibc) exec g++ $flags -static -o "$out" "$src" ;;
	glibc-pie) exec g++ $flags -fPIE -static-pie -o "$out" "$src" ;;
	*) echo "cc-prog.sh: $variant: no C++ build of that kind" >&2; exit 2 ;;
	esac ;;
esac
flags="-O2 -g0 -D_GNU_SOURCE -Wall -Werror -Wno-unused-result -I$(dirname "$src")"
# a program names the libraries it needs on a line "/* cc-prog-libs: ... */"
libs=$(sed -n 's|^/\* cc-prog-libs: \(.*\) \*/$|\1|p' "$src")
case $variant in
musl)	exec musl-gcc $flags -static -o "$out" "$src" ;;
musl-pie)
	# Debian's musl-gcc.specs knows no -static-pie: name rcrt1.o and the link flags ourselves.
	m=/usr/lib/x86_64-linux-musl
	exec musl-gcc $flags -fPIE -nostartfiles "$m/rcrt1.o" "$m/crti.o" \
		"$(gcc -print-file-name=crtbeginS.o)" "$src" "$(gcc -print-file-name=crtendS.o)" "$m/crtn.o" \
		-Wl,-static -Wl,-pie -Wl,--no-dynamic-linker -Wl,-z,text -o "$out" ;;
glibc)	exec gcc $flags -static -o "$out" "$src" $libs ;;
glibc-pie) exec gcc $flags -fPIE -static-pie -o "$out" "$src" $libs ;;
dynamic) exec gcc $flags -rdynamic -o "$out" "$src" ;;
musl-dynamic) exec musl-gcc $flags -rdynamic -o "$out" "$src" ;;
plugin) exec gcc $flags -shared -fPIC -o "$out" "$src" ;;
musl-plugin) exec musl-gcc $flags -shared -fPIC -o "$out" "$src" ;;
*)	echo "cc-prog.sh: $variant: unknown variant" >&2; exit 2 ;;
esac
