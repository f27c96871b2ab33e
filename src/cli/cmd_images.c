// SPDX-License-Identifier: BSD-3-Clause
// capstan images: list the local repository.
#include <stdio.h>
#include <string.h>

#include "capstan/err.h"
#include "capstan/repo.h"
#include "capstan/util.h"
#include "cmd.h"
#include "capstan/banned.h"

const char usage_images[] =
    "usage: capstan images [--json]\n"
    "       capstan i [--json]\n"
    "\n"
    "List the images in the local repository, one line per image and platform:\n"
    "NAME, VERSION, CREATED, PLATFORM, SIZE (file size) and DESCRIPTION.  A field\n"
    "the image's index.yaml does not give shows as '-' (null in JSON).\n"
    "\n"
    "  --json   print a JSON array of objects (size in bytes)\n";

#define NCOLS 6

static const char *dash(const char *s)
{
	return s && *s ? s : "-";
}

static void print_json(struct cap_ctx *ctx, const struct repo_image *v, size_t n)
{
	struct json j;

	json_init(&j, ctx->out);
	json_begin_arr(&j, NULL);
	for (size_t i = 0; i < n; i++) {
		json_begin_obj(&j, NULL);
		json_str(&j, "name", v[i].name);
		json_str(&j, "version", v[i].meta.version);
		json_str(&j, "created", v[i].meta.created);
		json_str(&j, "platform", v[i].platform);
		json_int(&j, "size", (int64_t)v[i].size);
		json_str(&j, "description", v[i].meta.description);
		json_str(&j, "build", v[i].meta.build);
		json_str(&j, "path", v[i].path);
		json_end_obj(&j);
	}
	json_end_arr(&j);
	json_finish(&j);
}

/* One cell: control characters (a newline in a description) become spaces so rows stay rows. */
static void put_cell(FILE *f, const char *s, size_t width, int last)
{
	size_t n = 0;

	for (; *s; s++, n++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s, f);
	if (last) {
		fputc('\n', f);
		return;
	}
	for (; n < width + 2; n++)
		fputc(' ', f);
}

static void print_table(struct cap_ctx *ctx, const struct repo_image *v, size_t n)
{
	static const char *const head[NCOLS] = {"NAME",	    "VERSION", "CREATED",
						"PLATFORM", "SIZE",    "DESCRIPTION"};
	size_t w[NCOLS];
	char sizes[32];

	for (int c = 0; c < NCOLS; c++)
		w[c] = strlen(head[c]);
	for (size_t i = 0; i < n; i++) {
		const char *cell[NCOLS] = {v[i].name,
					   dash(v[i].meta.version),
					   dash(v[i].meta.created),
					   v[i].platform,
					   fmt_size(v[i].size, sizes, sizeof(sizes)),
					   ""};
		for (int c = 0; c < NCOLS - 1; c++)
			if (strlen(cell[c]) > w[c])
				w[c] = strlen(cell[c]);
	}
	for (int c = 0; c < NCOLS; c++)
		put_cell(ctx->out, head[c], w[c], c == NCOLS - 1);
	for (size_t i = 0; i < n; i++) {
		const char *cell[NCOLS] = {v[i].name,
					   dash(v[i].meta.version),
					   dash(v[i].meta.created),
					   v[i].platform,
					   fmt_size(v[i].size, sizes, sizeof(sizes)),
					   dash(v[i].meta.description)};
		for (int c = 0; c < NCOLS; c++)
			put_cell(ctx->out, cell[c], w[c], c == NCOLS - 1);
	}
	fflush(ctx->out);
}

int cmd_images(const struct cmd *self, int argc, char **argv, struct cap_ctx *ctx)
{
	struct repo_image *v = NULL;
	size_t n = 0;
	int c, ret;

	while ((c = cli_getopt(ctx, self, argc, argv, "", NULL)) != -1)
		if (c >= CLI_EXIT)
			return c - CLI_EXIT;
	if (optind < argc)
		return cli_usage_error(ctx, self, "unexpected argument '%s'", argv[optind]);
	if ((ret = cli_load(ctx)))
		return ret;
	if ((ret = repo_list(ctx, &v, &n))) {
		cap_errctx(ret, "images");
		return cli_fail(ctx, ret);
	}
	if (ctx->json)
		print_json(ctx, v, n);
	else
		print_table(ctx, v, n);
	repo_images_free(v, n);
	return 0;
}
