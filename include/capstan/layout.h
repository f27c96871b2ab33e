/* SPDX-License-Identifier: BSD-3-Clause */
/* Writing and reading the raw image layout (MBR, cmdline, header, kernel, cpio root fs). */
#ifndef CAPSTAN_LAYOUT_H
#define CAPSTAN_LAYOUT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "capstan/disk.h"
#include "image.h"

/*
 * The root fs is built from a list of entries; a later entry for the same
 * guest path replaces the earlier one, and missing parent folders are added
 * (mode 0755).  A host path that is a folder is added recursively; modes and
 * symlinks are kept (symlinks are stored, not followed).
 */
struct rootfs;
struct rootfs *rootfs_new(void);
void rootfs_free(struct rootfs *rf);
/* guest: absolute or relative path in the image ("/bin/hello" or "bin/hello"). */
int rootfs_add_host(struct rootfs *rf, const char *guest, const char *host_path);
int rootfs_add_data(struct rootfs *rf, const char *guest, const void *data, size_t len,
		    unsigned mode);
int rootfs_add_dir(struct rootfs *rf, const char *guest, unsigned mode);
int rootfs_add_symlink(struct rootfs *rf, const char *guest, const char *target);
size_t rootfs_count(const struct rootfs *rf);
/*
 * The entries as layout_file records (mtime 0, host files by path), for
 * cpio_write(); *files is malloc'ed, release each with layout_file_release().
 */
struct layout_file;
void rootfs_files(const struct rootfs *rf, struct layout_file **files, size_t *n);

struct layout_spec {
	const char *kernel_path; /* the kernel ELF (with a PVH note) */
	const char *mbr_path;	 /* boot sector code (<= 512 bytes), or NULL for none */
	const char *cmdline;	 /* NUL-terminated, < CAP_IMG_CMDLINE_MAX bytes */
	const struct rootfs *rootfs;
	uint32_t flags; /* CAP_IMG_F_* */
};

/* Write a raw image to out_path atomically (temp file + rename), with layout_image_write_file(). */
int layout_write(const char *out_path, const struct layout_spec *spec);

/* The PVH load address and 32-bit entry of a kernel ELF held in memory. */
int layout_kernel_info(const void *elf, size_t len, uint32_t *load_addr, uint32_t *entry32);

struct layout_info {
	struct cap_img_header hdr;
	char cmdline[CAP_IMG_CMDLINE_MAX];
};
/* Read and check the header (magic, version, crc) and the cmdline of a raw image. */
int layout_read(const char *path, struct layout_info *info);
/* The kernel bytes (checked against kernel_crc32); *data is malloc'ed. */
int layout_read_kernel(const char *path, const struct layout_info *info, void **data, size_t *len);

struct layout_entry {
	const char *name; /* as stored: "bin/hello" */
	unsigned mode;	  /* with the file type bits */
	uint64_t size;
	const char *link; /* symlink target or NULL */
};
typedef int (*layout_entry_fn)(void *ctx, const struct layout_entry *e);
/* Walk the root fs entries (checked against rootfs_crc32); a nonzero fn return stops with it. */
int layout_list(const char *path, const struct layout_info *info, layout_entry_fn fn, void *ctx);

/*
 * ---- compose.c: images on any disk backend (qcow2 or raw), for 'capstan
 * build' and 'capstan info': a base image is read whole (boot sector, kernel,
 * root fs entries with their data), entries are merged in, and the result is
 * streamed onto a fresh disk.  This is the one writer and checker of the
 * format: layout_write() and layout_read*() above go through it.
 */

/* One root fs entry (a cpio "newc" member). */
struct layout_file {
	char *path;	     /* absolute guest path, "/bin/sh"; "/" is never stored */
	uint32_t mode;	     /* type (S_IFREG, S_IFDIR, S_IFLNK) and permission bits */
	int64_t mtime;	     /* seconds since the epoch */
	uint64_t size;	     /* regular file: bytes; symlink: bytes of the target */
	char *host;	     /* regular file read from this host path at write time, or */
	unsigned char *data; /* these bytes (entries read from an image); both NULL: empty */
	char *target;	     /* symlink target */
};
void layout_file_release(struct layout_file *f);

/* What an image holds.  Every pointer is owned; release with layout_image_release(). */
struct layout_image {
	unsigned char mbr[CAP_IMG_SECTOR]; /* boot code; the partition table is written by
					      layout_image_write */
	unsigned char *kernel;		   /* the kernel ELF file */
	size_t kernel_size;
	char kernel_version[32];
	uint32_t kernel_load_addr, kernel_entry32;
	uint32_t flags; /* CAP_IMG_F_* */
	char *cmdline;
	struct layout_file *files; /* root fs entries in archive order */
	size_t nfiles;
	uint64_t rootfs_size; /* bytes of the cpio archive (layout_image_read) */
	uint64_t disk_size;   /* from the header (layout_image_read) */
	/* Writing stops with -CAP_E_INTR once *interrupted is set (ctx->interrupted); NULL: never.
	 */
	const volatile sig_atomic_t *interrupted;
};
void layout_image_release(struct layout_image *img);

/*
 * Read and check an image: header (magic, version, checksum, extents inside
 * the disk), kernel and root fs checksums, and the cpio archive.  Errors:
 * -CAP_E_DATA with a message naming what is wrong.
 */
int layout_image_read(struct disk *d, struct layout_image *img);
/* Only the header, checked (for 'capstan info'). */
int layout_image_header(struct disk *d, struct cap_img_header *h);
/* The kernel bytes of a checked header, checked against kernel_crc32; *data is malloc'ed. */
int layout_image_read_kernel(struct disk *d, const struct cap_img_header *h, unsigned char **data,
			     size_t *len);
/* The root fs entries of a checked header, checked against rootfs_crc32 (release each entry). */
int layout_image_read_rootfs(struct disk *d, const struct cap_img_header *h,
			     struct layout_file **files, size_t *n);

/*
 * Fill img's kernel fields from a kernel ELF file and its boot code from an
 * MBR file (512 bytes ending in 55aa): load address from the PT_LOAD segments
 * (the file must be linked for whole-file loading), entry from the PVH note.
 */
int layout_image_kernel(struct layout_image *img, const char *kernel_path, const char *mbr_path,
			const char *version);

/*
 * Append (files) to img's root fs entries: an entry replaces an earlier one
 * of the same path (in its place, so the order stays stable), missing parent
 * folders are added (mode 0755, time mtime).  The entries are copied.
 */
void layout_image_merge(struct layout_image *img, const struct layout_file *files, size_t n,
			int64_t mtime);

/* Bytes of the disk layout_image_write() needs for img. */
uint64_t layout_image_size(const struct layout_image *img);
/*
 * Write img to (d), a fresh disk of at least layout_image_size(img) bytes:
 * boot sector with a partition entry for the root fs, cmdline, header,
 * kernel, root fs (host files are streamed in).  Nothing varies between runs.
 */
int layout_image_write(struct disk *d, const struct layout_image *img);
/*
 * The same for layout_write()'s raw files: the disk ends on a 1 MiB boundary,
 * partition 1 runs to the disk's end, and it is marked active (with 55aa
 * written) only when img->mbr ends in 55aa (an image may have no boot code).
 */
uint64_t layout_image_file_size(const struct layout_image *img);
int layout_image_write_file(struct disk *d, const struct layout_image *img);

/* ---- cpio.c: the cpio "newc" archive of a list of entries ---- */

/* Exact archive size for (files) (headers, names, data, padding, trailer). */
uint64_t cpio_size(const struct layout_file *files, size_t n);
/*
 * Write the archive at (off) on (d) with libarchive; *crc gets its zlib crc32.
 * Inode numbers are the entry's position, owners 0, nlink 1 (folders 2).
 * Stops at the next entry or 4 MiB chunk with -CAP_E_INTR once *intr is set
 * (intr may be NULL).
 */
int cpio_write(struct disk *d, uint64_t off, const struct layout_file *files, size_t n,
	       const volatile sig_atomic_t *intr, uint32_t *crc);
/* Parse an archive held in memory; entries' data are copied. */
int cpio_parse(const unsigned char *buf, size_t len, struct layout_file **files, size_t *n);

#endif
