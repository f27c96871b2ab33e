// SPDX-License-Identifier: BSD-3-Clause
// capstan compose: an image from a folder or a file, without a Capstanfile (Capstan v0.4+).
#include <stdio.h>

#include "capstan/build.h"
#include "cmd.h"
#include "capstan/banned.h"

static const struct cli_opt options[] = {
    CLI_OPT_STR('c', "command_line", "CMDLINE", struct compose_opts, cmdline,
		"what the image runs (default for a file: /FILE)"),
    CLI_OPT_PARSE('s', "size", "SIZE", struct compose_opts, min_size, cli_parse_size_mib, NULL,
		  "the disk's size, e.g. 10G (a bare number is MiB);\n"
		  "the content must fit (default: just what it needs)"),
    CLI_OPT_END,
};

static int compose(const struct cmd *self, struct cap_ctx *ctx, void *args, int argc, char **argv)
{
	struct compose_opts *o = args;
	int ret;

	o->name = argv[0];
	o->source = argv[1];
	ret = build_compose(ctx, o);
	return ret ? cli_fail(ctx, ret) : 0;
}

const struct cmd_spec spec_compose = {
    .fn = compose,
    .options = options,
    .args_size = sizeof(struct compose_opts),
    .min_args = 2,
    .max_args = 2,
    .missing = "expected NAME and a FOLDER or FILE",
    .synopsis = "[-c CMDLINE] [-s SIZE] NAME FOLDER|FILE",
    .about = "Make image NAME (platform qemu) of capstan's bundled kernel and the content\n"
	     "of FOLDER (at '/') or FILE (at /FILE), with CMDLINE, and install it in the\n"
	     "local repository, as Capstan's compose does.  No Capstanfile is read and\n"
	     "nothing is booted.  A folder needs -c.\n",
};
