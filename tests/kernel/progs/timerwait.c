/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A thread waiting in epoll_wait or poll while some timerfd
 * has expired unread (or is in an epoll set as an EPOLLONESHOT item already
 * reported, as Erlang's poller keeps it): the waiter must sleep, so that the
 * thread that will wake it gets to run.
 */
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static int pipefd[2];

static void sleep_ms(long ms)
{
	struct timespec ts = {0, ms * 1000000};
	nanosleep(&ts, NULL);
}

/* Arms t to fire once, 1 ms from now. */
static void arm_soon(int t)
{
	struct itimerspec its = {{0, 0}, {0, 1000000}};
	CHECK(timerfd_settime(t, 0, &its, NULL) == 0);
}

/* Writes a byte into the pipe after the main thread has had the time to start waiting. */
static void *late_writer(void *arg)
{
	sleep_ms((long)arg);
	CHECK(write(pipefd[1], "x", 1) == 1);
	return NULL;
}

static void start_writer(pthread_t *th)
{
	CHECK(pthread_create(th, NULL, late_writer, (void *)50l) == 0);
}

static void drain(void)
{
	char c;
	CHECK(read(pipefd[0], &c, 1) == 1 && c == 'x');
}

/* epoll_wait and poll on a pipe, while an unrelated timerfd has expired and nobody read it. */
static void unrelated_expired(void)
{
	int t = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	CHECK(t >= 0);
	arm_soon(t);
	sleep_ms(20);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7}, out[4];
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, pipefd[0], &ev) == 0);
	pthread_t th;
	start_writer(&th);
	CHECK(epoll_wait(ep, out, 4, -1) == 1 && out[0].data.u32 == 7);
	CHECK(pthread_join(th, NULL) == 0);
	drain();

	arm_soon(t);
	sleep_ms(20);
	start_writer(&th);
	struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
	CHECK(poll(&p, 1, -1) == 1 && (p.revents & POLLIN));
	CHECK(pthread_join(th, NULL) == 0);
	drain();

	uint64_t n = 0;
	CHECK(read(t, &n, 8) == 8 && n == 1); /* it still counts its one expiration */
	CHECK(close(ep) == 0);
	CHECK(close(t) == 0);
	printf("timerwait: epoll_wait and poll sleep while another timerfd expired unread\n");
}

/* Erlang's poller: a timerfd in the set with EPOLLONESHOT, reported once, re-armed, expires. */
static void oneshot_rearmed(void)
{
	int t = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	CHECK(t >= 0);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.u32 = 1}, out[4];
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, t, &ev) == 0);
	ev = (struct epoll_event){.events = EPOLLIN, .data.u32 = 2};
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, pipefd[0], &ev) == 0);
	arm_soon(t);
	CHECK(epoll_wait(ep, out, 4, -1) == 1 && out[0].data.u32 == 1);
	arm_soon(t); /* the item stays disabled until EPOLL_CTL_MOD */
	sleep_ms(20);
	pthread_t th;
	start_writer(&th);
	CHECK(epoll_wait(ep, out, 4, -1) == 1 && out[0].data.u32 == 2);
	CHECK(pthread_join(th, NULL) == 0);
	drain();
	CHECK(close(ep) == 0);
	CHECK(close(t) == 0);
	printf("timerwait: a re-armed one-shot item expired, epoll_wait still sleeps\n");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	CHECK(pipe(pipefd) == 0);
	unrelated_expired();
	oneshot_rearmed();
	return check_done();
}
