/* SPDX-License-Identifier: BSD-3-Clause */
/* Virtual disks: one ops table, a raw and a qcow2 backend (one constructor each). */
#ifndef CAPSTAN_DISK_H
#define CAPSTAN_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A struct disk is what every caller holds; the backend keeps its state behind
 * (p).  Callers never test which backend they hold: they go through the ops.
 * All offsets and sizes are bytes of the virtual disk; reads past the end are
 * an error (-EINVAL), reads of never-written areas return zeros (or the backing
 * file's data).  Every function returns 0 or a negative code with a message
 * recorded by cap_errf().
 */
struct disk;

struct disk_ops {
	int (*read)(struct disk *d, void *buf, size_t len, uint64_t off);
	int (*write)(struct disk *d, const void *buf, size_t len, uint64_t off);
	/* Write cached metadata (to the page cache; no sync). */
	int (*commit)(struct disk *d);
	/* commit, then fdatasync. */
	int (*flush)(struct disk *d);
	/* Release the backend; closes the fd unless it was borrowed. */
	void (*close)(struct disk *d);
};

struct disk {
	const struct disk_ops *ops;
	void *p;	    /* backend state */
	uint64_t size;	    /* virtual size in bytes */
	const char *format; /* "raw" or "qcow2" (static string) */
	bool writable;
};

/* Open flags. */
#define DISK_RDONLY 0x0
#define DISK_RDWR   0x1
/* qcow2: do not open the backing file; clusters it would supply read as zeros
 * (for inspecting an image alone, and for the fuzz harness). */
#define DISK_NOBACKING 0x2

/* Options for creating a qcow2 image. */
struct disk_qcow2_opts {
	unsigned cluster_bits; /* 0: 16 (64 KiB clusters); 9..21 */
	/*
	 * A backing file (read-through for every cluster the new image does not
	 * hold): stored as given (relative paths resolve against the new image's
	 * folder).  backing_format is "raw", "qcow2" or NULL (probed).  The new
	 * image's size defaults to the backing file's when size is 0.
	 */
	const char *backing;
	const char *backing_format;
};

/*
 * Constructors.  The *_fd variants borrow (fd): close() leaves it open.  The
 * path variants own the fd they open.  On success *out is a new disk freed by
 * disk_close().
 */
int disk_raw_open(struct disk **out, const char *path, int flags);
int disk_raw_open_fd(struct disk **out, int fd, int flags);
/* Truncates (path) to size (sparse). */
int disk_raw_create(struct disk **out, const char *path, uint64_t size);
int disk_raw_create_fd(struct disk **out, int fd, uint64_t size);

int disk_qcow2_open(struct disk **out, const char *path, int flags);
int disk_qcow2_open_fd(struct disk **out, int fd, int flags, const char *path_for_backing);
/* O(1): header, one refcount table and block, an empty L1 table. */
int disk_qcow2_create(struct disk **out, const char *path, uint64_t size,
		      const struct disk_qcow2_opts *opts);
int disk_qcow2_create_fd(struct disk **out, int fd, uint64_t size,
			 const struct disk_qcow2_opts *opts);

/*
 * Open the file of a disk image: a regular file or a block device, never a
 * FIFO, socket or character device (opened without blocking, then refused).
 * Returns the fd (O_CLOEXEC) or a negative code with a message.
 */
int disk_open_file(const char *path, int flags);
/* Open (path) as raw or qcow2, found by its magic. */
int disk_open(struct disk **out, const char *path, int flags);
/* "qcow2" if (path) starts with the qcow2 magic, else "raw"; NULL on I/O error (message set). */
const char *disk_probe(const char *path);

/*
 * Copy every byte of (src) into (dst) (same size or larger), 1 MiB at a time,
 * skipping all-zero chunks so a sparse destination stays sparse: (dst) must
 * read as zeros before (a freshly created disk).
 */
int disk_copy(struct disk *dst, struct disk *src);

/* Platforms an image can be written for: qemu (qcow2), raw, vbox (VDI), vmw (VMDK), gce. */
bool disk_platform_valid(const char *platform);
/*
 * Write (src) for (platform) to the open file (out_fd) at (out_path): qcow2
 * and raw natively; VDI and VMDK by 'qemu-img convert' (which writes
 * out_path; -CAP_E_UNAVAIL without qemu-img); gce as a gzip'd tar holding
 * disk.raw (size rounded up to whole GiB, mtime in the tar entry).
 */
int disk_convert(struct disk *src, const char *platform, int out_fd, const char *out_path,
		 long long mtime);

static inline int disk_read(struct disk *d, void *buf, size_t len, uint64_t off)
{
	return d->ops->read(d, buf, len, off);
}
static inline int disk_write(struct disk *d, const void *buf, size_t len, uint64_t off)
{
	return d->ops->write(d, buf, len, off);
}
static inline int disk_commit(struct disk *d)
{
	return d->ops->commit(d);
}
static inline int disk_flush(struct disk *d)
{
	return d->ops->flush(d);
}
static inline uint64_t disk_size(const struct disk *d)
{
	return d->size;
}
/* NULL-safe. */
static inline void disk_close(struct disk *d)
{
	if (d)
		d->ops->close(d);
}

#endif
