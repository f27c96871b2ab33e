// SPDX-License-Identifier: BSD-3-Clause
// The sorted command table and the shared option handling.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capstan/err.h"
#include "capstan/util.h"
#include "cmd.h"
#include "capstan/banned.h"

/* Sorted by name; tests/cli/t-help.sh checks the order. */
const struct cmd commands[] = {
    {"build", NULL, cmd_build, usage_build, "make an image from a Capstanfile"},
    {"delete", NULL, cmd_delete, usage_delete, "stop and remove instances"},
    {"help", NULL, cmd_help, usage_help, "show help for capstan or one command"},
    {"images", "i", cmd_images, usage_images, "list the images in the local repository"},
    {"import", NULL, cmd_import, usage_import, "add a disk image file to the local repository"},
    {"info", NULL, cmd_info, usage_info, "describe an image file or repository image"},
    {"init", NULL, cmd_init, usage_init, "start a project from a template"},
    {"instances", "I", cmd_instances, usage_instances, "list instances and their state"},
    {"logs", NULL, cmd_logs, usage_logs, "print an instance's console output"},
    {"pull", NULL, cmd_pull, usage_pull, "download an image from a registry"},
    {"push", NULL, cmd_push, usage_push, "publish a local image to a registry"},
    {"rmi", NULL, cmd_rmi, usage_rmi, "remove images from the local repository"},
    {"run", NULL, cmd_run, usage_run, "run an image as a VM"},
    {"search", NULL, cmd_search, usage_search, "list the images of a registry"},
    {"stop", NULL, cmd_stop, usage_stop, "power instances off"},
    {"version", NULL, cmd_version, usage_version, "print the version"},
};
const unsigned ncommands = sizeof(commands) / sizeof(commands[0]);

const struct cmd *cmd_find(const char *name)
{
	for (unsigned i = 0; i < ncommands; i++)
		if (!strcmp(commands[i].name, name) ||
		    (commands[i].alias && !strcmp(commands[i].alias, name)))
			return &commands[i];
	return NULL;
}

enum { OPT_ROOT = 0x1000, OPT_JSON, OPT_INSECURE };

static const struct option global_long[] = {
    {"root", required_argument, NULL, OPT_ROOT},
    {"repo-url", required_argument, NULL, 'u'},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"json", no_argument, NULL, OPT_JSON},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"help", no_argument, NULL, 'h'},
};
#define NGLOBAL (sizeof(global_long) / sizeof(global_long[0]))

static int has_short(const char *shortopts, int c)
{
	for (const char *p = shortopts; *p; p++)
		if (*p == c)
			return 1;
	return 0;
}

int cli_getopt(struct cap_ctx *ctx, const struct cmd *cmd, int argc, char **argv,
	       const char *shortopts, const struct option *longopts)
{
	char sopts[128];
	struct option lopts[64];
	size_t n = 0, i;
	int c;

	snprintf(sopts, sizeof(sopts), ":%s%s%s%sh", shortopts ? shortopts : "",
		 has_short(shortopts ? shortopts : "", 'u') ? "" : "u:",
		 has_short(shortopts ? shortopts : "", 'v') ? "" : "v",
		 has_short(shortopts ? shortopts : "", 'q') ? "" : "q");
	for (i = 0; longopts && longopts[i].name && n < 60; i++)
		lopts[n++] = longopts[i];
	for (i = 0; i < NGLOBAL && n < 63; i++) {
		int dup = 0;
		for (size_t k = 0; k < n; k++)
			if (!strcmp(lopts[k].name, global_long[i].name))
				dup = 1;
		if (!dup)
			lopts[n++] = global_long[i];
	}
	memset(&lopts[n], 0, sizeof(lopts[n]));

	opterr = 0;
	for (;;) {
		int prev = optind;
		c = getopt_long(argc, argv, sopts, lopts, NULL);
		switch (c) {
		case OPT_ROOT:
			free(ctx->root);
			ctx->root = xstrdup(optarg);
			continue;
		case OPT_JSON:
			ctx->json = true;
			continue;
		case OPT_INSECURE:
			ctx->insecure = true;
			continue;
		case 'h':
			fprintf(ctx->out, "%s", cmd->usage);
			return CLI_EXIT + 0;
		case ':':
			return CLI_EXIT +
			       cli_usage_error(ctx, cmd, "option '%s' needs a value",
					       argv[optind - 1] ? argv[optind - 1] : "?");
		case '?':
			if (optopt)
				return CLI_EXIT +
				       cli_usage_error(ctx, cmd, "unknown option '-%c'", optopt);
			return CLI_EXIT +
			       cli_usage_error(ctx, cmd, "unknown option '%s'",
					       argv[optind - 1 >= prev ? optind - 1 : prev]);
		default:
			break;
		}
		if (c == 'u' && !has_short(shortopts ? shortopts : "", 'u')) {
			free(ctx->repo_url);
			ctx->repo_url = xstrdup(optarg);
			continue;
		}
		if (c == 'v' && !has_short(shortopts ? shortopts : "", 'v')) {
			ctx->verbose++;
			continue;
		}
		if (c == 'q' && !has_short(shortopts ? shortopts : "", 'q')) {
			ctx->quiet = true;
			continue;
		}
		return c;
	}
}

int cli_fail(struct cap_ctx *ctx, int code)
{
	fprintf(ctx->err, "capstan: %s\n", cap_errmsg(code));
	fflush(ctx->err);
	return cap_exit_code(code);
}

int cli_usage_error(struct cap_ctx *ctx, const struct cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(ctx->err, "capstan: %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(ctx->err, fmt, ap);
	va_end(ap);
	fprintf(ctx->err, " (see 'capstan %s -h')\n", cmd->name);
	fflush(ctx->err);
	return CAP_EXIT_USAGE;
}

int cli_load(struct cap_ctx *ctx)
{
	int ret = cap_ctx_load(ctx);

	return ret ? cli_fail(ctx, ret) : 0;
}
