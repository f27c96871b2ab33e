/* SPDX-License-Identifier: BSD-3-Clause */
/* The raw image layout: MBR, cmdline at 512, header at 32 KiB, kernel at 64 KiB, cpio root fs. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capstan/err.h"
#include "capstan/fs.h"
#include "capstan/layout.h"
#include "capstan/str.h"
#include "capstan/banned.h"

#define KERNEL_MAX (16u << 20)

static uint64_t align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) / a * a;
}
static uint16_t rd16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t rd32(const unsigned char *p)
{
	return rd16(p) | (uint32_t)rd16(p + 2) << 16;
}
static uint64_t rd64(const unsigned char *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* Find the Xen PHYS32_ENTRY note in [off, off+size). */
static int pvh_note(const unsigned char *b, size_t len, uint64_t off, uint64_t size,
		    uint32_t *entry)
{
	if (off > len || size > len - off)
		return -1;
	const unsigned char *p = b + off, *end = b + off + size;
	while (end - p >= 12) {
		uint32_t namesz = rd32(p), descsz = rd32(p + 4), type = rd32(p + 8);
		uint64_t nlen = align_up(namesz, 4), dlen = align_up(descsz, 4);
		if (nlen > (uint64_t)(end - p - 12) || dlen > (uint64_t)(end - p - 12) - nlen)
			return -1;
		if (namesz == 4 && !memcmp(p + 12, "Xen", 4) && type == 18 &&
		    (descsz == 4 || descsz == 8)) {
			uint64_t v = descsz == 8 ? rd64(p + 12 + nlen) : rd32(p + 12 + nlen);
			if (v > 0xffffffffu)
				return -1;
			*entry = (uint32_t)v;
			return 0;
		}
		p += 12 + nlen + dlen;
	}
	return 1;
}

int layout_kernel_info(const void *elf, size_t len, uint32_t *load_addr, uint32_t *entry32)
{
	const unsigned char *b = elf;
	bool have_load = false, have_entry = false;
	uint64_t delta = 0;
	if (len < 64 || memcmp(b, "\177ELF", 4) || b[4] != 2 || b[5] != 1 || rd16(b + 18) != 62)
		return cap_errf(CAP_E_DATA, "kernel: not an x86-64 ELF64 file");
	uint64_t phoff = rd64(b + 32);
	uint16_t phnum = rd16(b + 56), phentsize = rd16(b + 54);
	if (phentsize != 56 || phoff > len || (uint64_t)phnum * 56 > len - phoff)
		return cap_errf(CAP_E_DATA, "kernel: bad program header table");
	for (uint16_t i = 0; i < phnum; i++) {
		const unsigned char *p = b + phoff + 56u * i;
		uint32_t type = rd32(p);
		uint64_t offset = rd64(p + 8), paddr = rd64(p + 24), filesz = rd64(p + 32);
		if (type == 1 && filesz) {
			if (paddr < offset)
				return cap_errf(CAP_E_DATA,
						"kernel: segment %u is below its file offset", i);
			if (have_load && paddr - offset != delta)
				return cap_errf(CAP_E_DATA,
						"kernel: segments are not laid out as in the file "
						"(p_paddr - p_offset differs)");
			delta = paddr - offset;
			have_load = true;
		} else if (type == 4 && !have_entry) {
			int r = pvh_note(b, len, offset, filesz, entry32);
			if (r < 0)
				return cap_errf(CAP_E_DATA, "kernel: malformed ELF note");
			have_entry = r == 0;
		}
	}
	if (!have_load)
		return cap_errf(CAP_E_DATA, "kernel: no loadable segment");
	if (!have_entry)
		return cap_errf(CAP_E_DATA, "kernel: no PVH entry note (Xen, type 18)");
	if (delta + len > 0xffffffffu)
		return cap_errf(CAP_E_DATA, "kernel: load address above 4 GiB");
	*load_addr = (uint32_t)delta;
	return 0;
}

/* The image is composed as by 'capstan build' (compose.c), onto a raw file. */
int layout_write(const char *out_path, const struct layout_spec *spec)
{
	struct fs_tmp t = {-1, NULL, NULL};
	struct layout_image img;
	struct disk *d = NULL;
	char *kernel = NULL, *mbr = NULL;
	size_t klen = 0, mlen = 0;
	int r;

	memset(&img, 0, sizeof(img));
	size_t clen = spec->cmdline ? strlen(spec->cmdline) : 0;
	if (clen >= CAP_IMG_CMDLINE_MAX)
		return cap_errf(CAP_E_DATA, "command line too long (%zu bytes, at most %u)", clen,
				CAP_IMG_CMDLINE_MAX - 1);
	if ((r = fs_read_all(spec->kernel_path, &kernel, &klen)))
		return r;
	if (klen > KERNEL_MAX) {
		r = cap_errf(CAP_E_DATA, "%s: kernel larger than %u MiB", spec->kernel_path,
			     KERNEL_MAX >> 20);
		goto out;
	}
	if ((r = layout_kernel_info(kernel, klen, &img.kernel_load_addr, &img.kernel_entry32))) {
		cap_errctx(r, "%s", spec->kernel_path);
		goto out;
	}
	if (spec->mbr_path) {
		if ((r = fs_read_all(spec->mbr_path, &mbr, &mlen)))
			goto out;
		if (mlen > 512 || (mlen > 446 && mlen < 512)) {
			r = cap_errf(
			    CAP_E_DATA,
			    "%s: boot sector code is %zu bytes (at most 446, or a 512-byte sector)",
			    spec->mbr_path, mlen);
			goto out;
		}
		memcpy(img.mbr, mbr, mlen > 446 ? 446 : mlen);
		img.mbr[510] = 0x55;
		img.mbr[511] = 0xaa;
	}
	img.kernel = (unsigned char *)kernel;
	img.kernel_size = klen;
	kernel = NULL;
	strlcpy_(img.kernel_version, CAPSTAN_VERSION, sizeof(img.kernel_version));
	img.flags = spec->flags;
	img.cmdline = xstrdup(spec->cmdline ? spec->cmdline : "");
	rootfs_files(spec->rootfs, &img.files, &img.nfiles);

	if ((r = fs_tmp_open(&t, out_path, 0644)))
		goto out;
	if ((r = disk_raw_create_fd(&d, t.fd, layout_image_file_size(&img))) ||
	    (r = layout_image_write_file(d, &img))) {
		cap_errctx(r, "%s", out_path);
		goto out;
	}
	disk_close(d);
	d = NULL;
	r = fs_tmp_commit(&t);
	t.fd = -1;
out:
	if (d)
		disk_close(d);
	if (t.fd >= 0)
		fs_tmp_abort(&t);
	layout_image_release(&img);
	free(kernel);
	free(mbr);
	return r;
}

/* The reading side goes through compose.c's checks on a raw disk of the file. */
int layout_read(const char *path, struct layout_info *info)
{
	struct disk *d = NULL;
	int r;

	if ((r = disk_raw_open(&d, path, 0)))
		return r;
	if ((r = layout_image_header(d, &info->hdr))) {
		cap_errctx(r, "%s", path);
		goto out;
	}
	const struct cap_img_header *x = &info->hdr;
	/* stricter than 'capstan info': the layout this writer produces */
	if (x->kernel_offset != CAP_IMG_KERNEL_OFFSET || x->kernel_size > KERNEL_MAX ||
	    x->rootfs_offset % CAP_IMG_ROOTFS_ALIGN ||
	    x->rootfs_offset < x->kernel_offset + x->kernel_size || x->rootfs_size > x->disk_size ||
	    x->rootfs_offset > x->disk_size - x->rootfs_size) {
		r = cap_errf(CAP_E_DATA,
			     "%s: image header extents are inconsistent or the file is truncated",
			     path);
		goto out;
	}
	if (disk_read(d, info->cmdline, sizeof(info->cmdline), CAP_IMG_CMDLINE_OFFSET) ||
	    !memchr(info->cmdline, 0, sizeof(info->cmdline))) {
		r = cap_errf(CAP_E_DATA, "%s: command line at byte %u is not NUL-terminated", path,
			     CAP_IMG_CMDLINE_OFFSET);
		goto out;
	}
out:
	disk_close(d);
	return r;
}

int layout_read_kernel(const char *path, const struct layout_info *info, void **data, size_t *len)
{
	struct disk *d = NULL;
	unsigned char *k;
	int r;

	if ((r = disk_raw_open(&d, path, 0)))
		return r;
	if ((r = layout_image_read_kernel(d, &info->hdr, &k, len)))
		cap_errctx(r, "%s", path);
	else
		*data = k;
	disk_close(d);
	return r;
}

int layout_list(const char *path, const struct layout_info *info, layout_entry_fn fn, void *ctx)
{
	struct disk *d = NULL;
	struct layout_file *files = NULL;
	size_t n = 0;
	int r;

	if ((r = disk_raw_open(&d, path, 0)))
		return r;
	if ((r = layout_image_read_rootfs(d, &info->hdr, &files, &n)))
		cap_errctx(r, "%s", path);
	for (size_t i = 0; !r && i < n; i++) {
		const struct layout_file *f = &files[i];
		struct layout_entry e = {f->path + 1, f->mode, S_ISDIR(f->mode) ? 0 : f->size,
					 f->target};
		r = fn(ctx, &e);
	}
	for (size_t i = 0; i < n; i++)
		layout_file_release(&files[i]);
	free(files);
	disk_close(d);
	return r;
}
