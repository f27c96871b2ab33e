/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Address-space benchmark: what a Go or Erlang runtime does at start (a big
 * PROT_NONE reservation, a small part of it made usable and touched), then
 * fork+exit+wait with that address space, and munmap; timed with
 * CLOCK_MONOTONIC.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GIB (1ul << 30)
#define MIB (1ul << 20)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* fork+exit+wait for at least a second (at most 1000 times); per second, -1 on failure. */
static double fork_rate(void)
{
	int n = 0;
	double t0 = now(), t;
	do {
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		int st;
		if (pid < 0 || waitpid(pid, &st, 0) != pid)
			return -1;
		n++;
	} while ((t = now() - t0) < 1 && n < 1000);
	return n / t;
}

int main(void)
{
	double t0 = now();
	char *arena =
	    mmap(NULL, GIB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (arena == MAP_FAILED) {
		printf("mmbench: mmap of 1 GiB PROT_NONE failed\n");
		return 1;
	}
	printf("mmap 1 GiB PROT_NONE: %.2f ms\n", (now() - t0) * 1000);
	t0 = now();
	if (mprotect(arena, 4 * MIB, PROT_READ | PROT_WRITE)) {
		printf("mmbench: mprotect failed\n");
		return 1;
	}
	memset(arena, 1, 4 * MIB);
	printf("mprotect 4 MiB of it, touch them: %.2f ms\n", (now() - t0) * 1000);
	double rate = fork_rate();
	if (rate < 0) {
		printf("mmbench: fork failed\n");
		return 1;
	}
	printf("fork+exit+wait with the reservation: %.0f per second\n", rate);
	t0 = now();
	munmap(arena, GIB);
	printf("munmap 1 GiB: %.2f ms\n", (now() - t0) * 1000);
	t0 = now();
	char *heap = mmap(NULL, GIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (heap == MAP_FAILED) {
		printf("mmbench: mmap of 1 GiB read-write failed\n");
		return 1;
	}
	for (size_t off = 0; off < GIB; off += 64 * MIB)
		heap[off] = 1;
	munmap(heap, GIB);
	printf("mmap 1 GiB read-write, touch 16 pages, munmap: %.2f ms\n", (now() - t0) * 1000);
	return 0;
}
