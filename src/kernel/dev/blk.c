/* SPDX-License-Identifier: BSD-3-Clause */
/* Byte-granular reads of the image disk through a small cache of 64 KiB chunks. */
#include "../kernel.h"

#define CHUNK (64 * 1024ul)
#define NSLOT 4

struct blkdev *rootdev;
static struct {
	uint64_t chunk; /* chunk number + 1; 0 = empty */
	uint64_t used;
	char *buf;
} slot[NSLOT];
static uint64_t tick;

/* Where len bytes at off sit in the cache (read in if needed), when they fit in one chunk. */
const void *blk_peek(uint64_t off, size_t len)
{
	char c;
	if (off % CHUNK + len > CHUNK || blk_read(off, &c, 1))
		return NULL;
	for (int s = 0; s < NSLOT; s++)
		if (slot[s].chunk == off / CHUNK + 1)
			return slot[s].buf + off % CHUNK;
	return NULL;
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
		int s, victim = 0;
		for (s = 0; s < NSLOT; s++) {
			if (slot[s].chunk == c + 1)
				break;
			if (slot[s].used < slot[victim].used)
				victim = s;
		}
		if (s == NSLOT) {
			s = victim;
			if (!slot[s].buf) {
				uint64_t pa = pmm_alloc_raw(CHUNK / PAGE_SIZE);
				if (!pa)
					return -12;
				slot[s].buf = p2v(pa);
			}
			uint64_t first = c * CHUNK / 512;
			uint32_t count = (uint32_t)MIN(CHUNK / 512, rootdev->sectors - first);
			slot[s].chunk = 0;
			if (rootdev->read(rootdev, first, slot[s].buf, count))
				return -5;
			slot[s].chunk = c + 1;
		}
		slot[s].used = ++tick;
		memcpy(out, slot[s].buf + in, n);
		out += n;
		off += n;
		len -= n;
	}
	return 0;
}
