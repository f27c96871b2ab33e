// SPDX-License-Identifier: BSD-3-Clause
// Registry index files (catalog and per-image): libyaml in, libyaml out, errors as SRC:LINE:COL.
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "capstan/err.h"
#include "capstan/index.h"
#include "capstan/sha256.h"
#include "capstan/str.h"
#include "capstan/banned.h"

/*
 * libyaml looks anchors up by a linear search, so thousands of them make the
 * load quadratic; an index has no use for many (ours and Capstan's have none).
 */
#define MAX_ANCHORS 64

struct doc {
	const char *src;
	yaml_document_t d;
	size_t visits, max_visits;
};

/*
 * A set of names (platforms of an image, images of a catalog), so duplicates
 * are found in linear time: open addressing, FNV-1a, borrowed strings.
 */
struct nameset {
	const char **slot;
	size_t mask;
};

static void nameset_init(struct nameset *s, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap <<= 1;
	s->slot = xcalloc(cap, sizeof(*s->slot));
	s->mask = cap - 1;
}

/* Add name; false if it was already there. */
static bool nameset_add(struct nameset *s, const char *name)
{
	uint64_t h = 1469598103934665603u;

	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		h = (h ^ *c) * 1099511628211u;
	for (size_t i = h & s->mask;; i = (i + 1) & s->mask) {
		if (!s->slot[i]) {
			s->slot[i] = name;
			return true;
		}
		if (!strcmp(s->slot[i], name))
			return false;
	}
}

static void nameset_release(struct nameset *s)
{
	free(s->slot);
	s->slot = NULL;
}

static int at(const struct doc *doc, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int at(const struct doc *doc, const yaml_node_t *n, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	/* what may quote the index: no terminal control sequence reaches the user's screen */
	for (char *c = what; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return cap_errf(CAP_E_DATA, "%s:%zu:%zu: %s", doc->src, n->start_mark.line + 1,
			n->start_mark.column + 1, what);
}

static yaml_node_t *node(struct doc *doc, int id)
{
	doc->visits++;
	return yaml_document_get_node(&doc->d, id);
}

/*
 * A walk without aliases visits each node once; aliases can make it visit a
 * large node many times.  Allowing twice the node count keeps the walk linear
 * in the size of the file for any document.
 */
static bool too_complex(const struct doc *doc)
{
	return doc->visits > doc->max_visits;
}

/* Count anchors with the event parser (linear) before libyaml's loader sees them. */
static int check_anchors(const char *src, const char *data, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	size_t anchors = 0;
	int ret = 0;

	if (!memchr(data, '&', len))
		return 0; /* no anchor can appear: skip the extra pass */
	if (!yaml_parser_initialize(&p))
		return cap_errf(ENOMEM, "%s: out of memory", src);
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	for (;;) {
		if (!yaml_parser_parse(&p, &ev))
			break; /* the loader reports the syntax error with its position */
		const yaml_char_t *anchor = NULL;
		if (ev.type == YAML_SCALAR_EVENT)
			anchor = ev.data.scalar.anchor;
		else if (ev.type == YAML_SEQUENCE_START_EVENT)
			anchor = ev.data.sequence_start.anchor;
		else if (ev.type == YAML_MAPPING_START_EVENT)
			anchor = ev.data.mapping_start.anchor;
		bool end = ev.type == YAML_STREAM_END_EVENT;
		if (anchor && ++anchors > MAX_ANCHORS)
			ret =
			    cap_errf(CAP_E_DATA, "%s:%zu:%zu: more than %d YAML anchors", src,
				     ev.start_mark.line + 1, ev.start_mark.column + 1, MAX_ANCHORS);
		yaml_event_delete(&ev);
		if (ret || end)
			break;
	}
	yaml_parser_delete(&p);
	return ret;
}

static int load(struct doc *doc, const char *src, const char *data, size_t len, yaml_node_t **root)
{
	yaml_parser_t p;
	int ret = 0;

	doc->src = src;
	doc->visits = 0;
	if (len > INDEX_MAX_BYTES)
		return cap_errf(CAP_E_DATA, "%s: index larger than %u MiB", src,
				INDEX_MAX_BYTES >> 20);
	if ((ret = check_anchors(src, data, len)))
		return ret;
	if (!yaml_parser_initialize(&p))
		return cap_errf(ENOMEM, "%s: out of memory", src);
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	if (!yaml_parser_load(&p, &doc->d)) {
		const yaml_mark_t *m = p.problem ? &p.problem_mark : &p.context_mark;
		ret = cap_errf(CAP_E_DATA, "%s:%zu:%zu: %s%s%s", src, m->line + 1, m->column + 1,
			       p.problem ? p.problem : "invalid YAML", p.context ? " " : "",
			       p.context ? p.context : "");
		yaml_parser_delete(&p);
		return ret;
	}
	yaml_parser_delete(&p);
	doc->max_visits = 2 * (size_t)(doc->d.nodes.top - doc->d.nodes.start) + 16;
	*root = yaml_document_get_root_node(&doc->d);
	if (!*root) {
		yaml_document_delete(&doc->d);
		return cap_errf(CAP_E_DATA, "%s:1:1: empty index", src);
	}
	if ((*root)->type != YAML_MAPPING_NODE) {
		ret = at(doc, *root, "expected a mapping at the top");
		yaml_document_delete(&doc->d);
	}
	return ret;
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* A string field: must be a scalar without NUL bytes; stored into *dst (duplicate is an error). */
static int get_str(struct doc *doc, const yaml_node_t *k, const yaml_node_t *v, char **dst)
{
	if (*dst)
		return at(doc, k, "duplicate key '%s'", scalar(k));
	if (v->type != YAML_SCALAR_NODE)
		return at(doc, v, "'%s' must be a string", scalar(k));
	if (strlen(scalar(v)) != v->data.scalar.length)
		return at(doc, v, "'%s' contains a NUL byte", scalar(k));
	*dst = xstrdup(scalar(v));
	return 0;
}

static int get_format(struct doc *doc, const yaml_node_t *k, const yaml_node_t *v, bool *seen)
{
	if (*seen)
		return at(doc, k, "duplicate key 'format_version'");
	*seen = true;
	if (v->type != YAML_SCALAR_NODE || strcmp(scalar(v), "1"))
		return at(doc, v, "unsupported format_version (this capstan reads \"1\")");
	return 0;
}

static bool valid_part(const char *s, size_t n)
{
	if (!n || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
		    (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

bool index_file_name_valid(const char *file)
{
	size_t n = strlen(file);

	return n <= 255 && valid_part(file, n);
}

/* "ns/name" or "name", each part a valid name part. */
static bool image_name_valid(const char *name)
{
	const char *slash = strchr(name, '/');

	if (!slash)
		return index_file_name_valid(name);
	if (strchr(slash + 1, '/'))
		return false;
	return valid_part(name, (size_t)(slash - name)) && index_file_name_valid(slash + 1);
}

static int get_size(struct doc *doc, const yaml_node_t *v, uint64_t *out)
{
	const char *s = scalar(v);
	uint64_t x = 0;

	if (v->type != YAML_SCALAR_NODE || !*s)
		return at(doc, v, "'size' must be a number of bytes");
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || x > (UINT64_MAX - 9) / 10)
			return at(doc, v, "'size' must be a number of bytes");
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*out = x;
	return 0;
}

static void platform_release(struct index_platform *p)
{
	free(p->name);
	free(p->file);
	free(p->sha256);
	memset(p, 0, sizeof(*p));
}

static struct index_platform *add_platform(struct index_image *img)
{
	img->platforms = xrealloc(img->platforms, (img->nplatforms + 1) * sizeof(*img->platforms));
	memset(&img->platforms[img->nplatforms], 0, sizeof(*img->platforms));
	return &img->platforms[img->nplatforms++];
}

/* Room for n more platforms at once: one allocation per image, whatever the count. */
static void reserve_platforms(struct index_image *img, size_t n)
{
	img->platforms = xrealloc(img->platforms, (img->nplatforms + n) * sizeof(*img->platforms));
}

static int check_platform_name(struct doc *doc, struct nameset *seen, const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE || !index_file_name_valid(scalar(n)))
		return at(doc, n, "invalid platform name");
	if (!nameset_add(seen, scalar(n)))
		return at(doc, n, "platform '%s' listed twice", scalar(n));
	return 0;
}

static int parse_platform_list(struct doc *doc, const yaml_node_t *v, struct index_image *img,
			       struct nameset *seen);

/* platforms: {NAME: {file, size, sha256}} */
static int parse_platforms(struct doc *doc, const yaml_node_t *v, struct index_image *img)
{
	struct nameset seen;
	int ret;

	if (v->type != YAML_MAPPING_NODE)
		return at(doc, v, "'platforms' must be a mapping of platform names");
	size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
	reserve_platforms(img, n);
	nameset_init(&seen, n);
	ret = parse_platform_list(doc, v, img, &seen);
	nameset_release(&seen);
	return ret;
}

static int parse_platform_list(struct doc *doc, const yaml_node_t *v, struct index_image *img,
			       struct nameset *seen)
{
	for (yaml_node_pair_t *pp = v->data.mapping.pairs.start; pp < v->data.mapping.pairs.top;
	     pp++) {
		yaml_node_t *pk = node(doc, pp->key), *pv = node(doc, pp->value);
		int ret;

		if (too_complex(doc))
			return at(doc, v, "index too complex");
		if ((ret = check_platform_name(doc, seen, pk)))
			return ret;
		if (pv->type != YAML_MAPPING_NODE)
			return at(doc, pv,
				  "platform '%s' must be a mapping with file, size and sha256",
				  scalar(pk));
		struct index_platform *p = &img->platforms[img->nplatforms++];
		memset(p, 0, sizeof(*p));
		p->name = xstrdup(scalar(pk));
		for (yaml_node_pair_t *q = pv->data.mapping.pairs.start;
		     q < pv->data.mapping.pairs.top; q++) {
			yaml_node_t *k = node(doc, q->key), *f = node(doc, q->value);
			if (k->type != YAML_SCALAR_NODE)
				return at(doc, k, "keys must be strings");
			if (!strcmp(scalar(k), "file")) {
				if ((ret = get_str(doc, k, f, &p->file)))
					return ret;
				if (!index_file_name_valid(p->file))
					return at(doc, f,
						  "'file' must be a plain file name, got '%s'",
						  p->file);
			} else if (!strcmp(scalar(k), "size")) {
				if (p->has_size)
					return at(doc, k, "duplicate key 'size'");
				if ((ret = get_size(doc, f, &p->size)))
					return ret;
				p->has_size = true;
			} else if (!strcmp(scalar(k), "sha256")) {
				if ((ret = get_str(doc, k, f, &p->sha256)))
					return ret;
				if (!sha256_hex_valid(p->sha256))
					return at(doc, f, "'sha256' must be 64 hex digits");
				for (char *c = p->sha256; *c; c++)
					if (*c >= 'A' && *c <= 'F')
						*c = (char)(*c - 'A' + 'a');
			}
		}
		if (!p->file)
			return at(doc, pv, "platform '%s' has no 'file'", p->name);
		if (!p->has_size)
			return at(doc, pv, "platform '%s' has no 'size'", p->name);
		if (!p->sha256)
			return at(doc, pv, "platform '%s' has no 'sha256'", p->name);
	}
	return 0;
}

/* The fields shared by a per-image index and a catalog entry. */
static int image_field(struct doc *doc, const yaml_node_t *k, const yaml_node_t *v,
		       struct index_image *img, bool *handled)
{
	const char *key = scalar(k);

	*handled = true;
	if (!strcmp(key, "version"))
		return get_str(doc, k, v, &img->version);
	if (!strcmp(key, "created"))
		return get_str(doc, k, v, &img->created);
	if (!strcmp(key, "description"))
		return get_str(doc, k, v, &img->description);
	if (!strcmp(key, "build"))
		return get_str(doc, k, v, &img->build);
	*handled = false;
	return 0;
}

int index_parse_image(const char *src, const char *data, size_t len, struct index_image *out)
{
	struct doc doc;
	yaml_node_t *root;
	bool fmt = false, plats = false;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = load(&doc, src, data, len, &root)))
		return ret;
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(&doc, p->key), *v = node(&doc, p->value);
		bool handled;

		if (k->type != YAML_SCALAR_NODE) {
			ret = at(&doc, k, "keys must be strings");
			break;
		}
		if (!strcmp(scalar(k), "format_version")) {
			ret = get_format(&doc, k, v, &fmt);
		} else if (!strcmp(scalar(k), "platforms")) {
			ret = plats ? at(&doc, k, "duplicate key 'platforms'")
				    : parse_platforms(&doc, v, out);
			plats = true;
		} else {
			ret = image_field(&doc, k, v, out, &handled);
		}
		if (ret)
			break;
	}
	if (!ret && !fmt)
		ret = at(&doc, root, "no format_version (expected \"1\")");
	yaml_document_delete(&doc.d);
	if (ret)
		index_image_release(out);
	return ret;
}

/* A catalog entry's "platforms: [qemu, raw]". */
static int parse_entry_platforms(struct doc *doc, const yaml_node_t *v, struct index_image *img)
{
	struct nameset seen;
	int ret = 0;

	if (v->type != YAML_SEQUENCE_NODE)
		return at(doc, v, "'platforms' must be a list of platform names");
	size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	reserve_platforms(img, n);
	nameset_init(&seen, n);
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
	     i++) {
		yaml_node_t *pn = node(doc, *i);
		if (too_complex(doc)) {
			ret = at(doc, v, "index too complex");
			break;
		}
		if ((ret = check_platform_name(doc, &seen, pn)))
			break;
		struct index_platform *p = &img->platforms[img->nplatforms++];
		memset(p, 0, sizeof(*p));
		p->name = xstrdup(scalar(pn));
	}
	nameset_release(&seen);
	return ret;
}

static int parse_entry(struct doc *doc, const yaml_node_t *e, struct index_image *img)
{
	bool plats = false;
	int ret;

	if (e->type != YAML_MAPPING_NODE)
		return at(doc, e, "each image must be a mapping with name, version, platforms...");
	for (yaml_node_pair_t *p = e->data.mapping.pairs.start; p < e->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(doc, p->key), *v = node(doc, p->value);
		bool handled;

		if (too_complex(doc))
			return at(doc, e, "index too complex");
		if (k->type != YAML_SCALAR_NODE)
			return at(doc, k, "keys must be strings");
		if (!strcmp(scalar(k), "name")) {
			if ((ret = get_str(doc, k, v, &img->name)))
				return ret;
			if (!image_name_valid(img->name))
				return at(doc, v, "invalid image name '%s'", img->name);
		} else if (!strcmp(scalar(k), "platforms")) {
			if (plats)
				return at(doc, k, "duplicate key 'platforms'");
			plats = true;
			if ((ret = parse_entry_platforms(doc, v, img)))
				return ret;
		} else if ((ret = image_field(doc, k, v, img, &handled))) {
			return ret;
		}
	}
	if (!img->name)
		return at(doc, e, "image entry has no 'name'");
	return 0;
}

/* The catalog's "images:" list, each name once. */
static int parse_images(struct doc *doc, const yaml_node_t *v, struct index_catalog *out)
{
	size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	struct nameset seen;
	int ret = 0;

	if (!n)
		return 0; /* "images: []" */
	out->images = xcalloc(n, sizeof(*out->images));
	nameset_init(&seen, n);
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
	     i++) {
		struct index_image *img = &out->images[out->n++];
		yaml_node_t *e = node(doc, *i);
		if ((ret = parse_entry(doc, e, img)))
			break;
		if (!nameset_add(&seen, img->name)) {
			ret = at(doc, e, "image '%s' listed twice", img->name);
			break;
		}
	}
	nameset_release(&seen);
	return ret;
}

int index_parse_catalog(const char *src, const char *data, size_t len, struct index_catalog *out)
{
	struct doc doc;
	yaml_node_t *root, *images = NULL;
	bool fmt = false;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = load(&doc, src, data, len, &root)))
		return ret;
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(&doc, p->key), *v = node(&doc, p->value);

		if (k->type != YAML_SCALAR_NODE) {
			ret = at(&doc, k, "keys must be strings");
			goto out;
		}
		if (!strcmp(scalar(k), "format_version")) {
			if ((ret = get_format(&doc, k, v, &fmt)))
				goto out;
		} else if (!strcmp(scalar(k), "images")) {
			if (images) {
				ret = at(&doc, k, "duplicate key 'images'");
				goto out;
			}
			images = v;
			if (v->type == YAML_SCALAR_NODE && !v->data.scalar.length)
				continue; /* "images:" with nothing after it: an empty registry */
			if (v->type != YAML_SEQUENCE_NODE) {
				ret = at(&doc, v, "'images' must be a list");
				goto out;
			}
			if ((ret = parse_images(&doc, v, out)))
				goto out;
		}
	}
	if (!fmt)
		ret = at(&doc, root, "no format_version (expected \"1\")");
	else if (!images)
		ret = at(&doc, root, "no 'images' list");
out:
	yaml_document_delete(&doc.d);
	if (ret)
		index_catalog_release(out);
	return ret;
}

/* ---- emitting ---- */

static int write_sb(void *data, unsigned char *buf, size_t size)
{
	sb_add(data, buf, size);
	return 1;
}

struct em {
	yaml_emitter_t e;
	yaml_event_t ev;
	int ok;
};

static void emit(struct em *em)
{
	if (em->ok && !yaml_emitter_emit(&em->e, &em->ev))
		em->ok = 0;
}

static void str(struct em *em, const char *s, bool quoted)
{
	if (!em->ok)
		return;
	yaml_scalar_event_initialize(&em->ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1,
				     quoted ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
					    : YAML_ANY_SCALAR_STYLE);
	emit(em);
}

static void kv(struct em *em, const char *k, const char *v)
{
	if (!v)
		return;
	str(em, k, false);
	str(em, v, true);
}

static void map_begin(struct em *em, bool flow)
{
	if (!em->ok)
		return;
	yaml_mapping_start_event_initialize(
	    &em->ev, NULL, NULL, 1, flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE);
	emit(em);
}

static void map_end(struct em *em)
{
	if (!em->ok)
		return;
	yaml_mapping_end_event_initialize(&em->ev);
	emit(em);
}

static void seq_begin(struct em *em, bool flow)
{
	if (!em->ok)
		return;
	yaml_sequence_start_event_initialize(
	    &em->ev, NULL, NULL, 1, flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE);
	emit(em);
}

static void seq_end(struct em *em)
{
	if (!em->ok)
		return;
	yaml_sequence_end_event_initialize(&em->ev);
	emit(em);
}

static void doc_begin(struct em *em, struct strbuf *out)
{
	em->ok = yaml_emitter_initialize(&em->e);
	if (!em->ok)
		return;
	yaml_emitter_set_output(&em->e, write_sb, out);
	yaml_emitter_set_unicode(&em->e, 1);
	yaml_emitter_set_width(&em->e, -1);
	yaml_stream_start_event_initialize(&em->ev, YAML_UTF8_ENCODING);
	emit(em);
	if (em->ok) {
		yaml_document_start_event_initialize(&em->ev, NULL, NULL, NULL, 1);
		emit(em);
	}
}

static int doc_end(struct em *em)
{
	if (em->ok) {
		yaml_document_end_event_initialize(&em->ev, 1);
		emit(em);
	}
	if (em->ok) {
		yaml_stream_end_event_initialize(&em->ev);
		emit(em);
	}
	int ok = em->ok;
	const char *problem = em->e.problem;
	int ret = ok ? 0
		     : cap_errf(CAP_E_DATA, "cannot write index: %s",
				problem ? problem : "emitter error");
	yaml_emitter_delete(&em->e);
	return ret;
}

static void common_fields(struct em *em, const struct index_image *img)
{
	kv(em, "version", img->version);
	kv(em, "created", img->created);
	kv(em, "description", img->description);
}

int index_emit_image(const struct index_image *img, struct strbuf *out)
{
	struct em em;
	char num[32];

	doc_begin(&em, out);
	map_begin(&em, false);
	kv(&em, "format_version", "1");
	common_fields(&em, img);
	kv(&em, "build", img->build);
	if (img->nplatforms) {
		str(&em, "platforms", false);
		map_begin(&em, false);
		for (size_t i = 0; i < img->nplatforms; i++) {
			const struct index_platform *p = &img->platforms[i];
			str(&em, p->name, false);
			map_begin(&em, false);
			kv(&em, "file", p->file);
			if (p->has_size) {
				snprintf(num, sizeof(num), "%llu", (unsigned long long)p->size);
				str(&em, "size", false);
				str(&em, num, false);
			}
			kv(&em, "sha256", p->sha256);
			map_end(&em);
		}
		map_end(&em);
	}
	map_end(&em);
	return doc_end(&em);
}

int index_emit_catalog(const struct index_catalog *cat, struct strbuf *out)
{
	struct em em;

	doc_begin(&em, out);
	map_begin(&em, false);
	kv(&em, "format_version", "1");
	str(&em, "images", false);
	seq_begin(&em, cat->n == 0);
	for (size_t i = 0; i < cat->n; i++) {
		const struct index_image *img = &cat->images[i];
		map_begin(&em, false);
		kv(&em, "name", img->name);
		common_fields(&em, img);
		str(&em, "platforms", false);
		seq_begin(&em, true);
		for (size_t j = 0; j < img->nplatforms; j++)
			str(&em, img->platforms[j].name, false);
		seq_end(&em);
		map_end(&em);
	}
	seq_end(&em);
	map_end(&em);
	return doc_end(&em);
}

/* ---- editing ---- */

const struct index_platform *index_image_platform(const struct index_image *img,
						  const char *platform)
{
	for (size_t i = 0; i < img->nplatforms; i++)
		if (img->platforms[i].name && !strcmp(img->platforms[i].name, platform))
			return &img->platforms[i];
	return NULL;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct index_platform *)a)->name,
		      ((const struct index_platform *)b)->name);
}

void index_image_set_platform(struct index_image *img, const struct index_platform *p)
{
	struct index_platform *dst = (struct index_platform *)index_image_platform(img, p->name);

	if (dst)
		platform_release(dst);
	else
		dst = add_platform(img);
	dst->name = xstrdup(p->name);
	dst->file = dup_or_null(p->file);
	dst->size = p->size;
	dst->has_size = p->has_size;
	dst->sha256 = dup_or_null(p->sha256);
	qsort(img->platforms, img->nplatforms, sizeof(*img->platforms), by_name);
}

static int by_image_name(const void *a, const void *b)
{
	return strcmp(((const struct index_image *)a)->name, ((const struct index_image *)b)->name);
}

void index_catalog_set(struct index_catalog *cat, const char *name, const struct index_image *img)
{
	struct index_image *dst = NULL;

	for (size_t i = 0; i < cat->n; i++)
		if (!strcmp(cat->images[i].name, name))
			dst = &cat->images[i];
	if (dst) {
		index_image_release(dst);
	} else {
		cat->images = xrealloc(cat->images, (cat->n + 1) * sizeof(*cat->images));
		dst = &cat->images[cat->n++];
	}
	memset(dst, 0, sizeof(*dst));
	dst->name = xstrdup(name);
	dst->version = dup_or_null(img->version);
	dst->created = dup_or_null(img->created);
	dst->description = dup_or_null(img->description);
	for (size_t i = 0; i < img->nplatforms; i++)
		add_platform(dst)->name = xstrdup(img->platforms[i].name);
	qsort(cat->images, cat->n, sizeof(*cat->images), by_image_name);
}

void index_image_release(struct index_image *img)
{
	for (size_t i = 0; i < img->nplatforms; i++)
		platform_release(&img->platforms[i]);
	free(img->platforms);
	free(img->name);
	free(img->version);
	free(img->created);
	free(img->description);
	free(img->build);
	memset(img, 0, sizeof(*img));
}

void index_catalog_release(struct index_catalog *cat)
{
	for (size_t i = 0; i < cat->n; i++)
		index_image_release(&cat->images[i]);
	free(cat->images);
	cat->images = NULL;
	cat->n = 0;
}
