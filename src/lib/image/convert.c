// SPDX-License-Identifier: BSD-3-Clause
// convert.c: writing a disk out for a platform: qcow2 and raw natively, VDI and
// VMDK through qemu-img, and Google Compute Engine's disk.raw in a tar.gz.
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capstan/disk.h"
#include "capstan/err.h"
#include "lazylib.h"
#include "capstan/proc.h"
#include "capstan/str.h"
#include "capstan/banned.h"

#define GIB (1ull << 30)

bool disk_platform_valid(const char *platform)
{
	static const char *const all[] = {"qemu", "raw", "vbox", "vmw", "gce"};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(platform, all[i]))
			return true;
	return false;
}

static int native(struct disk *src, int fd, bool qcow2)
{
	struct disk *dst = NULL;
	int ret = qcow2 ? disk_qcow2_create_fd(&dst, fd, src->size, NULL)
			: disk_raw_create_fd(&dst, fd, src->size);

	if (!ret)
		ret = disk_copy(dst, src);
	if (!ret)
		ret = disk_commit(dst);
	disk_close(dst);
	return ret;
}

static int via_qemu_img(struct disk *src, const char *fmt, const char *out_path)
{
	char *tmp = xasprintf("%s.src.qcow2", out_path);
	struct strbuf out = STRBUF_INIT;
	struct disk *mid = NULL;
	int ret = disk_qcow2_create(&mid, tmp, src->size, NULL);

	if (!ret)
		ret = disk_copy(mid, src);
	if (!ret)
		ret = disk_commit(mid);
	disk_close(mid);
	if (ret)
		goto out;
	const char *argv[] = {"qemu-img", "convert", "-f", "qcow2", "-O", fmt, tmp, out_path, NULL};
	ret = proc_run(argv, NULL, &out);
	if (ret == -ENOENT || (ret < 0 && strstr(cap_errmsg(ret), "No such file")))
		ret = cap_errf(CAP_E_UNAVAIL, "qemu-img not found: it converts images to %s", fmt);
	else if (ret > 0) {
		while (out.len && out.buf[out.len - 1] == '\n')
			out.buf[--out.len] = '\0';
		ret = cap_errf(CAP_E_CHILD, "qemu-img convert to %s failed (exit status %d): %s",
			       fmt, ret, out.len ? out.buf : "no output");
	}
out:
	unlink(tmp);
	free(tmp);
	sb_release(&out);
	return ret;
}

/*
 * GCE imports a gzip'd tar holding one file, disk.raw, whose size is a whole
 * number of GiB.  The image is read through once, the tail padded with zeros.
 */
static int gce(struct disk *src, int fd, long long mtime)
{
	struct archive *a;
	struct archive_entry *e;
	const size_t chunk = 1u << 20;
	unsigned char *buf;
	uint64_t size = (src->size + GIB - 1) / GIB * GIB;
	int ret = cap_archive_load();

	if (ret)
		return ret;
	a = cap_archive.archive_write_new();
	e = cap_archive.archive_entry_new();
	buf = xcalloc(1, chunk);
	if (!size)
		size = GIB;
	cap_archive.archive_write_set_format_gnutar(a);
	cap_archive.archive_write_add_filter_gzip(a);
	/* no name or time in the gzip header: the same disk gives the same bytes */
	cap_archive.archive_write_set_filter_option(a, "gzip", "timestamp", NULL);
	if (cap_archive.archive_write_open_fd(a, fd) != ARCHIVE_OK)
		goto lib_error;
	cap_archive.archive_entry_set_pathname(e, "disk.raw");
	cap_archive.archive_entry_set_filetype(e, AE_IFREG);
	cap_archive.archive_entry_set_perm(e, 0644);
	cap_archive.archive_entry_set_size(e, (la_int64_t)size);
	cap_archive.archive_entry_set_mtime(e, mtime, 0);
	cap_archive.archive_entry_set_uname(e, "root");
	cap_archive.archive_entry_set_gname(e, "root");
	if (cap_archive.archive_write_header(a, e) != ARCHIVE_OK)
		goto lib_error;
	for (uint64_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? (size_t)(size - off) : chunk;
		if (off < src->size) {
			size_t m = src->size - off < n ? (size_t)(src->size - off) : n;
			ret = disk_read(src, buf, m, off);
			if (ret)
				goto out;
			memset(buf + m, 0, n - m);
		} else if (off < src->size + chunk) {
			memset(buf, 0, chunk);
		}
		if (cap_archive.archive_write_data(a, buf, n) != (la_ssize_t)n)
			goto lib_error;
	}
	if (cap_archive.archive_write_close(a) != ARCHIVE_OK)
		goto lib_error;
	goto out;
lib_error:
	ret = cap_errf(EIO, "writing the gce archive: %s",
		       cap_archive.archive_error_string(a) ? cap_archive.archive_error_string(a)
							   : "failed");
out:
	cap_archive.archive_entry_free(e);
	cap_archive.archive_write_free(a);
	free(buf);
	return ret;
}

int disk_convert(struct disk *src, const char *platform, int out_fd, const char *out_path,
		 long long mtime)
{
	if (!strcmp(platform, "qemu"))
		return native(src, out_fd, true);
	if (!strcmp(platform, "raw"))
		return native(src, out_fd, false);
	if (!strcmp(platform, "vbox"))
		return via_qemu_img(src, "vdi", out_path);
	if (!strcmp(platform, "vmw"))
		return via_qemu_img(src, "vmdk", out_path);
	if (!strcmp(platform, "gce"))
		return gce(src, out_fd, mtime);
	return cap_errf(CAP_E_USAGE, "unknown platform '%s' (qemu, raw, vbox, vmw, gce)", platform);
}
