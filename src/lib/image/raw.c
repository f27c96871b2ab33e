// SPDX-License-Identifier: BSD-3-Clause
// raw.c: the raw disk backend, a file read and written at the same offsets.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capstan/disk.h"
#include "capstan/err.h"
#include "capstan/fs.h"
#include "capstan/str.h"
#include "capstan/banned.h"

struct raw {
	int fd;
	bool owns_fd;
};

static int raw_check(struct disk *d, size_t len, uint64_t off)
{
	if (off > d->size || len > d->size - off)
		return cap_errf(EINVAL, "raw disk: access at %llu+%zu past the end (%llu)",
				(unsigned long long)off, len, (unsigned long long)d->size);
	return 0;
}

static int raw_read(struct disk *d, void *buf, size_t len, uint64_t off)
{
	struct raw *r = d->p;
	int ret = raw_check(d, len, off);

	if (ret)
		return ret;
	ret = fs_pread_full(r->fd, buf, len, (off_t)off);
	if (ret < 0)
		return cap_errf(ret, "raw disk: read at %llu: %s", (unsigned long long)off,
				strerror(-ret));
	return 0;
}

static int raw_write(struct disk *d, const void *buf, size_t len, uint64_t off)
{
	struct raw *r = d->p;
	int ret = raw_check(d, len, off);

	if (ret)
		return ret;
	if (!d->writable)
		return cap_errf(EROFS, "raw disk: opened read-only");
	ret = fs_pwrite_full(r->fd, buf, len, (off_t)off);
	if (ret < 0)
		return cap_errf(ret, "raw disk: write at %llu: %s", (unsigned long long)off,
				strerror(-ret));
	return 0;
}

static int raw_commit(struct disk *d)
{
	return 0; /* nothing cached */
}

static int raw_flush(struct disk *d)
{
	struct raw *r = d->p;

	if (d->writable && fdatasync(r->fd) < 0)
		return cap_errf(errno, "raw disk: fdatasync: %s", strerror(errno));
	return 0;
}

static void raw_close(struct disk *d)
{
	struct raw *r = d->p;

	if (r->owns_fd)
		close(r->fd);
	free(r);
	free(d);
}

static const struct disk_ops raw_ops = {
    .read = raw_read,
    .write = raw_write,
    .commit = raw_commit,
    .flush = raw_flush,
    .close = raw_close,
};

static int raw_new(struct disk **out, int fd, bool owns_fd, int flags)
{
	struct stat st;
	struct disk *d;
	struct raw *r;

	if (fstat(fd, &st) < 0)
		return cap_errf(errno, "raw disk: %s", strerror(errno));
	r = xcalloc(1, sizeof(*r));
	r->fd = fd;
	r->owns_fd = owns_fd;
	d = xcalloc(1, sizeof(*d));
	d->ops = &raw_ops;
	d->p = r;
	d->size = (uint64_t)st.st_size;
	d->format = "raw";
	d->writable = flags & DISK_RDWR;
	*out = d;
	return 0;
}

int disk_raw_open_fd(struct disk **out, int fd, int flags)
{
	return raw_new(out, fd, false, flags);
}

int disk_raw_open(struct disk **out, const char *path, int flags)
{
	int fd = disk_open_file(path, flags);
	int ret;

	if (fd < 0)
		return fd;
	ret = raw_new(out, fd, true, flags);
	if (ret)
		close(fd);
	return ret;
}

int disk_raw_create_fd(struct disk **out, int fd, uint64_t size)
{
	if (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)size) < 0)
		return cap_errf(errno, "raw disk: cannot size to %llu: %s",
				(unsigned long long)size, strerror(errno));
	return raw_new(out, fd, false, DISK_RDWR);
}

int disk_raw_create(struct disk **out, const char *path, uint64_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int ret;

	if (fd < 0)
		return cap_errf(errno, "cannot create '%s': %s", path, strerror(errno));
	ret = disk_raw_create_fd(out, fd, size);
	if (ret) {
		close(fd);
		return ret;
	}
	((struct raw *)(*out)->p)->owns_fd = true;
	return 0;
}
