/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers for the kernel test programs: CHECK() a condition, print SUCCESS at the end. */
#ifndef PROGS_CHECK_H
#define PROGS_CHECK_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;

/* Prints "FAIL: <expr> (<errno text>) at line N" when cond is false; keeps going. */
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("FAIL: %s (%s) at line %d\n", #cond, strerror(errno), __LINE__);    \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

/* Ends the program: SUCCESS and status 0, or status 1 after a failure. */
static inline int check_done(void)
{
	if (check_failures) {
		printf("FAILED %d\n", check_failures);
		return 1;
	}
	printf("SUCCESS\n");
	return 0;
}

#endif
