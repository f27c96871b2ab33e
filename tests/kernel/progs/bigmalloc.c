/* SPDX-License-Identifier: BSD-3-Clause */
/* The allocator at scale: one 48 MiB block, 100000 small ones, a growing realloc. */
#include <stdint.h>
#include "check.h"

int main(void)
{
	size_t big = 48u << 20;
	unsigned char *p = malloc(big);
	uint64_t sum = 0;

	CHECK(p != NULL);
	if (!p)
		return check_done();
	memset(p, 0x5a, big);
	for (size_t i = 0; i < big; i += 4096)
		sum += p[i];
	CHECK(sum == 0x5aull * (big / 4096));
	free(p);

	static void *small[100000];
	for (int i = 0; i < 100000; i++) {
		small[i] = malloc(16 + (size_t)(i % 64));
		CHECK(small[i] != NULL);
		*(int *)small[i] = i;
	}
	int ok = 1;
	for (int i = 0; i < 100000; i++) {
		ok &= *(int *)small[i] == i;
		free(small[i]);
	}
	CHECK(ok);

	char *r = NULL;
	for (size_t n = 1; n <= (16u << 20); n *= 2) {
		char *t = realloc(r, n);
		CHECK(t != NULL);
		if (!t)
			break;
		r = t;
		r[n - 1] = (char)n;
		if (n > 1)
			CHECK(r[n / 2 - 1] == (char)(n / 2));
	}
	free(r);
	char *z = calloc(1u << 20, 4);
	CHECK(z && z[0] == 0 && z[(4u << 20) - 1] == 0);
	free(z);
	printf("bigmalloc: 48 MiB, 100000 small, realloc to 16 MiB\n");
	return check_done();
}
