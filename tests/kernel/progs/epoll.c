/* SPDX-License-Identifier: BSD-3-Clause */
/* epoll (level, edge, oneshot), eventfd and timerfd, on socketpairs and loopback TCP. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "check.h"

static int wait_n(int ep, struct epoll_event *ev, int timeout)
{
	return epoll_wait(ep, ev, 8, timeout);
}

static void eventfds(void)
{
	uint64_t v = 3;
	int e = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	CHECK(e >= 0);
	CHECK(read(e, &v, 8) == -1 && errno == EAGAIN);
	v = 3;
	CHECK(write(e, &v, 8) == 8 && write(e, &v, 8) == 8);
	CHECK(read(e, &v, 8) == 8 && v == 6);
	CHECK(close(e) == 0);
	e = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
	CHECK(read(e, &v, 8) == 8 && v == 1);
	CHECK(read(e, &v, 8) == 8 && v == 1);
	CHECK(read(e, &v, 8) == -1 && errno == EAGAIN);
	CHECK(read(e, &v, 4) == -1 && errno == EINVAL);
	CHECK(close(e) == 0);
	printf("eventfd: counter and semaphore\n");
}

static void timerfds(void)
{
	int t = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	CHECK(t >= 0);
	struct itimerspec its = {.it_value = {0, 20 * 1000 * 1000}};
	CHECK(timerfd_settime(t, 0, &its, NULL) == 0);
	uint64_t n = 0;
	CHECK(read(t, &n, 8) == 8 && n == 1); /* blocks until it fires */
	struct itimerspec cur;
	CHECK(timerfd_gettime(t, &cur) == 0 && cur.it_value.tv_sec == 0 &&
	      cur.it_value.tv_nsec == 0);
	/* periodic, in epoll */
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 77}, out[8];
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, t, &ev) == 0);
	CHECK(wait_n(ep, out, 0) == 0);
	its = (struct itimerspec){.it_interval = {0, 5 * 1000 * 1000},
				  .it_value = {0, 5 * 1000 * 1000}};
	CHECK(timerfd_settime(t, 0, &its, NULL) == 0);
	CHECK(wait_n(ep, out, 5000) == 1 && out[0].data.u64 == 77);
	CHECK(read(t, &n, 8) == 8 && n >= 1);
	CHECK(close(t) == 0 && close(ep) == 0);
	printf("timerfd: one-shot and periodic\n");
}

static void triggers(void)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = sv[0]}, out[8];
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev) == 0);
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev) == -1 && errno == EEXIST);
	CHECK(wait_n(ep, out, 0) == 0);
	CHECK(write(sv[1], "a", 1) == 1);
	/* level-triggered: reported while data waits */
	CHECK(wait_n(ep, out, 1000) == 1 && out[0].data.fd == sv[0] && out[0].events == EPOLLIN);
	CHECK(wait_n(ep, out, 0) == 1);
	/* edge-triggered: once per arrival */
	ev.events = EPOLLIN | EPOLLET;
	CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, sv[0], &ev) == 0);
	CHECK(wait_n(ep, out, 0) == 1);
	CHECK(wait_n(ep, out, 0) == 0);
	CHECK(write(sv[1], "b", 1) == 1);
	CHECK(wait_n(ep, out, 1000) == 1);
	CHECK(wait_n(ep, out, 0) == 0);
	/* oneshot: once, until re-armed */
	ev.events = EPOLLIN | EPOLLONESHOT;
	CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, sv[0], &ev) == 0);
	CHECK(wait_n(ep, out, 0) == 1);
	CHECK(wait_n(ep, out, 0) == 0);
	CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, sv[0], &ev) == 0);
	CHECK(wait_n(ep, out, 0) == 1);
	CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, sv[0], NULL) == 0);
	CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, sv[0], NULL) == -1 && errno == ENOENT);
	/* the peer goes away: EPOLLHUP without asking */
	ev = (struct epoll_event){.events = EPOLLRDHUP, .data.fd = sv[0]};
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev) == 0);
	CHECK(close(sv[1]) == 0);
	CHECK(wait_n(ep, out, 1000) == 1 && (out[0].events & EPOLLHUP) &&
	      (out[0].events & EPOLLRDHUP));
	CHECK(close(sv[0]) == 0 && close(ep) == 0);
	printf("epoll: level, edge, oneshot, hangup\n");
}

static void tcp_accept_loop(void)
{
	int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	CHECK(bind(l, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(l, 16) == 0);
	CHECK(getsockname(l, (struct sockaddr *)&a, &al) == 0);
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = l}, out[8];
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev) == 0);
	int c[4], served = 0;
	for (int i = 0; i < 4; i++) {
		c[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		CHECK(connect(c[i], (struct sockaddr *)&a, sizeof(a)) == -1 &&
		      errno == EINPROGRESS);
	}
	while (served < 4) {
		int n = wait_n(ep, out, 5000);
		if (n <= 0) {
			CHECK(!"epoll_wait timed out");
			break;
		}
		for (int i = 0; i < n; i++) {
			if (out[i].data.fd == l) {
				int s;
				while ((s = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					ev = (struct epoll_event){.events = EPOLLIN | EPOLLRDHUP,
								  .data.fd = s};
					CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) == 0);
					CHECK(write(s, "hi", 2) == 2);
				}
				CHECK(errno == EAGAIN);
			} else {
				char b[8];
				if (read(out[i].data.fd, b, sizeof(b)) == 0) {
					CHECK(close(out[i].data.fd) == 0);
					served++;
				}
			}
		}
		for (int i = 0; i < 4; i++) {
			char b[2];
			if (c[i] >= 0 && read(c[i], b, 2) == 2) {
				CHECK(close(c[i]) == 0);
				c[i] = -1;
			}
		}
	}
	CHECK(close(l) == 0 && close(ep) == 0);
	printf("epoll: 4 loopback connections accepted and closed\n");
}

/*
 * Edge-triggered on TCP, as nginx uses it: a socket drained between two waits reports the
 * next arrival, though it looks just as ready as at the last report (the same size); so
 * does a listener whose queue accept() emptied.
 */
static void tcp_edges(void)
{
	int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	CHECK(bind(l, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(l, 16) == 0);
	CHECK(getsockname(l, (struct sockaddr *)&a, &al) == 0);
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.fd = l}, out[8];
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev) == 0);
	int c[2], s[2];
	for (int i = 0; i < 2; i++) {
		c[i] = socket(AF_INET, SOCK_STREAM, 0);
		CHECK(connect(c[i], (struct sockaddr *)&a, sizeof(a)) == 0);
		CHECK(wait_n(ep, out, 5000) == 1 && out[0].data.fd == l);
		s[i] = accept4(l, NULL, NULL, SOCK_NONBLOCK);
		CHECK(s[i] >= 0);
		CHECK(accept4(l, NULL, NULL, SOCK_NONBLOCK) == -1 && errno == EAGAIN);
	}
	ev = (struct epoll_event){.events = EPOLLIN | EPOLLET, .data.fd = s[0]};
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, s[0], &ev) == 0);
	CHECK(wait_n(ep, out, 0) == 0);
	char b[8];
	for (int round = 0; round < 3; round++) {
		CHECK(write(c[0], "ping", 4) == 4);
		int n = wait_n(ep, out, 5000);
		CHECK(n == 1 && out[0].data.fd == s[0] && (out[0].events & EPOLLIN));
		if (n != 1)
			break;
		CHECK(read(s[0], b, sizeof(b)) == 4);
		CHECK(read(s[0], b, sizeof(b)) == -1 && errno == EAGAIN);
	}
	for (int i = 0; i < 2; i++)
		CHECK(close(c[i]) == 0 && close(s[i]) == 0);
	CHECK(close(l) == 0 && close(ep) == 0);
	printf("epoll: edge-triggered TCP reports each arrival after a drain\n");
}

/* A pipe is ready exactly when read would not block (Erlang's wake-up pipe). */
static void pipes(void)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 7}, out[8];
	int p[2], ep = epoll_create1(0);
	char b[4];
	CHECK(ep >= 0 && pipe2(p, O_NONBLOCK) == 0);
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0);
	CHECK(wait_n(ep, out, 0) == 0);
	CHECK(write(p[1], "x", 1) == 1);
	CHECK(wait_n(ep, out, 0) == 1 && out[0].data.u64 == 7 && out[0].events == EPOLLIN);
	CHECK(read(p[0], b, sizeof(b)) == 1);
	CHECK(wait_n(ep, out, 0) == 0);
	CHECK(close(p[1]) == 0);
	CHECK(wait_n(ep, out, 0) == 1 && (out[0].events & EPOLLHUP));
	CHECK(close(p[0]) == 0 && close(ep) == 0);
	printf("epoll: a pipe is ready when it holds data or has no writer\n");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	pipes();
	eventfds();
	timerfds();
	triggers();
	tcp_accept_loop();
	tcp_edges();
	return check_done();
}
