/* SPDX-License-Identifier: BSD-3-Clause */
/* cpio "newc" index: walks an archive through a read callback (kernel and host unit tests). */
#ifndef KERNEL_KCPIO_H
#define KERNEL_KCPIO_H

#include <stddef.h>
#include <stdint.h>

#define KCPIO_NAME_MAX 4096
#define KCPIO_HDR_SIZE 110

struct kcpio_entry {
	const char *name; /* normalized: no leading "/" or "./"; "" is the root */
	uint32_t mode, uid, gid, nlink, mtime, ino;
	uint64_t size;	   /* file bytes */
	uint64_t data_off; /* offset of the data from the start of the archive */
};

/* Read len bytes at off; return 0 or a negative code. */
typedef int (*kcpio_read_fn)(void *ctx, uint64_t off, void *buf, size_t len);
/* Called per entry (the trailer excluded); a nonzero return stops the walk with it. */
typedef int (*kcpio_entry_fn)(void *ctx, const struct kcpio_entry *e);

enum {
	KCPIO_E_MAGIC = -1000, /* not a newc header */
	KCPIO_E_FIELD,	       /* a header field is not hex */
	KCPIO_E_NAME,	       /* name size 0, too long, or not NUL-terminated */
	KCPIO_E_TRUNC,	       /* data or name runs past the archive */
	KCPIO_E_NOTRAILER,     /* archive ended without TRAILER!!! */
};

/*
 * Walk the archive of size bytes; namebuf holds KCPIO_NAME_MAX + 1 bytes.
 * Returns the number of entries or a negative code (KCPIO_E_*, or the read
 * or callback code); *bad_off tells where a malformed header was.
 */
long kcpio_scan(kcpio_read_fn rd, void *rctx, uint64_t size, kcpio_entry_fn fn, void *fctx,
		char *namebuf, uint64_t *bad_off);
const char *kcpio_strerror(long code);

#endif
