// SPDX-License-Identifier: BSD-3-Clause
// capstan logs: an instance's console output.
#include <stdio.h>

#include "capstan/err.h"
#include "capstan/inst.h"
#include "cmd.h"
#include "capstan/banned.h"

const char usage_logs[] =
    "usage: capstan logs [-f] NAME\n"
    "\n"
    "Print the console output of an instance (its console.log), running or not.\n"
    "\n"
    "  -f, --follow   keep printing new output until the instance ends\n";

static const struct option longopts[] = {
    {"follow", no_argument, NULL, 'f'},
    {NULL, 0, NULL, 0},
};

int cmd_logs(const struct cmd *self, int argc, char **argv, struct cap_ctx *ctx)
{
	bool follow = false;
	int c, ret;

	while ((c = cli_getopt(ctx, self, argc, argv, "f", longopts)) != -1) {
		if (c >= CLI_EXIT)
			return c - CLI_EXIT;
		if (c == 'f')
			follow = true;
	}
	if (optind >= argc)
		return cli_usage_error(ctx, self, "which instance? (see 'capstan instances -a')");
	if (optind + 1 < argc)
		return cli_usage_error(ctx, self, "unexpected argument '%s'", argv[optind + 1]);
	if ((ret = cli_load(ctx)))
		return ret;
	if ((ret = inst_logs(ctx, argv[optind], follow)))
		return cli_fail(ctx, ret);
	return 0;
}
