/* SPDX-License-Identifier: BSD-3-Clause */
/* Pipes in one process: pipe2 flags, readiness, O_NONBLOCK, EOF, EPIPE, 1 MiB through. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"

static short revents(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};
	return poll(&p, 1, 0) == 1 ? p.revents : 0;
}

/* 1 MiB of a known pattern through one pipe, writing until it is full, then draining it. */
static void megabyte(void)
{
	static char buf[65536 + 4096];
	int fds[2];
	uint32_t wsum = 0, rsum = 0;
	size_t sent = 0, got = 0, total = 1 << 20;
	CHECK(pipe2(fds, O_NONBLOCK) == 0);
	while (got < total) {
		for (;;) {
			size_t n = total - sent < 3000 ? total - sent : 3000;
			if (!n)
				break;
			for (size_t i = 0; i < n; i++)
				buf[i] = (char)((sent + i) * 7 + (sent + i) / 251);
			ssize_t w = write(fds[1], buf, n);
			if (w < 0) {
				CHECK(errno == EAGAIN);
				break;
			}
			for (ssize_t i = 0; i < w; i++)
				wsum = wsum * 31 + (uint8_t)buf[i];
			sent += (size_t)w;
		}
		ssize_t r;
		while ((r = read(fds[0], buf, sizeof(buf))) > 0) {
			for (ssize_t i = 0; i < r; i++)
				rsum = rsum * 31 + (uint8_t)buf[i];
			got += (size_t)r;
		}
		CHECK(r < 0 && errno == EAGAIN);
		if (r == 0)
			break;
	}
	CHECK(sent == total && got == total && wsum == rsum);
	close(fds[0]);
	close(fds[1]);
	printf("pipe: 1 MiB through, checksums match\n");
}

int main(void)
{
	int fds[2];
	char buf[100];
	struct stat st;

	CHECK(pipe(fds) == 0);
	CHECK(fstat(fds[0], &st) == 0 && S_ISFIFO(st.st_mode));
	CHECK(lseek(fds[0], 0, SEEK_SET) == -1 && errno == ESPIPE);
	CHECK(fcntl(fds[1], F_GETFL) == O_WRONLY && fcntl(fds[0], F_GETFL) == O_RDONLY);
	CHECK(fcntl(fds[0], F_GETPIPE_SZ) == 65536);

	/* empty: the write end is writable, the read end is not readable */
	CHECK(revents(fds[0], POLLIN) == 0);
	CHECK(revents(fds[1], POLLOUT) == POLLOUT);
	CHECK(write(fds[1], "hello, pipe", 11) == 11);
	int avail = 0;
	CHECK(ioctl(fds[0], FIONREAD, &avail) == 0 && avail == 11);
	CHECK(revents(fds[0], POLLIN) == POLLIN);
	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(fds[0], &rd);
	struct timeval tv = {0, 0};
	CHECK(select(fds[0] + 1, &rd, NULL, NULL, &tv) == 1 && FD_ISSET(fds[0], &rd));
	CHECK(read(fds[0], buf, 5) == 5 && !memcmp(buf, "hello", 5));
	CHECK(read(fds[0], buf, sizeof(buf)) == 6 && !memcmp(buf, ", pipe", 6));

	/* non-blocking on an empty pipe */
	CHECK(fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0);
	CHECK(read(fds[0], buf, 1) == -1 && errno == EAGAIN);
	FD_ZERO(&rd);
	FD_SET(fds[0], &rd);
	tv.tv_usec = 20000;
	CHECK(select(fds[0] + 1, &rd, NULL, NULL, &tv) == 0 && !FD_ISSET(fds[0], &rd));

	/* the write end closed: what is left, then end of file and POLLHUP */
	CHECK(write(fds[1], "tail", 4) == 4);
	close(fds[1]);
	CHECK(read(fds[0], buf, sizeof(buf)) == 4);
	CHECK(read(fds[0], buf, sizeof(buf)) == 0);
	CHECK(revents(fds[0], POLLIN) & POLLHUP);
	close(fds[0]);

	/* the read end closed: EPIPE, once SIGPIPE is ignored; POLLERR on the write end */
	CHECK(pipe2(fds, O_CLOEXEC) == 0);
	CHECK(fcntl(fds[0], F_GETFD) == FD_CLOEXEC);
	close(fds[0]);
	signal(SIGPIPE, SIG_IGN);
	CHECK(write(fds[1], "x", 1) == -1 && errno == EPIPE);
	CHECK(revents(fds[1], POLLOUT) & POLLERR);
	close(fds[1]);
	CHECK(pipe2(fds, 0x12345) == -1 && errno == EINVAL);

	/* ioctls every descriptor takes: FIONBIO, FIOCLEX, FIONCLEX */
	int one = 1, zero = 0;
	CHECK(pipe(fds) == 0 && ioctl(fds[0], FIONBIO, &one) == 0);
	CHECK(read(fds[0], buf, 1) == -1 && errno == EAGAIN &&
	      (fcntl(fds[0], F_GETFL) & O_NONBLOCK));
	CHECK(ioctl(fds[0], FIONBIO, &zero) == 0 && !(fcntl(fds[0], F_GETFL) & O_NONBLOCK));
	CHECK(ioctl(fds[1], FIOCLEX) == 0 && fcntl(fds[1], F_GETFD) == FD_CLOEXEC);
	CHECK(ioctl(fds[1], FIONCLEX) == 0 && fcntl(fds[1], F_GETFD) == 0);
	close(fds[0]);
	close(fds[1]);
	printf("pipe: readiness, O_NONBLOCK, EOF and EPIPE ok\n");

	megabyte();
	return check_done();
}
