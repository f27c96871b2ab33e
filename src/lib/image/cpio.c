// SPDX-License-Identifier: BSD-3-Clause
// cpio.c: a list of root fs entries as a cpio "newc" archive: written with libarchive, parsed in
// memory.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "capstan/err.h"
#include "lazylib.h"
#include "capstan/layout.h"
#include "capstan/str.h"
#include "capstan/banned.h"

#define NEWC_HDR 110u
#define PAD4(x)	 (((x) + 3u) & ~(uint64_t)3)
#define TRAILER	 "TRAILER!!!"

/* Member names are relative ("bin/sh"), as in a Linux initramfs. */
static const char *member_name(const char *path)
{
	while (*path == '/')
		path++;
	return path;
}

static uint64_t body_size(const struct layout_file *f)
{
	if (S_ISLNK(f->mode))
		return f->target ? strlen(f->target) : 0;
	if (S_ISREG(f->mode))
		return f->size;
	return 0;
}

uint64_t cpio_size(const struct layout_file *files, size_t n)
{
	uint64_t total = PAD4(NEWC_HDR + sizeof(TRAILER));

	for (size_t i = 0; i < n; i++)
		total += PAD4(NEWC_HDR + strlen(member_name(files[i].path)) + 1) +
			 PAD4(body_size(&files[i]));
	return total;
}

struct sink {
	struct disk *d;
	uint64_t off;
	uint32_t crc;
	int err;
};

static la_ssize_t sink_write(struct archive *a, void *p, const void *buf, size_t len)
{
	struct sink *s = p;
	int ret = disk_write(s->d, buf, len, s->off);

	if (ret) {
		s->err = ret;
		cap_archive.archive_set_error(a, EIO, "%s", cap_errmsg(ret));
		return -1;
	}
	s->crc = (uint32_t)crc32(s->crc, buf, (uInt)len);
	s->off += len;
	return (la_ssize_t)len;
}

static bool interrupted(const volatile sig_atomic_t *intr)
{
	return intr && *intr;
}

static int copy_host_file(struct archive *a, const struct layout_file *f, unsigned char *buf,
			  size_t bufsize, const volatile sig_atomic_t *intr)
{
	uint64_t left = f->size;
	int fd = open(f->host, O_RDONLY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return cap_errf(CAP_E_DATA, "cannot read '%s': %s", f->host, strerror(errno));
	while (left) {
		if (interrupted(intr)) {
			ret = cap_errf(CAP_E_INTR, "interrupted");
			break;
		}
		ssize_t n = read(fd, buf, left < bufsize ? (size_t)left : bufsize);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret =
			    cap_errf(CAP_E_DATA, "cannot read '%s': %s", f->host, strerror(errno));
			break;
		}
		if (n == 0) {
			ret =
			    cap_errf(CAP_E_DATA, "'%s' shrank while it was being copied", f->host);
			break;
		}
		if (cap_archive.archive_write_data(a, buf, (size_t)n) != n) {
			ret = -EIO;
			break;
		}
		left -= (uint64_t)n;
	}
	close(fd);
	return ret;
}

int cpio_write(struct disk *d, uint64_t off, const struct layout_file *files, size_t n,
	       const volatile sig_atomic_t *intr, uint32_t *crc)
{
	struct sink s = {d, off, (uint32_t)crc32(0, NULL, 0), 0};
	struct archive *a;
	struct archive_entry *e;
	const size_t bufsize = 4u << 20;
	unsigned char *buf = NULL;
	int ret = cap_archive_load();

	if (ret)
		return ret;
	a = cap_archive.archive_write_new();
	e = cap_archive.archive_entry_new();
	cap_archive.archive_write_set_format_cpio_newc(a);
	/* 1 MiB blocks: headers and names go out together, not one tiny write each */
	cap_archive.archive_write_set_bytes_per_block(a, 1 << 20);
	cap_archive.archive_write_set_bytes_in_last_block(a, 1);
	if (cap_archive.archive_write_open2(a, &s, NULL, sink_write, NULL, NULL) != ARCHIVE_OK)
		goto lib_error;
	for (size_t i = 0; i < n; i++) {
		const struct layout_file *f = &files[i];
		if (interrupted(intr)) {
			ret = cap_errf(CAP_E_INTR, "interrupted");
			goto out;
		}
		cap_archive.archive_entry_clear(e);
		cap_archive.archive_entry_set_pathname(e, member_name(f->path));
		cap_archive.archive_entry_set_mode(e, (mode_t)f->mode);
		cap_archive.archive_entry_set_ino64(e, (la_int64_t)(i + 1));
		cap_archive.archive_entry_set_nlink(e, S_ISDIR(f->mode) ? 2 : 1);
		cap_archive.archive_entry_set_mtime(e, (time_t)f->mtime, 0);
		cap_archive.archive_entry_set_uid(e, 0);
		cap_archive.archive_entry_set_gid(e, 0);
		if (S_ISLNK(f->mode))
			cap_archive.archive_entry_set_symlink(e, f->target ? f->target : "");
		cap_archive.archive_entry_set_size(e, S_ISREG(f->mode) ? (la_int64_t)f->size : 0);
		if (cap_archive.archive_write_header(a, e) != ARCHIVE_OK)
			goto lib_error;
		if (!S_ISREG(f->mode) || !f->size)
			continue;
		if (f->data) {
			if (cap_archive.archive_write_data(a, f->data, (size_t)f->size) !=
			    (la_ssize_t)f->size)
				goto lib_error;
			continue;
		}
		if (!buf)
			buf = xmalloc(bufsize);
		ret = copy_host_file(a, f, buf, bufsize, intr);
		if (ret == -EIO)
			goto lib_error;
		if (ret)
			goto out;
	}
	if (cap_archive.archive_write_close(a) != ARCHIVE_OK)
		goto lib_error;
	if (s.off - off != cpio_size(files, n)) {
		ret = cap_errf(EIO, "root fs archive is %llu bytes, expected %llu",
			       (unsigned long long)(s.off - off),
			       (unsigned long long)cpio_size(files, n));
		goto out;
	}
	*crc = s.crc;
	goto out;
lib_error:
	if (s.err) {
		ret = s.err;
	} else {
		const char *why = cap_archive.archive_error_string(a);

		ret = cap_errf(EIO, "writing the root fs archive: %s",
			       why ? why : "libarchive failed");
	}
out:
	cap_archive.archive_entry_free(e);
	cap_archive.archive_write_free(a);
	free(buf);
	return ret;
}

static int hex8(const unsigned char *p, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		unsigned c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	*out = v;
	return 0;
}

static int bad(uint64_t at, const char *what)
{
	return cap_errf(CAP_E_DATA, "root fs archive: %s at byte %llu", what,
			(unsigned long long)at);
}

int cpio_parse(const unsigned char *buf, size_t len, struct layout_file **files, size_t *n)
{
	struct layout_file *v = NULL;
	size_t k = 0, cap = 0;
	uint64_t p = 0;
	int ret = 0;

	for (;;) {
		uint32_t f[13];
		if (p > len || len - p < NEWC_HDR) {
			ret = bad(p, "truncated header");
			goto fail;
		}
		if (memcmp(buf + p, "070701", 6) && memcmp(buf + p, "070702", 6)) {
			ret = bad(p, "bad magic");
			goto fail;
		}
		for (int i = 0; i < 13; i++)
			if (hex8(buf + p + 6 + 8 * i, &f[i]) < 0) {
				ret = bad(p, "bad header field");
				goto fail;
			}
		uint32_t mode = f[1], mtime = f[5], size = f[6], namesize = f[11];
		if (namesize == 0 || namesize > 4096 || namesize > len - p - NEWC_HDR) {
			ret = bad(p, "bad name size");
			goto fail;
		}
		const char *name = (const char *)buf + p + NEWC_HDR;
		if (name[namesize - 1] != '\0' || strlen(name) != namesize - 1) {
			ret = bad(p, "name not NUL-terminated");
			goto fail;
		}
		uint64_t body = PAD4(p + NEWC_HDR + namesize);
		if (body > len || size > len - body) {
			ret = bad(p, "member runs past the end");
			goto fail;
		}
		if (!strcmp(name, TRAILER))
			break;
		if (!strcmp(name, ".") || !*member_name(name)) { /* the root itself */
			p = PAD4(body + size);
			continue;
		}
		if (k == cap) {
			cap = cap ? 2 * cap : 32;
			v = xrealloc(v, cap * sizeof(*v));
		}
		struct layout_file *e = &v[k++];
		memset(e, 0, sizeof(*e));
		e->path = xasprintf("/%s", member_name(name));
		e->mode = mode;
		e->mtime = mtime;
		if (S_ISLNK(mode)) {
			e->target = xstrndup((const char *)buf + body, size);
			e->size = size;
		} else if (S_ISREG(mode)) {
			e->size = size;
			if (size) {
				e->data = xmalloc(size);
				memcpy(e->data, buf + body, size);
			}
		}
		p = PAD4(body + size);
	}
	*files = v;
	*n = k;
	return 0;
fail:
	for (size_t i = 0; i < k; i++)
		layout_file_release(&v[i]);
	free(v);
	return ret;
}
