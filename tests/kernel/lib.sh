# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# What the kernel test scripts share (sourced): the checks that skip a test (status 77) when a
# piece it needs is missing.

# need_built VAR...: each variable (set by meson) names a file that was built
need_built() {
	local v
	for v in "$@"; do
		[ -e "${!v:-}" ] || { echo "skip: $v not built (${!v:-unset})"; exit 77; }
	done
}

# need_cmd COMMAND...: each command can be run
need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || { echo "skip: no $c"; exit 77; }
	done
}
