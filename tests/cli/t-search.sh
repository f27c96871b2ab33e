#!/usr/bin/env bash
# capstan search: catalog over file:// and http, filters, --json, errors.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/reglib.sh"

REG="$TESTDIR/reg"
mkdir -p "$REG"
cat >"$REG/index.yaml" <<'YAML'
format_version: "1"
images:
  - name: capstan/base
    version: "0.1.0"
    created: "2026-11-26T17:00:00Z"
    description: "Base image: the unikernel and a shell"
    platforms: [qemu]
  - name: capstan/hello
    version: "1.2"
    created: "2026-11-25T10:00:00Z"
    description: "Hello, world in C"
    platforms: [qemu, raw]
  - name: other/redis
    description: "Key-value store"
    platforms: []
YAML

expect 0 "search lists everything" "$CAPSTAN" search -u "file://$REG"
has "$OUT" "^NAME +VERSION +CREATED +PLATFORMS +DESCRIPTION$" "header"
[ "$(wc -l <"$OUT")" = 4 ] && ok "three images" || fail "three images"
has "$OUT" "^capstan/hello +1.2 +2026-11-25T10:00:00Z +qemu,raw +Hello, world in C$" "a full row"
has "$OUT" "^other/redis +- +- +- +Key-value store$" "missing fields show as -"
expect 0 "substring, any case" "$CAPSTAN" search -u "file://$REG" HELLO
[ "$(wc -l <"$OUT")" = 2 ] && ok "one match" || fail "one match"
has "$OUT" "^capstan/hello " "matched by name"
expect 0 "matches the description too" "$CAPSTAN" search -u "file://$REG" key-VALUE
has "$OUT" "^other/redis " "matched by description"
expect 0 "no match is not an error" "$CAPSTAN" search -u "file://$REG" zzz
[ "$(wc -l <"$OUT")" = 1 ] && ok "header only" || fail "header only"
expect 0 "--json" "$CAPSTAN" search --json -u "file://$REG" capstan
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [x["name"] for x in d]==["capstan/base","capstan/hello"]; assert d[1]["platforms"]==["qemu","raw"]; assert d[0]["created"]=="2026-11-26T17:00:00Z"' "$OUT"; then
	ok "--json parses and has the fields"; else fail "--json parses and has the fields"; fi
expect 0 "--json with no match" "$CAPSTAN" search --json -u "file://$REG" zzz
has "$OUT" '^\[\]$' "empty JSON array"
expect 0 "CAPSTAN_REPO_URL" env CAPSTAN_REPO_URL="file://$REG" "$CAPSTAN" search base
has "$OUT" "^capstan/base " "registry from the environment"

# over http (nginx)
start_nginx "$REG" || { echo "cannot start nginx"; exit 1; }
expect 0 "search over http" "$CAPSTAN" search -u "$NGINX_URL/" hello
has "$OUT" "^capstan/hello " "http search finds the image"

# errors
expect 64 "two arguments" "$CAPSTAN" search a b
expect 65 "registry without catalog" "$CAPSTAN" search -u "file://$TESTDIR"
has "$ERR" "^capstan: registry file://$TESTDIR has no catalog \(file://$TESTDIR/index.yaml\)$" "no catalog: says so"
expect 65 "no catalog over http" "$CAPSTAN" search -u "$NGINX_URL/missing"
one_line "$ERR" "no catalog over http: one line"
printf 'format_version: "1"\nimages:\n  - name: a\n    platforms: qemu\n' >"$TESTDIR/index.yaml"
expect 65 "bad catalog" "$CAPSTAN" search -u "file://$TESTDIR"
has "$ERR" "^capstan: file://$TESTDIR/index.yaml:4:16: 'platforms' must be a list of platform names$" "bad catalog: line:col"
port=$(free_port)
expect 69 "nothing listening" "$CAPSTAN" search -u "http://127.0.0.1:$port"
one_line "$ERR" "refused: one line"
has "$ERR" "connection refused" "refused: says why"
done_testing
