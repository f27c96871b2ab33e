/* SPDX-License-Identifier: BSD-3-Clause */
/* Writing to a pipe nobody reads kills the writer with SIGPIPE. */
#include <unistd.h>
#include "check.h"

int main(void)
{
	int fds[2];
	CHECK(pipe(fds) == 0);
	close(fds[0]);
	printf("writing to a pipe without a reader\n");
	fflush(stdout);
	write(fds[1], "x", 1);
	printf("still alive\n");
	return 1;
}
