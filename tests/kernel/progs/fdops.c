/* SPDX-License-Identifier: BSD-3-Clause */
/* Descriptor operations: fcntl, dup, dup2, dup3, shared offsets. */
#include <fcntl.h>
#include <unistd.h>
#include "check.h"

int main(void)
{
	char c;
	int fd = open("data/hello.txt", O_RDONLY);

	CHECK(fd >= 3);
	CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY);
	CHECK(fcntl(fd, F_GETFD) == 0);
	CHECK(fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC);
	int d = dup(fd);
	CHECK(d > fd && fcntl(d, F_GETFD) == 0);
	CHECK(read(fd, &c, 1) == 1 && c == 'h');
	CHECK(read(d, &c, 1) == 1 && c == 'e'); /* one open file, one offset */
	int hi = fcntl(fd, F_DUPFD, 20);
	CHECK(hi >= 20);
	int hc = fcntl(fd, F_DUPFD_CLOEXEC, 30);
	CHECK(hc >= 30 && fcntl(hc, F_GETFD) == FD_CLOEXEC);
	CHECK(dup2(fd, 40) == 40 && lseek(40, 0, SEEK_CUR) == 2);
	CHECK(dup2(40, 40) == 40);
	CHECK(dup3(fd, 41, O_CLOEXEC) == 41 && fcntl(41, F_GETFD) == FD_CLOEXEC);
	CHECK(dup3(41, 41, 0) == -1 && errno == EINVAL);
	CHECK(dup(999) == -1 && errno == EBADF);
	CHECK(fcntl(999, F_GETFD) == -1 && errno == EBADF);

	int wfd = open("/tmp/capstan-fd", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(wfd >= 0 && (fcntl(wfd, F_GETFL) & O_ACCMODE) == O_WRONLY);
	CHECK(fcntl(wfd, F_SETFL, O_APPEND) == 0 && (fcntl(wfd, F_GETFL) & O_APPEND));

	/* stdout through a duplicate */
	fflush(stdout);
	int out = dup(1);
	CHECK(out >= 0 && write(out, "via dup\n", 8) == 8);
	CHECK(dup2(out, 50) == 50 && write(50, "via dup2\n", 9) == 9);
	close(out);
	close(50);
	return check_done();
}
