/* SPDX-License-Identifier: BSD-3-Clause */
/* Built dynamically linked (glibc and musl): runs through its ELF interpreter and libc.so, then
 * execs itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--again")) { /* the program execve'd: loaded afresh */
		printf("dynamic: again, %s\n", getenv("CAPSTAN_DYN"));
		puts("SUCCESS");
		return 0;
	}
	/* calls into libc.so: formatted output, the heap, the environment */
	char *s = malloc(64);
	if (!s)
		return 1;
	snprintf(s, 64, "dynamic: hello from %s",
		 strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0]);
	puts(s);
	free(s);
	fflush(stdout);
	char *args[] = {argv[0], "--again", NULL};
	char *env[] = {"CAPSTAN_DYN=exec'd", NULL};
	execve(argv[0], args, env);
	perror("execve");
	return 1;
}
