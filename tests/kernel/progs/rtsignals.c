/* SPDX-License-Identifier: BSD-3-Clause */
/* Real-time signals queue, one instance per send with its own value; standard ones coalesce. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static const struct timespec no_wait = {0, 0};

/* The next pending signal of set, its siginfo in *si; 0 when none. */
static int next_sig(const sigset_t *set, siginfo_t *si)
{
	int sig = sigtimedwait(set, si, &no_wait);
	return sig > 0 ? sig : 0;
}

static int queue(int sig, int value)
{
	return sigqueue(getpid(), sig, (union sigval){.sival_int = value});
}

static volatile int got[8], ngot;
static void on_rt(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	if (ngot < 8 && si->si_code == SI_QUEUE)
		got[ngot++] = si->si_value.sival_int;
}

static volatile int thread_ready;
static volatile pid_t thread_tid;
static int thread_values[3];
static void *waiter(void *arg)
{
	sigset_t *set = arg;
	thread_tid = (pid_t)syscall(SYS_gettid);
	thread_ready = 1;
	for (int i = 0; i < 3; i++) {
		siginfo_t si;
		if (sigwaitinfo(set, &si) == SIGRTMIN + 3 && si.si_code == SI_QUEUE)
			thread_values[i] = si.si_value.sival_int;
	}
	return NULL;
}

int main(void)
{
	sigset_t set, pend;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGRTMIN);
	sigaddset(&set, SIGRTMIN + 1);
	CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0);

	/* three of one real-time signal, one of another, three of a standard one */
	for (int v = 1; v <= 3; v++)
		CHECK(queue(SIGRTMIN, v) == 0);
	CHECK(kill(getpid(), SIGRTMIN + 1) == 0);
	for (int i = 0; i < 3; i++)
		CHECK(kill(getpid(), SIGUSR1) == 0);
	CHECK(sigpending(&pend) == 0 && sigismember(&pend, SIGRTMIN) &&
	      sigismember(&pend, SIGUSR1));

	siginfo_t si;
	CHECK(next_sig(&set, &si) == SIGUSR1 && si.si_code == SI_USER && si.si_pid == getpid());
	for (int v = 1; v <= 3; v++) {
		CHECK(next_sig(&set, &si) == SIGRTMIN);
		CHECK(si.si_code == SI_QUEUE && si.si_pid == getpid() &&
		      si.si_value.sival_int == v);
		if (v == 2)
			CHECK(sigpending(&pend) == 0 && sigismember(&pend, SIGRTMIN));
	}
	CHECK(next_sig(&set, &si) == SIGRTMIN + 1 && si.si_code == SI_USER);
	CHECK(next_sig(&set, &si) == 0 && errno == EAGAIN);
	CHECK(sigpending(&pend) == 0 && !sigismember(&pend, SIGRTMIN) &&
	      !sigismember(&pend, SIGUSR1));
	printf("rtsignals: 3 queued in order with their values, the standard signal once\n");

	/* a handler runs once per instance, in the order sent */
	struct sigaction sa = {0};
	sa.sa_sigaction = on_rt;
	sa.sa_flags = SA_SIGINFO;
	CHECK(sigaction(SIGRTMIN + 2, &sa, NULL) == 0);
	sigset_t one;
	sigemptyset(&one);
	sigaddset(&one, SIGRTMIN + 2);
	CHECK(sigprocmask(SIG_BLOCK, &one, NULL) == 0);
	for (int v = 10; v < 15; v++)
		CHECK(queue(SIGRTMIN + 2, v) == 0);
	CHECK(ngot == 0);
	CHECK(sigprocmask(SIG_UNBLOCK, &one, NULL) == 0);
	CHECK(ngot == 5);
	for (int i = 0; i < 5 && i < ngot; i++)
		CHECK(got[i] == 10 + i);
	printf("rtsignals: the handler ran 5 times, values in order\n");

	/* ignoring a signal drops its queued instances */
	CHECK(queue(SIGRTMIN, 7) == 0 && queue(SIGRTMIN, 8) == 0);
	signal(SIGRTMIN, SIG_IGN);
	signal(SIGRTMIN, SIG_DFL);
	CHECK(next_sig(&set, &si) == 0);
	printf("rtsignals: SIG_IGN dropped the queued ones\n");

	/* to one thread, by rt_tgsigqueueinfo */
	sigset_t tset;
	sigemptyset(&tset);
	sigaddset(&tset, SIGRTMIN + 3);
	CHECK(sigprocmask(SIG_BLOCK, &tset, NULL) == 0);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, waiter, &tset) == 0);
	while (!thread_ready)
		sched_yield();
	for (int v = 0; v < 3; v++) {
		siginfo_t q;
		memset(&q, 0, sizeof(q));
		q.si_signo = SIGRTMIN + 3;
		q.si_code = SI_QUEUE;
		q.si_pid = getpid();
		q.si_value.sival_int = 100 + v;
		CHECK(syscall(SYS_rt_tgsigqueueinfo, getpid(), thread_tid, SIGRTMIN + 3, &q) == 0);
	}
	CHECK(pthread_join(t, NULL) == 0);
	CHECK(thread_values[0] == 100 && thread_values[1] == 101 && thread_values[2] == 102);
	printf("rtsignals: a thread took 3 from rt_tgsigqueueinfo in order\n");

	errno = 0;
	CHECK(sigqueue(getpid(), 65, (union sigval){0}) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(sigqueue(0x7ffffff0, SIGRTMIN, (union sigval){0}) == -1 && errno == ESRCH);
	return check_done();
}
