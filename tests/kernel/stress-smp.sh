#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Boots thread programs with 2 vCPUs many times, to catch what fails once in a while.
#
# stress-smp.sh [-n RUNS] [--modes=LIST] CASE...   (default: 20 runs; direct and kvm; parallel futex threads)
#   Each run is one t-progs.sh boot of every build of each CASE in each mode (CPUS=2);
#   prints each failure's first lines, then one count per case and mode:
#   "CASE MODE: P passed, F failed (K KVM internal errors)".
#   Not part of meson test: a by-hand tool (run it under nice).
# Environment: as t-progs.sh (PROGS, DATA, KERNEL, MBR, MKIMAGE, PAYLOAD); BOOT_TIMEOUT
#   (default 60 s as t-progs.sh; KVM boots get 5 times as long).
set -u
runs=20
modes="direct kvm"
while [ $# -gt 0 ]; do
	case $1 in
	-n) runs=$2; shift ;;
	--modes=*) modes=${1#--modes=} ;;
	*) break ;;
	esac
	shift
done
[ $# -gt 0 ] || set -- parallel futex threads
export CPUS=2 BOOT_TIMEOUT=${BOOT_TIMEOUT:-60} STRESS_PARALLEL=1 # what t-progs.sh skips under nested KVM runs too
here=$(dirname "$0")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/capstan-stress.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
declare -A ok bad kie
for ((i = 1; i <= runs; i++)); do
	for c in "$@"; do
		for m in $modes; do
			"$here/t-progs.sh" --modes="$m" "$c" >"$tmp/out" 2>&1
			ok[$c.$m]=$((${ok[$c.$m]:-0} + $(grep -c '^ok ' "$tmp/out")))
			bad[$c.$m]=$((${bad[$c.$m]:-0} + $(grep -c '^FAIL ' "$tmp/out")))
			kie[$c.$m]=$((${kie[$c.$m]:-0} + $(grep -c 'KVM internal error' "$tmp/out")))
			if grep -q '^FAIL ' "$tmp/out"; then
				echo "run $i: $c $m:"
				grep -A8 '^FAIL ' "$tmp/out" | head -20
			fi
		done
	done
done
fail=0
for c in "$@"; do
	for m in $modes; do
		echo "$c $m: ${ok[$c.$m]} passed, ${bad[$c.$m]} failed (${kie[$c.$m]} KVM internal errors)"
		[ "${bad[$c.$m]}" = 0 ] || fail=1
	done
done
exit $fail
