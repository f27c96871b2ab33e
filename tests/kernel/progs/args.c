/* SPDX-License-Identifier: BSD-3-Clause */
/* Prints its arguments one per line, bracketed, to check the cmdline quoting. */
#include "check.h"

int main(int argc, char **argv)
{
	printf("argc=%d\n", argc);
	for (int i = 1; i < argc; i++)
		printf("argv[%d]=[%s]\n", i, argv[i]);
	CHECK(argv[argc] == NULL);
	CHECK(argv[0] != NULL && argv[0][0] != '\0');
	return check_done();
}
