// SPDX-License-Identifier: BSD-3-Clause
// capstan help [CMD]
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "capstan/banned.h"

const char usage_help[] = "usage: capstan help [COMMAND]\n"
			  "\n"
			  "Without COMMAND, list the commands and global options; with it,\n"
			  "show that command's usage (the same as 'capstan COMMAND -h').\n";

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
	fputs("\n"
	      "Global options (before or after the command):\n"
	      "  --root DIR         local state folder (CAPSTAN_ROOT, default ~/.capstan)\n"
	      "  -u, --repo-url URL registry to pull from and search (CAPSTAN_REPO_URL)\n"
	      "  -v, --verbose      say more (where a command has no -v of its own)\n"
	      "  -q, --quiet        say only what was asked for\n"
	      "  --json             machine-readable output for listings and info\n"
	      "  --insecure         do not verify TLS certificates\n"
	      "  -h, --help         show help\n"
	      "  --version          print the version\n"
	      "\n"
	      "Run 'capstan help COMMAND' for a command's options; see capstan(1).\n",
	      f);
}

int cmd_help(const struct cmd *self, int argc, char **argv, struct cap_ctx *ctx)
{
	int c;

	while ((c = cli_getopt(ctx, self, argc, argv, "", NULL)) != -1)
		if (c >= CLI_EXIT)
			return c - CLI_EXIT;
	if (optind >= argc) {
		cli_print_overview(ctx->out);
		return 0;
	}
	const struct cmd *cmd = cmd_find(argv[optind]);
	if (!cmd)
		return cli_usage_error(ctx, self, "unknown command '%s'", argv[optind]);
	fputs(cmd->usage, ctx->out);
	return 0;
}
