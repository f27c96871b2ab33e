// SPDX-License-Identifier: BSD-3-Clause
// capstan delete: stop an instance if it runs and remove it.
#include <stdio.h>

#include "capstan/err.h"
#include "capstan/inst.h"
#include "cmd.h"
#include "capstan/banned.h"

const char usage_delete[] =
    "usage: capstan delete NAME...\n"
    "\n"
    "Delete instances: a running one is stopped first (as 'capstan stop'), then its\n"
    "folder (disk overlay, console log) and its record are removed; with libvirt\n"
    "the domain is undefined.\n";

int cmd_delete(const struct cmd *self, int argc, char **argv, struct cap_ctx *ctx)
{
	int c, ret, rc = 0;

	while ((c = cli_getopt(ctx, self, argc, argv, "", NULL)) != -1)
		if (c >= CLI_EXIT)
			return c - CLI_EXIT;
	if (optind >= argc)
		return cli_usage_error(ctx, self, "which instance? (see 'capstan instances -a')");
	if ((ret = cli_load(ctx)))
		return ret;
	for (; optind < argc; optind++) {
		if ((ret = inst_delete(ctx, argv[optind], 10000))) {
			rc = cli_fail(ctx, ret);
			continue;
		}
		cap_info(ctx, "Deleted instance: %s", argv[optind]);
	}
	return rc;
}
