/* SPDX-License-Identifier: BSD-3-Clause */
/* Reads a root fs file with open/openat/read/pread64/lseek/fstat and checks the errors. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"

#define TEXT "hello, file\nsecond line\n"

int main(void)
{
	char buf[64] = {0};
	struct stat st;
	int fd = open("data/hello.txt", O_RDONLY);

	CHECK(fd >= 0);
	CHECK(read(fd, buf, sizeof(buf)) == (ssize_t)strlen(TEXT));
	CHECK(strcmp(buf, TEXT) == 0);
	CHECK(read(fd, buf, sizeof(buf)) == 0);
	CHECK(lseek(fd, 7, SEEK_SET) == 7);
	memset(buf, 0, sizeof(buf));
	CHECK(read(fd, buf, 4) == 4 && strcmp(buf, "file") == 0);
	CHECK(lseek(fd, 0, SEEK_CUR) == 11);
	CHECK(lseek(fd, -5, SEEK_END) == 19);
	memset(buf, 0, sizeof(buf));
	CHECK(pread(fd, buf, 6, 12) == 6 && strcmp(buf, "second") == 0);
	CHECK(lseek(fd, 0, SEEK_CUR) == 19);
	CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 24);
	CHECK(lseek(fd, -100, SEEK_SET) == -1 && errno == EINVAL);
	CHECK(close(fd) == 0);
	CHECK(close(fd) == -1 && errno == EBADF);
	CHECK(read(fd, buf, 1) == -1 && errno == EBADF);

	int dfd = open("data", O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0);
	fd = openat(dfd, "dir/a.txt", O_RDONLY);
	CHECK(fd >= 0);
	memset(buf, 0, sizeof(buf));
	CHECK(read(fd, buf, sizeof(buf)) == 2 && strcmp(buf, "a\n") == 0);
	close(fd);
	CHECK(read(dfd, buf, 1) == -1 && errno == EISDIR);
	close(dfd);
	CHECK(open("data/missing", O_RDONLY) == -1 && errno == ENOENT);
	CHECK(open("data/hello.txt/x", O_RDONLY) == -1 && errno == ENOTDIR);
	CHECK(open("data/hello.txt", O_RDONLY | O_DIRECTORY) == -1 && errno == ENOTDIR);

	FILE *f = fopen("data/hello.txt", "r");
	CHECK(f != NULL);
	if (f) {
		char line[64];
		while (fgets(line, sizeof(line), f))
			printf("read: %s", line);
		fclose(f);
	}
	return check_done();
}
