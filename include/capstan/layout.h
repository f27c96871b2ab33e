/* SPDX-License-Identifier: BSD-3-Clause */
/* Writing and reading our image layout (image.h) on a disk: MBR, cmdline, header, kernel, root fs. */
#ifndef CAPSTAN_LAYOUT_H
#define CAPSTAN_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "capstan/disk.h"
#include "capstan/image.h"

/* One root fs entry (a cpio "newc" member). */
struct layout_file {
	char *path;          /* absolute guest path, "/bin/sh"; "/" is never stored */
	uint32_t mode;       /* type (S_IFREG, S_IFDIR, S_IFLNK) and permission bits */
	int64_t mtime;       /* seconds since the epoch */
	uint64_t size;       /* regular file: bytes; symlink: bytes of the target */
	char *host;          /* regular file read from this host path at write time, or */
	unsigned char *data; /* these bytes (entries read from an image); both NULL: empty */
	char *target;        /* symlink target */
};
void layout_file_release(struct layout_file *f);

/* What an image holds.  Every pointer is owned; release with layout_image_release(). */
struct layout_image {
	unsigned char mbr[CAP_IMG_SECTOR]; /* boot code; the partition table is written by layout_write */
	unsigned char *kernel;             /* the kernel ELF file */
	size_t kernel_size;
	char kernel_version[32];
	uint32_t kernel_load_addr, kernel_entry32;
	uint32_t flags;                    /* CAP_IMG_F_* */
	char *cmdline;
	struct layout_file *files;         /* root fs entries in archive order */
	size_t nfiles;
	uint64_t rootfs_size;              /* bytes of the cpio archive (layout_read) */
	uint64_t disk_size;                /* from the header (layout_read) */
};
void layout_image_release(struct layout_image *img);

/*
 * Read and check an image: header (magic, version, checksum, extents inside
 * the disk), kernel and root fs checksums, and the cpio archive.  Errors:
 * -CAP_E_DATA with a message naming what is wrong.
 */
int layout_read(struct disk *d, struct layout_image *img);
/* Only the header, checked (for 'capstan info'). */
int layout_read_header(struct disk *d, struct cap_img_header *h);

/*
 * Fill img's kernel fields from a kernel ELF file and its boot code from an
 * MBR file (512 bytes ending in 55aa): load address from the PT_LOAD segments
 * (the file must be linked for whole-file loading), entry from the PVH note.
 */
int layout_load_kernel(struct layout_image *img, const char *kernel_path, const char *mbr_path,
		       const char *version);

/*
 * Append (files) to img's root fs entries: an entry replaces an earlier one
 * of the same path (in its place, so the order stays stable), missing parent
 * folders are added (mode 0755, time mtime).  The entries are copied.
 */
void layout_merge(struct layout_image *img, const struct layout_file *files, size_t n, int64_t mtime);

/* Bytes of the disk layout_write() needs for img. */
uint64_t layout_disk_size(const struct layout_image *img);
/*
 * Write img to (d), a fresh disk of at least layout_disk_size(img) bytes:
 * boot sector with a partition entry for the root fs, cmdline, header,
 * kernel, root fs (host files are streamed in).  Nothing varies between runs.
 */
int layout_write(struct disk *d, const struct layout_image *img);

/* ---- rootfs.c: the cpio "newc" archive ---- */

/* Exact archive size for (files) (headers, names, data, padding, trailer). */
uint64_t rootfs_size(const struct layout_file *files, size_t n);
/*
 * Write the archive at (off) on (d) with libarchive; *crc gets its zlib crc32.
 * Inode numbers are the entry's position, owners 0, nlink 1 (folders 2).
 */
int rootfs_write(struct disk *d, uint64_t off, const struct layout_file *files, size_t n, uint32_t *crc);
/* Parse an archive held in memory; entries' data are copied. */
int rootfs_parse(const unsigned char *buf, size_t len, struct layout_file **files, size_t *n);

#endif
