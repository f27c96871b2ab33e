/* SPDX-License-Identifier: BSD-3-Clause */
/* access, faccessat, readlink and readlinkat, including the errors. */
#include <fcntl.h>
#include <unistd.h>
#include "check.h"

int main(void)
{
	char buf[64];
	ssize_t n;

	CHECK(access("data/hello.txt", F_OK) == 0);
	CHECK(access("data/hello.txt", R_OK) == 0);
	CHECK(access("data/dir", R_OK | X_OK) == 0);
	CHECK(access("data/missing", F_OK) == -1 && errno == ENOENT);
	CHECK(faccessat(AT_FDCWD, "data/link", R_OK, 0) == 0);
	int dfd = open("data", O_RDONLY | O_DIRECTORY);
	CHECK(faccessat(dfd, "dir/a.txt", F_OK, 0) == 0);
	CHECK(faccessat(dfd, "nothing", F_OK, 0) == -1 && errno == ENOENT);

	n = readlink("data/link", buf, sizeof(buf));
	CHECK(n == 9 && memcmp(buf, "hello.txt", 9) == 0);
	n = readlinkat(dfd, "link", buf, 4);
	CHECK(n == 4 && memcmp(buf, "hell", 4) == 0);
	CHECK(readlink("data/hello.txt", buf, sizeof(buf)) == -1 && errno == EINVAL);
	CHECK(readlink("data/missing", buf, sizeof(buf)) == -1 && errno == ENOENT);
	close(dfd);
	printf("access: link -> hello.txt\n");
	return check_done();
}
