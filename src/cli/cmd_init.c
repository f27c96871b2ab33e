// SPDX-License-Identifier: BSD-3-Clause
// capstan init: start a project (Capstanfile and sources) from a template.
#include <stdio.h>

#include "capstan/build.h"
#include "cmd.h"
#include "capstan/banned.h"

const char usage_init[] =
    "usage: capstan init [--template NAME] [DIR]\n"
    "\n"
    "Create a project in DIR (default: the current folder; created if missing)\n"
    "from a template, ready for 'capstan build' and 'capstan run'.\n"
    "\n"
    "  -t, --template NAME   c (default): hello.c, a Makefile linking it statically\n"
    "                        and a Capstanfile; binary: a Capstanfile for an\n"
    "                        existing static executable in DIR\n";

int cmd_init(const struct cmd *self, int argc, char **argv, struct cap_ctx *ctx)
{
	static const struct option longopts[] = {
	    {"template", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	const char *tmpl = "c", *dir = ".";
	int c, ret;

	while ((c = cli_getopt(ctx, self, argc, argv, "t:", longopts)) != -1) {
		if (c >= CLI_EXIT)
			return c - CLI_EXIT;
		if (c == 't')
			tmpl = optarg;
	}
	if (optind < argc)
		dir = argv[optind++];
	if (optind < argc)
		return cli_usage_error(ctx, self, "unexpected argument '%s'", argv[optind]);
	if ((ret = cli_load(ctx)))
		return ret;
	ret = build_init_project(ctx, tmpl, dir);
	return ret ? cli_fail(ctx, ret) : 0;
}
