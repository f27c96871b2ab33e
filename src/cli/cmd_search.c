// SPDX-License-Identifier: BSD-3-Clause
// capstan search: list the registry's catalog, optionally filtered.
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capstan/err.h"
#include "capstan/index.h"
#include "capstan/json.h"
#include "capstan/registry.h"
#include "capstan/str.h"
#include "cmd.h"
#include "capstan/banned.h"

#define NCOLS 5

static bool contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (!n)
		return true;
	for (; hay && *hay; hay++) {
		size_t i = 0;
		while (i < n && hay[i] &&
		       tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
			i++;
		if (i == n)
			return true;
	}
	return false;
}

static char *platform_list(const struct index_image *img)
{
	struct strbuf sb = STRBUF_INIT;

	sb_adds(&sb, "");
	for (size_t i = 0; i < img->nplatforms; i++)
		sb_addf(&sb, "%s%s", i ? "," : "", img->platforms[i].name);
	return sb_detach(&sb);
}

static const char *dash(const char *s)
{
	return s && *s ? s : "-";
}

static void print_json(struct cap_ctx *ctx, const struct index_image **v, size_t n)
{
	struct json j;

	json_init(&j, ctx->out);
	json_begin_arr(&j, NULL);
	for (size_t i = 0; i < n; i++) {
		json_begin_obj(&j, NULL);
		json_str(&j, "name", v[i]->name);
		json_str(&j, "version", v[i]->version);
		json_str(&j, "created", v[i]->created);
		json_begin_arr(&j, "platforms");
		for (size_t k = 0; k < v[i]->nplatforms; k++)
			json_str(&j, NULL, v[i]->platforms[k].name);
		json_end_arr(&j);
		json_str(&j, "description", v[i]->description);
		json_end_obj(&j);
	}
	json_end_arr(&j);
	json_finish(&j);
}

/*
 * A cell as the terminal may show it: the registry's strings are hostile, so
 * control characters (escape sequences, a newline in a description) become
 * spaces, as `images` does, and so do the C1 controls UTF-8 encodes as C2 80..9F.
 */
static char *cell_text(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	sb_adds(&sb, "");
	for (const unsigned char *c = (const unsigned char *)dash(s); *c; c++) {
		if (c[0] == 0xc2 && c[1] >= 0x80 && c[1] <= 0x9f) {
			sb_adds(&sb, "  "); /* one space a byte, as images and info print them */
			c++;
			continue;
		}
		sb_addc(&sb, *c < 0x20 || *c == 0x7f ? ' ' : (char)*c);
	}
	return sb_detach(&sb);
}

static void print_row(FILE *f, char *const cell[NCOLS], const size_t w[NCOLS])
{
	fprintf(f, "%-*s  %-*s  %-*s  %-*s  %s\n", (int)w[0], cell[0], (int)w[1], cell[1],
		(int)w[2], cell[2], (int)w[3], cell[3], cell[4]);
}

static void print_table(struct cap_ctx *ctx, const struct index_image **v, size_t n)
{
	static char *const head[NCOLS] = {"NAME", "VERSION", "CREATED", "PLATFORMS", "DESCRIPTION"};
	size_t w[NCOLS];
	char *(*rows)[NCOLS] = xcalloc(n ? n : 1, sizeof(*rows));

	for (int c = 0; c < NCOLS; c++)
		w[c] = strlen(head[c]);
	for (size_t i = 0; i < n; i++) {
		char *plats = platform_list(v[i]);
		const char *raw[NCOLS] = {v[i]->name, v[i]->version, v[i]->created, plats,
					  v[i]->description};
		for (int c = 0; c < NCOLS; c++) {
			rows[i][c] = cell_text(raw[c]);
			if (c < NCOLS - 1 && strlen(rows[i][c]) > w[c])
				w[c] = strlen(rows[i][c]);
		}
		free(plats);
	}
	print_row(ctx->out, head, w);
	for (size_t i = 0; i < n; i++) {
		print_row(ctx->out, rows[i], w);
		for (int c = 0; c < NCOLS; c++)
			free(rows[i][c]);
	}
	free(rows);
}

static const struct cli_opt options[] = {
    CLI_OPTS_REGISTRY,
    CLI_OPT_GLOBAL("json", "print a JSON array of objects"),
    CLI_OPT_END,
};

static int search(const struct cmd *self, struct cap_ctx *ctx, void *args, int argc, char **argv)
{
	const char *text = argc ? argv[0] : "";
	struct index_catalog cat;
	int ret;

	if ((ret = reg_catalog(ctx, &cat)))
		return cli_fail(ctx, ret);
	const struct index_image **v = xcalloc(cat.n ? cat.n : 1, sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < cat.n; i++)
		if (contains(cat.images[i].name, text) || contains(cat.images[i].description, text))
			v[n++] = &cat.images[i];
	if (ctx->json)
		print_json(ctx, v, n);
	else
		print_table(ctx, v, n);
	free(v);
	index_catalog_release(&cat);
	return 0;
}

const struct cmd_spec spec_search = {
    .fn = search,
    .options = options,
    .max_args = 1,
    .synopsis = "[-u URL] [--json] [TEXT]",
    .about = "List the images of the registry (its catalog, index.yaml at the root):\n"
	     "NAME, VERSION, CREATED, PLATFORMS and DESCRIPTION.  With TEXT, only the\n"
	     "images whose name or description contains it, ignoring case.  A registry\n"
	     "without index.yaml that lists its files as S3 ListBucket XML (an original\n"
	     "Capstan bucket) is searched through each <ns>/<name>/index.yaml it lists.\n"
	     "Control characters in the registry's strings are shown as spaces.\n",
};
