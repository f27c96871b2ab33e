// SPDX-License-Identifier: BSD-3-Clause
// capstan: find the command, hand it the arguments, return its exit status.
#include <stdio.h>
#include <string.h>

#include "capstan/ctx.h"
#include "capstan/err.h"
#include "capstan/util.h"
#include "cmd.h"
#include "capstan/banned.h"

void cli_print_overview(FILE *f);

int main(int argc, char **argv)
{
	struct cap_ctx ctx;
	const struct cmd *cmd;
	int i, ret;

	cap_ctx_init(&ctx);
	/* Global options may come before the command; cli_getopt sees them too. */
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--version")) {
			fprintf(ctx.out, "capstan version %s\n", CAPSTAN_VERSION);
			return 0;
		}
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			cli_print_overview(ctx.out);
			return 0;
		}
		if (argv[i][0] != '-')
			break;
		/* options that take a value */
		if ((!strcmp(argv[i], "--root") || !strcmp(argv[i], "-u") ||
		     !strcmp(argv[i], "--repo-url")) &&
		    i + 1 < argc)
			i++;
	}
	if (i >= argc) {
		cli_print_overview(ctx.err);
		return CAP_EXIT_USAGE;
	}
	cmd = cmd_find(argv[i]);
	if (!cmd) {
		const char *best = NULL;
		size_t bd = (size_t)-1;
		for (unsigned k = 0; k < ncommands; k++) {
			size_t d = str_distance(argv[i], commands[k].name);
			if (d < bd)
				bd = d, best = commands[k].name;
		}
		if (best && bd <= 2)
			fprintf(ctx.err, "capstan: unknown command '%s' (did you mean '%s'?)\n",
				argv[i], best);
		else
			fprintf(ctx.err, "capstan: unknown command '%s' (see 'capstan help')\n",
				argv[i]);
		return CAP_EXIT_USAGE;
	}
	/*
	 * Move the command name to argv[0] of the slice and keep the global
	 * options before it, so getopt sees "CMD [globals] [args]".
	 */
	char *name = argv[i];
	memmove(&argv[2], &argv[1], (size_t)(i - 1) * sizeof(*argv));
	argv[1] = name;
	optind = 1;
	ret = cmd->fn(cmd, argc - 1, argv + 1, &ctx);
	cap_ctx_release(&ctx);
	fflush(stdout);
	return ret;
}
