#!/bin/sh
# Writes a registry tree (the format of capstan-registry(5), see repo/meson.build)
# from built qcow2 images.
# usage: mkregistry.sh OUTDIR VERSION CREATED BUILD  NAME IMAGE DESCRIPTION  [NAME IMAGE DESCRIPTION]...
set -eu
out=$1 version=$2 created=$3 build=$4
shift 4
# Only the catalog and the image folders are replaced: OUTDIR may hold other
# files (it is also meson's build folder for repo/).
tmp="$out/.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
quote() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
catalog="$tmp/index.yaml"
printf 'format_version: "1"\nimages:\n' >"$catalog"
while [ $# -ge 3 ]; do
	name=$1 image=$2 desc=$3
	shift 3
	names="${names:-} $name"
	base=${name##*/}
	mkdir -p "$tmp/$name"
	size=$(wc -c <"$image" | tr -d ' ')
	sha=$(sha256sum "$image" | cut -d' ' -f1)
	gzip -n -9 -c "$image" >"$tmp/$name/$base.qemu.gz"
	{
		printf 'format_version: "1"\n'
		printf 'version: %s\n' "$(quote "$version")"
		printf 'created: %s\n' "$(quote "$created")"
		printf 'description: %s\n' "$(quote "$desc")"
		printf 'build: %s\n' "$(quote "$build")"
		printf 'platforms:\n  qemu:\n'
		printf '    file: %s.qemu.gz\n' "$base"
		printf '    size: %s\n' "$size"
		printf '    sha256: "%s"\n' "$sha"
	} >"$tmp/$name/index.yaml"
	{
		printf '  - name: %s\n' "$name"
		printf '    version: %s\n' "$(quote "$version")"
		printf '    created: %s\n' "$(quote "$created")"
		printf '    description: %s\n' "$(quote "$desc")"
		printf '    platforms: [qemu]\n'
	} >>"$catalog"
done
for name in $names; do
	mkdir -p "$out/$(dirname "$name")"
	rm -rf "$out/$name"
	mv "$tmp/$name" "$out/$name"
done
mv "$tmp/index.yaml" "$out/index.yaml"
