// SPDX-License-Identifier: BSD-3-Clause
// Running child processes (build steps, qemu-img) with optional output capture.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capstan/err.h"
#include "capstan/proc.h"
#include "capstan/str.h"
#include "capstan/banned.h"

extern char **environ;

int proc_run(const char *const argv[], const char *dir, struct strbuf *out)
{
	posix_spawn_file_actions_t fa;
	int pipefd[2] = {-1, -1};
	pid_t pid;
	int ret, status;

	posix_spawn_file_actions_init(&fa);
	if (out) {
		if (pipe2(pipefd, O_CLOEXEC) < 0) {
			ret = -errno;
			goto out;
		}
		posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
		posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	}
	if (dir)
		posix_spawn_file_actions_addchdir_np(&fa, dir);
	ret = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	if (ret) {
		ret = cap_errnof(ret, "cannot run '%s'", argv[0]);
		goto out;
	}
	if (out) {
		char buf[4096];
		ssize_t n;
		close(pipefd[1]);
		pipefd[1] = -1;
		while ((n = read(pipefd[0], buf, sizeof(buf))) != 0) {
			if (n < 0) {
				if (errno == EINTR)
					continue;
				break;
			}
			sb_add(out, buf, (size_t)n);
		}
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			ret = -errno;
			goto out;
		}
	}
	if (WIFEXITED(status))
		ret = WEXITSTATUS(status);
	else
		ret = 128 + WTERMSIG(status);
out:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	posix_spawn_file_actions_destroy(&fa);
	return ret;
}
