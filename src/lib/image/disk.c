// SPDX-License-Identifier: BSD-3-Clause
// disk.c: picking a disk backend by magic, and copying between disks.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capstan/disk.h"
#include "capstan/err.h"
#include "capstan/str.h"
#include "capstan/banned.h"

int disk_open_file(const char *path, int flags)
{
	int fd = open(path, ((flags & DISK_RDWR) ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK |
				O_NOCTTY);
	struct stat st;

	if (fd < 0)
		return cap_errnof(errno, "cannot open '%s'", path);
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return cap_errnof(e, "cannot stat '%s'", path);
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		close(fd);
		return cap_errf(CAP_E_DATA, "'%s' is not a regular file or block device", path);
	}
	/* Disk reads block as they should; O_NONBLOCK only kept open() from hanging. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

const char *disk_probe(const char *path)
{
	unsigned char m[4] = {0};
	int fd = disk_open_file(path, DISK_RDONLY);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = pread(fd, m, sizeof(m), 0);
	close(fd);
	if (n < 0) {
		cap_errnof(errno, "cannot read '%s'", path);
		return NULL;
	}
	return (n == 4 && !memcmp(m, "QFI\xfb", 4)) ? "qcow2" : "raw";
}

int disk_open(struct disk **out, const char *path, int flags)
{
	const char *fmt = disk_probe(path);

	if (!fmt)
		return -ENOENT;
	if (!strcmp(fmt, "qcow2"))
		return disk_qcow2_open(out, path, flags);
	return disk_raw_open(out, path, flags);
}

int disk_copy(struct disk *dst, struct disk *src)
{
	const size_t chunk = 1u << 20;
	unsigned char *buf;
	int ret = 0;

	if (dst->size < src->size)
		return cap_errf(
		    EINVAL, "destination disk (%llu bytes) smaller than the source (%llu bytes)",
		    (unsigned long long)dst->size, (unsigned long long)src->size);
	buf = xmalloc(chunk);
	for (uint64_t off = 0; !ret && off < src->size; off += chunk) {
		size_t n = src->size - off < chunk ? (size_t)(src->size - off) : chunk;
		ret = disk_read(src, buf, n, off);
		if (ret)
			break;
		if (buf[0] == 0 && !memcmp(buf, buf + 1, n - 1))
			continue;
		ret = disk_write(dst, buf, n, off);
	}
	free(buf);
	return ret;
}
