// SPDX-License-Identifier: BSD-3-Clause
// capstan build: make an image from ./Capstanfile and put it in the local repository.
#include <stdio.h>

#include "capstan/build.h"
#include "cmd.h"
#include "capstan/banned.h"

static const struct cli_opt options[] = {
    CLI_OPT_STR('f', "file", "FILE", struct build_opts, file,
		"the Capstanfile (default: ./Capstanfile)"),
    CLI_OPTS_PLATFORM(struct build_opts, platform),
    CLI_OPT_PARSE('m', "memory", "SIZE", struct build_opts, memory, cli_parse_size_mib, NULL,
		  "accepted for Capstan's scripts; no effect, as build\n"
		  "boots no VM (-v says so)"),
    CLI_OPT_GLOBAL("verbose", "show the build step's output and the libraries added"),
    CLI_OPT_END,
};

/* Ctrl-C stops the build cleanly (CMD_INTR): no temporary file is left in the repository. */
static int build(const struct cmd *self, struct cap_ctx *ctx, void *args, int argc, char **argv)
{
	struct build_opts *o = args;
	int ret;

	if (argc)
		o->name = argv[0];
	ret = build_image(ctx, o);
	return ret ? cli_fail(ctx, ret) : 0;
}

const struct cmd_spec spec_build = {
    .fn = build,
    .options = options,
    .args_size = sizeof(struct build_opts),
    .max_args = 1,
    .synopsis = "[-f FILE] [-p PLATFORM] [-m SIZE] [-v] [NAME]",
    .about = "Run the Capstanfile's build step, write its files on top of its base image\n"
	     "with its cmdline, and install the result in the local repository as NAME\n"
	     "(default: the Capstanfile folder's name).  Nothing is booted.  A relative\n"
	     "guest path in 'files' goes under '/', with a warning, as in Capstan.\n"
	     "\n"
	     "The same inputs give a byte-identical image; file times in the image are\n"
	     "SOURCE_DATE_EPOCH when it is set, else each file's own.\n",
};
