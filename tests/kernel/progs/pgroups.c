/* SPDX-License-Identifier: BSD-3-Clause */
/* Process groups and sessions: setsid, setpgid's rules, kill to a group, to 0 and to -1. */
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

static volatile sig_atomic_t usr1;

static void on_usr1(int sig)
{
	(void)sig;
	usr1++;
}

static int reap(pid_t pid)
{
	int st;
	return waitpid(pid, &st, 0) == pid ? st : -1;
}

/* A child that waits for a signal; it joins group pgid first when pgid >= 0. */
static pid_t sleeper(pid_t pgid)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (pgid >= 0 && setpgid(0, pgid) != 0)
			_exit(1);
		for (;;)
			pause();
	}
	if (pgid >= 0)
		setpgid(pid, pgid); /* both sides set it, as shells do: no race */
	return pid;
}

/* Runs in a new session, as its leader. */
static int session(const char *self)
{
	pid_t me = getpid();
	CHECK(getsid(0) == me && getpgrp() == me && getpgid(0) == me);
	CHECK(setsid() == -1 && errno == EPERM);      /* already leads a group */
	CHECK(setpgid(0, 0) == -1 && errno == EPERM); /* a session leader stays in its group */

	/* a new group of two, killed together */
	pid_t a = sleeper(0), b;
	CHECK(getpgid(a) == a);
	b = sleeper(a);
	CHECK(getpgid(b) == a && getsid(b) == me);
	CHECK(setpgid(b, 999999) == -1 && errno == EPERM); /* no such group in the session */
	CHECK(kill(-a, SIGTERM) == 0);
	int sa = reap(a), sb = reap(b);
	CHECK(WIFSIGNALED(sa) && WTERMSIG(sa) == SIGTERM);
	CHECK(WIFSIGNALED(sb) && WTERMSIG(sb) == SIGTERM);
	CHECK(kill(-a, 0) == -1 && errno == ESRCH);

	/* kill(0, sig): our own group, ourselves included */
	struct sigaction act = {.sa_handler = on_usr1};
	CHECK(sigaction(SIGUSR1, &act, NULL) == 0);
	pid_t c = sleeper(-1); /* stays in our group; its copy of the handler counts, then pause */
	CHECK(kill(0, SIGUSR1) == 0);
	while (!usr1)
		pause();
	CHECK(kill(-1, 0) == 0); /* c at least is there to signal */
	CHECK(kill(c, SIGKILL) == 0);
	int sc = reap(c);
	CHECK(WIFSIGNALED(sc) && WTERMSIG(sc) == SIGKILL);

	/* setpgid on a child that has run execve: EACCES */
	int p[2];
	CHECK(pipe2(p, O_CLOEXEC) == 0);
	pid_t e = fork();
	if (e == 0) {
		execl(self, "pgroups", "pause", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	char ch;
	CHECK(read(p[0], &ch, 1) == 0); /* the exec closed the child's copy */
	CHECK(setpgid(e, e) == -1 && errno == EACCES);
	CHECK(kill(e, SIGKILL) == 0);
	int se = reap(e);
	CHECK(WIFSIGNALED(se) && WTERMSIG(se) == SIGKILL);
	return check_failures ? 1 : 0;
}

/* Nice values: set, read back, inherited by a child; ESRCH and EINVAL.  (Relative to ours:
 * a test runner may run us niced.) */
static void nice_values(void)
{
	errno = 0;
	int n = getpriority(PRIO_PROCESS, 0), m = n < 19 ? n + 1 : n - 1;
	CHECK(errno == 0);
	CHECK(setpriority(PRIO_PROCESS, 0, m) == 0 && getpriority(PRIO_PROCESS, getpid()) == m);
	CHECK(getpriority(PRIO_PGRP, 0) <= m);
	pid_t pid = fork();
	if (pid == 0)
		_exit(getpriority(PRIO_PROCESS, 0) == m ? 0 : 1);
	int st = reap(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(setpriority(PRIO_PROCESS, 999999, 0) == -1 && errno == ESRCH);
	errno = 0;
	CHECK(getpriority(7, 0) == -1 && errno == EINVAL);
	CHECK(setpriority(PRIO_PROCESS, 0, n) == 0 && getpriority(PRIO_PROCESS, 0) == n);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && !strcmp(argv[1], "pause")) {
		for (;;)
			pause();
	}
	pid_t pid = fork();
	if (pid == 0) {
		if (setsid() != getpid())
			_exit(2);
		_exit(session(argv[0][0] == '/' ? argv[0] : "/proc/self/exe"));
	}
	int st = reap(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(getpgid(pid) == -1 && errno == ESRCH);
	printf("pgroups: setsid, setpgid, kill to a group, to 0 and -1 ok\n");
	nice_values();
	printf("pgroups: nice values set, read and inherited\n");
	return check_done();
}
