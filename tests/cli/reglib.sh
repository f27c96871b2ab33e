# Registry test helpers: sample images, nginx and the fault server on loopback.
# shellcheck shell=bash
SRCDIR=$(cd "$(dirname "$0")" && pwd)
PIDS=()
cleanup_servers() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	[ -f "$TESTDIR/nginx/nginx.pid" ] && kill "$(cat "$TESTDIR/nginx/nginx.pid")" 2>/dev/null
	rm -rf "$TESTDIR"
}
trap cleanup_servers EXIT
export CAPSTAN_NET_TIMEOUT=${CAPSTAN_NET_TIMEOUT:-5}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# make_image NAME MIB [ROOT]: a qcow2 with MIB MiB of mixed data imported into ROOT (default $SRC_ROOT).
SRC_ROOT="$TESTDIR/src-root"
make_image() {
	local name=$1 mib=$2 root=${3:-$SRC_ROOT} f="$TESTDIR/img-$$-$RANDOM.qcow2"
	qemu-img create -q -f qcow2 "$f" "$((mib + 16))M" || return 1
	head -c "$((mib * 1024 * 1024 / 2))" /dev/urandom >"$f.rnd"
	qemu-io -f qcow2 -c "write -P 0x5a 0 $((mib / 2 + 1))M" "$f" >/dev/null || return 1
	qemu-io -f qcow2 -c "write -s $f.rnd $((mib / 2 + 1))M $((mib * 1024 * 1024 / 2))" "$f" >/dev/null || return 1
	CAPSTAN_ROOT=$root "$CAPSTAN" import -v 1.0 -d "Test image $name" "$name" "$f" >/dev/null || return 1
	rm -f "$f" "$f.rnd"
}

# start_faultd ROOT: the fault server over ROOT; sets FAULT_URL (append /<fault>) and FAULT_LOG.
start_faultd() {
	FAULT_LOG="$TESTDIR/faultd.log"
	: >"$FAULT_LOG"
	rm -f "$TESTDIR/faultd.port"
	python3 "$SRCDIR/faultd.py" "$1" "$TESTDIR/faultd.port" "$FAULT_LOG" &
	PIDS+=($!)
	for _ in $(seq 100); do [ -s "$TESTDIR/faultd.port" ] && break; sleep 0.05; done
	FAULT_URL="http://127.0.0.1:$(cat "$TESTDIR/faultd.port")"
}

# start_nginx ROOT: nginx serving ROOT with GET, Range and WebDAV PUT (and TLS with a
# self-signed certificate); sets NGINX_URL, NGINX_TLS_URL and NGINX_LOG.  /tohttp/X and
# /tohttps/X redirect to X on the http and the https port.
start_nginx() {
	local d="$TESTDIR/nginx" user="" port tport
	mkdir -p "$d/tmp"
	[ "$(id -u)" = 0 ] && user="user root root;"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/key.pem" -out "$d/cert.pem" -days 2 \
		-subj /CN=127.0.0.1 >/dev/null 2>&1 || return 1
	NGINX_LOG="$d/access.log"
	for _ in 1 2 3 4 5; do
		port=$(free_port)
		tport=$(free_port)
		cat >"$d/nginx.conf" <<CONF
$user
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 64; }
http {
	log_format reg '\$request_method \$uri \$http_range \$status';
	access_log $d/access.log reg;
	client_body_temp_path $d/tmp/body;
	proxy_temp_path $d/tmp/proxy;
	fastcgi_temp_path $d/tmp/fastcgi;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
	types { application/gzip gz; text/yaml yaml; }
	sendfile on;
	server {
		listen 127.0.0.1:$port;
		listen 127.0.0.1:$tport ssl;
		ssl_certificate $d/cert.pem;
		ssl_certificate_key $d/key.pem;
		root $1;
		client_max_body_size 0;
		location / {
			dav_methods PUT;
			create_full_put_path on;
			dav_access user:rw group:r all:r;
		}
		location /ro/ { alias $1/; limit_except GET HEAD { deny all; } }
		location /tohttp/ { rewrite ^/tohttp/(.*)\$ http://127.0.0.1:$port/\$1 redirect; }
		location /tohttps/ { rewrite ^/tohttps/(.*)\$ https://127.0.0.1:$tport/\$1 redirect; }
	}
}
CONF
		if nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" 2>>"$d/start.log"; then
			for _ in $(seq 100); do [ -s "$d/nginx.pid" ] && break; sleep 0.05; done
			NGINX_URL="http://127.0.0.1:$port"
			NGINX_TLS_URL="https://127.0.0.1:$tport"
			return 0
		fi
	done
	return 1
}

# untouched ROOT DESC: no image, temp file or half-written index under ROOT/repository.
untouched() {
	local left
	left=$(find "$1/repository" -mindepth 1 ! -name .lock 2>/dev/null | head -5)
	if [ -z "$left" ]; then ok "$2"; else fail "$2 (left: $left)"; fi
}
