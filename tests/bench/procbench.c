/* SPDX-License-Identifier: BSD-3-Clause */
/* Process benchmark: fork+exit+wait per second, 256 MiB through a pipe from dd into cat, and a
 * shell script running 1,000 external commands (busybox), timed with CLOCK_MONOTONIC. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs `busybox sh -c SCRIPT`; its wall time in seconds, or -1 when it fails. */
static double run_sh(const char *busybox, const char *script)
{
	char *argv[] = {(char *)busybox, (char *)"sh", (char *)"-c", (char *)script, NULL};
	pid_t pid;
	int st;
	double t0 = now();
	if (posix_spawn(&pid, busybox, NULL, NULL, argv, environ) != 0 ||
	    waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return now() - t0;
}

int main(int argc, char **argv)
{
	const char *busybox = argc > 1 ? argv[1] : "/bin/busybox";
	int n = 2000;
	double t0 = now();
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		int st;
		if (pid < 0 || waitpid(pid, &st, 0) != pid) {
			printf("procbench: fork failed\n");
			return 1;
		}
	}
	printf("fork+exit+wait: %.0f per second\n", n / (now() - t0));
	double t = run_sh(busybox, "busybox dd if=/dev/zero bs=65536 count=4096 2>/dev/null | "
				   "busybox cat >/dev/null");
	if (t < 0) {
		printf("procbench: the dd | cat pipeline failed\n");
		return 1;
	}
	printf("pipe (dd 256 MiB | cat): %.0f MiB/s\n", 256 / t);
	t = run_sh(busybox, "i=0; while [ $i -lt 1000 ]; do busybox true; i=$((i + 1)); done");
	if (t < 0) {
		printf("procbench: the command loop failed\n");
		return 1;
	}
	printf("1000 external commands: %.0f ms\n", t * 1000);
	return 0;
}
