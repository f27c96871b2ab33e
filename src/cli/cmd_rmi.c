// SPDX-License-Identifier: BSD-3-Clause
// capstan rmi: remove images from the local repository.
#include <stdio.h>

#include "capstan/err.h"
#include "capstan/repo.h"
#include "cmd.h"
#include "capstan/banned.h"

static const struct cli_opt options[] = {CLI_OPT_END};

static int rmi(const struct cmd *self, struct cap_ctx *ctx, void *args, int argc, char **argv)
{
	int ret, status = 0;

	for (int i = 0; i < argc; i++) {
		if ((ret = repo_remove(ctx, argv[i]))) {
			cap_errctx(ret, "rmi '%s'", argv[i]);
			int code = cli_fail(ctx, ret);
			if (!status)
				status = code;
			continue;
		}
		cap_info(ctx, "removed '%s'", argv[i]);
	}
	return status;
}

const struct cmd_spec spec_rmi = {
    .fn = rmi,
    .options = options,
    .min_args = 1,
    .max_args = -1,
    .missing = "expected at least one NAME",
    .synopsis = "NAME...",
    .about = "Remove each named image, all its platforms and its index.yaml, from the\n"
	     "local repository.  Every name is tried; the exit status is that of the\n"
	     "first failure.\n",
};
