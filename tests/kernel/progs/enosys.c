/* SPDX-License-Identifier: BSD-3-Clause */
/* System calls that do not exist return ENOSYS and the program goes on. */
#include <unistd.h>
#include "check.h"

int main(int argc, char **argv)
{
	errno = 0;
	CHECK(syscall(1000) == -1 && errno == ENOSYS);
	errno = 0;
	CHECK(syscall(400, 1, 2, 3) == -1 && errno == ENOSYS); /* unassigned on x86-64 */
	errno = 0;
	CHECK(syscall(184) == -1 && errno == ENOSYS); /* tuxcall: named, and ENOSYS on Linux too */
	printf("enosys: syscall 1000, 400 and 184 -> ENOSYS\n");
	int r = check_done();
	if (argc > 1 && !strcmp(argv[1], "nonl"))
		printf("no newline at the end"); /* what the kernel prints after it starts a new
						    line */
	return r;
}
