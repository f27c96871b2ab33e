/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * /proc/PID of a child: stat's state letter and status's State: line follow
 * it as it sleeps, is stopped (T), continues and becomes a zombie (Z); its
 * parent pid is ours; once reaped, its directory is gone.
 */
#include "check.h"
#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

/* The state letter of /proc/PID/stat (after the name in parentheses), and the ppid. */
static char stat_state(pid_t pid, int *ppid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *r = strrchr(buf, ')');
	char st = 0;
	if (!r || sscanf(r + 1, " %c %d", &st, ppid) != 2)
		return 0;
	return st;
}

/* The State: line of /proc/PID/status, without its newline. */
static void status_state(pid_t pid, char *out, size_t size)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	*out = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(buf, sizeof(buf), f))
		if (!strncmp(buf, "State:\t", 7)) {
			buf[strcspn(buf, "\n")] = 0;
			snprintf(out, size, "%.60s", buf + 7);
		}
	fclose(f);
}

/* Wait (for the condition, not a time) until the child sleeps. */
static char settle(pid_t pid)
{
	int ppid;
	char st = 0;
	for (int i = 0; i < 100000 && (st = stat_state(pid, &ppid)) != 'S'; i++)
		sched_yield();
	return st;
}

int main(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	CHECK(pid > 0);
	int ppid = -1, st;
	char state[64];
	CHECK(settle(pid) == 'S');
	CHECK(stat_state(pid, &ppid) == 'S' && ppid == getpid());
	status_state(pid, state, sizeof(state));
	CHECK(!strcmp(state, "S (sleeping)"));
	printf("procstate: a sleeping child shows S, its parent is us\n");

	CHECK(kill(pid, SIGSTOP) == 0);
	CHECK(waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st));
	CHECK(stat_state(pid, &ppid) == 'T');
	status_state(pid, state, sizeof(state));
	CHECK(!strcmp(state, "T (stopped)"));
	printf("procstate: stopped, it shows T in stat and T (stopped) in status\n");

	CHECK(kill(pid, SIGCONT) == 0);
	CHECK(waitpid(pid, &st, WCONTINUED) == pid && WIFCONTINUED(st));
	CHECK(settle(pid) == 'S');
	printf("procstate: continued, it sleeps again\n");

	CHECK(kill(pid, SIGKILL) == 0);
	siginfo_t si;
	CHECK(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0);
	CHECK(stat_state(pid, &ppid) == 'Z');
	status_state(pid, state, sizeof(state));
	CHECK(!strcmp(state, "Z (zombie)"));
	CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	errno = 0;
	CHECK(open(path, O_RDONLY) < 0 && errno == ENOENT);
	printf("procstate: killed, a zombie shows Z; reaped, its directory is gone\n");
	return check_done();
}
