/* SPDX-License-Identifier: BSD-3-Clause */
/* getrandom gives fresh bytes; sched_getaffinity names at least CPU 0. */
#include <sched.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"

int main(void)
{
	unsigned char a[32], b[32], big[4096];
	cpu_set_t set;
	int nz = 0;

	CHECK(getrandom(a, sizeof(a), 0) == (ssize_t)sizeof(a));
	CHECK(getrandom(b, sizeof(b), GRND_NONBLOCK) == (ssize_t)sizeof(b));
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	CHECK(getrandom(big, sizeof(big), 0) == (ssize_t)sizeof(big));
	for (size_t i = 0; i < sizeof(big); i++)
		nz += big[i] != 0;
	CHECK(nz > 3900); /* about 4080 expected */
	CPU_ZERO(&set);
	CHECK(sched_getaffinity(0, sizeof(set), &set) == 0);
	CHECK(CPU_COUNT(&set) >= 1 && CPU_ISSET(0, &set));
	/* the raw call returns the size of the mask it wrote */
	CHECK(syscall(SYS_sched_getaffinity, 0, sizeof(set), &set) >= 8);
	CHECK(sched_yield() == 0);
	printf("random: ok\n");
	return check_done();
}
