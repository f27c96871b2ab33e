/* SPDX-License-Identifier: BSD-3-Clause */
/* A 2 MiB root fs file: read in odd-sized pieces, pread across blocks, mmap'd whole. */
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"

#define WORDS (512u * 1024u) /* 2 MiB of 32-bit words */

static uint32_t word(uint32_t i)
{
	return i * 2654435761u;
}

/* --make PATH writes the file (the runner calls it on the host). */
static int make(const char *path)
{
	static uint32_t buf[WORDS];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	for (uint32_t i = 0; i < WORDS; i++)
		buf[i] = word(i);
	if (fd < 0 || write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		return 1;
	return close(fd) != 0;
}

int main(int argc, char **argv)
{
	static unsigned char buf[3000 * 4];
	struct stat st;
	uint32_t next = 0;
	ssize_t n;
	int ok = 1;

	if (argc == 3 && strcmp(argv[1], "--make") == 0)
		return make(argv[2]);
	int fd = open("data/big.bin", O_RDONLY);
	CHECK(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == WORDS * 4);
	/* 12000-byte reads: never aligned to a sector or a page */
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t k = 0; k + 4 <= n; k += 4) {
			uint32_t w;
			memcpy(&w, buf + k, 4);
			ok &= w == word(next++);
		}
	}
	CHECK(n == 0 && ok && next == WORDS);
	for (uint32_t i = 1; i < WORDS; i += 77777) {
		uint32_t w[2];
		CHECK(pread(fd, w, 8, (off_t)i * 4) == 8 && w[0] == word(i) && w[1] == word(i + 1));
	}
	uint32_t *m = mmap(NULL, WORDS * 4, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED);
	if (m != MAP_FAILED) {
		ok = 1;
		for (uint32_t i = 0; i < WORDS; i += 1021)
			ok &= m[i] == word(i);
		CHECK(ok && m[WORDS - 1] == word(WORDS - 1));
		munmap(m, WORDS * 4);
	}
	close(fd);
	printf("bigfile: 2 MiB read, pread and mapped\n");
	return check_done();
}
