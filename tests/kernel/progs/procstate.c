/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * /proc/PID of a child: stat's state letter and status's State: line follow
 * it as it sleeps, is stopped (T), continues and becomes a zombie (Z); its
 * parent pid is ours; once reaped, its directory is gone. A child reading
 * /proc/1 sees pid 1 (the first program), and /proc/self and
 * /proc/thread-self are itself.
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

/* The whole of a small /proc file, NUL-terminated; its length, or -1. */
static ssize_t slurp(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return n;
}

/* The number after key at the start of a line of /proc/PID/status, or -1. */
static long status_field(pid_t pid, const char *key)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (slurp(path, buf, sizeof(buf)) <= 0)
		return -1;
	for (char *l = buf; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, strlen(key)))
			return atol(l + strlen(key));
	return -1;
}

/* In a child (not pid 1): /proc/1 is pid 1, whose parent is 0; /proc/self and thread-self
 * name the child; stat, status, comm and cmdline of /proc/1 agree with each other. */
static int pid_one(void)
{
	char buf[4096], path[96], comm[64], link[64];
	int ppid = -1;
	CHECK(getpid() != 1);
	CHECK(slurp("/proc/1/stat", buf, sizeof(buf)) > 0 && atoi(buf) == 1);
	CHECK(stat_state(1, &ppid) != 0 && ppid == 0);
	CHECK(status_field(1, "Pid:\t") == 1 && status_field(1, "PPid:\t") == 0);
	CHECK(slurp("/proc/1/comm", comm, sizeof(comm)) > 1);
	comm[strcspn(comm, "\n")] = 0;
	snprintf(path, sizeof(path), "1 (%s) ", comm);
	CHECK(!strncmp(buf, path, strlen(path)));
	CHECK(slurp("/proc/1/cmdline", buf, sizeof(buf)) > 0);

	snprintf(path, sizeof(path), "%d (", (int)getpid());
	CHECK(slurp("/proc/self/stat", buf, sizeof(buf)) > 0 && !strncmp(buf, path, strlen(path)));
	CHECK(status_field(getpid(), "Pid:\t") == getpid());
	CHECK(status_field(getpid(), "PPid:\t") == getppid());
	ssize_t n = readlink("/proc/self", link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	CHECK(n > 0 && atoi(link) == getpid());
	n = readlink("/proc/thread-self", link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	snprintf(path, sizeof(path), "%d/task/%d", (int)getpid(), (int)getpid());
	CHECK(n > 0 && !strcmp(link, path));
	CHECK(slurp("/proc/thread-self/stat", buf, sizeof(buf)) > 0 && atoi(buf) == getpid());
	return check_failures ? 1 : 0;
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
	int st;
	pid_t pid = fork();
	if (pid == 0)
		_exit(pid_one());
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	printf("procstate: a child sees pid 1 in /proc/1, itself in /proc/self and thread-self\n");

	pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	CHECK(pid > 0);
	int ppid = -1;
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
