// SPDX-License-Identifier: BSD-3-Clause
// capstan help [CMD]
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "capstan/banned.h"

void cli_print_overview(FILE *f);

void cli_print_overview(FILE *f)
{
	fputs("usage: capstan [GLOBAL OPTIONS] COMMAND [ARGS]\n"
	      "\n"
	      "Pack, ship and run applications as unikernel VMs.\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (unsigned i = 0; i < ncommands; i++) {
		char name[32];
		if (commands[i].alias)
			snprintf(name, sizeof(name), "%s, %s", commands[i].name, commands[i].alias);
		else
			snprintf(name, sizeof(name), "%s", commands[i].name);
		fprintf(f, "  %-14s %s\n", name, commands[i].summary);
	}
	fputs("\nGlobal options (before or after the command):\n", f);
	cli_print_globals(f);
	fputs("\n"
	      "Run 'capstan help COMMAND' for a command's options; see capstan(1).\n",
	      f);
}

static const struct cli_opt options[] = {CLI_OPT_END};

static int help(const struct cmd *self, struct cap_ctx *ctx, void *args, int argc, char **argv)
{
	const struct cmd *cmd;

	if (!argc) {
		cli_print_overview(ctx->out);
		return 0;
	}
	if (!(cmd = cmd_find(argv[0])))
		return cli_usage_error(ctx, self, "unknown command '%s'", argv[0]);
	cli_print_usage(ctx->out, cmd);
	return 0;
}

const struct cmd_spec spec_help = {
    .fn = help,
    .options = options,
    .max_args = 1,
    .synopsis = "[COMMAND]",
    .about = "Without COMMAND, list the commands and global options; with it,\n"
	     "show that command's usage (the same as 'capstan COMMAND -h').\n",
};
