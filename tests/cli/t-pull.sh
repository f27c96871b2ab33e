#!/usr/bin/env bash
# capstan pull from file:// and nginx (http, https): verified install, up to date, original
# Capstan indexes, errors, concurrent pulls, progress output.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/reglib.sh"

REG="$TESTDIR/reg"
make_image test/app 4 || { echo "cannot make a test image"; exit 1; }
CAPSTAN_ROOT=$SRC_ROOT "$CAPSTAN" push -q test/app "file://$REG" || { echo "cannot push"; exit 1; }
SRC_IMG="$SRC_ROOT/repository/test/app/app.qemu"

# file://
expect 0 "pull from file://" "$CAPSTAN" pull -u "file://$REG" test/app
if cmp -s "$SRC_IMG" "$CAPSTAN_ROOT/repository/test/app/app.qemu"; then ok "pulled image is identical"; else fail "pulled image is identical"; fi
has "$OUT" "pulled test/app \(qemu\), [0-9]+ bytes, sha256 [0-9a-f]{64}$" "pull reports size and digest"
hasnt "$ERR" $'\r' "no progress bar when stderr is not a terminal"
expect 0 "images lists the pulled image" "$CAPSTAN" images
has "$OUT" "^test/app +1.0 " "pulled metadata recorded"
expect 0 "second pull" "$CAPSTAN" pull -u "file://$REG" test/app
has "$OUT" "is up to date" "second pull finds it up to date"
expect 0 "-q pull is silent" "$CAPSTAN" pull -q -u "file://$REG" test/app
if [ ! -s "$OUT" ] && [ ! -s "$ERR" ]; then ok "-q prints nothing"; else fail "-q prints nothing"; fi
export CAPSTAN_REPO_URL="file://$REG"
rm -rf "$CAPSTAN_ROOT"
expect 0 "CAPSTAN_REPO_URL picks the registry" "$CAPSTAN" pull test/app
unset CAPSTAN_REPO_URL
rm -rf "$CAPSTAN_ROOT"
mkdir -p "$CAPSTAN_ROOT"
echo "repo_url: file://$REG" >"$CAPSTAN_ROOT/config.yaml"
expect 0 "config.yaml repo_url picks the registry" "$CAPSTAN" pull test/app
rm -f "$CAPSTAN_ROOT/config.yaml"

# errors, each one line, nothing installed
rm -rf "$CAPSTAN_ROOT"
expect 65 "unknown image" "$CAPSTAN" pull -u "file://$REG" test/nope
one_line "$ERR" "unknown image: one line"
has "$ERR" "no such image 'test/nope' in file://$REG" "unknown image names the image and registry"
expect 65 "unknown platform" "$CAPSTAN" pull -u "file://$REG" -p vbox test/app
has "$ERR" "has no platform 'vbox' \(it has: qemu\)" "unknown platform lists the platforms"
expect 64 "invalid name" "$CAPSTAN" pull -u "file://$REG" ../x
expect 64 "missing name" "$CAPSTAN" pull
expect 64 "unsupported scheme" "$CAPSTAN" pull -u "ftp://127.0.0.1/x" test/app
one_line "$ERR" "unsupported scheme: one line"
untouched "$CAPSTAN_ROOT" "failed pulls leave the repository empty"

# a bad index: the error names file:line:col
BAD="$TESTDIR/badreg"
mkdir -p "$BAD/test/app"
printf 'format_version: "1"\nplatforms:\n  qemu: {file: app.qemu.gz, size: x, sha256: 00}\n' >"$BAD/test/app/index.yaml"
expect 65 "bad index" "$CAPSTAN" pull -u "file://$BAD" test/app
has "$ERR" "^capstan: file://$BAD/test/app/index.yaml:3:35: 'size' must be a number of bytes$" "bad index error has line:col"

# an original Capstan registry: no sha256, pulls with a warning
ORIG="$TESTDIR/orig"
mkdir -p "$ORIG/cloudius/osv"
printf 'format_version: "1"\nversion: "v0.24"\ncreated: 2016-03-02 13:10\ndescription: OSv base\nbuild: scripts/build\n' \
	>"$ORIG/cloudius/osv/index.yaml"
gzip -c "$SRC_IMG" >"$ORIG/cloudius/osv/osv.qemu.gz"
expect 0 "pull from an original Capstan registry" "$CAPSTAN" pull -u "file://$ORIG" cloudius/osv
has "$ERR" "warning: .*no sha256.*unverified" "unverified image gets a warning"
has "$OUT" "\(unverified\)" "result says unverified"
if cmp -s "$SRC_IMG" "$CAPSTAN_ROOT/repository/cloudius/osv/osv.qemu"; then ok "unverified image intact"; else fail "unverified image intact"; fi

# the default registry: the tree the build makes from repo/ (when the kernel is built)
if [ -s "${CAPSTAN_BUILD_ROOT:-/nonexistent}/repo/index.yaml" ]; then
	rm -rf "$CAPSTAN_ROOT"
	expect 0 "search the default registry" "$CAPSTAN" search
	has "$OUT" "^capstan/base " "default registry lists capstan/base"
	expect 0 "pull from the default registry" "$CAPSTAN" pull capstan/base
	hasnt "$ERR" "unverified" "default registry images are verified"
	expect 0 "images shows capstan/base" "$CAPSTAN" images
	has "$OUT" "^capstan/base " "capstan/base installed"
	if command -v qemu-system-x86_64 >/dev/null; then
		expect 0 "run pulls a missing image itself" timeout 120 "$CAPSTAN" run --rm --accel tcg capstan/hello </dev/null
		has "$OUT" "^pulled capstan/hello \(qemu\), [0-9]+ bytes, sha256 [0-9a-f]{64}$" "run: image pulled and verified"
		has "$OUT" "^Hello, world!" "run: the pulled image boots"
	fi
fi

# nginx: http and https
start_nginx "$REG" || { echo "cannot start nginx: $(cat "$TESTDIR/nginx/start.log" "$TESTDIR/nginx/error.log" 2>/dev/null)"; exit 1; }
rm -rf "$CAPSTAN_ROOT"
expect 0 "pull over http (nginx)" "$CAPSTAN" pull -u "$NGINX_URL" test/app
if cmp -s "$SRC_IMG" "$CAPSTAN_ROOT/repository/test/app/app.qemu"; then ok "http image identical"; else fail "http image identical"; fi
has "$NGINX_LOG" "^GET /test/app/app.qemu.gz - 200" "nginx served the image"
expect 65 "404 over http" "$CAPSTAN" pull -u "$NGINX_URL" test/nope
has "$ERR" "^capstan: no such image 'test/nope' in $NGINX_URL$" "404 says no such image"
rm -rf "$CAPSTAN_ROOT"
expect 69 "https with a self-signed certificate" "$CAPSTAN" pull -u "$NGINX_TLS_URL" test/app
one_line "$ERR" "TLS failure: one line"
has "$ERR" "TLS certificate verification failed \(--insecure skips it\)" "TLS failure says why"
untouched "$CAPSTAN_ROOT" "TLS failure installs nothing"
expect 0 "https with --insecure" "$CAPSTAN" pull --insecure -u "$NGINX_TLS_URL" test/app
if cmp -s "$SRC_IMG" "$CAPSTAN_ROOT/repository/test/app/app.qemu"; then ok "https image identical"; else fail "https image identical"; fi

# redirects: an https registry never continues over plain http; upgrades and https hops are fine
rm -rf "$CAPSTAN_ROOT"
expect 69 "https redirected to http" "$CAPSTAN" pull --insecure -u "$NGINX_TLS_URL/tohttp" test/app
one_line "$ERR" "https to http: one line"
has "$ERR" "redirected to 'http://127.0.0.1:[0-9]+/test/app/index.yaml', which is refused \(only http\(s\) redirects are followed, and only https ones from https\)" \
	"https to http: says why"
untouched "$CAPSTAN_ROOT" "https to http: installs nothing"
expect 0 "https redirected to https" "$CAPSTAN" pull --insecure -u "$NGINX_TLS_URL/tohttps" test/app
rm -rf "$CAPSTAN_ROOT"
expect 0 "http redirected to https" "$CAPSTAN" pull --insecure -u "$NGINX_URL/tohttps" test/app
if cmp -s "$SRC_IMG" "$CAPSTAN_ROOT/repository/test/app/app.qemu"; then ok "redirected image identical"; else fail "redirected image identical"; fi

# concurrent pulls of the same image: both succeed, the image is intact
rm -rf "$CAPSTAN_ROOT"
"$CAPSTAN" pull -u "$NGINX_URL" test/app >"$TESTDIR/c1" 2>&1 &
p1=$!
"$CAPSTAN" pull -u "$NGINX_URL" test/app >"$TESTDIR/c2" 2>&1 &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
if [ $r1 = 0 ] && [ $r2 = 0 ]; then ok "concurrent pulls both succeed"; else fail "concurrent pulls ($r1, $r2): $(cat "$TESTDIR/c1" "$TESTDIR/c2")"; fi
if cmp -s "$SRC_IMG" "$CAPSTAN_ROOT/repository/test/app/app.qemu"; then ok "image intact after concurrent pulls"; else fail "image intact after concurrent pulls"; fi
left=$(find "$CAPSTAN_ROOT/repository" -name '*.tmp.*' | wc -l)
[ "$left" = 0 ] && ok "no temp files left" || fail "no temp files left ($left)"

# progress bar on a terminal (script(1) gives the pull a pty)
if command -v script >/dev/null; then
	rm -rf "$CAPSTAN_ROOT"
	script -qec "\"$CAPSTAN\" pull -u \"$NGINX_URL\" test/app" /dev/null >"$TESTDIR/tty" 2>&1
	if grep -q $'\r'"test/app 100% .*/s" "$TESTDIR/tty"; then ok "progress bar on a terminal"; else fail "progress bar on a terminal: $(tr '\r' '|' <"$TESTDIR/tty" | head -c 300)"; fi
fi
done_testing
