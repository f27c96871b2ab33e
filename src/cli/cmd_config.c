// SPDX-License-Identifier: BSD-3-Clause
// capstan config print: the settings every command runs with, as Capstan prints them.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capstan/ctx.h"
#include "capstan/json.h"
#include "capstan/registry.h"
#include "cmd.h"
#include "capstan/banned.h"

static const struct cli_opt options[] = {
    CLI_OPT_GLOBAL("json", "print one JSON object"),
    CLI_OPT_END,
};

static void print_json(struct cap_ctx *ctx, const char *repo_url)
{
	struct json j;

	json_init(&j, ctx->out);
	json_begin_obj(&j, NULL);
	json_str(&j, "root", ctx->root);
	json_str(&j, "repo_url", repo_url);
	json_bool(&j, "disable_kvm", ctx->disable_kvm > 0);
	json_str(&j, "qemu_path", ctx->qemu_path);
	json_end_obj(&j);
	json_finish(&j);
}

static int config(const struct cmd *self, struct cap_ctx *ctx, void *args, int argc, char **argv)
{
	if (strcmp(argv[0], "print"))
		return cli_usage_error(ctx, self, "unknown subcommand '%s' (only 'print')",
				       argv[0]);
	/* a password in the registry URL is not for the terminal or a CI log */
	char *repo_url = reg_url_shown(ctx->repo_url);

	if (ctx->json) {
		print_json(ctx, repo_url);
		free(repo_url);
		return 0;
	}
	/* Capstan's names and layout, so what its users compare still lines up */
	fprintf(ctx->out, "--- global configuration\n");
	fprintf(ctx->out, "CAPSTAN_ROOT: %s\n", ctx->root);
	fprintf(ctx->out, "CAPSTAN_REPO_URL: %s\n", repo_url);
	fprintf(ctx->out, "CAPSTAN_DISABLE_KVM: %s\n", ctx->disable_kvm > 0 ? "true" : "false");
	fprintf(ctx->out, "CAPSTAN_QEMU_PATH: %s\n",
		ctx->qemu_path ? ctx->qemu_path : "(searched in PATH)");
	free(repo_url);
	return 0;
}

const struct cmd_spec spec_config = {
    .fn = config,
    .options = options,
    .min_args = 1,
    .max_args = 1,
    .missing = "expected 'print'",
    .synopsis = "print",
    .about = "Print the settings capstan runs with, after flags, environment\n"
	     "(CAPSTAN_ROOT, CAPSTAN_REPO_URL, CAPSTAN_DISABLE_KVM, CAPSTAN_QEMU_PATH),\n"
	     "$CAPSTAN_ROOT/config.yaml and defaults, in Capstan's format.\n",
};
