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

# Hostile strings: escape sequences and C1 controls reach neither the table nor an error.
mkdir -p "$TESTDIR/esc"
printf 'format_version: "1"\nimages:\n  - name: evil/app\n    version: "1\\e[2J"\n    description: "red \\e[31mtext\\a\\nsecond line \\u009b2J"\n    platforms: [qemu]\n' \
	>"$TESTDIR/esc/index.yaml"
expect 0 "escapes in the catalog" "$CAPSTAN" search -u "file://$TESTDIR/esc"
if LC_ALL=C grep -q "$(printf '[\033\007]')" "$OUT" || LC_ALL=C grep -q "$(printf '\302\233')" "$OUT"; then
	fail "escapes: no control characters printed"
else ok "escapes: no control characters printed"; fi
[ "$(wc -l <"$OUT")" = 2 ] && ok "escapes: the row stays one line" || fail "escapes: the row stays one line"
has "$OUT" "^evil/app +1 \[2J +- +qemu +red  \[31mtext  second line   2J$" "escapes: shown as spaces, one a byte"
printf 'format_version: "1"\nimages:\n  - name: "\\e]0;pwned\\a"\n' >"$TESTDIR/esc/index.yaml"
expect 65 "escapes in an error" "$CAPSTAN" search -u "file://$TESTDIR/esc"
if LC_ALL=C grep -q "$(printf '[\033\007]')" "$ERR"; then fail "escapes: not in the error"; else ok "escapes: not in the error"; fi
has "$ERR" "invalid image name '\?\]0;pwned\?'" "escapes: the error still names it"

# An original Capstan S3 bucket: no index.yaml, ListBucket XML at the root (issue 11).
S3="$TESTDIR/s3"
mkdir -p "$S3/cloudius/osv" "$S3/mike/app" "$S3/bad/yaml" "$S3/docs"
printf 'format_version: 1\nversion: v0.24\ncreated: 2016-03-02 13:10\ndescription: OSv base image\nbuild: scripts/build\n' \
	>"$S3/cloudius/osv/index.yaml"
printf 'format_version: 1\nversion: "1.0"\ncreated: 2016-04-01 10:00\ndescription: An app & more\n' >"$S3/mike/app/index.yaml"
printf 'format_version: [\n' >"$S3/bad/yaml/index.yaml"
echo "not an image" >"$S3/docs/README"
make_image cloudius/osv 1 || { echo "cannot make a test image"; exit 1; }
gzip -c "$SRC_ROOT/repository/cloudius/osv/osv.qemu" >"$S3/cloudius/osv/osv.qemu.gz"
cp "$S3/cloudius/osv/osv.qemu.gz" "$S3/cloudius/osv/osv.vbox.gz"
cp "$S3/cloudius/osv/osv.qemu.gz" "$S3/mike/app/app.qemu.gz"
start_faultd "$S3"
for url in "$FAULT_URL/bucket" "$FAULT_URL/bucket-2/"; do
	expect 0 "S3 bucket: search ($url)" "$CAPSTAN" search -u "$url"
	[ "$(wc -l <"$OUT")" = 3 ] && ok "S3 bucket: two images" || fail "S3 bucket: two images"
	has "$OUT" "^cloudius/osv +v0.24 +2016-03-02 13:10 +qemu,vbox +OSv base image$" "S3 bucket: a row from the image's index"
	has "$OUT" "^mike/app +1.0 +2016-04-01 10:00 +qemu +An app & more$" "S3 bucket: platforms from the keys"
	has "$ERR" "warning: skipping bad/yaml: .*bad/yaml/index.yaml:" "S3 bucket: a broken index is skipped with a warning"
done
has "$FAULT_LOG" "GET /bucket-2/\?marker=" "S3 bucket: pages followed with marker="
expect 0 "S3 bucket: filtered search" "$CAPSTAN" search -u "$FAULT_URL/bucket" osv
[ "$(wc -l <"$OUT")" = 2 ] && ok "S3 bucket: one match" || fail "S3 bucket: one match"
expect 0 "S3 bucket: --json" "$CAPSTAN" search --json -u "$FAULT_URL/bucket"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [x["name"] for x in d]==["cloudius/osv","mike/app"]' "$OUT" &&
	ok "S3 bucket: JSON" || fail "S3 bucket: JSON"
expect 0 "S3 bucket: pull (unverified)" "$CAPSTAN" pull -u "$FAULT_URL/bucket" cloudius/osv
cmp -s "$SRC_ROOT/repository/cloudius/osv/osv.qemu" "$CAPSTAN_ROOT/repository/cloudius/osv/osv.qemu" &&
	ok "S3 bucket: pulled image intact" || fail "S3 bucket: pulled image intact"
expect 65 "not a bucket: still no catalog" "$CAPSTAN" search -u "$FAULT_URL/ok"
has "$ERR" "has no catalog" "not a bucket: says so"

# A server dripping a byte a second does not hold search forever.
CAPSTAN_NET_TIMEOUT=2 expect 69 "dripping server" timeout 120 "$CAPSTAN" search -u "$FAULT_URL/driphead"
has "$ERR" "index.yaml: timed out: less than 1024 bytes/s for 2 s" "dripping server: says why"
done_testing
