/* SPDX-License-Identifier: BSD-3-Clause */
/* Writing and reading the raw image layout (MBR, cmdline, header, kernel, cpio root fs). */
#ifndef CAPSTAN_LAYOUT_H
#define CAPSTAN_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

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
int rootfs_add_data(struct rootfs *rf, const char *guest, const void *data, size_t len, unsigned mode);
int rootfs_add_dir(struct rootfs *rf, const char *guest, unsigned mode);
int rootfs_add_symlink(struct rootfs *rf, const char *guest, const char *target);
size_t rootfs_count(const struct rootfs *rf);
/*
 * Write the archive (cpio newc via libarchive) to fd at offset off.
 * Sets *size (bytes), *crc (zlib crc32) and *entries (trailer excluded).
 */
int rootfs_write(const struct rootfs *rf, int fd, uint64_t off, uint64_t *size, uint32_t *crc, uint32_t *entries);

struct layout_spec {
	const char *kernel_path;  /* the kernel ELF (with a PVH note) */
	const char *mbr_path;     /* boot sector code (<= 512 bytes), or NULL for none */
	const char *cmdline;      /* NUL-terminated, < CAP_IMG_CMDLINE_MAX bytes */
	const struct rootfs *rootfs;
	uint32_t flags;           /* CAP_IMG_F_* */
};

/* Write a raw image to out_path atomically (temp file + rename). */
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
	const char *name;   /* as stored: "bin/hello" */
	unsigned mode;      /* with the file type bits */
	uint64_t size;
	const char *link;   /* symlink target or NULL */
};
typedef int (*layout_entry_fn)(void *ctx, const struct layout_entry *e);
/* Walk the root fs entries (checked against rootfs_crc32); a nonzero fn return stops with it. */
int layout_list(const char *path, const struct layout_info *info, layout_entry_fn fn, void *ctx);

#endif
