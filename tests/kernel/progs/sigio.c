/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Signal-driven I/O as nginx's master uses it on its channels (ioctl FIOASYNC,
 * F_SETOWN) and as Linux defines it: O_ASYNC pipes, socketpairs and TCP
 * sockets signal their owner (this process, a child, a group, a thread) when
 * data arrives, when room comes back after a full send, when the peer hangs
 * up; F_SETSIG's signal carries POLL_IN/POLL_OUT/POLL_HUP, si_band and si_fd.
 * SIGIO stays blocked and is taken with sigtimedwait, so each check is exact.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static sigset_t io_set; /* SIGIO and F_SETSIG's signal */
static int rtsig;

/* The signal pending now (or within secs), 0 when none; its siginfo in *si. */
static int take(siginfo_t *si, int secs)
{
	struct timespec t = {secs, 0};
	int sig = sigtimedwait(&io_set, si, &t);
	return sig < 0 ? 0 : sig;
}

static bool nothing_pending(void)
{
	siginfo_t si;
	return take(&si, 0) == 0;
}

static void async_on(int fd, pid_t owner)
{
	CHECK(fcntl(fd, F_SETOWN, owner) == 0);
	int fl = fcntl(fd, F_GETFL);
	CHECK(fcntl(fd, F_SETFL, fl | O_ASYNC | O_NONBLOCK) == 0);
}

static void pipes(void)
{
	int p[2];
	siginfo_t si;
	char c;
	CHECK(pipe(p) == 0);
	CHECK(fcntl(p[0], F_GETOWN) == 0);
	async_on(p[0], getpid());
	CHECK(fcntl(p[0], F_GETOWN) == getpid());
	CHECK(fcntl(p[0], F_GETFL) & O_ASYNC);
	CHECK(nothing_pending());
	CHECK(write(p[1], "ab", 2) == 2);
	CHECK(take(&si, 0) == SIGIO && si.si_code == SI_KERNEL);
	CHECK(write(p[1], "c", 1) == 1); /* readable already: each write signals again */
	CHECK(take(&si, 0) == SIGIO);
	CHECK(read(p[0], &c, 1) == 1); /* the write end has no O_ASYNC: reads signal nobody */
	CHECK(nothing_pending());
	/* the writer's side: every read makes room */
	async_on(p[1], getpid());
	CHECK(read(p[0], &c, 1) == 1 && c == 'b');
	CHECK(take(&si, 0) == SIGIO);
	/* O_ASYNC off: silence, the owner stays */
	CHECK(fcntl(p[0], F_SETFL, O_NONBLOCK) == 0);
	CHECK(!(fcntl(p[0], F_GETFL) & O_ASYNC));
	CHECK(fcntl(p[0], F_GETOWN) == getpid());
	CHECK(fcntl(p[1], F_SETFL, O_NONBLOCK) == 0);
	CHECK(write(p[1], "d", 1) == 1);
	CHECK(nothing_pending());
	/* the writer closes: the reader hears of it */
	async_on(p[0], getpid());
	close(p[1]);
	CHECK(take(&si, 0) == SIGIO);
	close(p[0]);
	CHECK(nothing_pending());
	printf("sigio: pipes signal their O_ASYNC reader and writer, F_GETOWN, F_GETFL\n");
}

static void socketpairs(void)
{
	int sv[2], on = 1;
	siginfo_t si;
	char buf[4096];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	/* as nginx does it: FIOASYNC, then F_SETOWN */
	CHECK(ioctl(sv[0], FIOASYNC, &on) == 0);
	CHECK(fcntl(sv[0], F_SETOWN, getpid()) == 0);
	CHECK(fcntl(sv[0], F_GETFL) & O_ASYNC);
	CHECK(write(sv[1], "x", 1) == 1);
	CHECK(take(&si, 0) == SIGIO && si.si_code == SI_KERNEL);
	/* F_SETSIG: a real-time signal with the reason, band and descriptor */
	CHECK(fcntl(sv[0], F_SETSIG, rtsig) == 0);
	CHECK(fcntl(sv[0], F_GETSIG) == rtsig);
	CHECK(write(sv[1], "y", 1) == 1);
	CHECK(take(&si, 0) == rtsig);
	CHECK(si.si_code == POLL_IN && si.si_fd == sv[0]);
	CHECK(si.si_band == (POLLIN | POLLRDNORM));
	CHECK(read(sv[0], buf, sizeof(buf)) == 2);
	CHECK(nothing_pending());
	/* a send that found no room: the reader's draining signals the writer */
	CHECK(fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
	CHECK(fcntl(sv[1], F_SETOWN, getpid()) == 0);
	CHECK(fcntl(sv[1], F_SETSIG, rtsig) == 0);
	CHECK(fcntl(sv[1], F_SETFL, O_NONBLOCK | O_ASYNC) == 0);
	memset(buf, 'z', sizeof(buf));
	long sent = 0, r;
	while ((r = write(sv[1], buf, sizeof(buf))) > 0)
		sent += r;
	CHECK(r < 0 && errno == EAGAIN);
	CHECK(take(&si, 0) == rtsig && si.si_code == POLL_IN && si.si_fd == sv[0]);
	while (take(&si, 0)) /* the reader was told of each chunk */
		CHECK(si.si_fd == sv[0]);
	while (sent > 0 && (r = read(sv[0], buf, sizeof(buf))) > 0)
		sent -= r;
	CHECK(sent == 0);
	CHECK(take(&si, 0) == rtsig);
	CHECK(si.si_code == POLL_OUT && si.si_fd == sv[1]);
	CHECK(si.si_band == (POLLOUT | POLLWRNORM | POLLWRBAND));
	CHECK(nothing_pending());
	/* the peer goes: POLL_HUP */
	CHECK(fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
	close(sv[1]);
	CHECK(take(&si, 0) == rtsig && si.si_code == POLL_HUP && si.si_fd == sv[0]);
	CHECK(nothing_pending());
	close(sv[0]);
	printf("sigio: socketpair by FIOASYNC, F_SETSIG's POLL_IN, POLL_OUT, POLL_HUP\n");
}

/* nginx's master owns its channels' ends; here a child owns one and is told of a write. */
static void child_owner(void)
{
	int sv[2], ready[2], on = 1;
	char c;
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(pipe(ready) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		siginfo_t si;
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		_exit(take(&si, 20) == SIGIO ? 0 : 1);
	}
	CHECK(read(ready[0], &c, 1) == 1);
	CHECK(ioctl(sv[0], FIOASYNC, &on) == 0);
	CHECK(fcntl(sv[0], F_SETOWN, pid) == 0);
	CHECK(write(sv[1], "x", 1) == 1);
	int st = -1;
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(nothing_pending()); /* it was the child's */
	/* a process that is gone cannot own it */
	CHECK(fcntl(sv[0], F_SETOWN, pid) == -1 && errno == ESRCH);
	close(sv[0]);
	close(sv[1]);
	close(ready[0]);
	close(ready[1]);
	printf("sigio: a child that owns the socket got SIGIO; a reaped pid is ESRCH\n");
}

/* A negative owner is a process group; F_SETOWN_EX names a thread too. */
static void groups_and_threads(void)
{
	int p[2];
	siginfo_t si;
	if (getpgrp() != getpid()) /* a group of this process alone: the caller's is no target */
		CHECK(setpgid(0, 0) == 0);
	CHECK(pipe(p) == 0);
	async_on(p[0], -getpgrp());
	CHECK(fcntl(p[0], F_GETOWN) == -getpgrp());
	struct f_owner_ex ex;
	CHECK(fcntl(p[0], F_GETOWN_EX, &ex) == 0 && ex.type == F_OWNER_PGRP && ex.pid == getpgrp());
	CHECK(write(p[1], "x", 1) == 1);
	CHECK(take(&si, 0) == SIGIO);
	ex.type = F_OWNER_TID;
	ex.pid = (pid_t)syscall(SYS_gettid);
	CHECK(fcntl(p[0], F_SETOWN_EX, &ex) == 0);
	struct f_owner_ex got;
	CHECK(fcntl(p[0], F_GETOWN_EX, &got) == 0 && got.type == F_OWNER_TID && got.pid == ex.pid);
	CHECK(write(p[1], "x", 1) == 1);
	CHECK(take(&si, 0) == SIGIO);
	ex.type = 7;
	CHECK(fcntl(p[0], F_SETOWN_EX, &ex) == -1 && errno == EINVAL);
	close(p[0]);
	close(p[1]);
	printf("sigio: a process group, F_SETOWN_EX to this thread\n");
}

/* TCP over loopback: a connection for an O_ASYNC listener, then data for the accepted socket. */
static void tcp(void)
{
	siginfo_t si;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(l >= 0 && c >= 0);
	CHECK(bind(l, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(getsockname(l, (struct sockaddr *)&a, &len) == 0);
	CHECK(listen(l, 4) == 0);
	async_on(l, getpid());
	CHECK(connect(c, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(take(&si, 10) == SIGIO);
	int s = accept(l, NULL, NULL);
	CHECK(s >= 0);
	while (take(&si, 0)) /* whatever else the handshake showed */
		;
	async_on(s, getpid());
	CHECK(write(c, "hello", 5) == 5);
	CHECK(take(&si, 10) == SIGIO);
	char buf[8];
	struct pollfd pf = {.fd = s, .events = POLLIN};
	CHECK(poll(&pf, 1, 10000) == 1);
	CHECK(read(s, buf, sizeof(buf)) == 5 && !memcmp(buf, "hello", 5));
	close(c);
	close(s);
	close(l);
	printf("sigio: TCP listener told of a connection, the connection of data\n");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	rtsig = SIGRTMIN + 2;
	sigemptyset(&io_set);
	sigaddset(&io_set, SIGIO);
	sigaddset(&io_set, rtsig);
	CHECK(sigprocmask(SIG_BLOCK, &io_set, NULL) == 0);
	pipes();
	socketpairs();
	child_owner();
	groups_and_threads();
	tcp();
	return check_done();
}
