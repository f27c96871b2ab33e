/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared file mappings: stores seen by read, writes seen by the mapping, two mappings of one file,
 * msync, memfd. */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"

#define PG 4096

static void one_file(void)
{
	const char *path = "/tmp/capstan-shared";
	char buf[64];
	int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
	CHECK(fd >= 0 && ftruncate(fd, 2 * PG) == 0);
	char *a = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *b = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PG);
	CHECK(a != MAP_FAILED && b != MAP_FAILED);
	if (a == MAP_FAILED || b == MAP_FAILED)
		return;

	memcpy(a + PG + 10, "through a", 9); /* one mapping, seen by the other and by read */
	CHECK(!memcmp(b + 10, "through a", 9));
	CHECK(pread(fd, buf, 9, PG + 10) == 9 && !memcmp(buf, "through a", 9));
	CHECK(pwrite(fd, "by write", 8, 100) == 8 && !memcmp(a + 100, "by write", 8));
	CHECK(msync(a, 2 * PG, MS_SYNC) == 0 && msync(a, PG, MS_ASYNC) == 0);
	CHECK(msync(a + 1, PG, MS_SYNC) == -1 && errno == EINVAL);

	/* the file grows under the mapping: new bytes read as zeros, then as written */
	CHECK(ftruncate(fd, 3 * PG) == 0);
	char *c = mmap(NULL, 3 * PG, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(c != MAP_FAILED && c[2 * PG] == 0 && !memcmp(c + PG + 10, "through a", 9));
	CHECK(pwrite(fd, "z", 1, 2 * PG + 5) == 1 && c[2 * PG + 5] == 'z');
	CHECK(mprotect(b, PG, PROT_READ) == 0 && b[10] == 't');

	/* unmapped, the stores stay in the file */
	memcpy(a, "first page", 10);
	CHECK(munmap(a, 2 * PG) == 0 && munmap(b, PG) == 0 && munmap(c, 3 * PG) == 0);
	CHECK(pread(fd, buf, 10, 0) == 10 && !memcmp(buf, "first page", 10));
	close(fd);
	struct stat st;
	CHECK(stat(path, &st) == 0 && st.st_size == 3 * PG);
	fd = open(path, O_RDONLY);
	CHECK(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED &&
	      errno == EACCES);
	char *r = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(r != MAP_FAILED && !memcmp(r, "first page", 10));
	close(fd);
	CHECK(!memcmp(r + 100, "by write", 8)); /* the mapping outlives the descriptor */
	munmap(r, PG);
	unlink(path);
}

static void memfd(void)
{
	int fd = (int)syscall(SYS_memfd_create, "capstan-test", 1 /* MFD_CLOEXEC */);
	CHECK(fd >= 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC);
	CHECK(ftruncate(fd, PG) == 0 && write(fd, "memfd data", 10) == 10);
	char *m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED && !memcmp(m, "memfd data", 10));
	char link[256], path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	CHECK(!strcmp(link, "/memfd:capstan-test (deleted)"));
	close(fd);
	m[0] = 'M'; /* still mapped after the last close */
	CHECK(m[1] == 'e');
	munmap(m, PG);
}

int main(void)
{
	one_file();
	memfd();
	printf("mmapshared: mappings, read/write, growth, msync, memfd ok\n");
	return check_done();
}
