// SPDX-License-Identifier: BSD-3-Clause
// hello.c: the smallest capstan application; prints a greeting and its arguments' count.
#include <stdio.h>

int main(int argc, char **argv)
{
	(void)argv;
	printf("Hello, world!\n");
	return argc > 1 ? argc - 1 : 0;
}
