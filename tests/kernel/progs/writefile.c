/* SPDX-License-Identifier: BSD-3-Clause */
/* Writes in the RAM overlay: new files in /tmp and the root fs, changes to an existing file. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"

static void readback(const char *path, const char *want)
{
	char buf[128] = {0};
	int fd = open(path, O_RDONLY);

	CHECK(fd >= 0);
	CHECK(read(fd, buf, sizeof(buf) - 1) == (ssize_t)strlen(want));
	CHECK(strcmp(buf, want) == 0);
	close(fd);
}

int main(void)
{
	struct stat st;
	int fd = open("/tmp/capstan-w.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);

	CHECK(fd >= 0);
	CHECK(write(fd, "0123456789", 10) == 10);
	CHECK(pwrite(fd, "AB", 2, 3) == 2);
	CHECK(lseek(fd, 0, SEEK_CUR) == 10);
	CHECK(lseek(fd, 20, SEEK_SET) == 20);
	CHECK(write(fd, "Z", 1) == 1);
	CHECK(fstat(fd, &st) == 0 && st.st_size == 21);
	char buf[32];
	CHECK(pread(fd, buf, 21, 0) == 21);
	CHECK(memcmp(buf, "012AB56789\0\0\0\0\0\0\0\0\0\0Z", 21) == 0);
	CHECK(close(fd) == 0);

	fd = open("/tmp/capstan-w.txt", O_WRONLY | O_TRUNC);
	CHECK(fd >= 0);
	CHECK(write(fd, "first\n", 6) == 6);
	close(fd);
	fd = open("/tmp/capstan-w.txt", O_WRONLY | O_APPEND);
	CHECK(fd >= 0);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	CHECK(write(fd, "second\n", 7) == 7);
	close(fd);
	readback("/tmp/capstan-w.txt", "first\nsecond\n");

	/* An existing root fs file changes in the overlay. */
	fd = open("data/hello.txt", O_WRONLY);
	CHECK(fd >= 0);
	CHECK(write(fd, "HELLO", 5) == 5);
	close(fd);
	readback("data/hello.txt", "HELLO, file\nsecond line\n");
	fd = open("data/hello.txt", O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && write(fd, "new\n", 4) == 4);
	close(fd);
	readback("data/hello.txt", "new\n");

	/* A new file next to root fs files, through stdio. */
	FILE *f = fopen("data/new.txt", "w");
	CHECK(f != NULL);
	if (f) {
		for (int i = 0; i < 1000; i++)
			fprintf(f, "%04d\n", i);
		CHECK(fclose(f) == 0);
	}
	CHECK(stat("data/new.txt", &st) == 0 && st.st_size == 5000);
	CHECK(open("data/new.txt", O_CREAT | O_EXCL | O_WRONLY, 0644) == -1 && errno == EEXIST);
	printf("wrote /tmp/capstan-w.txt and data/new.txt\n");
	return check_done();
}
