/* SPDX-License-Identifier: BSD-3-Clause */
/* Checks execve: failures return intact, then it runs itself again with new argv and env (status
 * 42). */
#include "check.h"

#include <fcntl.h>
#include <unistd.h>

extern char **environ;

/* The program after the exec: its argv and env, and which descriptors survived. */
static int second(int argc, char **argv)
{
	printf("second: argc=%d\n", argc);
	for (int i = 1; i < argc; i++)
		printf("second: argv[%d]=[%s]\n", i, argv[i]);
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "CAPSTAN_", 8) == 0)
			printf("second: env %s\n", *e);
	CHECK(fcntl(5, F_GETFD) == 0);
	CHECK(fcntl(6, F_GETFD) == -1 && errno == EBADF);
	printf("second: fd 5 kept, fd 6 closed on exec\n");
	if (check_failures)
		return check_done();
	printf("SUCCESS\n");
	return 42;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--second") == 0)
		return second(argc, argv);

	char *args[] = {argv[0], "--second", "two words", "", NULL};
	char *envs[] = {"CAPSTAN_X=after exec", "CAPSTAN_EMPTY=", NULL};
	CHECK(execve("/no/such/program", args, envs) == -1 && errno == ENOENT);
	CHECK(execve("data", args, envs) == -1 && errno == EACCES);
	char **volatile bad = (char **)8; /* an unmapped address, out of the compiler's sight */
	CHECK(execve(argv[0], bad, envs) == -1 && errno == EFAULT);
	printf("execve: missing -> ENOENT, directory -> EACCES, bad argv -> EFAULT\n");
	int fd = open("data/hello.txt", O_RDONLY);
	CHECK(fd >= 0 && dup2(fd, 5) == 5 && dup3(fd, 6, O_CLOEXEC) == 6);
	if (check_failures)
		return check_done();
	fflush(stdout);
	execve(argv[0], args, envs);
	printf("FAIL: execve %s (%s)\n", argv[0], strerror(errno));
	return 1;
}
