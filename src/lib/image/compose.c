// SPDX-License-Identifier: BSD-3-Clause
// compose.c: images (include/capstan/image.h) read from and written to any disk backend.
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "capstan/err.h"
#include "capstan/fs.h"
#include "capstan/image.h"
#include "capstan/layout.h"
#include "capstan/str.h"
#include "capstan/banned.h"

#define KERNEL_MAX (64u << 20)	/* refuse larger kernels when reading an image */
#define ROOTFS_MAX (1ull << 31) /* a base root fs is read into memory */
#define DISK_ALIGN (64u * 1024u)

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

void layout_file_release(struct layout_file *f)
{
	free(f->path);
	free(f->host);
	free(f->data);
	free(f->target);
	memset(f, 0, sizeof(*f));
}

void layout_image_release(struct layout_image *img)
{
	for (size_t i = 0; i < img->nfiles; i++)
		layout_file_release(&img->files[i]);
	free(img->files);
	free(img->kernel);
	free(img->cmdline);
	memset(img, 0, sizeof(*img));
}

static uint32_t header_crc(const struct cap_img_header *h)
{
	struct cap_img_header c = *h;

	c.header_crc32 = 0;
	return (uint32_t)crc32(0, (const unsigned char *)&c, sizeof(c));
}

static int not_ours(const char *why)
{
	return cap_errf(CAP_E_DATA, "not a capstan image: %s", why);
}

int layout_image_header(struct disk *d, struct cap_img_header *h)
{
	int ret;

	if (disk_size(d) < CAP_IMG_HEADER_OFFSET + sizeof(*h))
		return not_ours("too small for an image header");
	if ((ret = disk_read(d, h, sizeof(*h), CAP_IMG_HEADER_OFFSET)))
		return ret;
	if (memcmp(h->magic, CAP_IMG_MAGIC, 8))
		return not_ours("no image header at 32 KiB");
	if (h->version != CAP_IMG_VERSION)
		return cap_errf(CAP_E_DATA,
				"image header version %u is not supported (this capstan reads %u)",
				h->version, CAP_IMG_VERSION);
	if (h->header_size != sizeof(*h) || h->header_crc32 != header_crc(h))
		return cap_errf(CAP_E_DATA, "image header is damaged (bad size or checksum)");
	if (h->kernel_offset > disk_size(d) || h->kernel_size > disk_size(d) - h->kernel_offset ||
	    h->rootfs_offset > disk_size(d) || h->rootfs_size > disk_size(d) - h->rootfs_offset)
		return cap_errf(CAP_E_DATA,
				"image header: kernel or root fs extends past the end of the disk");
	if (h->kernel_version[sizeof(h->kernel_version) - 1] != '\0')
		return cap_errf(CAP_E_DATA, "image header: kernel_version is not NUL-terminated");
	return 0;
}

int layout_image_read_kernel(struct disk *d, const struct cap_img_header *h, unsigned char **data,
			     size_t *len)
{
	unsigned char *k;
	int ret;

	if (h->kernel_size == 0 || h->kernel_size > KERNEL_MAX)
		return cap_errf(CAP_E_DATA, "image kernel size %llu out of range",
				(unsigned long long)h->kernel_size);
	k = xmalloc(h->kernel_size);
	if ((ret = disk_read(d, k, h->kernel_size, h->kernel_offset)))
		goto fail;
	if ((uint32_t)crc32(0, k, (uInt)h->kernel_size) != h->kernel_crc32) {
		ret = cap_errf(CAP_E_DATA, "image kernel checksum mismatch");
		goto fail;
	}
	*data = k;
	*len = h->kernel_size;
	return 0;
fail:
	free(k);
	return ret;
}

int layout_image_read_rootfs(struct disk *d, const struct cap_img_header *h,
			     struct layout_file **files, size_t *n)
{
	unsigned char *rootfs;
	int ret;

	if (h->rootfs_size > ROOTFS_MAX)
		return cap_errf(CAP_E_DATA, "image root fs of %llu bytes is too large to read",
				(unsigned long long)h->rootfs_size);
	rootfs = xmalloc(h->rootfs_size ? h->rootfs_size : 1);
	if ((ret = disk_read(d, rootfs, h->rootfs_size, h->rootfs_offset)))
		goto out;
	if ((uint32_t)crc32_z(0, rootfs, h->rootfs_size) != h->rootfs_crc32) {
		ret = cap_errf(CAP_E_DATA, "image root fs checksum mismatch");
		goto out;
	}
	ret = cpio_parse(rootfs, h->rootfs_size, files, n);
out:
	free(rootfs);
	return ret;
}

int layout_image_read(struct disk *d, struct layout_image *img)
{
	struct cap_img_header h;
	char *cmd = NULL;
	int ret;

	memset(img, 0, sizeof(*img));
	if ((ret = layout_image_header(d, &h)))
		return ret;
	if ((ret = disk_read(d, img->mbr, sizeof(img->mbr), 0)))
		goto fail;
	cmd = xmalloc(CAP_IMG_CMDLINE_MAX);
	if ((ret = disk_read(d, cmd, CAP_IMG_CMDLINE_MAX, CAP_IMG_CMDLINE_OFFSET)))
		goto fail;
	if (!memchr(cmd, '\0', CAP_IMG_CMDLINE_MAX)) {
		ret = cap_errf(CAP_E_DATA, "image cmdline is not NUL-terminated");
		goto fail;
	}
	img->cmdline = xstrdup(cmd);
	if ((ret = layout_image_read_kernel(d, &h, &img->kernel, &img->kernel_size)))
		goto fail;
	if ((ret = layout_image_read_rootfs(d, &h, &img->files, &img->nfiles)))
		goto fail;
	memcpy(img->kernel_version, h.kernel_version, sizeof(img->kernel_version));
	img->kernel_load_addr = h.kernel_load_addr;
	img->kernel_entry32 = h.kernel_entry32;
	img->flags = h.flags;
	img->rootfs_size = h.rootfs_size;
	img->disk_size = h.disk_size;
	goto out;
fail:
	layout_image_release(img);
out:
	free(cmd);
	return ret;
}

/* ---- the kernel ELF file ---- */

int layout_image_kernel(struct layout_image *img, const char *kernel_path, const char *mbr_path,
			const char *version)
{
	char *mbr = NULL, *k = NULL;
	size_t mlen, klen;
	int ret;

	if ((ret = fs_read_all(mbr_path, &mbr, &mlen))) {
		ret = cap_errnof(ret, "cannot read boot sector '%s'", mbr_path);
		goto out;
	}
	if (mlen != CAP_IMG_SECTOR || (unsigned char)mbr[510] != 0x55 ||
	    (unsigned char)mbr[511] != 0xaa) {
		ret = cap_errf(CAP_E_DATA, "boot sector '%s' is not 512 bytes ending in 55aa",
			       mbr_path);
		goto out;
	}
	if ((ret = fs_read_all(kernel_path, &k, &klen))) {
		ret = cap_errnof(ret, "cannot read kernel '%s'", kernel_path);
		goto out;
	}
	if ((ret = layout_kernel_info(k, klen, &img->kernel_load_addr, &img->kernel_entry32))) {
		cap_errctx(ret, "%s", kernel_path);
		goto out;
	}
	memcpy(img->mbr, mbr, CAP_IMG_SECTOR);
	free(img->kernel);
	img->kernel = (unsigned char *)k;
	img->kernel_size = klen;
	k = NULL;
	strlcpy_(img->kernel_version, version, sizeof(img->kernel_version));
out:
	free(mbr);
	free(k);
	return ret;
}

/* ---- merging entries ---- */

struct index {
	size_t *slot; /* entry position + 1, 0 empty */
	size_t cap;
};

static size_t hash_path(const char *s)
{
	size_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static size_t *index_find(struct index *ix, const struct layout_file *v, const char *path)
{
	size_t i = hash_path(path) & (ix->cap - 1);

	while (ix->slot[i] && strcmp(v[ix->slot[i] - 1].path, path))
		i = (i + 1) & (ix->cap - 1);
	return &ix->slot[i];
}

static void copy_file(struct layout_file *dst, const struct layout_file *src)
{
	*dst = *src;
	dst->path = xstrdup(src->path);
	dst->host = src->host ? xstrdup(src->host) : NULL;
	dst->target = src->target ? xstrdup(src->target) : NULL;
	dst->data = NULL;
	if (src->data) {
		dst->data = xmalloc(src->size ? src->size : 1);
		memcpy(dst->data, src->data, src->size);
	}
}

void layout_image_merge(struct layout_image *img, const struct layout_file *files, size_t n,
			int64_t mtime)
{
	size_t total = img->nfiles + 2 * n + 1, cap = 64;
	struct index ix;

	while (cap < 2 * total)
		cap *= 2;
	ix.cap = cap;
	ix.slot = xcalloc(cap, sizeof(size_t));
	/* room for every new entry plus its parents (at most one new parent per path component) */
	size_t room = img->nfiles + n;
	for (size_t i = 0; i < n; i++)
		for (const char *p = files[i].path + 1; *p; p++)
			room += *p == '/';
	img->files = xrealloc(img->files, (room ? room : 1) * sizeof(*img->files));
	for (size_t i = 0; i < img->nfiles; i++)
		*index_find(&ix, img->files, img->files[i].path) = i + 1;
	for (size_t i = 0; i < n; i++) {
		const struct layout_file *f = &files[i];
		/* parents first: "/a/b/c" needs "/a" and "/a/b" */
		for (const char *p = strchr(f->path + 1, '/'); p; p = strchr(p + 1, '/')) {
			char *dir = xstrndup(f->path, (size_t)(p - f->path));
			size_t *s = index_find(&ix, img->files, dir);
			if (*s) {
				free(dir);
				continue;
			}
			struct layout_file *e = &img->files[img->nfiles];
			memset(e, 0, sizeof(*e));
			e->path = dir;
			e->mode = S_IFDIR | 0755;
			e->mtime = mtime;
			*s = ++img->nfiles;
		}
		size_t *s = index_find(&ix, img->files, f->path);
		if (*s) {
			layout_file_release(&img->files[*s - 1]);
			copy_file(&img->files[*s - 1], f);
		} else {
			copy_file(&img->files[img->nfiles], f);
			*s = ++img->nfiles;
		}
	}
	free(ix.slot);
}

/* ---- writing ---- */

static uint64_t rootfs_offset(const struct layout_image *img)
{
	return align_up(CAP_IMG_KERNEL_OFFSET + img->kernel_size, CAP_IMG_ROOTFS_ALIGN);
}

/* file: layout_write()'s raw files, whose disk ends on a 1 MiB boundary */
static uint64_t image_size(const struct layout_image *img, bool file)
{
	return align_up(rootfs_offset(img) + cpio_size(img->files, img->nfiles),
			file ? CAP_IMG_ROOTFS_ALIGN : DISK_ALIGN);
}

uint64_t layout_image_size(const struct layout_image *img)
{
	return image_size(img, false);
}

uint64_t layout_image_file_size(const struct layout_image *img)
{
	return image_size(img, true);
}

static void put32le(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static int write_image(struct disk *d, const struct layout_image *img, bool file)
{
	const uint64_t roff = rootfs_offset(img), rsize = cpio_size(img->files, img->nfiles);
	const uint64_t need = image_size(img, file);
	/* a raw file's partition runs to the disk's end; its boot sector may be absent (no 55aa) */
	const bool boot = !file || (img->mbr[510] == 0x55 && img->mbr[511] == 0xaa);
	const uint64_t psize = file ? need - roff : align_up(rsize, CAP_IMG_SECTOR);
	struct cap_img_header h;
	unsigned char *head = NULL;
	uint32_t rcrc = 0;
	size_t clen = img->cmdline ? strlen(img->cmdline) : 0;
	int ret;

	if (!img->kernel_size)
		return cap_errf(EINVAL, "image has no kernel");
	if (clen >= CAP_IMG_CMDLINE_MAX)
		return cap_errf(CAP_E_DATA, "cmdline of %zu bytes is longer than %u", clen,
				CAP_IMG_CMDLINE_MAX - 1);
	if (disk_size(d) < need)
		return cap_errf(EINVAL, "disk of %llu bytes is smaller than the image (%llu)",
				(unsigned long long)disk_size(d), (unsigned long long)need);
	if (roff / CAP_IMG_SECTOR > 0xffffffffu || psize / CAP_IMG_SECTOR > 0xffffffffu)
		return cap_errf(EFBIG, "root fs too large for an MBR partition");
	if ((ret = disk_write(d, img->kernel, img->kernel_size, CAP_IMG_KERNEL_OFFSET)))
		return ret;
	if ((ret = cpio_write(d, roff, img->files, img->nfiles, img->interrupted, &rcrc)))
		return ret;

	/* the first 64 KiB last: boot sector, partition entry, cmdline, header */
	head = xcalloc(1, CAP_IMG_KERNEL_OFFSET);
	memcpy(head, img->mbr, 446);
	unsigned char *pe = head + 446;
	pe[0] = boot ? 0x80 : 0;		  /* active */
	pe[1] = 0xfe, pe[2] = 0xff, pe[3] = 0xff; /* CHS: use the LBA fields */
	pe[4] = CAP_IMG_MBR_PART_TYPE;
	pe[5] = 0xfe, pe[6] = 0xff, pe[7] = 0xff;
	put32le(pe + 8, (uint32_t)(roff / CAP_IMG_SECTOR));
	put32le(pe + 12, (uint32_t)(psize / CAP_IMG_SECTOR));
	if (boot) {
		head[510] = 0x55;
		head[511] = 0xaa;
	}
	if (clen)
		memcpy(head + CAP_IMG_CMDLINE_OFFSET, img->cmdline, clen);

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, CAP_IMG_MAGIC, 8);
	h.version = CAP_IMG_VERSION;
	h.header_size = sizeof(h);
	h.kernel_offset = CAP_IMG_KERNEL_OFFSET;
	h.kernel_size = img->kernel_size;
	h.rootfs_offset = roff;
	h.rootfs_size = rsize;
	h.disk_size = need;
	h.kernel_crc32 = (uint32_t)crc32(0, img->kernel, (uInt)img->kernel_size);
	h.rootfs_crc32 = rcrc;
	h.rootfs_entries = (uint32_t)img->nfiles;
	h.flags = img->flags;
	memcpy(h.kernel_version, img->kernel_version, sizeof(h.kernel_version));
	h.kernel_version[sizeof(h.kernel_version) - 1] = '\0';
	h.kernel_load_addr = img->kernel_load_addr;
	h.kernel_entry32 = img->kernel_entry32;
	h.header_crc32 = header_crc(&h);
	memcpy(head + CAP_IMG_HEADER_OFFSET, &h, sizeof(h));
	ret = disk_write(d, head, CAP_IMG_KERNEL_OFFSET, 0);
	free(head);
	return ret;
}

int layout_image_write(struct disk *d, const struct layout_image *img)
{
	return write_image(d, img, false);
}

int layout_image_write_file(struct disk *d, const struct layout_image *img)
{
	return write_image(d, img, true);
}
