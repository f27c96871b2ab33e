#!/bin/sh
# meson install: the registry tree of the build folder becomes $datadir/capstan/repo.
set -eu
dest="${DESTDIR:-}$1"
rm -rf "$dest"
mkdir -p "$dest"
cp -R "$MESON_BUILD_ROOT/repo/." "$dest/"
