/* SPDX-License-Identifier: BSD-3-Clause */
/* The smallest test: one line on stdout, status 0. */
#include <stdio.h>

int main(void)
{
	printf("hello, world\n");
	printf("SUCCESS\n");
	return 0;
}
