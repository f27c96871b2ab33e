/* SPDX-License-Identifier: BSD-3-Clause */
/* Exits with the status given as argv[1]: through exit(), or the bare exit syscall with "raw". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int code = argc > 1 ? atoi(argv[1]) : 0;

	printf("exiting with %d\n", code);
	if (argc > 2 && strcmp(argv[2], "raw") == 0) {
		fflush(stdout);
		syscall(SYS_exit,
			code); /* exit(2), not exit_group(2): the last thread ends the process */
	}
	exit(code);
}
