#!/bin/sh
# Builds the images of repo/ with the capstan just built, then writes them out
# as a registry tree (repo/mkregistry.sh).
# usage: mkrepo.sh CAPSTAN SRCDIR OUTDIR VERSION SHELL HELLO DATADIR
# (DATADIR holds the kernel and boot sector: the build folder)
set -eu
abs() { printf '%s/%s' "$(cd "$(dirname "$1")" && pwd)" "$(basename "$1")"; }
capstan=$(abs "$1") src=$(abs "$2") out=$(abs "$3") version=$4 shell=$(abs "$5") hello=$(abs "$6") data=$(abs "$7")
work="$out.work"
rm -rf "$work"
mkdir -p "$work/base" "$work/hello"
trap 'rm -rf "$work"' EXIT
# Reproducible: fixed times, a private repository, this build's kernel.
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1764115200}"
export CAPSTAN_ROOT="$work/root"
export CAPSTAN_DATADIR="$data"
unset CAPSTAN_REPO_URL
for img in base hello; do
	sed -e "s|@SHELL@|$shell|g" -e "s|@HELLO@|$hello|g" -e "s|@SRC@|$src|g" \
		"$src/$img/Capstanfile.in" >"$work/$img/Capstanfile"
	"$capstan" build -q -f "$work/$img/Capstanfile" "capstan/$img"
done
created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
sh "$src/mkregistry.sh" "$out" "$version" "$created" "capstan $version (meson, repo/)" \
	capstan/base "$CAPSTAN_ROOT/repository/capstan/base/base.qemu" \
	"The capstan kernel with a small interactive shell" \
	capstan/hello "$CAPSTAN_ROOT/repository/capstan/hello/hello.qemu" \
	"Hello world on top of capstan/base"
