/* SPDX-License-Identifier: BSD-3-Clause */
/* Anonymous memory: mmap, munmap, mprotect, mremap, madvise, MAP_FIXED. */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#include "check.h"

#define MB (1024u * 1024u)

int main(void)
{
	unsigned char *p =
	    mmap(NULL, 4 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int zero = 1;

	CHECK(p != MAP_FAILED);
	if (p == MAP_FAILED)
		return check_done();
	CHECK(((uintptr_t)p & 4095) == 0);
	for (size_t i = 0; i < 4 * MB; i += 512)
		zero &= p[i] == 0;
	CHECK(zero);
	for (size_t i = 0; i < 4 * MB; i += 4096)
		p[i] = (unsigned char)(i >> 12);
	CHECK(mprotect(p, 4096, PROT_READ) == 0);
	CHECK(p[0] == 0);
	CHECK(mprotect(p, 4096, PROT_READ | PROT_WRITE) == 0);
	p[0] = 7;

	/* grow, moving if it must; the contents follow */
	unsigned char *q = mremap(p, 4 * MB, 8 * MB, MREMAP_MAYMOVE);
	CHECK(q != MAP_FAILED);
	if (q != MAP_FAILED) {
		int same = q[0] == 7;
		for (size_t i = 4096; i < 4 * MB; i += 4096)
			same &= q[i] == (unsigned char)(i >> 12);
		CHECK(same);
		q[8 * MB - 1] = 1;
		q = mremap(q, 8 * MB, 2 * MB, 0); /* shrink in place */
		CHECK(q != MAP_FAILED && q[4096] == 1);
		p = q;
	}

	/* MADV_DONTNEED on private anonymous memory gives zero pages back */
	p[8192] = 9;
	CHECK(madvise(p + 8192, 4096, MADV_DONTNEED) == 0);
	CHECK(p[8192] == 0);
	CHECK(madvise(p, 2 * MB, MADV_WILLNEED) == 0);

	/* punch a hole, then map it again at the same place */
	CHECK(munmap(p + MB, 4096) == 0);
	unsigned char *f = mmap(p + MB, 4096, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(f == p + MB && f[0] == 0);
	CHECK(munmap(p, 2 * MB) == 0);

	CHECK(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, -1, 0) ==
	      MAP_FAILED); /* no fd, not anonymous */
	CHECK(munmap((void *)1, 4096) == -1 && errno == EINVAL);
	void *none = mmap(NULL, 1 * MB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(none != MAP_FAILED && munmap(none, MB) == 0);

	/* many small maps */
	void *maps[64];
	for (int i = 0; i < 64; i++) {
		maps[i] = mmap(NULL, 4096 * (size_t)(i + 1), PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CHECK(maps[i] != MAP_FAILED);
		memset(maps[i], i, 4096 * (size_t)(i + 1));
	}
	for (int i = 0; i < 64; i++) {
		CHECK(((unsigned char *)maps[i])[4096 * (size_t)i] == i);
		CHECK(munmap(maps[i], 4096 * (size_t)(i + 1)) == 0);
	}
	printf("mmap: anonymous maps ok\n");
	return check_done();
}
