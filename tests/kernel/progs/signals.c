/* SPDX-License-Identifier: BSD-3-Clause */
/* Signal bookkeeping without delivery: rt_sigaction and rt_sigprocmask keep what they are told. */
#include <signal.h>
#include "check.h"

static void handler(int sig)
{
	(void)sig;
}

int main(void)
{
	struct sigaction sa = {0}, old;
	sigset_t set, cur;

	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGUSR1, &sa, &old) == 0 && old.sa_handler == SIG_DFL);
	CHECK(sigaction(SIGUSR1, NULL, &old) == 0 && old.sa_handler == handler);
	CHECK(signal(SIGPIPE, SIG_IGN) == SIG_DFL);
	CHECK(signal(SIGPIPE, SIG_DFL) == SIG_IGN);
	CHECK(sigaction(SIGKILL, &sa, NULL) == -1 && errno == EINVAL);
	CHECK(sigaction(65, &sa, NULL) == -1 && errno == EINVAL);

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0);
	CHECK(sigprocmask(SIG_SETMASK, NULL, &cur) == 0 && sigismember(&cur, SIGUSR2));
	CHECK(sigprocmask(SIG_UNBLOCK, &set, &cur) == 0 && sigismember(&cur, SIGUSR2));
	CHECK(sigprocmask(SIG_SETMASK, NULL, &cur) == 0 && !sigismember(&cur, SIGUSR2));
	CHECK(sigpending(&cur) == 0 && !sigismember(&cur, SIGUSR1));
	printf("signals: handlers and mask kept\n");
	return check_done();
}
