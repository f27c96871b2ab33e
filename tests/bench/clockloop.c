/* SPDX-License-Identifier: BSD-3-Clause */
/* clockloop vdso|syscall [N]: N (default 10M) clock_gettime calls, through the C library (the vDSO)
 * or the system call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int sys = argc > 1 && !strcmp(argv[1], "syscall");
	long n = argc > 2 ? atol(argv[2]) : 10000000;
	struct timespec t0, t1, t;
	long long sum = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++) {
		if (sys)
			syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
		else
			clock_gettime(CLOCK_MONOTONIC, &t);
		sum += t.tv_nsec & 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("clockloop %s: %ld calls in %.3f s, %.0f calls/s (%lld)\n", sys ? "syscall" : "vdso",
	       n, s, n / s, sum & 0);
	return 0;
}
