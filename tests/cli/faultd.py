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
  bomb          64 MiB of zeros, gzipped (about 64 KiB), whatever the index says
  endless       a gzip stream of zeros that never ends (no file needed)
  empties       empty gzip members without end: input that never produces output
  hugelen       a Content-Length of 1 TiB before the real bytes
  hold          a 2 GiB gzip bomb (2 MiB), then silence (no file needed)
  drip          the body one byte a second
  driphead      the whole response, status line first, one byte a second (any file)
  tofile        every request redirects to file:///etc/passwd (any file)
  bucket-N      an original Capstan S3 bucket: no index.yaml at the root, but the
                root lists every file as ListBucket XML, N keys a page (default 1000)

The bombs' gzip trailers carry no real CRC: a pull must stop long before them.
"""
import gzip
import http.server
import os
import re
import socket
import sys
import threading
import time
import urllib.parse
import zlib
from xml.sax.saxutils import escape

ROOT, PORTFILE, LOGFILE = sys.argv[1], sys.argv[2], sys.argv[3]
FAULTS = {"ok", "truncate", "corrupt", "tamper", "stall", "flaky", "loop", "wrongsize", "drop", "slow",
          "bomb", "endless", "empties", "hugelen", "hold", "drip", "driphead", "tofile", "bucket"}
NOFILE = {"endless", "hold"}
log_lock = threading.Lock()


def zero_segments():
    """A gzip header with 1 MiB of zeros, and a byte-aligned segment of 1 MiB more (full flush)."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = z.compress(bytes(1 << 20)) + z.flush(zlib.Z_FULL_FLUSH)
    seg = z.compress(bytes(1 << 20)) + z.flush(zlib.Z_FULL_FLUSH)
    return head, seg


HEAD, SEG = zero_segments()
END = b"\x03\x00" + bytes(8)  # an empty final block and a trailer that does not check out


def bomb(mib):
    return HEAD + SEG * (mib - 1) + END


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
        if fault == "tofile":
            return self.send(302, headers=[("Location", "file:///etc/passwd")])
        if fault == "bucket" and (rel == "/" or rel.startswith("/?")):
            return self.list_bucket(arg or 1000, rel)
        if fault == "bucket" and rel == "/index.yaml":
            return self.send(404, b"no such key\n")
        if fault == "driphead":
            return self.drip_all()
        if fault in NOFILE and rel.endswith(".gz"):
            return self.endless() if fault == "endless" else self.hold()
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
        if gz and fault == "bomb":
            data = bomb(64)
        if gz and fault == "empties":
            return self.stream(gzip.compress(b"") * 50000)
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
        self.send_header("Content-Length", str(1 << 40 if gz and fault == "hugelen" else len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        try:
            if gz and fault == "drip":
                for i in range(len(body)):
                    self.wfile.write(body[i:i + 1])
                    self.wfile.flush()
                    time.sleep(1)
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


    def list_bucket(self, per_page, rel):
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(rel).query)
        marker = query.get("marker", [""])[0]
        keys = sorted(os.path.relpath(os.path.join(d, f), ROOT)
                      for d, _, files in os.walk(ROOT) for f in files)
        keys = [k for k in keys if k > marker and k != "index.yaml"]
        page = keys[:per_page]
        xml = ['<?xml version="1.0" encoding="UTF-8"?>\n'
               '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
               "<Name>capstan</Name><Prefix></Prefix><Marker>%s</Marker><MaxKeys>%d</MaxKeys>"
               "<IsTruncated>%s</IsTruncated>" % (escape(marker), per_page,
                                                  "true" if len(keys) > per_page else "false")]
        for k in page:
            st = os.stat(os.path.join(ROOT, k))
            xml.append("<Contents><Key>%s</Key><LastModified>2016-03-02T13:10:00.000Z</LastModified>"
                       '<ETag>"%x"</ETag><Size>%d</Size><StorageClass>STANDARD</StorageClass></Contents>'
                       % (escape(k), st.st_size, st.st_size))
        xml.append("</ListBucketResult>")
        self.send(200, "".join(xml).encode(), headers=[("Content-Type", "application/xml")])

    def stream(self, block):
        """The same block again and again, until the client hangs up."""
        self.send_response(200)
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            while True:
                self.wfile.write(block)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def endless(self):
        self.send_response(200)
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            self.wfile.write(HEAD)
            while True:
                self.wfile.write(SEG * 16)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def hold(self):
        body = bomb(2048)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body) + 1))
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            self.wfile.write(body)
            self.wfile.flush()
            time.sleep(120)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def drip_all(self):
        raw = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nxxxx"
        try:
            for i in range(len(raw)):
                self.wfile.write(raw[i:i + 1])
                self.wfile.flush()
                time.sleep(1)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", 0), Handler)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
