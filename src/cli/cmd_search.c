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

static void print_table(struct cap_ctx *ctx, const struct index_image **v, size_t n)
{
	static const char *const head[NCOLS] = {"NAME", "VERSION", "CREATED", "PLATFORMS",
						"DESCRIPTION"};
	size_t w[NCOLS];
	char **plats = xcalloc(n ? n : 1, sizeof(*plats));

	for (int c = 0; c < NCOLS; c++)
		w[c] = strlen(head[c]);
	for (size_t i = 0; i < n; i++) {
		plats[i] = platform_list(v[i]);
		const char *cell[NCOLS - 1] = {v[i]->name, dash(v[i]->version), dash(v[i]->created),
					       dash(plats[i])};
		for (int c = 0; c < NCOLS - 1; c++)
			if (strlen(cell[c]) > w[c])
				w[c] = strlen(cell[c]);
	}
	fprintf(ctx->out, "%-*s  %-*s  %-*s  %-*s  %s\n", (int)w[0], head[0], (int)w[1], head[1],
		(int)w[2], head[2], (int)w[3], head[3], head[4]);
	for (size_t i = 0; i < n; i++) {
		fprintf(ctx->out, "%-*s  %-*s  %-*s  %-*s  %s\n", (int)w[0], v[i]->name, (int)w[1],
			dash(v[i]->version), (int)w[2], dash(v[i]->created), (int)w[3],
			dash(plats[i]), dash(v[i]->description));
		free(plats[i]);
	}
	free(plats);
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
	     "images whose name or description contains it, ignoring case.\n",
};
