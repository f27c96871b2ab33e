/* SPDX-License-Identifier: BSD-3-Clause */
/* The console as a terminal: TCGETS, TIOCGWINSZ, isatty, and poll. */
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include "check.h"

int main(void)
{
	struct termios t;
	struct winsize ws;
	int tty = tcgetattr(1, &t) == 0;

	CHECK(isatty(1) == tty);
	if (tty) {
		CHECK(ioctl(1, TIOCGWINSZ, &ws) == 0 || errno == ENOTTY || errno == EINVAL);
		printf("stdout is a tty\n");
	} else {
		CHECK(errno == ENOTTY || errno == EINVAL);
		printf("stdout is not a tty\n");
	}
	int fd = open("data/hello.txt", O_RDONLY);
	CHECK(fd >= 0);
	CHECK(ioctl(fd, TCGETS, &t) == -1 && errno == ENOTTY);
	CHECK(!isatty(fd));

	struct pollfd p[2] = {{.fd = 1, .events = POLLOUT}, {.fd = fd, .events = POLLIN}};
	CHECK(poll(p, 2, 1000) == 2);
	CHECK((p[0].revents & POLLOUT) && (p[1].revents & POLLIN));
	struct pollfd bad = {.fd = 999, .events = POLLIN};
	CHECK(poll(&bad, 1, 0) == 1 && (bad.revents & POLLNVAL));
	CHECK(poll(NULL, 0, 10) == 0);
	close(fd);
	return check_done();
}
