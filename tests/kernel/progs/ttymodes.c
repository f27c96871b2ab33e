/* SPDX-License-Identifier: BSD-3-Clause */
/* The console's line discipline fed through stdin: canonical editing and VEOF, then raw mode. */
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include "check.h"

static int readable(void)
{
	struct pollfd p = {.fd = 0, .events = POLLIN};
	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static int read_is(const char *want)
{
	char buf[256];
	ssize_t n = read(0, buf, sizeof(buf) - 1);
	if (n < 0)
		return 0;
	buf[n] = 0;
	if (strcmp(buf, want))
		printf("read [%s], want [%s]\n", buf, want);
	return !strcmp(buf, want);
}

static void canonical(void)
{
	char buf[16];
	int avail = 0;
	CHECK(read_is("hello world\n")); /* two erases */
	CHECK(read_is("kept\n"));	 /* VKILL */
	CHECK(read_is("one three\n"));	 /* VWERASE */
	CHECK(read_is("abc"));		 /* VEOF ends a line without a newline */
	CHECK(read(0, buf, 4) == 4 && !memcmp(buf, "1234", 4));
	CHECK(readable()); /* the rest of the line waits */
	CHECK(ioctl(0, FIONREAD, &avail) == 0 && avail >= 5);
	CHECK(read_is("5678\n"));
	CHECK(read(0, buf, sizeof(buf)) == 0); /* VEOF at the start of a line */
	printf("tty: canonical: erase, kill, werase, eof ok\n");
}

static void raw(struct termios *t)
{
	char buf[16];
	size_t got = 0;
	t->c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG);
	t->c_cc[VMIN] = 1;
	t->c_cc[VTIME] = 0;
	CHECK(tcsetattr(0, TCSANOW, t) == 0);
	while (got < 3) {
		ssize_t n = read(0, buf + got, sizeof(buf) - got);
		CHECK(n > 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	CHECK(got == 3 && !memcmp(buf, "xyz", 3)); /* no newline needed */
	CHECK(!readable());
	t->c_cc[VMIN] = 0;
	t->c_cc[VTIME] = 1; /* a tenth of a second, then nothing */
	CHECK(tcsetattr(0, TCSANOW, t) == 0);
	CHECK(read(0, buf, sizeof(buf)) == 0);
	printf("tty: raw: bytes, VMIN/VTIME ok\n");
}

int main(void)
{
	struct termios t, saved;
	if (tcgetattr(0, &t)) {
		printf("stdin is not a tty\n");
		return check_done();
	}
	saved = t;
	CHECK((t.c_lflag & (ICANON | ECHO | ISIG)) == (ICANON | ECHO | ISIG));
	CHECK(t.c_cc[VEOF] == 4 && t.c_cc[VERASE] == 0x7f);
	canonical();
	raw(&t);
	CHECK(tcsetattr(0, TCSANOW, &saved) == 0);
	return check_done();
}
