/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A task blocked in poll, select, ppoll, epoll_wait or a read is woken by
 * what another thread or process does: a pipe or FIFO written or closed, an
 * eventfd written, an AF_UNIX socket sent to or shut down, typed console
 * input.  Every wait has no timeout: the test hangs (and its boot times out)
 * if a wakeup is lost.  The waiter announces itself before it waits; what it
 * then sees must be what came after.
 */
#include "check.h"
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_int waiting; /* the waiter is about to block */
static atomic_int sent;	   /* the other side acted */

enum how { POLL, PPOLL, SELECT, EPOLL, READ };

struct wait_arg {
	int fd;
	enum how how;
	short revents; /* poll's answer, or EPOLLIN's; POLLNVAL when the wait failed */
	int sent_seen; /* sent, as the waiter saw it once woken */
	char byte;     /* READ: what it read */
};

static void *waiter(void *p)
{
	struct wait_arg *a = p;
	struct pollfd f = {a->fd, POLLIN, 0};
	int r = -1;
	atomic_store(&waiting, 1);
	switch (a->how) {
	case POLL:
		r = poll(&f, 1, -1);
		break;
	case PPOLL:
		r = ppoll(&f, 1, NULL, NULL);
		break;
	case SELECT: {
		fd_set rd;
		FD_ZERO(&rd);
		FD_SET(a->fd, &rd);
		r = select(a->fd + 1, &rd, NULL, NULL, NULL);
		f.revents = r == 1 && FD_ISSET(a->fd, &rd) ? POLLIN : 0;
		break;
	}
	case EPOLL: {
		int ep = epoll_create1(0);
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = a->fd};
		epoll_ctl(ep, EPOLL_CTL_ADD, a->fd, &ev);
		r = epoll_wait(ep, &ev, 1, -1);
		f.revents = r == 1 && ev.data.fd == a->fd ? (short)ev.events : 0;
		close(ep);
		break;
	}
	case READ:
		r = (int)read(a->fd, &a->byte, 1);
		f.revents = r == 1 ? POLLIN : 0;
		break;
	}
	a->sent_seen = atomic_load(&sent);
	a->revents = r < 0 ? POLLNVAL : f.revents;
	return NULL;
}

/* Start a thread waiting on fd, and let it block (it runs until it sleeps, on one CPU). */
static pthread_t start(struct wait_arg *a, int fd, enum how how)
{
	pthread_t t;
	*a = (struct wait_arg){fd, how, 0, 0, 0};
	atomic_store(&waiting, 0);
	atomic_store(&sent, 0);
	pthread_create(&t, NULL, waiter, a);
	while (!atomic_load(&waiting))
		sched_yield();
	for (int i = 0; i < 10; i++)
		sched_yield();
	return t;
}

static void finish(pthread_t t, struct wait_arg *a, short want, const char *what)
{
	pthread_join(t, NULL);
	if (a->revents != want || !a->sent_seen)
		printf("%s: revents 0x%x (want 0x%x), woken %s what was done\n", what, a->revents,
		       want, a->sent_seen ? "after" : "before");
	CHECK(a->revents == want);
	CHECK(a->sent_seen);
}

static void pipes(void)
{
	static const enum how hows[] = {POLL, PPOLL, SELECT, EPOLL, READ};
	static const char *const names[] = {"poll", "ppoll", "select", "epoll_wait", "read"};
	struct wait_arg a;
	for (int i = 0; i < 5; i++) {
		int p[2];
		CHECK(pipe(p) == 0);
		pthread_t t = start(&a, p[0], hows[i]);
		atomic_store(&sent, 1);
		CHECK(write(p[1], "x", 1) == 1);
		finish(t, &a, POLLIN, names[i]);
		if (hows[i] == READ)
			CHECK(a.byte == 'x');
		close(p[0]);
		close(p[1]);
	}
	/* the last writer closing is a hang-up for the poller */
	int p[2];
	CHECK(pipe(p) == 0);
	pthread_t t = start(&a, p[0], POLL);
	atomic_store(&sent, 1);
	close(p[1]);
	finish(t, &a, POLLHUP, "pipe close");
	close(p[0]);
	printf(
	    "wakeups: a pipe written or closed wakes poll, ppoll, select, epoll_wait and read\n");
}

/* A FIFO written by a child process: the parent's poller wakes. */
static void fifo_by_child(void)
{
	const char *path = "/tmp/capstan-wakeups.fifo";
	unlink(path);
	CHECK(mkfifo(path, 0600) == 0);
	int rd = open(path, O_RDONLY | O_NONBLOCK);
	int go[2], ready[2];
	CHECK(rd >= 0 && pipe(go) == 0 && pipe(ready) == 0);
	struct wait_arg a;
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		int wr = open(path, O_WRONLY);
		if (wr < 0 || write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(2); /* the parent's waiter blocks before the write */
		if (write(wr, "f", 1) != 1)
			_exit(1);
		_exit(read(go[0], &c, 1) == 1 ? 0 : 3); /* its close would add a hang-up */
	}
	char c;
	CHECK(read(ready[0], &c, 1) == 1); /* a writer is there: no hang-up to see */
	pthread_t t = start(&a, rd, POLL);
	atomic_store(&sent, 1);
	CHECK(write(go[1], "g", 1) == 1);
	finish(t, &a, POLLIN, "fifo");
	CHECK(write(go[1], "e", 1) == 1);
	int st = -1;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(rd);
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	close(ready[1]);
	unlink(path);
	printf("wakeups: a FIFO written by another process wakes its poller\n");
}

static void eventfds(void)
{
	static const enum how hows[] = {POLL, EPOLL};
	struct wait_arg a;
	for (int i = 0; i < 2; i++) {
		int e = eventfd(0, 0);
		CHECK(e >= 0);
		pthread_t t = start(&a, e, hows[i]);
		atomic_store(&sent, 1);
		uint64_t v = 5;
		CHECK(write(e, &v, 8) == 8);
		finish(t, &a, POLLIN, "eventfd");
		CHECK(read(e, &v, 8) == 8 && v == 5);
		close(e);
	}
	/* a blocking 8-byte read, woken by the write of another process */
	int e = eventfd(0, 0);
	pid_t pid = fork();
	if (pid == 0) {
		uint64_t v = 7;
		_exit(write(e, &v, 8) == 8 ? 0 : 1);
	}
	uint64_t v = 0;
	CHECK(read(e, &v, 8) == 8 && v == 7);
	int st = -1;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(e);
	printf(
	    "wakeups: an eventfd written by another thread or process wakes poll, epoll_wait and "
	    "read\n");
}

static void unix_sockets(void)
{
	struct wait_arg a;
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pthread_t t = start(&a, sv[0], PPOLL);
	atomic_store(&sent, 1);
	CHECK(send(sv[1], "u", 1, 0) == 1);
	finish(t, &a, POLLIN, "unix send");
	char c;
	CHECK(recv(sv[0], &c, 1, 0) == 1 && c == 'u');
	t = start(&a, sv[0], EPOLL);
	atomic_store(&sent, 1);
	CHECK(shutdown(sv[1], SHUT_WR) == 0);
	finish(t, &a, POLLIN, "unix shutdown");
	CHECK(recv(sv[0], &c, 1, 0) == 0);
	close(sv[0]);
	close(sv[1]);
	/* datagrams from a child process */
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
	pid_t pid = fork();
	if (pid == 0)
		_exit(send(sv[1], "d", 1, 0) == 1 ? 0 : 1);
	t = start(&a, sv[0], READ);
	atomic_store(&sent, 1); /* the child may have sent already: only readiness counts */
	pthread_join(t, NULL);
	CHECK(a.revents == POLLIN && a.byte == 'd');
	int st = -1;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(sv[0]);
	close(sv[1]);
	printf("wakeups: AF_UNIX sends and shutdowns wake ppoll, epoll_wait and read\n");
}

/* Console input (typed by the test after the prompt): poll on stdin wakes, the line reads. */
static void console(void)
{
	struct pollfd f = {0, POLLIN, 0};
	printf("wakeups: type a line\n");
	fflush(stdout);
	CHECK(poll(&f, 1, -1) == 1 && (f.revents & POLLIN));
	char line[64] = {0};
	ssize_t n = read(0, line, sizeof(line) - 1);
	CHECK(n > 0);
	line[n > 0 ? n - 1 : 0] = 0;
	printf("wakeups: poll on the console woke for [%s]\n", line);
}

int main(int argc, char **argv)
{
	(void)argv;
	setvbuf(stdout, NULL, _IONBF, 0);
	pipes();
	fifo_by_child();
	eventfds();
	unix_sockets();
	if (argc > 1)
		console();
	return check_done();
}
