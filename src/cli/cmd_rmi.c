// SPDX-License-Identifier: BSD-3-Clause
// capstan rmi: remove images from the local repository.
#include <stdio.h>

#include "capstan/err.h"
#include "capstan/repo.h"
#include "cmd.h"
#include "capstan/banned.h"

const char usage_rmi[] = "usage: capstan rmi NAME...\n"
			 "\n"
			 "Remove each named image, all its platforms and its index.yaml, from the\n"
			 "local repository.  Every name is tried; the exit status is that of the\n"
			 "first failure.\n";

int cmd_rmi(const struct cmd *self, int argc, char **argv, struct cap_ctx *ctx)
{
	int c, ret, status = 0;

	while ((c = cli_getopt(ctx, self, argc, argv, "", NULL)) != -1)
		if (c >= CLI_EXIT)
			return c - CLI_EXIT;
	if (optind >= argc)
		return cli_usage_error(ctx, self, "expected at least one NAME");
	if ((ret = cli_load(ctx)))
		return ret;
	for (int i = optind; i < argc; i++) {
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
