// SPDX-License-Identifier: BSD-3-Clause
// An idle program for the idle-instances benchmark: says it is up, then sleeps until powered off.
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	puts("idle");
	fflush(stdout);
	for (;;)
		sleep(3600);
}
