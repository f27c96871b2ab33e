/* SPDX-License-Identifier: BSD-3-Clause */
/* A deep recursion and a large stack array: the initial stack is big enough and aligned. */
#include <stdint.h>
#include "check.h"

static int depth(int n)
{
	volatile char pad[256];

	pad[0] = (char)n;
	return n == 0 ? 0 : depth(n - 1) + 1 + pad[0] * 0;
}

int main(void)
{
	volatile char big[512 * 1024];
	double align __attribute__((aligned(16))) = 1.5;

	big[0] = 1;
	big[sizeof(big) - 1] = 2;
	CHECK(big[0] + big[sizeof(big) - 1] == 3);
	CHECK(((uintptr_t)&align & 15) == 0);
	CHECK(depth(10000) == 10000);
	printf("stack: 512 KiB array, 10000 frames\n");
	return check_done();
}
