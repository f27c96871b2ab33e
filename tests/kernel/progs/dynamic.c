/* SPDX-License-Identifier: BSD-3-Clause */
/* Built dynamically linked (glibc and musl): runs through its ELF interpreter and libc.so. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	/* calls into libc.so: formatted output, the heap, the environment */
	char *s = malloc(64);
	if (!s)
		return 1;
	snprintf(s, 64, "dynamic: hello from %s", argc > 0 ? strrchr(argv[0], '/') + 1 : "?");
	puts(s);
	free(s);
	puts("SUCCESS");
	return 0;
}
