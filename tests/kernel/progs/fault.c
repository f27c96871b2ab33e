/* SPDX-License-Identifier: BSD-3-Clause */
/* Dereferences NULL: the kernel must report the fault and exit with its fault status. */
#include <stdio.h>

int main(void)
{
	printf("about to fault\n");
	fflush(stdout);
	*(volatile int *)0 = 42;
	printf("FAIL: still running\n");
	return 0;
}
