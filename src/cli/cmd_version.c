// SPDX-License-Identifier: BSD-3-Clause
// capstan version
#include <stdio.h>

#include "cmd.h"
#include "capstan/banned.h"

const char usage_version[] = "usage: capstan version\n"
			     "\n"
			     "Print the version of capstan (also 'capstan --version').\n";

int cmd_version(const struct cmd *self, int argc, char **argv, struct cap_ctx *ctx)
{
	int c;

	while ((c = cli_getopt(ctx, self, argc, argv, "", NULL)) != -1)
		if (c >= CLI_EXIT)
			return c - CLI_EXIT;
	if (optind < argc)
		return cli_usage_error(ctx, self, "unexpected argument '%s'", argv[optind]);
	fprintf(ctx->out, "capstan version %s\n", CAPSTAN_VERSION);
	return 0;
}
