/* SPDX-License-Identifier: BSD-3-Clause */
/* readv and writev on a file and on stdout. */
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>
#include "check.h"

int main(void)
{
	char a[6] = {0}, b[6] = {0}, c[20] = {0};
	struct iovec out[3] = {
	    {"writev ", 7},
	    {"to ", 3},
	    {"stdout\n", 7},
	};
	struct iovec in[3] = {{a, 5}, {b, 5}, {c, sizeof(c) - 1}};

	CHECK(writev(1, out, 3) == 17);
	int fd = open("data/hello.txt", O_RDONLY);
	CHECK(fd >= 0);
	CHECK(readv(fd, in, 3) == 24);
	CHECK(strcmp(a, "hello") == 0 && strcmp(b, ", fil") == 0);
	CHECK(strcmp(c, "e\nsecond line\n") == 0);
	close(fd);

	fd = open("/tmp/capstan-iov", O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK(writev(fd, out, 3) == 17);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	memset(c, 0, sizeof(c));
	struct iovec one = {c, sizeof(c) - 1};
	CHECK(readv(fd, &one, 1) == 17 && strcmp(c, "writev to stdout\n") == 0);
	CHECK(writev(fd, out, 0) == 0);
	close(fd);
	return check_done();
}
