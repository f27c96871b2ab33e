#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# A fault-injecting static HTTP server for the registry tests (loopback only).
"""Serves ROOT on 127.0.0.1 at an ephemeral port (written to PORTFILE) and logs
every request as "METHOD PATH RANGE" to LOGFILE.  The first path segment picks
a fault, applied to *.gz files unless said otherwise:

  ok            plain static files, with Range and If-Range support
  truncate      the first half of the file, with a matching Content-Length
  corrupt       one byte in the middle of the file flipped
  tamper        a valid gzip of the image with one byte changed
  stall         headers and 1000 bytes, then silence
  flaky         HTTP 500 for the first two requests of each path (any file)
  loop          every request redirects to itself (any file)
  wrongsize     index.yaml with every "size:" plus one
  drop-N        N bytes of each response, then the connection is cut
  slow-N        N bytes per second
"""
import gzip
import http.server
import os
import re
import socket
import sys
import threading
import time

ROOT, PORTFILE, LOGFILE = sys.argv[1], sys.argv[2], sys.argv[3]
FAULTS = {"ok", "truncate", "corrupt", "tamper", "stall", "flaky", "loop", "wrongsize", "drop", "slow"}
log_lock = threading.Lock()
counts = {}


def log(line):
    with log_lock, open(LOGFILE, "a") as f:
        f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        log("%s %s %s" % (self.command, self.path, self.headers.get("Range", "-")))
        m = re.match(r"^/([a-z]+)(?:-(\d+))?(/.*)$", self.path)
        if not m:
            return self.send(404, b"no fault in path\n")
        fault, arg, rel = m.group(1), int(m.group(2) or 0), m.group(3)
        if fault not in FAULTS:
            return self.send(404, b"no such fault\n")
        if fault == "loop":
            return self.send(302, headers=[("Location", self.path)])
        if fault == "flaky":
            with log_lock:
                counts[self.path] = counts.get(self.path, 0) + 1
                n = counts[self.path]
            if n <= 2:
                return self.send(500, b"try again\n")
        path = os.path.normpath(os.path.join(ROOT, rel.lstrip("/")))
        if not path.startswith(os.path.abspath(ROOT)) or not os.path.isfile(path):
            return self.send(404, b"not found\n")
        with open(path, "rb") as f:
            data = f.read()
        st = os.stat(path)
        etag = '"%x-%x"' % (int(st.st_mtime), st.st_size)
        gz = path.endswith(".gz")
        if fault == "wrongsize" and path.endswith("index.yaml"):
            data = re.sub(rb"size: (\d+)", lambda x: b"size: %d" % (int(x.group(1)) + 1), data)
        if gz and fault == "truncate":
            data = data[: len(data) // 2]
        if gz and fault == "corrupt":
            i = len(data) // 2
            data = data[:i] + bytes([data[i] ^ 0x40]) + data[i + 1:]
        if gz and fault == "tamper":
            raw = bytearray(gzip.decompress(data))
            raw[len(raw) // 2] ^= 1
            data = gzip.compress(bytes(raw), 1)
        start = 0
        rng = self.headers.get("Range")
        if rng and (self.headers.get("If-Range") in (None, etag)):
            r = re.match(r"bytes=(\d+)-$", rng)
            if r:
                start = int(r.group(1))
                if start >= len(data):
                    return self.send(416, headers=[("Content-Range", "bytes */%d" % len(data))])
        body = data[start:]
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        self.send_header("ETag", etag)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        try:
            if gz and fault == "stall":
                self.wfile.write(body[:1000])
                self.wfile.flush()
                time.sleep(120)
            elif gz and fault == "drop":
                self.wfile.write(body[:arg])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
            elif gz and fault == "slow":
                step = max(arg // 20, 1)
                for i in range(0, len(body), step):
                    self.wfile.write(body[i:i + step])
                    self.wfile.flush()
                    time.sleep(step / arg)
            else:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", 0), Handler)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
