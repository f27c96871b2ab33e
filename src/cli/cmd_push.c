// SPDX-License-Identifier: BSD-3-Clause
// capstan push: publish a local image to a registry (file:// tree or HTTP server accepting PUT).
#include "capstan/err.h"
#include "capstan/registry.h"
#include "cmd.h"
#include "capstan/banned.h"

struct push_args {
	const char *platform;
};

static const struct cli_opt options[] = {
    CLI_OPTS_PLATFORM(struct push_args, platform),
    CLI_OPT_GLOBAL("insecure", NULL),
    CLI_OPT_GLOBAL("quiet", "no messages"),
    CLI_OPT_END,
};

static int push(const struct cmd *self, struct cap_ctx *ctx, void *args, int argc, char **argv)
{
	const struct push_args *a = args;
	int ret = reg_push(ctx, argv[0], a->platform, argv[1]);

	return ret ? cli_fail(ctx, ret) : 0;
}

const struct cmd_spec spec_push = {
    .fn = push,
    .options = options,
    .args_size = sizeof(struct push_args),
    .min_args = 2,
    .max_args = 2,
    .missing = "expected NAME and URL",
    .synopsis = "[-p PLATFORM] [--insecure] [-q] NAME URL",
    .about = "Publish local image NAME to the registry at URL: NAME/<name>.PLATFORM.gz, the\n"
	     "image's index.yaml (size and SHA-256; other platforms kept) and the catalog\n"
	     "index.yaml at the root.  URL is a file:// folder (updated atomically) or an\n"
	     "http(s):// server that accepts PUT (nginx with WebDAV, for example).\n",
};
