#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Writes a raw capstan image (include/capstan/image.h layout) around a kernel ELF, for the run tests.
import struct
import sys
import zlib

out, kernel_path, cmdline = sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else ""
kernel = open(kernel_path, "rb").read()
KOFF, ROOT = 64 * 1024, 1024 * 1024
rootfs_off = (KOFF + len(kernel) + ROOT - 1) // ROOT * ROOT
disk_size = rootfs_off + ROOT
hdr = struct.pack("<8sIIQQQQQIIII32sII36sI", b"CAPSTIMG", 1, 152, KOFF, len(kernel), rootfs_off, 0, disk_size,
                  zlib.crc32(kernel), 0, 0, 0, b"pvh-test", 0x100000, 0x100000, b"", 0)
hdr = hdr[:-4] + struct.pack("<I", zlib.crc32(hdr[:-4] + b"\0\0\0\0"))
img = bytearray(disk_size)
c = cmdline.encode() + b"\0"
img[512:512 + len(c)] = c
img[32 * 1024:32 * 1024 + len(hdr)] = hdr
img[KOFF:KOFF + len(kernel)] = kernel
open(out, "wb").write(img)
