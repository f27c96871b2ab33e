#!/bin/sh
# meson install: the registry tree of the build folder becomes $datadir/capstan/repo
# (the catalog and every folder with an index.yaml; not the build's own files).
set -eu
src="$MESON_BUILD_ROOT/repo"
dest="${DESTDIR:-}$1"
rm -rf "$dest"
mkdir -p "$dest"
cp "$src/index.yaml" "$dest/"
(cd "$src" && find . -mindepth 2 -name index.yaml) | while read -r idx; do
	d=$(dirname "$idx")
	mkdir -p "$dest/$d"
	cp "$src/$d/"* "$dest/$d/"
done
