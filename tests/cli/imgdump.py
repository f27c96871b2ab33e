#!/usr/bin/env python3
# Prints what a raw capstan image holds (image.h layout): cmdline, header fields
# and the root fs entries (cpio newc), one per line: MODE SIZE PATH [-> TARGET].
import struct, sys, zlib

d = open(sys.argv[1], 'rb').read()
cmdline = d[512:32768].split(b'\0', 1)[0].decode()
h = d[32768:32768 + 152]
(magic, ver, hsize, koff, ksize, roff, rsize, dsize, kcrc, rcrc, rent, flags) = struct.unpack('<8sIIQQQQQIIII', h[:72])
kver = h[72:104].split(b'\0', 1)[0].decode()
print('cmdline', cmdline)
print('magic', magic.decode(errors='replace'), 'version', ver, 'kernel_version', kver)
print('kernel', koff, ksize, 'crc_ok', zlib.crc32(d[koff:koff + ksize]) == kcrc)
print('rootfs', roff, rsize, 'entries', rent, 'crc_ok', zlib.crc32(d[roff:roff + rsize]) == rcrc)
print('disk_size', dsize, 'mbr_sig', d[510:512].hex())
c = d[roff:roff + rsize]
p = 0
while True:
    assert c[p:p + 6] == b'070701', 'bad cpio magic at %d' % p
    f = [int(c[p + 6 + 8 * i:p + 14 + 8 * i], 16) for i in range(13)]
    mode, mtime, size, nsize = f[1], f[5], f[6], f[11]
    name = c[p + 110:p + 110 + nsize - 1].decode()
    p = (p + 110 + nsize + 3) & ~3
    data = c[p:p + size]
    p = (p + size + 3) & ~3
    if name == 'TRAILER!!!':
        break
    line = '%06o %d %d /%s' % (mode, size, mtime, name.lstrip('/'))
    if mode & 0o170000 == 0o120000:
        line += ' -> ' + data.decode()
    elif len(sys.argv) > 2 and sys.argv[2] == '--data':
        line += ' ' + zlib.crc32(data).to_bytes(4, 'big').hex()
    print(line)
