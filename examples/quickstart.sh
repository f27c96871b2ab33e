#!/usr/bin/env bash
# The main job: set everything up, build capstan, build examples/hello into an
# image and boot it in the bundled unikernel.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash tests/deps.sh
[ -d build ] || meson setup build
meson compile -C build
capstan="$top/build/src/cli/capstan"
export CAPSTAN_ROOT="${CAPSTAN_ROOT:-$top/build/quickstart-root}"
cd examples/hello
"$capstan" build
# 'capstan run' boots it; a tree without the instances work boots it with plain QEMU.
if "$capstan" help run >/dev/null 2>&1; then
	"$capstan" run
else
	bash "$top/examples/boot.sh" hello
fi
