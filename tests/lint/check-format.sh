#!/usr/bin/env bash
# Fails when a tracked C file differs from what .clang-format makes of it.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
cf=${CLANG_FORMAT:-clang-format}
bad=0
while IFS= read -r f; do
	if ! "$cf" --dry-run -Werror "$f" >/dev/null 2>&1; then
		echo "not formatted: $f (run: $cf -i $f)"
		bad=1
	fi
done < <(git ls-files '*.c' '*.h' | grep -v -e '^templates/' -e '^tests/fuzz/corpus/')
exit $bad
