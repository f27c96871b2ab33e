/* SPDX-License-Identifier: BSD-3-Clause */
/* Prints the CAPSTAN_* variables of its environment (set with --env=K=V). */
#include "check.h"

extern char **environ;

int main(void)
{
	int n = 0;

	for (char **e = environ; *e; e++) {
		CHECK(strchr(*e, '=') != NULL);
		if (strncmp(*e, "CAPSTAN_", 8) == 0)
			printf("env %s\n", *e);
		n++;
	}
	const char *a = getenv("CAPSTAN_A");
	printf("CAPSTAN_A=[%s]\n", a ? a : "(unset)");
	printf("CAPSTAN_UNSET=[%s]\n", getenv("CAPSTAN_UNSET") ? "set" : "(unset)");
	CHECK(setenv("CAPSTAN_NEW", "x", 1) == 0 && strcmp(getenv("CAPSTAN_NEW"), "x") == 0);
	return check_done();
}
