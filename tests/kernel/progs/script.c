/* SPDX-License-Identifier: BSD-3-Clause */
/* execve of a "#!" script (interpreter plus one argument) and of /proc/self/exe; close_range. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1u << 2)
#endif

extern char **environ;

static void ranges(void)
{
	int a = open("/dev/null", O_RDONLY), b = dup(a), c = dup(a);
	CHECK(a >= 0 && b == a + 1 && c == a + 2);
	CHECK(syscall(SYS_close_range, b, b, CLOSE_RANGE_CLOEXEC) == 0);
	CHECK(fcntl(b, F_GETFD) == FD_CLOEXEC && fcntl(a, F_GETFD) == 0);
	CHECK(syscall(SYS_close_range, a, ~0u, 0) == 0);
	CHECK(fcntl(a, F_GETFD) == -1 && errno == EBADF && fcntl(c, F_GETFD) == -1);
	CHECK(syscall(SYS_close_range, 5, 4, 0) == -1 && errno == EINVAL);
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0755);
	CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
}

int main(int argc, char **argv)
{
	char exe[4096], text[4200];
	if (argc == 2 && !strcmp(argv[1], "--last")) {
		printf("script: /proc/self/exe ran again\n");
		return check_done();
	}
	if (argc > 1 && !strcmp(argv[1], "one  arg")) { /* run as the interpreter */
		CHECK(argc == 5 && !strcmp(argv[2], "/tmp/capstan-script"));
		CHECK(argc == 5 && !strcmp(argv[3], "x") && !strcmp(argv[4], "y z"));
		printf("script: interpreter got [%s] [%s] [%s]\n", argv[1], argv[3], argv[4]);
		fflush(stdout);
		char *again[] = {"self", "--last", NULL};
		execve("/proc/self/exe", again, environ);
		printf("execve /proc/self/exe: %s\n", strerror(errno));
		return 1;
	}
	ranges();
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	CHECK(n > 0);
	exe[n > 0 ? n : 0] = 0;
	write_file("/tmp/capstan-noint", "#!\n");
	char *none[] = {"noint", NULL};
	CHECK(execve("/tmp/capstan-noint", none, environ) == -1 && errno == ENOEXEC);
	snprintf(text, sizeof(text), "#! %s  one  arg \t\necho not reached\n", exe);
	write_file("/tmp/capstan-script", text);
	char *args[] = {"ignored", "x", "y z", NULL};
	fflush(stdout);
	execve("/tmp/capstan-script", args, environ);
	printf("execve script: %s\n", strerror(errno));
	return 1;
}
