// SPDX-License-Identifier: BSD-3-Clause
// hello.c: the program of capstan/hello.
#include <stdio.h>

int main(void)
{
	printf("Hello, world!\n");
	return 0;
}
