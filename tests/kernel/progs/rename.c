/* SPDX-License-Identifier: BSD-3-Clause */
/* unlink, unlinkat, rename and renameat in the overlay and on root fs files. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"

static void touch(const char *p, const char *text)
{
	int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);

	CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
}

static int exists(const char *p)
{
	return access(p, F_OK) == 0;
}

int main(void)
{
	struct stat st;

	touch("/tmp/capstan-r1", "one");
	CHECK(rename("/tmp/capstan-r1", "/tmp/capstan-r2") == 0);
	CHECK(!exists("/tmp/capstan-r1") && exists("/tmp/capstan-r2"));
	CHECK(stat("/tmp/capstan-r2", &st) == 0 && st.st_size == 3);
	touch("/tmp/capstan-r3", "three");
	CHECK(rename("/tmp/capstan-r3", "/tmp/capstan-r2") == 0); /* replaces */
	CHECK(stat("/tmp/capstan-r2", &st) == 0 && st.st_size == 5);
	CHECK(unlink("/tmp/capstan-r2") == 0 && !exists("/tmp/capstan-r2"));
	CHECK(unlink("/tmp/capstan-r2") == -1 && errno == ENOENT);
	CHECK(rename("/tmp/capstan-none", "/tmp/x") == -1 && errno == ENOENT);

	/* Root fs files: removed and renamed in the overlay. */
	CHECK(rename("data/dir/a.txt", "data/a-moved.txt") == 0);
	CHECK(!exists("data/dir/a.txt") && exists("data/a-moved.txt"));
	CHECK(stat("data/a-moved.txt", &st) == 0 && st.st_size == 2);
	int dfd = open("data", O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0);
	CHECK(renameat(dfd, "a-moved.txt", dfd, "dir/a2.txt") == 0);
	CHECK(exists("data/dir/a2.txt"));
	CHECK(unlinkat(dfd, "dir/b.txt", 0) == 0 && !exists("data/dir/b.txt"));
	CHECK(unlinkat(dfd, "dir", 0) == -1 && (errno == EISDIR || errno == EPERM));
	CHECK(mkdir("data/empty", 0755) == 0);
	CHECK(unlinkat(dfd, "empty", AT_REMOVEDIR) == 0 && !exists("data/empty"));
	CHECK(unlinkat(dfd, "dir", AT_REMOVEDIR) == -1 && errno == ENOTEMPTY);
	CHECK(unlink("data/link") == 0 && !exists("data/link") && exists("data/hello.txt"));
	close(dfd);
	printf("rename: done\n");
	return check_done();
}
