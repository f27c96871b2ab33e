/* SPDX-License-Identifier: BSD-3-Clause */
/* Reads lines from the console (fd 0) until "quit" and echoes each upper-cased. */
#include <ctype.h>
#include <unistd.h>
#include "check.h"

int main(void)
{
	char line[256];
	int n = 0;

	printf("ready\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strcmp(line, "quit") == 0)
			break;
		for (char *p = line; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		printf("line %d: %s\n", ++n, line);
		fflush(stdout);
	}
	printf("lines=%d\n", n);
	CHECK(n == 2);
	return check_done();
}
