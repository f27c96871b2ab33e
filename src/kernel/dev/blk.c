/* SPDX-License-Identifier: BSD-3-Clause */
/* Byte-granular reads of the image disk through a small cache of 64 KiB chunks. */
#include "../kernel.h"

#define CHUNK	  (64 * 1024ul)
#define BATCH	  4   /* chunks read by one request batch */
#define MAX_SLOTS 256 /* 16 MiB */

struct blkdev *rootdev;
static struct {
	uint64_t chunk; /* chunk number + 1; 0 = empty */
	uint64_t used;
	char *buf;
} slot[MAX_SLOTS];
static uint64_t tick;
static int nslots;

/*
 * The cache holds 1/32 of the memory (4 to 256 chunks): a program's start
 * faults in pages of its executable, its libraries and the files it reads in
 * turns, and a cache of a few chunks read the same chunks again and again
 * (python3 importing http.server read 736 chunks of 64 KiB with 4 slots, 656
 * with 32).  A slot's buffer is taken when first used, so a small program
 * costs no more, and -m 8M keeps the 4 slots it had.  Erlang's boot reads
 * 18 MiB of distinct chunks; -m 256M gives it 128 slots.
 */
static int nslot(void)
{
	if (!nslots)
		nslots = (int)MIN(MAX(pmm_total_pages() * PAGE_SIZE / 32 / CHUNK, (uint64_t)BATCH),
				  (uint64_t)MAX_SLOTS);
	return nslots;
}

/* Where len bytes at off sit in the cache (read in if needed), when they fit in one chunk. */
/* The slot holding chunk c, or -1. */
static int slot_of(uint64_t c)
{
	for (int s = 0; s < nslot(); s++)
		if (slot[s].chunk == c + 1)
			return s;
	return -1;
}

const void *blk_peek(uint64_t off, size_t len)
{
	char c;
	if (off % CHUNK + len > CHUNK || blk_read(off, &c, 1))
		return NULL;
	int s = slot_of(off / CHUNK);
	return s < 0 ? NULL : slot[s].buf + off % CHUNK;
}

/* A slot for chunk c: the cached one, or the least recently used (not one used after since,
 * which the same batch took). */
static int slot_for(uint64_t c, bool *hit, uint64_t since)
{
	int victim = -1;
	for (int s = 0; s < nslot(); s++) {
		if (slot[s].chunk == c + 1) {
			*hit = true;
			return s;
		}
		if (slot[s].used <= since && (victim < 0 || slot[s].used < slot[victim].used))
			victim = s;
	}
	*hit = false;
	if (victim >= 0 && !slot[victim].buf) {
		uint64_t pa = pmm_alloc_raw(CHUNK / PAGE_SIZE);
		if (!pa)
			return -1;
		slot[victim].buf = p2v(pa);
	}
	return victim;
}

static int fill(const uint64_t *chunks, int n)
{
	struct blkreq r[BATCH];
	int s_of[BATCH], k = 0;
	uint64_t since = tick;
	for (int i = 0; i < n && i < BATCH; i++) {
		bool hit;
		int s = slot_for(chunks[i], &hit, since);
		if (s < 0)
			return -12;
		slot[s].used = ++tick;
		if (hit)
			continue;
		uint64_t first = chunks[i] * CHUNK / 512;
		if (first >= rootdev->sectors)
			continue;
		r[k] = (struct blkreq){first, slot[s].buf,
				       (uint32_t)MIN(CHUNK / 512, rootdev->sectors - first)};
		s_of[k++] = s;
		slot[s].chunk = 0;
	}
	if (k && rootdev->readv(rootdev, r, k))
		return -5;
	for (int i = 0; i < k; i++)
		slot[s_of[i]].chunk = r[i].sector * 512 / CHUNK + 1;
	return 0;
}

void blk_prefetch(const uint64_t *offs, int n)
{
	uint64_t chunks[BATCH];
	int k = 0;
	for (int i = 0; i < n && k < BATCH; i++)
		chunks[k++] = offs[i] / CHUNK;
	fill(chunks, k);
}

/*
 * Read chunk c, and in the same batch the chunks after it up to the first
 * one cached: files are mostly read front to back (.beam files, Python's
 * modules), and a batch of four chunks costs about what one chunk does (one
 * notify, one round through QEMU's block layer).  Erlang's boot to its first
 * answer made 397 requests of one chunk each; with this and 128 slots (at
 * -m 256M), 139 requests of 461 chunks in all.
 */
static int fill_ahead(uint64_t c)
{
	uint64_t chunks[BATCH], last = (rootdev->sectors * 512 - 1) / CHUNK;
	int k = 0;
	chunks[k++] = c;
	for (uint64_t x = c + 1; x <= last && k < BATCH && slot_of(x) < 0; x++)
		chunks[k++] = x;
	int e = fill(chunks, k);
	return e && k > 1 ? fill(&c, 1) : e; /* no memory for more slots: the one chunk */
}

int blk_read(uint64_t off, void *buf, size_t len)
{
	char *out = buf;
	uint64_t size = rootdev->sectors * 512;
	if (off > size || len > size - off)
		return -5;
	while (len) {
		uint64_t c = off / CHUNK, in = off % CHUNK;
		size_t n = MIN(len, CHUNK - in);
		int s = slot_of(c);
		if (s < 0) {
			int e = fill_ahead(c);
			if (e)
				return e;
			if ((s = slot_of(c)) < 0)
				return -5;
		}
		slot[s].used = ++tick;
		memcpy(out, slot[s].buf + in, n);
		out += n;
		off += n;
		len -= n;
	}
	return 0;
}
