#!/usr/bin/env bash
# The network end to end under TCG: examples/httpd built on the build's registry,
# run detached with -f (QEMU user networking, hostfwd), fetched with curl from the
# host on microvm (virtio-net-device) and on pc (virtio-net-pci).
. "$(dirname "$0")/lib.sh"
tree="${CAPSTAN_DATADIR:-$CAPSTAN_BUILD_ROOT}/repo"
[ -f "$tree/index.yaml" ] || { echo "skip: no registry tree at $tree (built with -Dkernel=true)"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "skip: no qemu-system-x86_64"; exit 77; }
command -v curl >/dev/null || { echo "skip: no curl"; exit 77; }
command -v musl-gcc >/dev/null || command -v cc >/dev/null || { echo "skip: no C compiler"; exit 77; }
export CAPSTAN_DATADIR="${CAPSTAN_DATADIR:-$CAPSTAN_BUILD_ROOT}"
export CAPSTAN_DISABLE_KVM=1
cleanup() { "$CAPSTAN" delete web-micro web-pc >/dev/null 2>&1; rm -rf "$TESTDIR"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

cp -r "$CAPSTAN_SOURCE_ROOT/examples/httpd" "$TESTDIR/httpd"
cd "$TESTDIR/httpd" || exit 1
head -c 4194304 /dev/urandom >www/big.bin
want=$(sha256sum <www/big.bin | cut -d' ' -f1)
expect 0 "capstan build examples/httpd" "$CAPSTAN" build -q

# wait_http PORT: until /healthz answers (the guest boots, DHCP, listens), at most ~60 s
wait_http() {
	for _ in $(seq 120); do
		curl -s -m 2 "http://127.0.0.1:$1/healthz" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	return 1
}

for boot in micro pc; do
	port=$(free_port)
	flags=()
	[ $boot = pc ] && flags=(--boot disk)
	expect 0 "run -d -f $port:80 ($boot)" "$CAPSTAN" run -d "${flags[@]}" --name "web-$boot" -f "$port:80" httpd
	if ! wait_http "$port"; then
		fail "httpd answers on port $port ($boot)"
		"$CAPSTAN" logs "web-$boot"
		continue
	fi
	ok "httpd answers on port $port ($boot)"
	expect 0 "logs ($boot)" "$CAPSTAN" logs "web-$boot"
	has "$OUT" '^eth0: 10\.0\.2\.15\b' "the boot line shows eth0's DHCP address ($boot)"
	has "$OUT" '^httpd: listening on port 80' "httpd started ($boot)"
	run curl -s -m 20 "http://127.0.0.1:$port/healthz"
	[ "$(cat "$OUT")" = ok ] && ok "/healthz says ok ($boot)" || fail "/healthz says ok ($boot)"
	run curl -s -m 20 "http://127.0.0.1:$port/"
	has "$OUT" 'Served by a capstan unikernel' "the index page ($boot)"
	run curl -s -m 20 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/missing"
	[ "$(cat "$OUT")" = 404 ] && ok "a missing page is 404 ($boot)" || fail "a missing page is 404 ($boot)"
	got=$(curl -s -m 120 "http://127.0.0.1:$port/big.bin" | sha256sum | cut -d' ' -f1)
	[ "$got" = "$want" ] && ok "4 MiB file intact (sha256) ($boot)" || fail "4 MiB file intact (sha256) ($boot)"
	# keep-alive: several requests over one connection
	run curl -s -m 20 "http://127.0.0.1:$port/healthz" "http://127.0.0.1:$port/healthz" "http://127.0.0.1:$port/healthz"
	[ "$(tr -d '\n' <"$OUT")" = okokok ] && ok "three requests on one connection ($boot)" || fail "three requests on one connection ($boot)"
	expect 0 "instances ($boot)" "$CAPSTAN" instances
	has "$OUT" "^web-$boot .* 10\\.0\\.2\\.15 +$port->80/tcp " "instances shows the address and the forward ($boot)"
	expect 0 "instances --json ($boot)" "$CAPSTAN" instances --json
	has "$OUT" '"address": ?"10\.0\.2\.15"' "the address in JSON ($boot)"
	expect 0 "delete ($boot)" "$CAPSTAN" delete "web-$boot"
done
done_testing
