#!/usr/bin/env bash
# capstan push to a file:// tree and to nginx (WebDAV PUT); pull and search read it back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/reglib.sh"

make_image test/app 2 "$CAPSTAN_ROOT" || { echo "cannot make a test image"; exit 1; }
make_image other/tool 1 "$CAPSTAN_ROOT" || { echo "cannot make a test image"; exit 1; }
IMG="$CAPSTAN_ROOT/repository/test/app/app.qemu"
REG="$TESTDIR/reg"
PULL_ROOT="$TESTDIR/pull-root"

# pulled_back URL DESC: a fresh root pulls test/app from URL and gets the same bytes.
pulled_back() {
	rm -rf "$PULL_ROOT"
	CAPSTAN_ROOT=$PULL_ROOT run "$CAPSTAN" pull -u "$1" test/app
	if [ "$RC" = 0 ] && cmp -s "$IMG" "$PULL_ROOT/repository/test/app/app.qemu"; then ok "$2"; else fail "$2"; fi
}

# file://
expect 0 "push to file://" "$CAPSTAN" push test/app "file://$REG"
has "$OUT" "pushed test/app \(qemu\), [0-9]+ bytes, sha256 [0-9a-f]{64}" "push reports size and digest"
[ -s "$REG/test/app/app.qemu.gz" ] && ok "image gz written" || fail "image gz written"
has "$REG/test/app/index.yaml" '^format_version: "1"$' "per-image index has format_version"
has "$REG/test/app/index.yaml" "^    sha256: \"$(sha256sum <"$IMG" | cut -c1-64)\"$" "per-image index has the image's sha256"
has "$REG/test/app/index.yaml" "^    size: $(stat -c %s "$IMG")$" "per-image index has the image's size"
has "$REG/test/app/index.yaml" '^description: "Test image test/app"$' "local metadata published"
if gunzip -c "$REG/test/app/app.qemu.gz" | cmp -s - "$IMG"; then ok "gz is the image (gunzip)"; else fail "gz is the image"; fi
has "$REG/index.yaml" '^- name: "test/app"$' "catalog lists the image"
pulled_back "file://$REG" "pull reads back what push wrote (file://)"
expect 0 "push a second image" "$CAPSTAN" push -q other/tool "file://$REG"
expect 0 "search lists both" "$CAPSTAN" search -u "file://$REG"
has "$OUT" "^other/tool " "search: other/tool"
has "$OUT" "^test/app " "search: test/app"
# a second platform keeps the first
qemu-img convert -O raw "$IMG" "$TESTDIR/app.raw"
"$CAPSTAN" import -q -v 1.0 -d "Test image test/app" test/app "$TESTDIR/app.raw" >/dev/null
expect 0 "push platform raw" "$CAPSTAN" push -p raw test/app "file://$REG"
has "$REG/test/app/index.yaml" '^  qemu:$' "qemu kept"
has "$REG/test/app/index.yaml" '^  raw:$' "raw added"
expect 0 "search shows both platforms" "$CAPSTAN" search -u "file://$REG" test/app
has "$OUT" "^test/app +1.0 +[^ ]+ +qemu,raw " "platforms column"
pulled_back "file://$REG" "qemu still pulls after pushing raw"
left=$(find "$REG" -name '*.tmp.*' | wc -l)
[ "$left" = 0 ] && ok "no temp files in the tree" || fail "no temp files in the tree ($left)"

# errors
expect 65 "push of an unknown image" "$CAPSTAN" push test/nope "file://$REG"
one_line "$ERR" "unknown image: one line"
expect 64 "push to an unsupported scheme" "$CAPSTAN" push test/app "ftp://127.0.0.1/reg"
one_line "$ERR" "unsupported scheme: one line"
expect 64 "push with a missing URL" "$CAPSTAN" push test/app
expect 64 "push to a relative file URL" "$CAPSTAN" push test/app "file://reg"
printf 'format_version: "1"\nimages: {}\n' >"$REG/index.yaml.bad"
cp "$REG/index.yaml" "$TESTDIR/catalog.good"
mv "$REG/index.yaml.bad" "$REG/index.yaml"
cp "$REG/test/app/index.yaml" "$TESTDIR/index.good"
expect 65 "push into a tree with a bad catalog" "$CAPSTAN" push test/app "file://$REG"
has "$ERR" "^capstan: cannot update the registry: $REG/index.yaml:2:9: 'images' must be a list$" "bad catalog: file:line:col"
if cmp -s "$REG/test/app/index.yaml" "$TESTDIR/index.good"; then ok "bad catalog: nothing changed"; else fail "bad catalog: nothing changed"; fi
cp "$TESTDIR/catalog.good" "$REG/index.yaml"

# nginx with WebDAV PUT
WREG="$TESTDIR/webreg"
mkdir -p "$WREG"
start_nginx "$WREG" || { echo "cannot start nginx: $(cat "$TESTDIR/nginx/start.log" "$TESTDIR/nginx/error.log" 2>/dev/null)"; exit 1; }
expect 0 "push over http (PUT)" "$CAPSTAN" push test/app "$NGINX_URL"
has "$NGINX_LOG" "^PUT /test/app/app.qemu.gz - 201" "image PUT"
has "$NGINX_LOG" "^PUT /test/app/index.yaml - 201" "index PUT"
has "$NGINX_LOG" "^PUT /index.yaml - 201" "catalog PUT"
pulled_back "$NGINX_URL" "pull reads back what push wrote (http)"
expect 0 "second image over http" "$CAPSTAN" push -q other/tool "$NGINX_URL"
expect 0 "search over http" "$CAPSTAN" search -u "$NGINX_URL"
has "$OUT" "^other/tool " "http search: other/tool"
has "$OUT" "^test/app " "http search: test/app"
if cmp -s "$REG/test/app/app.qemu.gz" "$WREG/test/app/app.qemu.gz"; then ok "same gz over http and file://"; else fail "same gz over http and file://"; fi
expect 0 "push over https with --insecure" "$CAPSTAN" push -q --insecure test/app "$NGINX_TLS_URL"
expect 69 "push to a read-only server" "$CAPSTAN" push test/app "$NGINX_URL/ro"
one_line "$ERR" "read-only server: one line"
has "$ERR" "access denied \(HTTP 403\)|method not allowed" "read-only server: says why"
# credentials in the URL: sent, never printed
cred_url="http://user:s3cret@${NGINX_URL#http://}"
expect 0 "push with credentials in the URL" "$CAPSTAN" push test/app "$cred_url"
has "$OUT" "^pushing test/app \(qemu\) to http://\*\*\*@127.0.0.1:" "credentials: shown redacted"
hasnt "$OUT" "s3cret" "credentials: not in the messages"
expect 69 "push with credentials, refused" "$CAPSTAN" push test/app "$cred_url/ro"
hasnt "$ERR" "s3cret" "credentials: not in the error"
has "$ERR" "http://\*\*\*@127.0.0.1:[0-9]+/ro/" "credentials: the error names the redacted URL"
done_testing
