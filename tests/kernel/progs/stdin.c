/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reads lines from the console (fd 0) until "quit" and echoes each upper-cased.  With the
 * argument "term", SIGTERM (the power button, in the kernel) ends the wait: it says so and
 * exits 3.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include "check.h"

static volatile sig_atomic_t terminated;

static void on_term(int sig)
{
	terminated = sig;
}

int main(int argc, char **argv)
{
	char line[256];
	int n = 0;

	if (argc > 1 && strcmp(argv[1], "term") == 0) {
		struct sigaction sa = {.sa_handler = on_term}; /* no SA_RESTART: the read fails */
		sigaction(SIGTERM, &sa, NULL);
	}
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
	if (terminated) {
		printf("SIGTERM while reading (%s)\n", errno == EINTR ? "EINTR" : "?");
		return 3;
	}
	printf("lines=%d\n", n);
	CHECK(n == 2);
	return check_done();
}
