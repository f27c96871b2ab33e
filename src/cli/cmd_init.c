// SPDX-License-Identifier: BSD-3-Clause
// capstan init: start a project (Capstanfile and sources) from a template.
#include <stdio.h>

#include "capstan/build.h"
#include "cmd.h"
#include "capstan/banned.h"

struct init_args {
	const char *template;
};

static const struct cli_opt options[] = {
    CLI_OPT_STR('t', "template", "NAME", struct init_args, template,
		"c (default): hello.c, a Makefile linking it statically\n"
		"and a Capstanfile; binary: a Capstanfile for an\n"
		"existing static executable in DIR"),
    CLI_OPT_END,
};

static int init(const struct cmd *self, struct cap_ctx *ctx, void *args, int argc, char **argv)
{
	const struct init_args *a = args;
	int ret = build_init_project(ctx, a->template ? a->template : "c", argc ? argv[0] : ".");

	return ret ? cli_fail(ctx, ret) : 0;
}

const struct cmd_spec spec_init = {
    .fn = init,
    .options = options,
    .args_size = sizeof(struct init_args),
    .max_args = 1,
    .synopsis = "[--template NAME] [DIR]",
    .about = "Create a project in DIR (default: the current folder; created if missing)\n"
	     "from a template, ready for 'capstan build' and 'capstan run'.\n",
};
