// SPDX-License-Identifier: BSD-3-Clause
// capstan pull: download an image from the registry into the local repository.
#include "capstan/err.h"
#include "capstan/registry.h"
#include "cmd.h"
#include "capstan/banned.h"

struct pull_args {
	const char *platform;
};

static const struct cli_opt options[] = {
    CLI_OPTS_PLATFORM(struct pull_args, platform),
    CLI_OPTS_REGISTRY,
    CLI_OPT_GLOBAL("quiet", "no progress bar or messages"),
    CLI_OPT_END,
};

static int pull(const struct cmd *self, struct cap_ctx *ctx, void *args, int argc, char **argv)
{
	const struct pull_args *a = args;
	int ret = reg_pull(ctx, argv[0], a->platform);

	return ret ? cli_fail(ctx, ret) : 0;
}

const struct cmd_spec spec_pull = {
    .fn = pull,
    .options = options,
    .args_size = sizeof(struct pull_args),
    .min_args = 1,
    .max_args = 1,
    .missing = "missing image name",
    .synopsis = "[-p PLATFORM] [-u URL] [--insecure] [-q] NAME",
    .about = "Download image NAME (ns/name) from the registry into the local repository,\n"
	     "checking its size and SHA-256.  An interrupted pull resumes where it stopped.\n",
};
