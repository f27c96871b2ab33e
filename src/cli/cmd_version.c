// SPDX-License-Identifier: BSD-3-Clause
// capstan version
#include <stdio.h>

#include "cmd.h"
#include "capstan/banned.h"

static const struct cli_opt options[] = {CLI_OPT_END};

static int version(const struct cmd *self, struct cap_ctx *ctx, void *args, int argc, char **argv)
{
	fprintf(ctx->out, "capstan version %s\n", CAPSTAN_VERSION);
	return 0;
}

const struct cmd_spec spec_version = {
    .fn = version,
    .options = options,
    .synopsis = "",
    .about = "Print the version of capstan (also 'capstan --version').\n",
};
