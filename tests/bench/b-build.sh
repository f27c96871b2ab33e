#!/usr/bin/env bash
# 'capstan build' of examples/hello with make already done (target: under
# 50 ms of wall time), with 'cp' of the same binary as the peer in the same run.
set -eu
: "${CAPSTAN:?}" "${CAPSTAN_SOURCE_ROOT:?}"
command -v hyperfine >/dev/null || { echo "hyperfine not installed"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/capstan-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export CAPSTAN_ROOT="$tmp/root"
cp -r "$CAPSTAN_SOURCE_ROOT/examples/hello" "$tmp/hello"
cd "$tmp/hello"
make -s
"$CAPSTAN" build -q >/dev/null # pulls the base once, as a user's first build does
hyperfine -N --warmup 3 --runs 30 --export-json "$tmp/h.json" \
	"$CAPSTAN build -q" "cp hello $tmp/copy" "$CAPSTAN version" >"$tmp/out" 2>&1 || { cat "$tmp/out"; exit 1; }
python3 - "$tmp/h.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
b, c, v = r[0]["mean"] * 1000, r[1]["mean"] * 1000, r[2]["mean"] * 1000
print(f"capstan build (examples/hello, make done): {b:.1f} ms mean ± {r[0]['stddev']*1000:.1f} "
      f"(target < 50 ms: {'met' if b < 50 else 'MISSED'}); cp of the binary: {c:.2f} ms (ratio {b/c:.1f}x); "
      f"'capstan version', the process start alone: {v:.1f} ms")
PY
