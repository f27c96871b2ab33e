// SPDX-License-Identifier: BSD-3-Clause
// Registry catalog: <url>/index.yaml, or an original Capstan S3 bucket's key listing.
#include <stdlib.h>
#include <string.h>

#include "capstan/err.h"
#include "capstan/index.h"
#include "capstan/registry.h"
#include "capstan/repo.h"
#include "transport.h"
#include "capstan/banned.h"

/*
 * Capstan v0.1 searched its S3 bucket: GET of the bucket root, a ListBucket
 * XML document whose <Key>s name every file; each "<ns>/<name>/index.yaml"
 * is an image.  Capstan read only the first page (1000 keys); we follow
 * IsTruncated with marker= up to MAX_PAGES pages.
 */
#define MAX_PAGES 100
/* A hostile listing could name millions of keys; a real one of Capstan's has dozens. */
#define MAX_KEYS 100000
/* Capstan's per-image indexes are a few hundred bytes: 64 KiB each keeps a search bounded. */
#define MAX_IMAGE_INDEX (64u << 10)

struct keys {
	char **v;
	size_t n, cap;
};

static void keys_release(struct keys *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i]);
	free(k->v);
	memset(k, 0, sizeof(*k));
}

/* The text of an element's content with XML's five entities decoded; NULL if it has others. */
static char *xml_text(const char *s, size_t n)
{
	static const struct {
		const char *ent;
		char c;
	} ents[] = {
	    {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
	struct strbuf sb = STRBUF_INIT;

	sb_adds(&sb, "");
	for (size_t i = 0; i < n;) {
		size_t k = 0;
		if (s[i] != '&') {
			sb_addc(&sb, s[i++]);
			continue;
		}
		while (k < sizeof(ents) / sizeof(ents[0]) &&
		       strncmp(s + i, ents[k].ent, strlen(ents[k].ent)))
			k++;
		if (k == sizeof(ents) / sizeof(ents[0]) || i + strlen(ents[k].ent) > n) {
			sb_release(&sb);
			return NULL;
		}
		sb_addc(&sb, ents[k].c);
		i += strlen(ents[k].ent);
	}
	return sb_detach(&sb);
}

/* Every <Key> of one page into k; *truncated from <IsTruncated>. */
static void parse_keys(const char *xml, struct keys *k, bool *truncated)
{
	const char *p = xml, *end;

	*truncated = strstr(xml, "<IsTruncated>true</IsTruncated>") != NULL;
	while (k->n < MAX_KEYS && (p = strstr(p, "<Key>")) && (end = strstr(p + 5, "</Key>"))) {
		char *key = xml_text(p + 5, (size_t)(end - p - 5));
		p = end + 6;
		if (!key || !*key) {
			free(key);
			continue;
		}
		if (k->n == k->cap) {
			k->cap = k->cap ? 2 * k->cap : 256;
			k->v = xrealloc(k->v, k->cap * sizeof(*k->v));
		}
		k->v[k->n++] = key;
	}
}

/* marker=KEY, percent-encoded. */
static char *marker_query(const char *key)
{
	struct strbuf sb = STRBUF_INIT;

	sb_adds(&sb, "?marker=");
	for (const unsigned char *c = (const unsigned char *)key; *c; c++)
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || strchr("-._~", *c))
			sb_addc(&sb, (char)*c);
		else
			sb_addf(&sb, "%%%02X", *c);
	return sb_detach(&sb);
}

/* All keys of the bucket; -CAP_E_NOTFOUND if the root is not a ListBucket document. */
static int list_bucket(const struct cap_ctx *ctx, struct keys *k)
{
	struct strbuf sb = STRBUF_INIT;
	char *root = reg_url_join(ctx->repo_url, "");
	bool truncated = true;
	int ret = 0;

	for (int page = 0; !ret && truncated && page < MAX_PAGES; page++) {
		char *q = page ? marker_query(k->v[k->n - 1]) : xstrdup("");
		char *url = xasprintf("%s%s", root, q);
		size_t before = k->n;
		ret = reg_get(ctx, url, INDEX_MAX_BYTES, &sb);
		if (!ret && !strstr(sb.buf, "<ListBucketResult"))
			ret = -CAP_E_NOTFOUND;
		if (!ret)
			parse_keys(sb.buf, k, &truncated);
		if (k->n == before || k->n >= MAX_KEYS)
			truncated =
			    false; /* no progress (a marker would repeat the page), or enough */
		free(q);
		free(url);
	}
	sb_release(&sb);
	free(root);
	return ret;
}

/* "<ns>/<name>/index.yaml" gives "<ns>/<name>"; other keys NULL. */
static char *image_of_key(const char *key)
{
	size_t n = strlen(key);
	char *name;

	if (n <= 11 || strcmp(key + n - 11, "/index.yaml"))
		return NULL;
	name = xstrndup(key, n - 11);
	if (repo_name_valid(name))
		return name;
	free(name);
	return NULL;
}

/* Platforms from the keys beside the index: "<ns>/<name>/<name>.<platform>.gz". */
static void platforms_from_keys(const struct keys *k, const char *name, struct index_image *img)
{
	char *prefix = xasprintf("%s/%s.", name, reg_base_name(name));
	size_t pn = strlen(prefix);

	for (size_t i = 0; i < k->n; i++) {
		const char *key = k->v[i];
		size_t n = strlen(key);
		if (strncmp(key, prefix, pn) || n < pn + 4 || strcmp(key + n - 3, ".gz"))
			continue;
		char *plat = xstrndup(key + pn, n - pn - 3);
		if (index_file_name_valid(plat) && !index_image_platform(img, plat)) {
			struct index_platform p = {.name = plat};
			index_image_set_platform(img, &p);
		}
		free(plat);
	}
	free(prefix);
}

/* One image's index.yaml into a catalog entry; a broken one is skipped with a warning. */
static bool bucket_image(const struct cap_ctx *ctx, const struct keys *k, const char *key,
			 char *name, struct index_image *out)
{
	struct strbuf sb = STRBUF_INIT;
	char *url = reg_url_join(ctx->repo_url, key), *shown = reg_url_shown(url);
	int ret = reg_get(ctx, url, MAX_IMAGE_INDEX, &sb);

	if (!ret)
		ret = index_parse_image(shown, sb.buf, sb.len, out);
	if (ret) {
		cap_warn(ctx, "skipping %s: %s", name, cap_errmsg(ret));
		cap_errclear();
		free(name);
	} else {
		out->name = name;
		if (!out->nplatforms) /* Capstan's index has none: the files say which */
			platforms_from_keys(k, name, out);
	}
	sb_release(&sb);
	free(url);
	free(shown);
	return ret == 0;
}

static int bucket_catalog(const struct cap_ctx *ctx, struct index_catalog *out)
{
	struct keys k = {0};
	int ret = list_bucket(ctx, &k);
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; !ret && i < k.n; i++) {
		char *name = image_of_key(k.v[i]);
		if (!name)
			continue;
		if (out->n == cap) {
			cap = cap ? 2 * cap : 16;
			out->images = xrealloc(out->images, cap * sizeof(*out->images));
		}
		memset(&out->images[out->n], 0, sizeof(*out->images));
		if (bucket_image(ctx, &k, k.v[i], name, &out->images[out->n]))
			out->n++;
		if (ctx->interrupted)
			ret = cap_errf(CAP_E_INTR, "search interrupted");
	}
	keys_release(&k);
	if (ret)
		index_catalog_release(out);
	return ret;
}

int reg_catalog(const struct cap_ctx *ctx, struct index_catalog *out)
{
	struct strbuf sb = STRBUF_INIT;
	char *url = reg_url_join(ctx->repo_url, "index.yaml"), *shown = reg_url_shown(url);
	char *repo = reg_url_shown(ctx->repo_url);
	int ret = reg_get(ctx, url, INDEX_MAX_BYTES, &sb);

	memset(out, 0, sizeof(*out));
	if (ret == -CAP_E_NOTFOUND && !reg_is_file_url(ctx->repo_url)) {
		int r = bucket_catalog(ctx, out);
		if (!r) {
			cap_verbose(ctx, "%s has no index.yaml: listed as an S3 bucket", repo);
			ret = 0;
			goto out;
		}
		if (r == -CAP_E_INTR) {
			ret = r;
			goto out;
		}
		cap_errclear(); /* not a bucket either: the catalog is what is missing */
	}
	if (ret == -CAP_E_NOTFOUND)
		ret = cap_errf(CAP_E_NOTFOUND, "registry %s has no catalog (%s)", repo, shown);
	if (!ret)
		ret = index_parse_catalog(shown, sb.buf, sb.len, out);
out:
	sb_release(&sb);
	free(url);
	free(shown);
	free(repo);
	return ret;
}
