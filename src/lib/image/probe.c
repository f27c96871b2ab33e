// SPDX-License-Identifier: BSD-3-Clause
// Image format detection by magic, and native parsing of qcow2, VDI and VMDK headers.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capstan/disk.h"
#include "capstan/err.h"
#include "capstan/fs.h"
#include "capstan/probe.h"
#include "capstan/str.h"
#include "capstan/banned.h"

#define PROBE_FIRST	      (64u << 10) /* first read: every header but a large qcow2 cluster */
#define QCOW2_V2_LEN	      72
#define QCOW2_V3_LEN	      104
#define QCOW2_MAX_L1	      (32u << 20) /* bytes, as QEMU */
#define QCOW2_EXT_BACKING_FMT 0xe2792acau
#define QCOW2_KNOWN_INCOMPAT  0x1fu
#define VDI_SIGNATURE	      0xbeda107fu
#define VDI_HEADER_END	      0x188
#define VMDK_HEADER_LEN	      512
#define VMDK_DESC_MAGIC	      "# Disk DescriptorFile"

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p + 4) << 32 | le32(p);
}

static int bad(const char *name, const char *fmt, const char *what, ...)
    __attribute__((format(printf, 3, 4)));

/* "'<name>': <fmt> header: <what>" */
static int bad(const char *name, const char *fmt, const char *what, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, what);
	vsnprintf(msg, sizeof(msg), what, ap);
	va_end(ap);
	return cap_errf(CAP_E_DATA, "'%s': %s header: %s", name, fmt, msg);
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Backing file name and header extensions: all inside the first cluster. */
static int qcow2_tail(const uint8_t *b, size_t len, uint64_t fsize, const char *name,
		      uint64_t hdr_len, uint64_t cluster, struct probe_info *in, size_t *need)
{
	uint64_t boff = be64(b + 8), bsize = be32(b + 16);
	uint64_t avail = min64(cluster, fsize);
	uint64_t pos = hdr_len;

	if (boff) {
		if (bsize == 0 || bsize > 1023)
			return bad(name, "qcow2",
				   "backing_file_size %" PRIu64 " is out of range (1..1023)",
				   bsize);
		if (boff < hdr_len || boff > cluster || bsize > cluster - boff)
			return bad(name, "qcow2",
				   "backing_file_offset %" PRIu64 " is outside the header cluster",
				   boff);
		if (boff + bsize > fsize)
			return bad(name, "qcow2",
				   "backing_file_offset %" PRIu64 " is past the end of the file",
				   boff);
	}
	/* Extensions: type, length, data padded to 8, ending with type 0. */
	for (;;) {
		if (pos + 8 > avail) {
			if (pos + 8 <= cluster && pos + 8 > fsize)
				return bad(name, "qcow2",
					   "header extensions run past the end of the file");
			break; /* no end marker inside the cluster: QEMU tolerates it */
		}
		if (pos + 8 > len)
			goto more;
		uint32_t type = be32(b + pos), elen = be32(b + pos + 4);
		if (type == 0)
			break;
		uint64_t padded = ((uint64_t)elen + 7) & ~(uint64_t)7;
		if (padded > cluster - pos - 8)
			return bad(name, "qcow2",
				   "header extension 0x%08x length %" PRIu32
				   " runs past the cluster",
				   type, elen);
		if (pos + 8 + padded > fsize)
			return bad(name, "qcow2",
				   "header extension 0x%08x runs past the end of the file", type);
		if (pos + 8 + padded > len)
			goto more;
		if (type == QCOW2_EXT_BACKING_FMT && !in->backing_format) {
			if (memchr(b + pos + 8, 0, elen))
				return bad(name, "qcow2",
					   "backing format extension contains a NUL byte");
			in->backing_format = xstrndup((const char *)b + pos + 8, elen);
		}
		pos += 8 + padded;
	}
	if (boff) {
		if (boff + bsize > len)
			goto more;
		if (memchr(b + boff, 0, bsize))
			return bad(name, "qcow2", "backing file name contains a NUL byte");
		in->backing_file = xstrndup((const char *)b + boff, bsize);
	}
	return 0;
more:
	free(in->backing_format);
	in->backing_format = NULL;
	if (need)
		*need = (size_t)avail;
	return 1;
}

static int probe_qcow2(const uint8_t *b, size_t len, uint64_t fsize, const char *name,
		       struct probe_info *in, size_t *need)
{
	uint64_t hdr_len = QCOW2_V2_LEN, cluster, l2_entries, per_l1, want;

	if (len < QCOW2_V2_LEN)
		return bad(name, "qcow2", "truncated (%zu bytes, a header needs %d)", len,
			   QCOW2_V2_LEN);
	in->qcow2_version = be32(b + 4);
	if (in->qcow2_version != 2 && in->qcow2_version != 3)
		return bad(name, "qcow2", "version %" PRIu32 " is not supported (2 or 3)",
			   in->qcow2_version);
	in->cluster_bits = be32(b + 20);
	if (in->cluster_bits < 9 || in->cluster_bits > 21)
		return bad(name, "qcow2", "cluster_bits %" PRIu32 " is out of range (9..21)",
			   in->cluster_bits);
	cluster = (uint64_t)1 << in->cluster_bits;
	in->virtual_size = be64(b + 24);
	in->crypt_method = be32(b + 32);
	if (in->crypt_method > 2)
		return bad(name, "qcow2", "crypt_method %" PRIu32 " is unknown (0..2)",
			   in->crypt_method);
	in->l1_size = be32(b + 36);
	in->refcount_bits = 16;
	in->compression = "zlib";
	in->nb_snapshots = be32(b + 60);
	if (in->qcow2_version == 3) {
		if (len < QCOW2_V3_LEN)
			return bad(name, "qcow2",
				   "truncated (%zu bytes, a version 3 header needs %d)", len,
				   QCOW2_V3_LEN);
		in->incompatible = be64(b + 72);
		if (in->incompatible & ~(uint64_t)QCOW2_KNOWN_INCOMPAT)
			return bad(name, "qcow2",
				   "incompatible_features 0x%" PRIx64 " has unknown bits",
				   in->incompatible);
		uint32_t order = be32(b + 96);
		if (order > 6)
			return bad(name, "qcow2",
				   "refcount_order %" PRIu32 " is out of range (0..6)", order);
		in->refcount_bits = 1u << order;
		hdr_len = be32(b + 100);
		if (hdr_len < QCOW2_V3_LEN || hdr_len % 8 || hdr_len > cluster)
			return bad(name, "qcow2", "header_length %" PRIu64 " is invalid", hdr_len);
		if (hdr_len > len && hdr_len <= fsize)
			goto more;
		if (hdr_len > fsize)
			return bad(name, "qcow2",
				   "header_length %" PRIu64 " is past the end of the file",
				   hdr_len);
		unsigned ctype = hdr_len > QCOW2_V3_LEN ? b[QCOW2_V3_LEN] : 0;
		if (ctype > 1)
			return bad(name, "qcow2", "compression_type %u is unknown (0 zlib, 1 zstd)",
				   ctype);
		if (!!ctype != !!(in->incompatible & QCOW2_INCOMPAT_COMPRESSION))
			return bad(name, "qcow2",
				   "compression_type %u disagrees with incompatible feature bit 3",
				   ctype);
		in->compression = ctype ? "zstd" : "zlib";
	}
	if (in->incompatible & QCOW2_INCOMPAT_CORRUPT)
		return bad(name, "qcow2",
			   "the image is marked corrupt (run 'qemu-img check -r all')");

	l2_entries = cluster / ((in->incompatible & QCOW2_INCOMPAT_EXTL2) ? 16 : 8);
	per_l1 = cluster * l2_entries;
	want = in->virtual_size / per_l1 + (in->virtual_size % per_l1 != 0);
	if ((uint64_t)in->l1_size * 8 > QCOW2_MAX_L1)
		return bad(name, "qcow2", "l1_size %" PRIu32 " is too large", in->l1_size);
	if (want > in->l1_size)
		return bad(name, "qcow2",
			   "l1_size %" PRIu32 " is too small for size %" PRIu64 " (needs %" PRIu64
			   ")",
			   in->l1_size, in->virtual_size, want);
	uint64_t l1_off = be64(b + 40);
	if (in->l1_size) {
		if (l1_off % cluster || l1_off < cluster)
			return bad(name, "qcow2",
				   "l1_table_offset 0x%" PRIx64 " is not a cluster past the header",
				   l1_off);
		if (l1_off > fsize || (uint64_t)in->l1_size * 8 > fsize - l1_off)
			return bad(name, "qcow2",
				   "l1_table_offset 0x%" PRIx64
				   " is past the end of the file (truncated?)",
				   l1_off);
	}
	uint64_t rt_off = be64(b + 48), rt_clusters = be32(b + 56);
	if (!rt_off || rt_off % cluster)
		return bad(name, "qcow2",
			   "refcount_table_offset 0x%" PRIx64 " is not a cluster past the header",
			   rt_off);
	if (!rt_clusters || rt_clusters > (8u << 20) / cluster + 1)
		return bad(name, "qcow2", "refcount_table_clusters %" PRIu64 " is out of range",
			   rt_clusters);
	if (rt_off > fsize || rt_clusters * cluster > fsize - rt_off)
		return bad(name, "qcow2",
			   "refcount_table_offset 0x%" PRIx64
			   " is past the end of the file (truncated?)",
			   rt_off);
	if (in->nb_snapshots > 65536)
		return bad(name, "qcow2", "nb_snapshots %" PRIu32 " is too large",
			   in->nb_snapshots);
	uint64_t snap_off = be64(b + 64);
	if (in->nb_snapshots && (!snap_off || snap_off % cluster || snap_off >= fsize))
		return bad(name, "qcow2", "snapshots_offset 0x%" PRIx64 " is invalid", snap_off);
	return qcow2_tail(b, len, fsize, name, hdr_len, cluster, in, need);
more:
	if (need)
		*need = (size_t)min64(cluster, fsize);
	return 1;
}

static int probe_vdi(const uint8_t *b, size_t len, const char *name, struct probe_info *in)
{
	if (len < VDI_HEADER_END)
		return bad(name, "VDI", "truncated (%zu bytes, a header needs %d)", len,
			   VDI_HEADER_END);
	uint32_t version = le32(b + 0x44);
	if (version >> 16 != 1)
		return bad(name, "VDI", "version %" PRIu32 ".%" PRIu32 " is not supported (1.x)",
			   version >> 16, version & 0xffff);
	uint32_t type = le32(b + 0x4c);
	if (type < 1 || type > 2)
		return bad(name, "VDI", "image_type %" PRIu32 " is unknown (1 dynamic, 2 fixed)",
			   type);
	uint32_t sector = le32(b + 0x168);
	if (sector != 512)
		return bad(name, "VDI", "sector_size %" PRIu32 " is not 512", sector);
	uint64_t disk = le64(b + 0x170);
	uint32_t block = le32(b + 0x178), blocks = le32(b + 0x180);
	if (!block || (block & (block - 1)))
		return bad(name, "VDI", "block_size %" PRIu32 " is not a power of two", block);
	if (disk > (uint64_t)blocks * block)
		return bad(name, "VDI",
			   "disk_size %" PRIu64 " exceeds blocks_in_image %" PRIu32 " x %" PRIu32,
			   disk, blocks, block);
	in->virtual_size = disk;
	return 0;
}

static int probe_vmdk_sparse(const uint8_t *b, size_t len, const char *name, struct probe_info *in)
{
	if (len < VMDK_HEADER_LEN)
		return bad(name, "VMDK", "truncated (%zu bytes, a header needs %d)", len,
			   VMDK_HEADER_LEN);
	uint32_t version = le32(b + 4);
	if (version < 1 || version > 3)
		return bad(name, "VMDK", "version %" PRIu32 " is not supported (1..3)", version);
	uint64_t capacity = le64(b + 12), grain = le64(b + 20);
	if (grain < 1 || grain > 1u << 16 || (grain & (grain - 1)))
		return bad(name, "VMDK", "grainSize %" PRIu64 " is not a power of two up to 65536",
			   grain);
	if (capacity > UINT64_MAX / 512)
		return bad(name, "VMDK", "capacity %" PRIu64 " is too large", capacity);
	in->virtual_size = capacity * 512;
	return 0;
}

/* A text descriptor: createType="..." and extent lines "RW <sectors> <type> "<file>"". */
static int probe_vmdk_desc(const uint8_t *b, size_t len, const char *name, struct probe_info *in)
{
	const char *p = (const char *)b, *end = p + len;
	uint64_t sectors = 0;
	int extents = 0;

	in->vmdk_descriptor = true;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[512];

		if (l >= sizeof(line))
			l = sizeof(line) - 1;
		memcpy(line, p, l);
		line[l] = '\0';
		p = nl ? nl + 1 : end;
		if (memchr(line, '\0', l))
			return bad(name, "VMDK", "descriptor contains a NUL byte");
		if (!strncmp(line, "createType=\"", 12) && !in->vmdk_create_type) {
			char *q = strchr(line + 12, '"');
			if (q)
				in->vmdk_create_type = xstrndup(line + 12, (size_t)(q - line - 12));
		} else if (!strncmp(line, "RW ", 3) || !strncmp(line, "RDONLY ", 7) ||
			   !strncmp(line, "NOACCESS ", 9)) {
			char *s = strchr(line, ' ') + 1, *e;
			errno = 0;
			unsigned long long n = strtoull(s, &e, 10);
			if (e == s || errno || (*e != ' ' && *e != '\0'))
				return bad(name, "VMDK", "extent line '%s' has no sector count",
					   line);
			if (n > UINT64_MAX / 512 - sectors)
				return bad(name, "VMDK", "extent sizes overflow");
			sectors += n;
			extents++;
		}
	}
	if (!extents)
		return bad(name, "VMDK", "descriptor lists no extents");
	in->virtual_size = sectors * 512;
	return 0;
}

int probe_buf(const void *buf, size_t len, uint64_t file_size, const char *name,
	      struct probe_info *info, size_t *need)
{
	const uint8_t *b = buf;
	int ret = 0;

	memset(info, 0, sizeof(*info));
	info->file_size = file_size;
	if (len > file_size)
		len = (size_t)file_size;
	if (len >= 4 && !memcmp(b, "QFI\xfb", 4)) {
		info->format = PROBE_QCOW2;
		ret = probe_qcow2(b, len, file_size, name, info, need);
	} else if (len >= 4 && !memcmp(b, "KDMV", 4)) {
		info->format = PROBE_VMDK;
		ret = probe_vmdk_sparse(b, len, name, info);
	} else if (len >= strlen(VMDK_DESC_MAGIC) &&
		   !memcmp(b, VMDK_DESC_MAGIC, strlen(VMDK_DESC_MAGIC))) {
		info->format = PROBE_VMDK;
		ret = probe_vmdk_desc(b, len, name, info);
	} else if (len >= 0x44 && le32(b + 0x40) == VDI_SIGNATURE) {
		info->format = PROBE_VDI;
		ret = probe_vdi(b, len, name, info);
	} else if (len >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
		info->format = PROBE_GZIP;
	} else {
		info->format = PROBE_RAW;
		info->virtual_size = file_size;
	}
	if (ret) {
		enum probe_format f = info->format;
		probe_info_release(info);
		info->format = f;
		info->file_size = file_size;
	}
	return ret;
}

int probe_fd(int fd, const char *name, struct probe_info *info)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t want = PROBE_FIRST, need = 0;
	uint64_t fsize;
	int ret;

	memset(info, 0, sizeof(*info));
	if (fstat(fd, &st) < 0)
		return cap_errnof(errno, "cannot stat '%s'", name);
	if (S_ISDIR(st.st_mode))
		return cap_errf(EISDIR, "'%s' is a folder, not an image", name);
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return cap_errf(CAP_E_DATA, "'%s' is not a regular file or block device", name);
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(fd, 0, SEEK_END);
		if (end < 0)
			return cap_errnof(errno, "cannot read '%s'", name);
		fsize = (uint64_t)end;
	} else {
		fsize = (uint64_t)st.st_size;
	}
	for (int round = 0; round < 2; round++) {
		size_t n = (size_t)min64(want, fsize);
		free(buf);
		buf = xmalloc(n ? n : 1);
		if ((ret = fs_pread_full(fd, buf, n, 0))) {
			ret = cap_errnof(ret, "cannot read '%s'", name);
			goto out;
		}
		ret = probe_buf(buf, n, fsize, name, info, &need);
		if (ret != 1)
			goto out;
		probe_info_release(info);
		want = need;
	}
	ret = cap_errf(CAP_E_DATA, "'%s': header refers to more than its first cluster", name);
out:
	free(buf);
	return ret;
}

int probe_file(const char *path, struct probe_info *info)
{
	/* O_NONBLOCK: a FIFO must not hang the open; probe_fd() refuses it. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY), ret;

	memset(info, 0, sizeof(*info));
	if (fd < 0)
		return cap_errnof(errno, "cannot read '%s'", path);
	ret = probe_fd(fd, path, info);
	close(fd);
	return ret;
}

/* What makes a reader of the image open another file, or NULL. */
static const char *foreign_file(const struct probe_info *in, const char **what)
{
	if (in->format == PROBE_QCOW2 && in->backing_file) {
		*what = "names a backing file";
		return in->backing_file;
	}
	if (in->format == PROBE_QCOW2 && (in->incompatible & QCOW2_INCOMPAT_DATA_FILE)) {
		*what = "keeps its data in an external file";
		return "";
	}
	if (in->format == PROBE_VMDK && in->vmdk_descriptor) {
		*what = "is a descriptor whose data lives in other files";
		return "";
	}
	return NULL;
}

int probe_standalone_fd(int fd, const char *name)
{
	struct probe_info in;
	const char *what = NULL, *file;
	int ret = probe_fd(fd, name, &in);

	if (ret)
		return ret;
	if ((file = foreign_file(&in, &what)))
		ret = cap_errf(CAP_E_DATA,
			       "image '%s' %s%s%s%s: a repository image must stand alone "
			       "(flatten it with 'qemu-img convert -O qcow2')",
			       name, what, *file ? " ('" : "", file, *file ? "')" : "");
	probe_info_release(&in);
	return ret;
}

int probe_standalone(const char *path, const char *name)
{
	int fd = disk_open_file(path, DISK_RDONLY), ret;

	if (fd < 0)
		return fd;
	ret = probe_standalone_fd(fd, name);
	close(fd);
	return ret;
}

void probe_info_release(struct probe_info *info)
{
	free(info->backing_file);
	free(info->backing_format);
	free(info->vmdk_create_type);
	memset(info, 0, sizeof(*info));
}

const char *probe_format_name(enum probe_format f)
{
	switch (f) {
	case PROBE_QCOW2:
		return "qcow2";
	case PROBE_VMDK:
		return "vmdk";
	case PROBE_VDI:
		return "vdi";
	case PROBE_GZIP:
		return "gzip";
	default:
		return "raw";
	}
}

const char *probe_platform(enum probe_format f)
{
	switch (f) {
	case PROBE_QCOW2:
		return "qemu";
	case PROBE_VMDK:
		return "vmw";
	case PROBE_VDI:
		return "vbox";
	case PROBE_RAW:
		return "raw";
	default:
		return NULL;
	}
}
