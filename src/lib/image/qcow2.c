// SPDX-License-Identifier: BSD-3-Clause
// qcow2.c: the qcow2 disk backend: reads versions 2 and 3, writes version 3.
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "capstan/disk.h"
#include "capstan/err.h"
#include "capstan/fs.h"
#include "capstan/str.h"
#include "capstan/banned.h"

/*
 * What we rely on from the qcow2 format (all integers big-endian):
 * - a header in cluster 0 (72 bytes in version 2, header_length in version 3)
 *   followed by extensions (type, length, data padded to 8) and the backing
 *   file name;
 * - a two-level map: L1 entries point at L2 tables (one cluster each), L2
 *   entries at data clusters.  Bit 63 of both is "refcount is exactly one";
 *   bit 62 of an L2 entry marks a compressed cluster (raw deflate, offset and
 *   sector count packed into the low bits); bit 0 (version 3) reads as zeros;
 * - a refcount table pointing at refcount blocks, one refcount per host
 *   cluster (metadata included).  We write 16-bit refcounts only.
 * The writer never frees clusters except compressed ones it rewrites: new
 * clusters are appended at the end of the file, metadata is cached and
 * written back on flush (data first, then refcounts, then L2, then L1).
 */

#define QCOW2_MAGIC	   0x514649fbu /* "QFI\xfb" */
#define V2_HEADER_LEN	   72u
#define V3_HEADER_LEN	   112u /* with compression_type and padding */
#define OFFSET_MASK	   0x00fffffffffffe00ull
#define F_COPIED	   (1ull << 63)
#define F_COMPRESSED	   (1ull << 62)
#define F_ZERO		   1ull
#define INCOMPAT_DIRTY	   1ull
#define INCOMPAT_CORRUPT   2ull
#define INCOMPAT_KNOWN	   (INCOMPAT_DIRTY | INCOMPAT_CORRUPT)
#define EXT_END		   0u
#define EXT_BACKING_FORMAT 0xe2792acau
#define MAX_L1_BYTES	   (32u << 20)
#define MAX_RT_BYTES	   (8u << 20)
#define MAX_SIZE	   (1ull << 55)
#define MAX_BACKING_DEPTH  16
#define MAX_BACKING_NAME   1023u

struct qcow2 {
	int fd;
	bool owns_fd;
	unsigned version;
	unsigned cluster_bits;
	uint64_t cs;	     /* cluster size */
	uint64_t l2_entries; /* per L2 table */
	uint32_t l1_size;
	uint64_t l1_off;
	uint64_t *l1; /* host order */
	bool l1_dirty;
	uint64_t **l2; /* cached L2 tables by L1 index, host order */
	bool *l2_dirty;
	/* refcounts, loaded only for writing */
	uint64_t rt_off;
	uint64_t rt_entries;
	uint64_t *rt;
	bool rt_dirty;
	uint64_t rb_entries; /* refcounts per block */
	uint16_t **rb;
	bool *rb_dirty;
	uint64_t alloc_end; /* next free host offset */
	struct disk *backing;
	int backing_fd; /* a raw backing's fd, owned here (the raw disk borrows it); 0 if none */
	/* last decompressed cluster */
	uint64_t zentry;
	unsigned char *zbuf, *zin;
};

/* The images above one being opened in a backing chain, to name a loop. */
struct chain {
	dev_t dev;
	ino_t ino;
	const char *path;
	int depth;
	const struct chain *up;
};

static int qcow2_open_depth(struct disk **out, int fd, bool owns, int flags, const char *path,
			    const struct chain *up);

static int corrupt(const char *fmt, unsigned long long v)
{
	char msg[160];

	snprintf(msg, sizeof(msg), fmt, v);
	return cap_errf(CAP_E_DATA, "qcow2: %s", msg);
}

static uint32_t get32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return be32toh(v);
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return be64toh(v);
}

static void put32(unsigned char *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

static void put64(unsigned char *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

static int pread_at(struct qcow2 *q, void *buf, size_t len, uint64_t off)
{
	int ret = fs_pread_full(q->fd, buf, len, (off_t)off);

	if (ret == -EIO)
		return corrupt("reference past the end of the file (offset %llu)",
			       (unsigned long long)off);
	if (ret < 0)
		return cap_errnof(ret, "qcow2: read at %llu", (unsigned long long)off);
	return 0;
}

static int pwrite_at(struct qcow2 *q, const void *buf, size_t len, uint64_t off)
{
	int ret = fs_pwrite_full(q->fd, buf, len, (off_t)off);

	if (ret < 0)
		return cap_errnof(ret, "qcow2: write at %llu", (unsigned long long)off);
	return 0;
}

static bool all_zero(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	if (!len)
		return true;
	return p[0] == 0 && !memcmp(p, p + 1, len - 1);
}

/* ---- refcounts (writing only) ---- */

static int rb_get(struct qcow2 *q, uint64_t ti, uint16_t **out);

/* Reserve n contiguous clusters at the end of the file; refcounts set by the caller. */
static uint64_t reserve(struct qcow2 *q, uint64_t n)
{
	uint64_t off = q->alloc_end;

	q->alloc_end += n * q->cs;
	return off;
}

static int refcount_add(struct qcow2 *q, uint64_t off, int delta)
{
	uint64_t idx = off >> q->cluster_bits;
	uint64_t ti = idx / q->rb_entries;
	uint16_t *rb = NULL;
	int ret;

	if (ti >= q->rt_entries)
		return cap_errf(EFBIG, "qcow2: image too large for its refcount table");
	ret = rb_get(q, ti, &rb);
	if (ret)
		return ret;
	uint64_t bi = idx % q->rb_entries;
	int v = (int)rb[bi] + delta;
	if (v < 0 || v > 0xffff)
		return corrupt("refcount out of range for cluster at %llu",
			       (unsigned long long)off);
	rb[bi] = (uint16_t)v;
	q->rb_dirty[ti] = true;
	return 0;
}

static int rb_get(struct qcow2 *q, uint64_t ti, uint16_t **out)
{
	unsigned char *raw = NULL;
	int ret = 0;

	if (q->rb[ti]) {
		*out = q->rb[ti];
		return 0;
	}
	uint64_t off = q->rt[ti] & OFFSET_MASK;
	uint16_t *rb = xcalloc(q->rb_entries, sizeof(uint16_t));
	if (!off) {
		/* a new block: it lives at the end and counts itself */
		off = reserve(q, 1);
		q->rt[ti] = off;
		q->rt_dirty = true;
		q->rb[ti] = rb;
		q->rb_dirty[ti] = true;
		ret = refcount_add(q, off, 1);
		if (ret)
			return ret;
		*out = rb;
		return 0;
	}
	if (off & (q->cs - 1)) {
		free(rb);
		return corrupt("refcount block at unaligned offset %llu", (unsigned long long)off);
	}
	raw = xmalloc(q->cs);
	ret = pread_at(q, raw, q->cs, off);
	if (ret) {
		free(rb);
		goto out;
	}
	for (uint64_t i = 0; i < q->rb_entries; i++)
		rb[i] = (uint16_t)(raw[2 * i] << 8 | raw[2 * i + 1]);
	q->rb[ti] = rb;
	*out = rb;
out:
	free(raw);
	return ret;
}

/* One new cluster at the end of the file with refcount 1. */
static int alloc_cluster(struct qcow2 *q, uint64_t *out)
{
	uint64_t off = reserve(q, 1);
	int ret = refcount_add(q, off, 1);

	*out = off;
	return ret;
}

/* ---- the map ---- */

static int l2_get(struct qcow2 *q, uint64_t l1i, bool alloc, uint64_t **out)
{
	unsigned char *raw = NULL;
	uint64_t *t;
	int ret = 0;

	*out = q->l2[l1i];
	if (*out)
		return 0;
	uint64_t off = q->l1[l1i] & OFFSET_MASK;
	if (!off) {
		if (!alloc)
			return 0;
		ret = alloc_cluster(q, &off);
		if (ret)
			return ret;
		q->l1[l1i] = off | F_COPIED;
		q->l1_dirty = true;
		q->l2[l1i] = xcalloc(q->l2_entries, sizeof(uint64_t));
		q->l2_dirty[l1i] = true;
		*out = q->l2[l1i];
		return 0;
	}
	if (off & (q->cs - 1))
		return corrupt("L2 table at unaligned offset %llu", (unsigned long long)off);
	raw = xmalloc(q->cs);
	ret = pread_at(q, raw, q->cs, off);
	if (ret)
		goto out;
	t = xmalloc(q->cs);
	for (uint64_t i = 0; i < q->l2_entries; i++)
		t[i] = get64(raw + 8 * i);
	q->l2[l1i] = t;
	*out = t;
out:
	free(raw);
	return ret;
}

/* The L2 entry of virtual cluster vc (0 when unmapped). */
static int lookup(struct qcow2 *q, uint64_t vc, uint64_t *entry)
{
	uint64_t *t;
	int ret = l2_get(q, vc / q->l2_entries, false, &t);

	*entry = (!ret && t) ? t[vc % q->l2_entries] : 0;
	return ret;
}

static bool is_zero_entry(const struct qcow2 *q, uint64_t e)
{
	return q->version >= 3 && !(e & F_COMPRESSED) && (e & F_ZERO);
}

static int decompress(struct qcow2 *q, uint64_t e)
{
	unsigned shift = 62 - (q->cluster_bits - 8);
	uint64_t coff = e & ((1ull << shift) - 1);
	uint64_t nsec = ((e >> shift) & ((1ull << (q->cluster_bits - 8)) - 1)) + 1;
	uint64_t csize = nsec * 512 - (coff & 511);
	z_stream z;
	ssize_t n;
	size_t got = 0;
	int ret;

	if (q->zbuf && q->zentry == e)
		return 0;
	if (!q->zbuf) {
		q->zbuf = xmalloc(q->cs);
		q->zin = xmalloc(2 * q->cs);
	}
	q->zentry = 0;
	/* the compressed run may end past the end of the file: read what is there */
	while (got < csize) {
		n = pread(q->fd, q->zin + got, csize - got, (off_t)(coff + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cap_errnof(errno, "qcow2: read at %llu", (unsigned long long)coff);
		if (n == 0)
			break;
		got += (size_t)n;
	}
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, -12) != Z_OK)
		return cap_errf(ENOMEM, "qcow2: cannot start zlib");
	z.next_in = q->zin;
	z.avail_in = (uInt)got;
	z.next_out = q->zbuf;
	z.avail_out = (uInt)q->cs;
	ret = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	if ((ret != Z_STREAM_END && ret != Z_BUF_ERROR && ret != Z_OK) || z.avail_out != 0)
		return corrupt("compressed cluster at %llu does not inflate to a cluster",
			       (unsigned long long)coff);
	q->zentry = e;
	return 0;
}

/* Read len bytes within virtual cluster vc at in-cluster offset in. */
static int read_in_cluster(struct disk *d, uint64_t e, void *buf, size_t len, uint64_t off)
{
	struct qcow2 *q = d->p;
	uint64_t in = off & (q->cs - 1);

	if (e & F_COMPRESSED) {
		int ret = decompress(q, e);
		if (ret)
			return ret;
		memcpy(buf, q->zbuf + in, len);
		return 0;
	}
	if (is_zero_entry(q, e)) {
		memset(buf, 0, len);
		return 0;
	}
	uint64_t host = e & OFFSET_MASK;
	if (host) {
		if (host & (q->cs - 1))
			return corrupt("data cluster at unaligned offset %llu",
				       (unsigned long long)host);
		return pread_at(q, buf, len, host + in);
	}
	memset(buf, 0, len);
	if (q->backing && off < q->backing->size) {
		uint64_t n = q->backing->size - off;
		return disk_read(q->backing, buf, n < len ? (size_t)n : len, off);
	}
	return 0;
}

static int check_range(struct disk *d, size_t len, uint64_t off)
{
	if (off > d->size || len > d->size - off)
		return cap_errf(EINVAL, "qcow2: access at %llu+%zu past the end (%llu)",
				(unsigned long long)off, len, (unsigned long long)d->size);
	return 0;
}

static int qcow2_read(struct disk *d, void *buf, size_t len, uint64_t off)
{
	struct qcow2 *q = d->p;
	unsigned char *p = buf;
	int ret = check_range(d, len, off);

	while (!ret && len) {
		uint64_t vc = off >> q->cluster_bits;
		uint64_t in = off & (q->cs - 1);
		size_t n = q->cs - in < len ? (size_t)(q->cs - in) : len;
		uint64_t e;

		ret = lookup(q, vc, &e);
		if (ret)
			break;
		/* one pread for a run of clusters that are adjacent in the file too */
		if (!(e & F_COMPRESSED) && !is_zero_entry(q, e) && (e & OFFSET_MASK) &&
		    !((e & OFFSET_MASK) & (q->cs - 1))) {
			uint64_t host = (e & OFFSET_MASK) + in;
			size_t run = n;
			while (run < len) {
				uint64_t e2;
				size_t m = q->cs < len - run ? (size_t)q->cs : len - run;
				ret = lookup(q, vc + 1, &e2);
				if (ret)
					return ret;
				if ((e2 & F_COMPRESSED) || is_zero_entry(q, e2) ||
				    (e2 & OFFSET_MASK) != host + run)
					break;
				vc++;
				run += m;
			}
			ret = pread_at(q, p, run, host);
			n = run;
		} else {
			ret = read_in_cluster(d, e, p, n, off);
		}
		p += n;
		off += n;
		len -= n;
	}
	return ret;
}

/* Drop the references a compressed entry holds on its host clusters. */
static int release_compressed(struct qcow2 *q, uint64_t e)
{
	unsigned shift = 62 - (q->cluster_bits - 8);
	uint64_t coff = e & ((1ull << shift) - 1);
	uint64_t nsec = ((e >> shift) & ((1ull << (q->cluster_bits - 8)) - 1)) + 1;
	uint64_t end = (coff & ~511ull) + nsec * 512;
	int ret = 0;

	for (uint64_t c = coff & ~(q->cs - 1); !ret && c < end; c += q->cs)
		ret = refcount_add(q, c, -1);
	if (q->zentry == e)
		q->zentry = 0;
	return ret;
}

static int set_entry(struct qcow2 *q, uint64_t vc, uint64_t e)
{
	uint64_t *t;
	int ret = l2_get(q, vc / q->l2_entries, true, &t);

	if (ret)
		return ret;
	t[vc % q->l2_entries] = e;
	q->l2_dirty[vc / q->l2_entries] = true;
	return 0;
}

static int qcow2_write(struct disk *d, const void *buf, size_t len, uint64_t off)
{
	struct qcow2 *q = d->p;
	const unsigned char *p = buf;
	unsigned char *merge = NULL;
	/* a pending run of bytes from buf that go to consecutive host offsets */
	const unsigned char *run_src = NULL;
	uint64_t run_host = 0;
	size_t run_len = 0;
	int ret = check_range(d, len, off);

	if (!ret && !d->writable)
		ret = cap_errf(EROFS, "qcow2: opened read-only");
	while (!ret && len) {
		uint64_t vc = off >> q->cluster_bits;
		uint64_t in = off & (q->cs - 1);
		size_t n = q->cs - in < len ? (size_t)(q->cs - in) : len;
		const unsigned char *src = p;
		uint64_t e, host;

		ret = lookup(q, vc, &e);
		if (ret)
			break;
		host = (e & F_COMPRESSED) ? 0 : e & OFFSET_MASK;
		if (host && !is_zero_entry(q, e)) {
			host += in; /* allocated: overwrite in place */
		} else {
			if (n != q->cs) {
				/* partial cluster: start from what it reads as now */
				uint64_t base = off - in;
				size_t have = d->size - base < q->cs ? (size_t)(d->size - base)
								     : (size_t)q->cs;
				if (!merge)
					merge = xmalloc(q->cs);
				memset(merge, 0, q->cs);
				ret = read_in_cluster(d, e, merge, have, base);
				if (ret)
					break;
				memcpy(merge + in, p, n);
				src = merge;
			}
			if (all_zero(src, q->cs)) {
				if (is_zero_entry(q, e) || (!e && !q->backing))
					goto next; /* reads as zeros already: stay unallocated */
				if (q->version >= 3) {
					if (e & F_COMPRESSED)
						ret = release_compressed(q, e);
					if (!ret)
						ret = set_entry(q, vc, F_ZERO);
					if (ret)
						break;
					goto next;
				}
			}
			/* a preallocated zero cluster keeps its host cluster */
			if (!host)
				ret = alloc_cluster(q, &host);
			if (!ret && (e & F_COMPRESSED))
				ret = release_compressed(q, e);
			if (!ret)
				ret = set_entry(q, vc, host | F_COPIED);
			if (ret)
				break;
			if (src == merge) {
				if (run_len) {
					ret = pwrite_at(q, run_src, run_len, run_host);
					run_len = 0;
					if (ret)
						break;
				}
				ret = pwrite_at(q, merge, q->cs, host);
				if (ret)
					break;
				goto next;
			}
		}
		if (run_len && run_host + run_len == host && run_src + run_len == src) {
			run_len += n;
		} else {
			if (run_len) {
				ret = pwrite_at(q, run_src, run_len, run_host);
				if (ret)
					break;
			}
			run_src = src;
			run_host = host;
			run_len = n;
		}
	next:
		p += n;
		off += n;
		len -= n;
	}
	if (!ret && run_len)
		ret = pwrite_at(q, run_src, run_len, run_host);
	free(merge);
	return ret;
}

/* Write the cached metadata back: refcount blocks, table, L2 tables, L1. */
static int write_meta(struct qcow2 *q)
{
	unsigned char *raw = xmalloc(q->cs);
	int ret = 0;

	for (uint64_t ti = 0; !ret && q->rb && ti < q->rt_entries; ti++) {
		if (!q->rb_dirty[ti])
			continue;
		for (uint64_t i = 0; i < q->rb_entries; i++) {
			raw[2 * i] = (unsigned char)(q->rb[ti][i] >> 8);
			raw[2 * i + 1] = (unsigned char)q->rb[ti][i];
		}
		ret = pwrite_at(q, raw, q->cs, q->rt[ti] & OFFSET_MASK);
		if (!ret)
			q->rb_dirty[ti] = false;
	}
	if (!ret && q->rt_dirty) {
		size_t bytes = q->rt_entries * 8;
		unsigned char *rt = xmalloc(bytes);
		for (uint64_t i = 0; i < q->rt_entries; i++)
			put64(rt + 8 * i, q->rt[i]);
		ret = pwrite_at(q, rt, bytes, q->rt_off);
		free(rt);
		if (!ret)
			q->rt_dirty = false;
	}
	for (uint64_t i = 0; !ret && i < q->l1_size; i++) {
		if (!q->l2_dirty[i])
			continue;
		for (uint64_t k = 0; k < q->l2_entries; k++)
			put64(raw + 8 * k, q->l2[i][k]);
		ret = pwrite_at(q, raw, q->cs, q->l1[i] & OFFSET_MASK);
		if (!ret)
			q->l2_dirty[i] = false;
	}
	if (!ret && q->l1_dirty) {
		size_t bytes = (size_t)q->l1_size * 8;
		unsigned char *l1 = xmalloc(bytes ? bytes : 1);
		for (uint64_t i = 0; i < q->l1_size; i++)
			put64(l1 + 8 * i, q->l1[i]);
		ret = pwrite_at(q, l1, bytes, q->l1_off);
		free(l1);
		if (!ret)
			q->l1_dirty = false;
	}
	free(raw);
	return ret;
}

static int qcow2_commit(struct disk *d)
{
	return d->writable ? write_meta(d->p) : 0;
}

static int qcow2_flush(struct disk *d)
{
	struct qcow2 *q = d->p;
	int ret;

	if (!d->writable)
		return 0;
	ret = write_meta(q);
	if (!ret && fdatasync(q->fd) < 0)
		ret = cap_errnof(errno, "qcow2: fdatasync");
	return ret;
}

static void qcow2_free(struct qcow2 *q)
{
	if (!q)
		return;
	for (uint64_t i = 0; q->l2 && i < q->l1_size; i++)
		free(q->l2[i]);
	for (uint64_t i = 0; q->rb && i < q->rt_entries; i++)
		free(q->rb[i]);
	free(q->l2);
	free(q->l2_dirty);
	free(q->rb);
	free(q->rb_dirty);
	free(q->rt);
	free(q->l1);
	free(q->zbuf);
	free(q->zin);
	disk_close(q->backing);
	if (q->backing_fd > 0)
		close(q->backing_fd);
	if (q->owns_fd && q->fd >= 0)
		close(q->fd);
	free(q);
}

static void qcow2_close(struct disk *d)
{
	struct qcow2 *q = d->p;

	/* metadata a caller did not flush is still written (best effort, no sync) */
	if (d->writable)
		write_meta(q);
	qcow2_free(q);
	free(d);
}

static const struct disk_ops qcow2_ops = {
    .read = qcow2_read,
    .write = qcow2_write,
    .commit = qcow2_commit,
    .flush = qcow2_flush,
    .close = qcow2_close,
};

/* ---- opening ---- */

static int load_refcounts(struct qcow2 *q, uint64_t rt_off, uint32_t rt_clusters)
{
	uint64_t bytes = (uint64_t)rt_clusters << q->cluster_bits;
	unsigned char *raw;
	int ret;

	if (!rt_clusters || bytes > MAX_RT_BYTES)
		return corrupt("refcount table of %llu clusters is not supported",
			       (unsigned long long)rt_clusters);
	if (rt_off & (q->cs - 1))
		return corrupt("refcount table at unaligned offset %llu",
			       (unsigned long long)rt_off);
	q->rt_off = rt_off;
	q->rt_entries = bytes / 8;
	raw = xmalloc(bytes);
	ret = pread_at(q, raw, bytes, rt_off);
	if (!ret) {
		q->rt = xmalloc(bytes);
		for (uint64_t i = 0; i < q->rt_entries; i++)
			q->rt[i] = get64(raw + 8 * i);
		q->rb = xcalloc(q->rt_entries, sizeof(*q->rb));
		q->rb_dirty = xcalloc(q->rt_entries, sizeof(bool));
		q->rb_entries = q->cs / 2;
	}
	free(raw);
	return ret;
}

static int open_backing(struct qcow2 *q, const char *name, const char *fmt, const char *self_path,
			const struct chain *self)
{
	char *path;
	int ret, fd = -1;

	if (name[0] == '/' || !self_path) {
		path = xstrdup(name);
	} else {
		char *tmp = xstrdup(self_path);
		path = xasprintf("%s/%s", dirname(tmp), name);
		free(tmp);
	}
	if (fmt && strcmp(fmt, "raw") && strcmp(fmt, "qcow2")) {
		ret = cap_errf(CAP_E_DATA, "qcow2: backing file '%s' has unsupported format '%s'",
			       name, fmt);
		goto out;
	}
	if ((fd = disk_open_file(path, DISK_RDONLY)) < 0) {
		ret = cap_errctx(fd, "qcow2: backing file");
		fd = -1;
		goto out;
	}
	struct stat st;
	if (fstat(fd, &st) == 0)
		for (const struct chain *c = self; c; c = c->up)
			if (c->dev == st.st_dev && c->ino == st.st_ino) {
				ret = cap_errf(CAP_E_DATA,
					       "qcow2: backing file '%s' loops back to '%s'", path,
					       c->path ? c->path : "the image itself");
				goto out;
			}
	if (!fmt) {
		unsigned char m[4] = {0};
		fmt = pread(fd, m, 4, 0) == 4 && !memcmp(m, "QFI\xfb", 4) ? "qcow2" : "raw";
	}
	if (!strcmp(fmt, "raw")) {
		ret = disk_raw_open_fd(&q->backing, fd, DISK_RDONLY);
		if (!ret)
			q->backing_fd = fd, fd = -1;
	} else {
		ret = qcow2_open_depth(&q->backing, fd, true, DISK_RDONLY, path, self);
		fd = -1;
	}
	/* Only the outermost image names its backing file: no repeated prefixes. */
	if (ret && self->depth == 0)
		cap_errctx(ret, "backing file '%s'", path);
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return ret;
}

static int qcow2_open_depth(struct disk **out, int fd, bool owns, int flags, const char *path,
			    const struct chain *up)
{
	struct chain self = {.path = path, .depth = up ? up->depth + 1 : 0, .up = up};
	unsigned char h[V3_HEADER_LEN];
	unsigned char *c0 = NULL, *l1raw = NULL;
	struct qcow2 *q = xcalloc(1, sizeof(*q));
	struct disk *d = NULL;
	char *bname = NULL, *bfmt = NULL;
	struct stat st;
	uint64_t size, hlen = V2_HEADER_LEN, incompat = 0, boff;
	uint32_t bsize, rt_clusters;
	int ret;

	q->fd = fd;
	q->owns_fd = owns;
	if (self.depth > MAX_BACKING_DEPTH) {
		ret =
		    cap_errf(CAP_E_DATA, "qcow2: backing chain longer than %d", MAX_BACKING_DEPTH);
		goto fail;
	}
	if (fstat(fd, &st) < 0) {
		ret = cap_errnof(errno, "qcow2");
		goto fail;
	}
	self.dev = st.st_dev;
	self.ino = st.st_ino;
	memset(h, 0, sizeof(h));
	ret = pread_at(q, h, V2_HEADER_LEN, 0);
	if (ret)
		goto fail;
	if (get32(h) != QCOW2_MAGIC) {
		ret = cap_errf(CAP_E_DATA, "qcow2: bad magic");
		goto fail;
	}
	q->version = get32(h + 4);
	if (q->version != 2 && q->version != 3) {
		ret = corrupt("version %llu is not supported", q->version);
		goto fail;
	}
	q->cluster_bits = get32(h + 20);
	if (q->cluster_bits < 9 || q->cluster_bits > 21) {
		ret = corrupt("cluster_bits %llu out of range", q->cluster_bits);
		goto fail;
	}
	q->cs = 1ull << q->cluster_bits;
	q->l2_entries = q->cs / 8;
	size = get64(h + 24);
	if (size > MAX_SIZE) {
		ret = corrupt("virtual size %llu too large", (unsigned long long)size);
		goto fail;
	}
	if (get32(h + 32)) {
		ret = cap_errf(ENOTSUP, "qcow2: encrypted images are not supported");
		goto fail;
	}
	if (get32(h + 60) && (flags & DISK_RDWR)) {
		ret = cap_errf(ENOTSUP, "qcow2: cannot write to an image with internal snapshots");
		goto fail;
	}
	if (q->version == 3) {
		ret = pread_at(q, h + V2_HEADER_LEN, 104 - V2_HEADER_LEN, V2_HEADER_LEN);
		if (ret)
			goto fail;
		incompat = get64(h + 72);
		hlen = get32(h + 100);
		if (hlen < 104 || hlen > q->cs || (hlen & 7)) {
			ret = corrupt("header_length %llu invalid", (unsigned long long)hlen);
			goto fail;
		}
		if (incompat & ~INCOMPAT_KNOWN) {
			ret = cap_errf(ENOTSUP, "qcow2: unsupported incompatible features 0x%llx",
				       (unsigned long long)(incompat & ~INCOMPAT_KNOWN));
			goto fail;
		}
		if (get32(h + 96) != 4 && (flags & DISK_RDWR)) {
			ret = cap_errf(ENOTSUP, "qcow2: cannot write %u-bit refcounts",
				       1u << (get32(h + 96) & 31));
			goto fail;
		}
		if (get32(h + 96) > 6) {
			ret = corrupt("refcount_order %llu invalid", get32(h + 96));
			goto fail;
		}
		if ((incompat & (INCOMPAT_DIRTY | INCOMPAT_CORRUPT)) && (flags & DISK_RDWR)) {
			ret = cap_errf(
			    CAP_E_DATA,
			    "qcow2: image is marked %s; repair it with 'qemu-img check -r all'",
			    (incompat & INCOMPAT_CORRUPT) ? "corrupt" : "dirty");
			goto fail;
		}
	}

	/* cluster 0: header extensions and backing file name */
	uint64_t c0len = (uint64_t)st.st_size < q->cs ? (uint64_t)st.st_size : q->cs;
	if (c0len < hlen) {
		ret = corrupt("file of %llu bytes is shorter than its header",
			      (unsigned long long)st.st_size);
		goto fail;
	}
	c0 = xcalloc(1, q->cs);
	ret = pread_at(q, c0, c0len, 0);
	if (ret)
		goto fail;
	boff = get64(h + 8);
	bsize = get32(h + 16);
	if (boff) {
		if (bsize == 0 || bsize > MAX_BACKING_NAME || boff >= q->cs ||
		    bsize > q->cs - boff) {
			ret =
			    corrupt("backing file name at %llu invalid", (unsigned long long)boff);
			goto fail;
		}
		bname = xstrndup((const char *)c0 + boff, bsize);
		if (strlen(bname) != bsize) {
			ret = corrupt("backing file name at %llu has a NUL byte",
				      (unsigned long long)boff);
			goto fail;
		}
	}
	for (uint64_t x = hlen; x + 8 <= q->cs;) {
		uint32_t type = get32(c0 + x), elen = get32(c0 + x + 4);
		if (type == EXT_END)
			break;
		if (elen > q->cs - x - 8) {
			ret = corrupt("header extension at %llu overruns the cluster",
				      (unsigned long long)x);
			goto fail;
		}
		if (type == EXT_BACKING_FORMAT) {
			free(bfmt);
			bfmt = xstrndup((const char *)c0 + x + 8, elen);
		}
		x += 8 + (((uint64_t)elen + 7) & ~7ull);
	}

	/* L1 */
	q->l1_size = get32(h + 36);
	q->l1_off = get64(h + 40);
	uint64_t per_l2 = q->l2_entries * q->cs;
	uint64_t need = (size + per_l2 - 1) / per_l2;
	if ((uint64_t)q->l1_size * 8 > MAX_L1_BYTES || q->l1_size < need) {
		ret = corrupt("L1 table of %llu entries does not fit the disk", q->l1_size);
		goto fail;
	}
	if (q->l1_size && (q->l1_off & (q->cs - 1))) {
		ret = corrupt("L1 table at unaligned offset %llu", (unsigned long long)q->l1_off);
		goto fail;
	}
	q->l1 = xcalloc(q->l1_size ? q->l1_size : 1, sizeof(uint64_t));
	q->l2 = xcalloc(q->l1_size ? q->l1_size : 1, sizeof(*q->l2));
	q->l2_dirty = xcalloc(q->l1_size ? q->l1_size : 1, sizeof(bool));
	if (q->l1_size) {
		l1raw = xmalloc((size_t)q->l1_size * 8);
		ret = pread_at(q, l1raw, (size_t)q->l1_size * 8, q->l1_off);
		if (ret)
			goto fail;
		for (uint64_t i = 0; i < q->l1_size; i++)
			q->l1[i] = get64(l1raw + 8 * i);
	}

	if (flags & DISK_RDWR) {
		rt_clusters = get32(h + 56);
		ret = load_refcounts(q, get64(h + 48), rt_clusters);
		if (ret)
			goto fail;
		q->alloc_end = ((uint64_t)st.st_size + q->cs - 1) & ~(q->cs - 1);
	}
	if (bname && !(flags & DISK_NOBACKING)) {
		ret = open_backing(q, bname, bfmt, path, &self);
		if (ret)
			goto fail;
	}

	d = xcalloc(1, sizeof(*d));
	d->ops = &qcow2_ops;
	d->p = q;
	d->size = size;
	d->format = "qcow2";
	d->writable = flags & DISK_RDWR;
	*out = d;
	q = NULL;
fail:
	if (q && !owns)
		q->fd = -1;
	qcow2_free(q);
	free(c0);
	free(l1raw);
	free(bname);
	free(bfmt);
	return ret;
}

int disk_qcow2_open_fd(struct disk **out, int fd, int flags, const char *path_for_backing)
{
	return qcow2_open_depth(out, fd, false, flags, path_for_backing, NULL);
}

int disk_qcow2_open(struct disk **out, const char *path, int flags)
{
	int fd = disk_open_file(path, flags);
	int ret;

	if (fd < 0)
		return fd;
	ret = qcow2_open_depth(out, fd, true, flags, path, NULL);
	if (ret)
		cap_errctx(ret, "%s", path);
	return ret;
}

/* ---- creating ---- */

static int create(struct disk **out, int fd, bool owns, const char *path, uint64_t size,
		  const struct disk_qcow2_opts *opts)
{
	struct disk_qcow2_opts none = {0};
	struct qcow2 *q = xcalloc(1, sizeof(*q));
	struct disk *d = NULL;
	unsigned char *c0 = NULL;
	int ret = 0;

	if (!opts)
		opts = &none;
	q->fd = fd;
	q->owns_fd = owns;
	q->version = 3;
	q->cluster_bits = opts->cluster_bits ? opts->cluster_bits : 16;
	if (q->cluster_bits < 9 || q->cluster_bits > 21) {
		ret =
		    cap_errf(EINVAL, "qcow2: cluster_bits %u out of range 9..21", q->cluster_bits);
		goto fail;
	}
	q->cs = 1ull << q->cluster_bits;
	q->l2_entries = q->cs / 8;
	if (opts->backing) {
		size_t blen = strlen(opts->backing);
		if (!blen || blen > MAX_BACKING_NAME) {
			ret = cap_errf(EINVAL, "qcow2: backing file name of %zu bytes", blen);
			goto fail;
		}
		struct chain self = {.path = path};
		struct stat st;
		if (fstat(fd, &st) == 0)
			self.dev = st.st_dev, self.ino = st.st_ino;
		ret = open_backing(q, opts->backing, opts->backing_format, path, &self);
		if (ret)
			goto fail;
		if (!size)
			size = q->backing->size;
	}
	if (size > MAX_SIZE) {
		ret = cap_errf(EINVAL, "qcow2: virtual size %llu too large",
			       (unsigned long long)size);
		goto fail;
	}
	if (ftruncate(fd, 0) < 0) {
		ret = cap_errnof(errno, "qcow2");
		goto fail;
	}
	uint64_t per_l2 = q->l2_entries * q->cs;
	q->l1_size = (uint32_t)((size + per_l2 - 1) / per_l2);
	if ((uint64_t)q->l1_size * 8 > MAX_L1_BYTES) {
		ret = cap_errf(EINVAL, "qcow2: virtual size too large for %llu-byte clusters",
			       (unsigned long long)q->cs);
		goto fail;
	}
	q->l1 = xcalloc(q->l1_size ? q->l1_size : 1, sizeof(uint64_t));
	q->l2 = xcalloc(q->l1_size ? q->l1_size : 1, sizeof(*q->l2));
	q->l2_dirty = xcalloc(q->l1_size ? q->l1_size : 1, sizeof(bool));

	/*
	 * cluster 0 header, then the refcount table, its first block, then L1.
	 * The table is sized for a fully allocated disk (with a quarter spare for
	 * metadata), so it never has to move.
	 */
	q->rb_entries = q->cs / 2;
	uint64_t max_clusters = (size >> q->cluster_bits) + q->l1_size + 16;
	max_clusters += max_clusters / 4;
	uint64_t rt_clusters =
	    ((max_clusters + q->rb_entries - 1) / q->rb_entries * 8 + q->cs - 1) / q->cs;
	if ((rt_clusters << q->cluster_bits) > MAX_RT_BYTES) {
		ret = cap_errf(EINVAL, "qcow2: virtual size too large for %llu-byte clusters",
			       (unsigned long long)q->cs);
		goto fail;
	}
	q->rt_off = q->cs;
	q->rt_entries = (rt_clusters << q->cluster_bits) / 8;
	q->rt = xcalloc(q->rt_entries, sizeof(uint64_t));
	q->rb = xcalloc(q->rt_entries, sizeof(*q->rb));
	q->rb_dirty = xcalloc(q->rt_entries, sizeof(bool));
	q->rt_dirty = true;
	q->alloc_end = (1 + rt_clusters) * q->cs;
	ret = refcount_add(q, 0, 1);
	for (uint64_t i = 0; !ret && i < rt_clusters; i++)
		ret = refcount_add(q, q->rt_off + i * q->cs, 1);
	uint64_t l1_clusters = ((uint64_t)q->l1_size * 8 + q->cs - 1) / q->cs;
	q->l1_off = l1_clusters ? reserve(q, l1_clusters) : 0;
	for (uint64_t i = 0; !ret && i < l1_clusters; i++)
		ret = refcount_add(q, q->l1_off + i * q->cs, 1);
	if (ret)
		goto fail;
	q->l1_dirty = true;

	c0 = xcalloc(1, q->cs);
	put32(c0, QCOW2_MAGIC);
	put32(c0 + 4, 3);
	put32(c0 + 20, q->cluster_bits);
	put64(c0 + 24, size);
	put32(c0 + 36, q->l1_size);
	put64(c0 + 40, q->l1_off);
	put64(c0 + 48, q->rt_off);
	put32(c0 + 56, (uint32_t)rt_clusters);
	put32(c0 + 96, 4);
	put32(c0 + 100, V3_HEADER_LEN);
	size_t x = V3_HEADER_LEN;
	if (opts->backing) {
		const char *fmt = q->backing->format;
		size_t flen = strlen(fmt), blen = strlen(opts->backing);
		put32(c0 + x, EXT_BACKING_FORMAT);
		put32(c0 + x + 4, (uint32_t)flen);
		memcpy(c0 + x + 8, fmt, flen);
		x += 8 + ((flen + 7) & ~(size_t)7);
		x += 8; /* end of extensions */
		if (x + blen > q->cs) {
			ret = cap_errf(EINVAL,
				       "qcow2: backing file name does not fit the header cluster");
			goto fail;
		}
		put64(c0 + 8, x);
		put32(c0 + 16, (uint32_t)blen);
		memcpy(c0 + x, opts->backing, blen);
	}
	ret = pwrite_at(q, c0, q->cs, 0);
	if (ret)
		goto fail;
	ret = write_meta(q);
	if (ret)
		goto fail;
	d = xcalloc(1, sizeof(*d));
	d->ops = &qcow2_ops;
	d->p = q;
	d->size = size;
	d->format = "qcow2";
	d->writable = true;
	*out = d;
	q = NULL;
fail:
	if (q && !owns)
		q->fd = -1;
	qcow2_free(q);
	free(c0);
	return ret;
}

int disk_qcow2_create_fd(struct disk **out, int fd, uint64_t size,
			 const struct disk_qcow2_opts *opts)
{
	return create(out, fd, false, NULL, size, opts);
}

int disk_qcow2_create(struct disk **out, const char *path, uint64_t size,
		      const struct disk_qcow2_opts *opts)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int ret;

	if (fd < 0)
		return cap_errnof(errno, "cannot create '%s'", path);
	ret = create(out, fd, true, path, size, opts);
	if (ret) {
		unlink(path);
		cap_errctx(ret, "%s", path);
	}
	return ret;
}
