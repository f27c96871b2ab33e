#!/usr/bin/env bash
# Runs every libFuzzer harness of a -Dfuzz=true build over its seed corpus, then SECS seconds of
# new inputs each.  A crash, hang, leak or sanitizer report fails the run; the input that did it
# is kept in BUILD/fuzz-artifacts/ and the harness's last lines are printed.
# Usage: run-fuzzers.sh BUILD [SECS]
set -uo pipefail
build=$(cd "${1:?usage: run-fuzzers.sh BUILD [SECS]}" && pwd)
secs=${2:-10}
seeds=$(cd "$(dirname "$0")" && pwd)/corpus
work=$(mktemp -d "${TMPDIR:-/tmp}/capstan-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"
# UBSan reports are crashes here, not warnings.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1

failed=0 n=0
for exe in "$build"/tests/fuzz/fuzz_*; do
	[ -x "$exe" ] && [ -f "$exe" ] || continue
	name=${exe##*/fuzz_}
	n=$((n + 1))
	# New inputs go to a scratch folder (listed first); the seeds in the tree stay as they are.
	mkdir -p "$work/$name"
	corpus=()
	[ -d "$seeds/$name" ] && corpus=("$seeds/$name")
	if "$exe" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$artifacts/fuzz_$name-" "$work/$name" "${corpus[@]}" \
		>"$work/$name.log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name.log")
		echo "ok - fuzz_$name: seeds and ${secs}s, ${runs:-?} runs"
	else
		failed=$((failed + 1))
		echo "not ok - fuzz_$name (input kept in $artifacts/)"
		tail -n 40 "$work/$name.log" | sed 's/^/  /'
	fi
done
[ "$n" -gt 0 ] || { echo "no fuzz harness in $build/tests/fuzz (configure with -Dfuzz=true)"; exit 1; }
echo "$n harnesses, $failed failed"
[ "$failed" = 0 ]
