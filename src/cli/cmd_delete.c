// SPDX-License-Identifier: BSD-3-Clause
// capstan delete: stop an instance if it runs and remove it.
#include <stdio.h>

#include "capstan/err.h"
#include "capstan/inst.h"
#include "cmd.h"
#include "capstan/banned.h"

static const struct cli_opt options[] = {CLI_OPT_END};

static int delete (const struct cmd *self, struct cap_ctx *ctx, void *args, int argc, char **argv)
{
	int ret, rc = 0;

	for (int i = 0; i < argc; i++) {
		if ((ret = inst_delete(ctx, argv[i], 10000))) {
			rc = cli_fail(ctx, ret);
			continue;
		}
		cap_info(ctx, "Deleted instance: %s", argv[i]);
	}
	return rc;
}

const struct cmd_spec spec_delete = {
    .fn = delete,
    .options = options,
    .min_args = 1,
    .max_args = -1,
    .missing = "which instance? (see 'capstan instances -a')",
    .synopsis = "NAME...",
    .about = "Delete instances: a running one is stopped first (as 'capstan stop'), then its\n"
	     "folder (disk overlay, console log) and its record are removed; with libvirt\n"
	     "the domain is undefined.\n",
};
