/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A big PROT_NONE reservation, as Go and Erlang make one: parts made usable
 * and touched in parts, protections changed over touched and untouched
 * pages, MAP_FIXED over both, fork, mremap moving a partly touched range,
 * munmap of a hole, and /proc/self/maps listing it.
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

#define MB (1ul << 20)
#define PG 4096ul
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static int zeros(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Does /proc/self/maps have a line starting at p with protection prot? */
static int listed(const char *p, const char *prot)
{
	char want[64], line[512];
	snprintf(want, sizeof(want), "%lx-", (unsigned long)(uintptr_t)p);
	FILE *f = fopen("/proc/self/maps", "r");
	int found = 0;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, want, strlen(want)) && strstr(line, prot))
			found = 1;
	if (f)
		fclose(f);
	return found;
}

int main(void)
{
	size_t big = 256 * MB;
	char *r = mmap(NULL, big, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(r != MAP_FAILED);
	if (r == MAP_FAILED)
		return check_done();
	CHECK(listed(r, "---p"));

	/* 4 MiB in the middle made usable, its first half touched */
	char *a = r + 64 * MB;
	CHECK(mprotect(a, 4 * MB, PROT_READ | PROT_WRITE) == 0);
	for (size_t i = 0; i < 2 * MB; i += PG)
		a[i] = (char)((i / PG) | 1);
	CHECK(listed(a, "rw-p"));
	CHECK(mprotect(a + MB, 2 * MB, PROT_READ) == 0); /* half touched, half not */
	CHECK(a[MB] == (char)((MB / PG) | 1) && a[2 * MB + PG] == 0);
	CHECK(mprotect(a + MB, 2 * MB, PROT_READ | PROT_WRITE) == 0);
	a[3 * MB] = 5;

	/* MAP_FIXED over four touched and four untouched pages: zeros */
	char *b = r + 16 * MB;
	CHECK(mprotect(b, MB, PROT_READ | PROT_WRITE) == 0);
	for (size_t i = 0; i < 8 * PG; i += PG)
		b[i] = 1;
	char *f = mmap(b + 4 * PG, 8 * PG, PROT_READ | PROT_WRITE,
		       MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(f == b + 4 * PG && zeros(f, 8 * PG) && b[3 * PG] == 1);

	/* a hole: mprotect across it fails, mapping into it works */
	CHECK(munmap(r + 128 * MB, MB) == 0);
	CHECK(mprotect(r + 127 * MB, 2 * MB, PROT_READ) == -1 && errno == ENOMEM);
	char *h = mmap(r + 128 * MB, PG, PROT_READ,
		       MAP_FIXED_NOREPLACE | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(h == r + 128 * MB && h[0] == 0);

	/* fork: the child sees the touched pages; its stores, touched or not, stay its own */
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		int ok = a[PG] == 1 && a[3 * MB] == 5 && a[3 * MB + PG] == 0;
		a[PG] = 99;
		a[3 * MB + PG] = 98;
		_exit(ok && a[PG] == 99 ? 0 : 1);
	}
	int st = 0;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(a[PG] == 1 && a[3 * MB + PG] == 0);

	/* grow the partly touched range: it must move, the bytes go with it */
	char *m = mremap(a, 4 * MB, 8 * MB, MREMAP_MAYMOVE);
	CHECK(m != MAP_FAILED && m != a);
	if (m != MAP_FAILED) {
		int same = 1;
		for (size_t i = 0; i < 2 * MB; i += PG)
			same &= m[i] == (char)((i / PG) | 1);
		CHECK(same && m[3 * MB] == 5 && m[3 * MB + PG] == 0 && m[6 * MB] == 0);
		m[8 * MB - 1] = 1;
		CHECK(munmap(m, 8 * MB) == 0);
	}
	CHECK(mmap(a, PG, PROT_READ, MAP_FIXED_NOREPLACE | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
	      a);
	CHECK(munmap(r, big) == 0);
	printf("mmapresv: a 256 MiB PROT_NONE reservation used in parts ok\n");
	return check_done();
}
