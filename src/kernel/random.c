/* SPDX-License-Identifier: BSD-3-Clause */
/* Random bytes: RDRAND where the CPU has it, else a xorshift generator seeded from the TSC. */
#include "exec.h"

static uint64_t state;
static int have_rdrand = -1;

static uint64_t next(void)
{
	if (have_rdrand < 0) {
		uint32_t r[4];
		cpuid(1, 0, r);
		have_rdrand = (r[2] >> 30) & 1;
		state = rdtsc() ^ 0x9e3779b97f4a7c15ull;
	}
	if (have_rdrand) {
		uint64_t v;
		uint8_t ok;
		for (int i = 0; i < 10; i++) {
			__asm__ volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok));
			if (ok)
				return v;
		}
	}
	state ^= rdtsc();
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

void random_fill(void *buf, size_t len)
{
	unsigned char *p = buf;
	while (len) {
		uint64_t v = next();
		size_t n = MIN(len, sizeof(v));
		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
}
