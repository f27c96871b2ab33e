#!/usr/bin/env bash
# Sizes of the images we ship (capstan/base, capstan/hello) as .qemu, against
# the 512 KiB target and OSv's 21 MB base image.
set -eu
: "${CAPSTAN_BUILD_ROOT:?}"
target=$((512 * 1024))
osv=$((21 * 1000 * 1000))
for name in capstan/base capstan/hello; do
	idx="$CAPSTAN_BUILD_ROOT/repo/$name/index.yaml"
	[ -f "$idx" ] || { echo "$name: not built ($idx missing)"; exit 77; }
	size=$(sed -n 's/^    size: //p' "$idx")
	gz=$(stat -c %s "$CAPSTAN_BUILD_ROOT/repo/$name/${name##*/}.qemu.gz")
	awk -v n="$name" -v s="$size" -v g="$gz" -v t="$target" -v o="$osv" 'BEGIN {
		printf "%s: %d bytes as .qemu (%.0f KiB; %.2fx the 512 KiB target, %s), %d bytes gzip'\''d; OSv base / this = %.0fx\n",
			n, s, s / 1024, s / t, s <= t ? "within" : "OVER", g, o / s }'
done
