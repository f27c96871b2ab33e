/* SPDX-License-Identifier: BSD-3-Clause */
/* File-backed private mappings: contents, zeroed tail, private writes stay private. */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"

int main(void)
{
	int fd = open("data/hello.txt", O_RDONLY);
	char buf[32] = {0};

	CHECK(fd >= 0);
	char *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(p != MAP_FAILED);
	if (p == MAP_FAILED)
		return check_done();
	CHECK(memcmp(p, "hello, file\nsecond line\n", 24) == 0);
	CHECK(p[24] == 0 && p[4095] == 0);
	CHECK(munmap(p, 4096) == 0);

	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(p != MAP_FAILED);
	if (p != MAP_FAILED) {
		memcpy(p, "HELLO", 5);
		CHECK(memcmp(p, "HELLO, file", 11) == 0);
		CHECK(pread(fd, buf, 11, 0) == 11 && strcmp(buf, "hello, file") == 0);
		munmap(p, 8192);
	}

	/* a file written in the overlay, mapped at a page offset */
	int w = open("/tmp/capstan-map", O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(w >= 0);
	static char page[4096];
	for (int i = 0; i < 3; i++) {
		memset(page, 'a' + i, sizeof(page));
		CHECK(write(w, page, sizeof(page)) == 4096);
	}
	char *m = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, w, 4096);
	CHECK(m != MAP_FAILED);
	if (m != MAP_FAILED) {
		CHECK(m[0] == 'b' && m[4095] == 'b' && m[4096] == 'c' && m[8191] == 'c');
		munmap(m, 8192);
	}
	close(w);
	close(fd);
	printf("mmapfile: private mappings ok\n");
	return check_done();
}
