/* SPDX-License-Identifier: BSD-3-Clause */
/* cat(1) in small: copies the files named in argv to stdout with read/write. */
#include <fcntl.h>
#include <unistd.h>
#include "check.h"

int main(int argc, char **argv)
{
	char buf[512];

	for (int i = 1; i < argc; i++) {
		int fd = open(argv[i], O_RDONLY);
		ssize_t n;

		CHECK(fd >= 0);
		if (fd < 0)
			continue;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			CHECK(write(1, buf, (size_t)n) == n);
		CHECK(n == 0);
		CHECK(close(fd) == 0);
	}
	return check_done();
}
