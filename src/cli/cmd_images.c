// SPDX-License-Identifier: BSD-3-Clause
// capstan images: list the local repository.
#include <stdio.h>
#include <string.h>

#include "capstan/err.h"
#include "capstan/json.h"
#include "capstan/repo.h"
#include "capstan/size.h"
#include "cmd.h"
#include "capstan/banned.h"

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

/* One image's row; sizes holds its SIZE cell. */
static void row(const struct repo_image *img, const char *cell[NCOLS], char *sizes, size_t len)
{
	cell[0] = img->name;
	cell[1] = dash(img->meta.version);
	cell[2] = dash(img->meta.created);
	cell[3] = img->platform;
	cell[4] = fmt_size(img->size, sizes, len);
	cell[5] = dash(img->meta.description);
}

static void print_table(struct cap_ctx *ctx, const struct repo_image *v, size_t n)
{
	static const char *const head[NCOLS] = {"NAME",	    "VERSION", "CREATED",
						"PLATFORM", "SIZE",    "DESCRIPTION"};
	const char *cell[NCOLS];
	size_t w[NCOLS];
	char sizes[32];

	for (int c = 0; c < NCOLS; c++)
		w[c] = strlen(head[c]);
	for (size_t i = 0; i < n; i++) {
		row(&v[i], cell, sizes, sizeof(sizes));
		for (int c = 0; c < NCOLS - 1; c++) /* the last column is not padded */
			if (strlen(cell[c]) > w[c])
				w[c] = strlen(cell[c]);
	}
	for (int c = 0; c < NCOLS; c++)
		put_cell(ctx->out, head[c], w[c], c == NCOLS - 1);
	for (size_t i = 0; i < n; i++) {
		row(&v[i], cell, sizes, sizeof(sizes));
		for (int c = 0; c < NCOLS; c++)
			put_cell(ctx->out, cell[c], w[c], c == NCOLS - 1);
	}
}

static const struct cli_opt options[] = {
    CLI_OPT_GLOBAL("json", "print a JSON array of objects (size in bytes)"),
    CLI_OPT_END,
};

static int images(const struct cmd *self, struct cap_ctx *ctx, void *args, int argc, char **argv)
{
	struct repo_image *v = NULL;
	size_t n = 0;
	int ret;

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

const struct cmd_spec spec_images = {
    .fn = images,
    .options = options,
    .synopsis = "[--json]",
    .about = "List the images in the local repository, one line per image and platform:\n"
	     "NAME, VERSION, CREATED, PLATFORM, SIZE (file size) and DESCRIPTION.  A field\n"
	     "the image's index.yaml does not give shows as '-' (null in JSON).\n",
};
