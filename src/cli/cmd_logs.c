// SPDX-License-Identifier: BSD-3-Clause
// capstan logs: an instance's console output.
#include <stdio.h>

#include "capstan/err.h"
#include "capstan/inst.h"
#include "cmd.h"
#include "capstan/banned.h"

struct logs_args {
	bool follow;
};

static const struct cli_opt options[] = {
    CLI_OPT_FLAG('f', "follow", struct logs_args, follow,
		 "keep printing new output until the instance ends"),
    CLI_OPT_END,
};

static int logs(const struct cmd *self, struct cap_ctx *ctx, void *args, int argc, char **argv)
{
	const struct logs_args *a = args;
	int ret = inst_logs(ctx, argv[0], a->follow);

	return ret ? cli_fail(ctx, ret) : 0;
}

const struct cmd_spec spec_logs = {
    .fn = logs,
    .options = options,
    .args_size = sizeof(struct logs_args),
    .min_args = 1,
    .max_args = 1,
    .missing = "which instance? (see 'capstan instances -a')",
    .synopsis = "[-f] NAME",
    .about = "Print the console output of an instance (its console.log), running or not.\n",
};
