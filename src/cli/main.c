// SPDX-License-Identifier: BSD-3-Clause
// capstan: find the command, set up what it needs, run it, check that its output was written.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capstan/ctx.h"
#include "capstan/err.h"
#include "capstan/str.h"
#include "cmd.h"
#include "capstan/banned.h"

void cli_print_overview(FILE *f);

static int unknown_command(struct cap_ctx *ctx, const char *name)
{
	const char *best = NULL;
	size_t bd = (size_t)-1;

	for (unsigned k = 0; k < ncommands; k++) {
		size_t d = str_distance(name, commands[k].name);
		if (d < bd)
			bd = d, best = commands[k].name;
	}
	if (best && bd <= 2)
		fprintf(ctx->err, "capstan: unknown command '%s' (did you mean '%s'?)\n", name,
			best);
	else
		fprintf(ctx->err, "capstan: unknown command '%s' (see 'capstan help')\n", name);
	return CAP_EXIT_USAGE;
}

/* Options, operand count, then the setup the table row asks for, then the command. */
static int run_command(struct cap_ctx *ctx, const struct cmd *cmd, int argc, char **argv)
{
	const struct cmd_spec *s = cmd->spec;
	void *args = xcalloc(1, s->args_size ? s->args_size : 1);
	int first, n, ret;

	if ((ret = cli_parse(ctx, cmd, argc, argv, args, &first)) >= 0)
		goto out;
	n = argc - first;
	if (n < s->min_args) {
		ret = cli_usage_error(ctx, cmd, "%s", s->missing);
		goto out;
	}
	if (s->max_args >= 0 && n > s->max_args) {
		ret = cli_usage_error(ctx, cmd, "unexpected argument '%s'",
				      argv[first + s->max_args]);
		goto out;
	}
	if ((cmd->flags & CMD_LOAD) && (ret = cap_ctx_load(ctx))) {
		ret = cli_fail(ctx, ret);
		goto out;
	}
	if (cmd->flags & CMD_INTR)
		cli_catch_interrupts(ctx);
	ret = s->fn(cmd, ctx, args, n, argv + first);
out:
	if (s->release)
		s->release(args);
	free(args);
	return ret;
}

static int dispatch(struct cap_ctx *ctx, int argc, char **argv)
{
	const struct cmd *cmd;
	int i;

	/* Global options may come before the command; cli_parse sees them too. */
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--version")) {
			fprintf(ctx->out, "capstan version %s\n", CAPSTAN_VERSION);
			return 0;
		}
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			cli_print_overview(ctx->out);
			return 0;
		}
		if (argv[i][0] != '-')
			break;
		/* options that take a value */
		if ((!strcmp(argv[i], "--root") || !strcmp(argv[i], "-u") ||
		     !strcmp(argv[i], "--repo-url")) &&
		    i + 1 < argc)
			i++;
	}
	if (i >= argc) {
		cli_print_overview(ctx->err);
		return CAP_EXIT_USAGE;
	}
	if (!(cmd = cmd_find(argv[i])))
		return unknown_command(ctx, argv[i]);
	/*
	 * Move the command name to argv[0] of the slice and keep the global
	 * options before it, so getopt sees "CMD [globals] [args]".
	 */
	char *name = argv[i];
	memmove(&argv[2], &argv[1], (size_t)(i - 1) * sizeof(*argv));
	argv[1] = name;
	return run_command(ctx, cmd, argc - 1, argv + 1);
}

/*
 * A listing that did not reach its file is a failure: flush standard output
 * and look at its error flag (stdio may have met the error long before).
 */
static int check_output(struct cap_ctx *ctx, int ret)
{
	int e = 0;

	if (fflush(ctx->out) == EOF)
		e = errno;
	if (!ferror(ctx->out) && !e)
		return ret;
	fprintf(ctx->err, "capstan: cannot write the output: %s\n", strerror(e ? e : EIO));
	return ret ? ret : CAP_EXIT_IO;
}

int main(int argc, char **argv)
{
	struct cap_ctx ctx;
	int ret;

	cap_ctx_init(&ctx);
	ret = dispatch(&ctx, argc, argv);
	ret = check_output(&ctx, ret);
	cap_ctx_release(&ctx);
	return ret;
}
