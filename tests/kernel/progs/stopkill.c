/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kill -9 of a stopped job, many times over, the way a shell does it: a child leading a group
 * of its own stops (it reads the terminal from the background and gets SIGTTIN, when the
 * terminal is ours; it stops itself; or the parent stops it), the parent hears of the stop in
 * its SIGCHLD handler with waitpid(-1, WNOHANG|WUNTRACED|WCONTINUED), kills the group with
 * SIGKILL and must hear of the death the same way.  SIGCHLD is blocked but while the parent
 * waits, in sigsuspend, or in pselect or ppoll with a mask that lets it in (as readline
 * waits).  A round with no news for a long while prints what /proc says of the child and
 * fails.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

#define ROUNDS 300

/* What the handler heard: the last status of each kind for the child of this round. */
static volatile sig_atomic_t child, stopped, killed, other, stuck;

static void on_chld(int sig)
{
	(void)sig;
	int st, saved = errno;
	pid_t r;
	while ((r = waitpid(-1, &st, WNOHANG | WUNTRACED | WCONTINUED)) > 0) {
		if (r != child)
			other = 1;
		else if (WIFSTOPPED(st))
			stopped = WSTOPSIG(st);
		else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
			killed = 1;
		else if (!WIFCONTINUED(st))
			other = 1;
	}
	errno = saved;
}

static void on_alarm(int sig)
{
	(void)sig;
	stuck = 1;
}

/* Sleep with the mask during (SIGCHLD blocked outside it) in sigsuspend, pselect or ppoll
 * (waiter 0, 1, 2) until *flag is set or the watchdog fires. */
static bool wait_for(volatile sig_atomic_t *flag, const sigset_t *during, int waiter)
{
	alarm(20);
	while (!*flag && !stuck) {
		if (waiter == 0)
			sigsuspend(during);
		else if (waiter == 1)
			pselect(0, NULL, NULL, NULL, NULL, during);
		else
			ppoll(NULL, 0, NULL, during);
	}
	alarm(0);
	return *flag;
}

/* The child's line of /proc/PID/stat, for a round that got stuck. */
static void show(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("stopkill: child %d: %s\n", (int)pid, n > 0 ? buf : "no /proc entry");
	if (fd >= 0)
		close(fd);
}

/* One round; how is 0 (a background read of the terminal), 1 (SIGSTOP to itself) or 2
 * (SIGSTOP from the parent while it sleeps). */
static bool round_ok(int how, int waiter, const sigset_t *during)
{
	stopped = killed = other = stuck = 0;
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		setpgid(0, 0);
		if (how == 0)
			(void)read(0, &c, 1);
		else if (how == 1)
			raise(SIGSTOP);
		for (;;)
			pause();
	}
	if (pid < 0)
		return false;
	child = pid;
	setpgid(pid, pid); /* both sides, as shells do */
	if (how == 2)
		kill(pid, SIGSTOP);
	if (!wait_for(&stopped, during, waiter)) {
		printf("stopkill: stop %d, wait %d: the stop was not heard\n", how, waiter);
		show(pid);
		return false;
	}
	kill(-pid, SIGKILL);
	if (!wait_for(&killed, during, waiter)) {
		printf("stopkill: stop %d, wait %d: the kill of a stopped child was not heard\n",
		       how, waiter);
		show(pid);
		return false;
	}
	return !other;
}

int main(void)
{
	sigset_t chld, during;
	struct sigaction sa = {.sa_handler = on_chld, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGCHLD, &sa, NULL) == 0);
	sa.sa_handler = on_alarm;
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	CHECK(sigprocmask(SIG_BLOCK, &chld, &during) == 0);
	sigdelset(&during, SIGCHLD);
	/* the background read stops only where the terminal is ours (not under a test runner) */
	bool tty = isatty(0) && tcgetpgrp(0) == getpgrp();
	int done = 0;
	for (int i = 0; i < ROUNDS; i++) {
		int how = i % 3 == 0 && !tty ? 1 : i % 3;
		if (!round_ok(how, i / 3 % 3, &during))
			break;
		done++;
	}
	CHECK(done == ROUNDS);
	printf("stopkill: %d stopped children killed, each stop and death heard\n", done);
	return check_done();
}
