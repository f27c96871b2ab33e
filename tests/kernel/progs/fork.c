/* SPDX-License-Identifier: BSD-3-Clause */
/* Processes: fork with copy-on-write, wait statuses, vfork and posix_spawn with exec, pipes
 * between processes, a 3-process pipeline, SIGCHLD, zombies and orphans. */
#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

extern char **environ;
static char page[4096] __attribute__((aligned(4096)));
static char untouched[4096] __attribute__((aligned(4096)));

/* Wait for pid and return its raw status (-1 when waitpid fails). */
static int reap(pid_t pid)
{
	int st;
	return waitpid(pid, &st, 0) == pid ? st : -1;
}

/* Parent and child write the same page; each keeps its own copy, and a page only the parent
 * writes after the fork keeps its old bytes in the child. */
static void cow(void)
{
	int sync[2], back[2];
	memset(page, 'P', sizeof(page));
	memset(untouched, 'U', sizeof(untouched));
	char *heap = malloc(100000);
	memset(heap, 'H', 100000);
	CHECK(pipe(sync) == 0 && pipe(back) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		memset(page, 'C', sizeof(page));
		heap[50000] = 'c';
		if (read(sync[0], &c, 1) != 1) /* the parent has written its pages */
			_exit(10);
		int bad = page[0] != 'C' || page[4095] != 'C' || untouched[0] != 'U' ||
			  heap[50000] != 'c' || heap[0] != 'H';
		if (write(back[1], "k", 1) != 1)
			_exit(11);
		_exit(bad ? 12 : 0);
	}
	CHECK(pid > 0);
	memset(page, 'Q', sizeof(page));
	memset(untouched, 'V', sizeof(untouched));
	heap[50000] = 'p';
	CHECK(write(sync[1], "g", 1) == 1);
	char c;
	CHECK(read(back[0], &c, 1) == 1);
	int st = reap(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(page[0] == 'Q' && untouched[0] == 'V' && heap[50000] == 'p' && heap[1] == 'H');
	close(sync[0]), close(sync[1]), close(back[0]), close(back[1]);
	free(heap);
	printf("fork: parent and child wrote the same page, each kept its own\n");
}

static void statuses(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(7);
	int st = reap(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7);
	if ((pid = fork()) == 0) {
		kill(getpid(), SIGTERM);
		_exit(1);
	}
	st = reap(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	if ((pid = fork()) == 0) {
		raise(SIGSEGV);
		_exit(1);
	}
	st = reap(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
	/* WNOHANG while the child still runs, then waitid once it has ended */
	int hold[2];
	CHECK(pipe(hold) == 0);
	if ((pid = fork()) == 0) {
		char c;
		close(hold[1]);
		_exit(read(hold[0], &c, 1) == 0 ? 42 : 1); /* EOF: the parent closed its end */
	}
	close(hold[0]);
	CHECK(waitpid(pid, &st, WNOHANG) == 0);
	close(hold[1]);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	CHECK(waitid(P_PID, (id_t)pid, &si, WEXITED) == 0);
	CHECK(si.si_pid == pid && si.si_code == CLD_EXITED && si.si_status == 42);
	CHECK(waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD);
	printf("wait: exit 7, SIGTERM, SIGSEGV, WNOHANG and waitid ok\n");
}

static void execs(const char *self)
{
	pid_t pid = vfork();
	if (pid == 0) {
		char *argv[] = {(char *)"fork", (char *)"child", (char *)"from vfork", NULL};
		execve(self, argv, environ);
		_exit(127);
	}
	int st = reap(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3);
	char *argv[] = {(char *)"fork", (char *)"child", (char *)"from posix_spawn", NULL};
	CHECK(posix_spawn(&pid, self, NULL, NULL, argv, environ) == 0);
	st = reap(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3);
	printf("exec: vfork and posix_spawn children ran the program again\n");
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 13 + i / 4099);
}

/* 1 MiB from a child to the parent through one pipe. */
static void megabyte(void)
{
	int p[2];
	const size_t total = 1 << 20;
	CHECK(pipe(p) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		static uint8_t buf[7000];
		close(p[0]);
		for (size_t sent = 0; sent < total;) {
			size_t n = total - sent < sizeof(buf) ? total - sent : sizeof(buf);
			for (size_t i = 0; i < n; i++)
				buf[i] = pattern(sent + i);
			ssize_t w = write(p[1], buf, n);
			if (w <= 0)
				_exit(1);
			sent += (size_t)w;
		}
		_exit(0);
	}
	close(p[1]);
	static uint8_t buf[10000];
	size_t got = 0, bad = 0;
	ssize_t r;
	while ((r = read(p[0], buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < r; i++)
			bad += buf[i] != pattern(got + (size_t)i);
		got += (size_t)r;
	}
	close(p[0]);
	CHECK(r == 0 && got == total && bad == 0);
	int st = reap(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	printf("pipe: 1 MiB from a child, in order, then EOF\n");
}

/* generate | transform | check: three children, the parent holds no end. */
static void pipeline(void)
{
	int a[2], b[2];
	const size_t total = 300000;
	CHECK(pipe(a) == 0 && pipe(b) == 0);
	pid_t gen = fork();
	if (gen == 0) {
		uint8_t buf[3000];
		close(a[0]), close(b[0]), close(b[1]);
		for (size_t i = 0; i < total; i += sizeof(buf)) {
			for (size_t j = 0; j < sizeof(buf); j++)
				buf[j] = pattern(i + j);
			if (write(a[1], buf, sizeof(buf)) != sizeof(buf))
				_exit(1);
		}
		_exit(0);
	}
	pid_t xf = fork();
	if (xf == 0) {
		uint8_t buf[4096];
		ssize_t r;
		close(a[1]), close(b[0]);
		while ((r = read(a[0], buf, sizeof(buf))) > 0) {
			for (ssize_t i = 0; i < r; i++)
				buf[i] ^= 0x5a;
			if (write(b[1], buf, (size_t)r) != r)
				_exit(1);
		}
		_exit(r == 0 ? 0 : 1);
	}
	pid_t chk = fork();
	if (chk == 0) {
		uint8_t buf[1000];
		size_t got = 0, bad = 0;
		ssize_t r;
		close(a[0]), close(a[1]), close(b[1]);
		while ((r = read(b[0], buf, sizeof(buf))) > 0)
			for (ssize_t i = 0; i < r; i++, got++)
				bad += buf[i] != (pattern(got) ^ 0x5a);
		_exit(got == total && bad == 0 ? 0 : 1);
	}
	close(a[0]), close(a[1]), close(b[0]), close(b[1]);
	int ok = 0;
	for (int i = 0; i < 3; i++) {
		int st;
		pid_t w = wait(&st);
		ok += (w == gen || w == xf || w == chk) && WIFEXITED(st) && WEXITSTATUS(st) == 0;
	}
	CHECK(ok == 3);
	printf("pipeline: generate | transform | check passed 300000 bytes\n");
}

static volatile sig_atomic_t chld_pid, chld_status, chld_code;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	chld_pid = si->si_pid;
	chld_status = si->si_status;
	chld_code = si->si_code;
}

static void sigchld(void)
{
	struct sigaction sa = {.sa_sigaction = on_chld, .sa_flags = SA_SIGINFO};
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	CHECK(sigaction(SIGCHLD, &sa, NULL) == 0);
	sigprocmask(SIG_BLOCK, &block, &old);
	pid_t pid = fork();
	if (pid == 0)
		_exit(5);
	while (!chld_pid)
		sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, NULL);
	CHECK(chld_pid == pid && chld_status == 5 && chld_code == CLD_EXITED);
	int st = reap(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 5);
	/* SIGCHLD ignored: children are reaped as they end, and wait finds none */
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	CHECK(sigaction(SIGCHLD, &sa, NULL) == 0);
	if ((pid = fork()) == 0)
		_exit(0);
	CHECK(waitpid(pid, &st, 0) == -1 && errno == ECHILD);
	sa.sa_handler = SIG_DFL;
	CHECK(sigaction(SIGCHLD, &sa, NULL) == 0);
	printf("sigchld: handler told pid and status; ignored SIGCHLD reaps\n");
}

/* A zombie stays until waited for; an orphan goes to the subreaper (us; pid 1 in the
 * unikernel, which is also what Linux does without one). */
static void zombies(void)
{
	int p[2];
	CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
	pid_t pid = fork();
	if (pid == 0)
		_exit(9);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	CHECK(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0 && si.si_status == 9);
	CHECK(kill(pid, 0) == 0); /* a zombie still has its pid */
	int st = reap(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 9);
	CHECK(kill(pid, 0) == -1 && errno == ESRCH);

	CHECK(pipe(p) == 0);
	pid_t me = getpid(), mid = fork();
	if (mid == 0) {
		pid_t parent = getpid(), orphan = fork();
		if (orphan == 0) {
			while (getppid() == parent) /* until its parent has ended */
				sched_yield();
			_exit(getppid() == me ? 21 : 1);
		}
		if (write(p[1], &orphan, sizeof(orphan)) != sizeof(orphan))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	pid_t orphan = 0;
	CHECK(read(p[0], &orphan, sizeof(orphan)) == sizeof(orphan));
	st = reap(mid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(p[0]);
	st = reap(orphan); /* ours now */
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 21);
	printf("zombies: kept until waited for; an orphan came to its reaper\n");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "child")) {
		printf("child: %s, ppid %s\n", argv[2], getppid() > 0 ? "set" : "missing");
		return 3;
	}
	cow();
	statuses();
	execs(argv[0][0] == '/' ? argv[0] : "/proc/self/exe");
	megabyte();
	pipeline();
	sigchld();
	zombies();
	return check_done();
}
