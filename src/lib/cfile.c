// SPDX-License-Identifier: BSD-3-Clause
// Capstanfile parsing: libyaml document into struct cfile, every error with file:line:col.
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "capstan/cfile.h"
#include "capstan/err.h"
#include "capstan/fs.h"
#include "capstan/str.h"
#include "capstan/banned.h"

/* A Capstanfile is a handful of lines; anything this big is not one. */
#define CFILE_MAX (4u << 20)

static const char *const keys[] = {"base", "build", "cmdline", "env", "files", "rootfs"};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

struct parse {
	struct cfile *cf;
	yaml_document_t *doc;
};

/*
 * A set of borrowed strings (open addressing), so duplicate guest paths and
 * env names are found in linear time even in a huge file.
 */
struct strset {
	const char **slot;
	size_t cap;
};

static void set_init(struct strset *s, size_t n)
{
	s->cap = 16;
	while (s->cap < 2 * n)
		s->cap *= 2;
	s->slot = xcalloc(s->cap, sizeof(*s->slot));
}

/* Adds str; returns 0 if it was already there. */
static int set_add(struct strset *s, const char *str)
{
	uint64_t h = 1469598103934665603ull;

	for (const char *c = str; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ull;
	for (size_t i = (size_t)h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (!s->slot[i]) {
			s->slot[i] = str;
			return 1;
		}
		if (!strcmp(s->slot[i], str))
			return 0;
	}
}

static int at(const struct parse *p, const yaml_mark_t *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int at(const struct parse *p, const yaml_mark_t *m, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cap_errf(CAP_E_DATA, "%s:%zu:%zu: %s", p->cf->path, m->line + 1, m->column + 1, msg);
}

static const char *kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	default:
		return "a string";
	}
}

/* A plain scalar spelling YAML's null: empty, ~, null. */
static int is_null(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

/* The scalar's text, refusing embedded NULs (a "\0" escape) that C strings would cut short. */
static int scalar(const struct parse *p, const yaml_node_t *n, const char *what, const char **out)
{
	if (n->type != YAML_SCALAR_NODE)
		return at(p, &n->start_mark, "%s must be a string, not %s", what, kind(n));
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		return at(p, &n->start_mark, "%s contains a NUL byte", what);
	*out = (const char *)n->data.scalar.value;
	return 0;
}

/*
 * Normalise an absolute guest path: collapse "//" and ".", apply "..".
 * Returns NULL when ".." climbs above "/".
 */
static char *guest_normalise(const char *in)
{
	size_t n = strlen(in);
	char *out = xmalloc(n + 2);
	size_t len = 0;
	const char *s = in;

	while (*s) {
		while (*s == '/')
			s++;
		if (!*s)
			break;
		const char *e = strchr(s, '/');
		size_t cl = e ? (size_t)(e - s) : strlen(s);
		if (cl == 1 && s[0] == '.') {
			/* nothing */
		} else if (cl == 2 && s[0] == '.' && s[1] == '.') {
			if (!len) {
				free(out);
				return NULL;
			}
			while (len && out[len - 1] != '/')
				len--;
			len--; /* the slash itself */
		} else {
			out[len++] = '/';
			memcpy(out + len, s, cl);
			len += cl;
		}
		s += cl;
	}
	if (!len)
		out[len++] = '/';
	out[len] = '\0';
	return out;
}

/* Host path: each '&' becomes the guest path's basename; relative paths hang off dir. */
static char *host_resolve(const char *dir, const char *host, const char *guest)
{
	const char *base = strrchr(guest, '/');
	struct strbuf sb = STRBUF_INIT;

	base = base ? base + 1 : guest;
	if (host[0] != '/') {
		sb_adds(&sb, dir);
		if (!sb.len || sb.buf[sb.len - 1] != '/')
			sb_addc(&sb, '/');
	}
	for (const char *c = host; *c; c++) {
		if (*c == '&')
			sb_adds(&sb, base);
		else
			sb_addc(&sb, *c);
	}
	return sb_detach(&sb);
}

static char *path_join(const char *dir, const char *rel)
{
	if (rel[0] == '/')
		return xstrdup(rel);
	return xasprintf("%s%s%s", dir, *dir && dir[strlen(dir) - 1] == '/' ? "" : "/", rel);
}

static int parse_files(struct parse *p, yaml_node_t *map)
{
	yaml_node_pair_t *pr;
	struct strset seen;
	size_t cap;
	int ret = 0;

	if (is_null(map))
		return 0;
	if (map->type != YAML_MAPPING_NODE)
		return at(p, &map->start_mark,
			  "'files' must be a mapping of guest path to host path, not %s",
			  kind(map));
	cap = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
	p->cf->files = xcalloc(cap ? cap : 1, sizeof(*p->cf->files));
	set_init(&seen, cap);
	for (pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
		const char *guest, *host;
		char *norm;

		if ((ret = scalar(p, k, "a guest path in 'files'", &guest)))
			break;
		if (guest[0] != '/') {
			ret = at(p, &k->start_mark, "guest path '%s' is not absolute", guest);
			break;
		}
		norm = guest_normalise(guest);
		if (!norm) {
			ret = at(p, &k->start_mark, "guest path '%s' escapes '/' with '..'", guest);
			break;
		}
		if (!set_add(&seen, norm)) {
			free(norm);
			ret = at(p, &k->start_mark, "duplicate guest path '%s'", guest);
			break;
		}
		/* stored now, so the set's borrowed pointer stays owned by cf */
		p->cf->files[p->cf->nfiles++].guest = norm;
		if ((ret = scalar(p, v, "the host path of a file", &host)))
			break;
		if (!*host || is_null(v)) {
			ret = at(p, &v->start_mark, "guest path '%s' has no host path", guest);
			break;
		}
		p->cf->files[p->cf->nfiles - 1].host = host_resolve(p->cf->dir, host, norm);
	}
	free(seen.slot);
	return ret;
}

static int env_key_valid(const char *k)
{
	if (!*k || !(*k == '_' || (*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z')))
		return 0;
	for (; *k; k++)
		if (!(*k == '_' || (*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') ||
		      (*k >= '0' && *k <= '9')))
			return 0;
	return 1;
}

static int parse_env(struct parse *p, yaml_node_t *map)
{
	yaml_node_pair_t *pr;
	struct strset seen;
	size_t cap;
	int ret = 0;

	if (is_null(map))
		return 0;
	if (map->type != YAML_MAPPING_NODE)
		return at(p, &map->start_mark,
			  "'env' must be a mapping of names to strings, not %s", kind(map));
	cap = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
	p->cf->env = xcalloc(cap ? cap : 1, sizeof(*p->cf->env));
	set_init(&seen, cap);
	for (pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
		const char *key, *val;

		if ((ret = scalar(p, k, "an 'env' name", &key)))
			break;
		if (!env_key_valid(key)) {
			ret = at(p, &k->start_mark, "'%s' is not a valid environment variable name",
				 key);
			break;
		}
		/* key points into the document, which outlives the set */
		if (!set_add(&seen, key)) {
			ret = at(p, &k->start_mark, "duplicate environment variable '%s'", key);
			break;
		}
		if (v->type != YAML_SCALAR_NODE) {
			ret = at(p, &v->start_mark, "env '%s' must be a string, not %s", key,
				 kind(v));
			break;
		}
		if (is_null(v)) {
			ret = at(p, &v->start_mark,
				 "env '%s' has no value (write \"\" for an empty string)", key);
			break;
		}
		if ((ret = scalar(p, v, "an 'env' value", &val)))
			break;
		p->cf->env[p->cf->nenv].key = xstrdup(key);
		p->cf->env[p->cf->nenv].value = xstrdup(val);
		p->cf->nenv++;
	}
	free(seen.slot);
	return ret;
}

static int parse_rootfs(struct parse *p, yaml_node_t *v)
{
	const char *s;
	struct stat st;
	int ret;

	if ((ret = scalar(p, v, "'rootfs'", &s)))
		return ret;
	if (!*s || is_null(v))
		return at(p, &v->start_mark, "'rootfs' is empty");
	p->cf->rootfs = path_join(p->cf->dir, s);
	if (stat(p->cf->rootfs, &st) < 0)
		return at(p, &v->start_mark, "rootfs '%s': %s", s, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return at(p, &v->start_mark, "rootfs '%s' is not a folder", s);
	return 0;
}

/* A top-level scalar value that must be a non-empty string. */
static int parse_string(struct parse *p, const char *key, yaml_node_t *v, char **out)
{
	const char *s;
	char what[32];
	int ret;

	snprintf(what, sizeof(what), "'%s'", key);
	if ((ret = scalar(p, v, what, &s)))
		return ret;
	if (is_null(v) || !s[strspn(s, " \t\r\n")])
		return at(p, &v->start_mark, "'%s' is empty", key);
	*out = xstrdup(s);
	return 0;
}

static int parse_key(struct parse *p, const char *key, yaml_node_t *k, yaml_node_t *v)
{
	if (!strcmp(key, "base"))
		return parse_string(p, key, v, &p->cf->base);
	if (!strcmp(key, "build"))
		return parse_string(p, key, v, &p->cf->build);
	if (!strcmp(key, "cmdline"))
		return parse_string(p, key, v, &p->cf->cmdline);
	if (!strcmp(key, "env"))
		return parse_env(p, v);
	if (!strcmp(key, "files"))
		return parse_files(p, v);
	if (!strcmp(key, "rootfs"))
		return parse_rootfs(p, v);

	const char *best = keys[0];
	for (size_t i = 1; i < NKEYS; i++)
		if (str_distance(key, keys[i]) < str_distance(key, best))
			best = keys[i];
	return at(p, &k->start_mark, "unknown key '%s' (did you mean '%s'?)", key, best);
}

static int parse_doc(struct parse *p, yaml_node_t *root)
{
	static const yaml_mark_t start = {0, 0, 0};
	int seen[NKEYS] = {0};
	int ret;

	if (!root || is_null(root))
		return at(p, root ? &root->start_mark : &start, "missing 'cmdline'");
	if (root->type != YAML_MAPPING_NODE)
		return at(p, &root->start_mark,
			  "expected a mapping of keys (base, cmdline, files, ...), not %s",
			  kind(root));
	for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
	     pr < root->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
		const char *key;

		if ((ret = scalar(p, k, "a key", &key)))
			return ret;
		for (size_t i = 0; i < NKEYS; i++) {
			if (strcmp(key, keys[i]))
				continue;
			if (seen[i])
				return at(p, &k->start_mark, "duplicate key '%s'", key);
			seen[i] = 1;
		}
		if ((ret = parse_key(p, key, k, v)))
			return ret;
	}
	if (!p->cf->cmdline)
		return at(p, &root->start_mark, "missing 'cmdline'");
	if (!p->cf->rootfs) {
		char *def = path_join(p->cf->dir, "ROOTFS");
		struct stat st;
		if (stat(def, &st) == 0 && S_ISDIR(st.st_mode))
			p->cf->rootfs = def;
		else
			free(def);
	}
	return 0;
}

int cfile_parse(struct cfile *cf, const char *path, const char *dir, const char *data, size_t len)
{
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	struct parse p = {cf, &doc};
	int ret;

	memset(cf, 0, sizeof(*cf));
	cf->path = xstrdup(path);
	cf->dir = xstrdup(dir);
	if (len > CFILE_MAX) {
		ret =
		    cap_errf(CAP_E_DATA, "%s: too large for a Capstanfile (%zu bytes)", path, len);
		cfile_release(cf);
		return ret;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	if (!yaml_parser_load(&parser, &doc)) {
		const yaml_mark_t *m = parser.problem ? &parser.problem_mark : &parser.mark;
		ret = at(&p, m, "invalid YAML: %s%s%s",
			 parser.problem ? parser.problem : "parse error", parser.context ? " " : "",
			 parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		cfile_release(cf);
		return ret;
	}
	ret = parse_doc(&p, yaml_document_get_root_node(&doc));
	if (!ret) {
		/* A second document would be silently ignored: say so instead. */
		if (!yaml_parser_load(&parser, &extra)) {
			const yaml_mark_t *m = parser.problem ? &parser.problem_mark : &parser.mark;
			ret = at(&p, m, "invalid YAML: %s",
				 parser.problem ? parser.problem : "parse error");
		} else {
			yaml_node_t *r = yaml_document_get_root_node(&extra);
			if (r)
				ret = at(&p, &r->start_mark, "more than one YAML document");
			yaml_document_delete(&extra);
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (ret)
		cfile_release(cf);
	return ret;
}

int cfile_load(struct cfile *cf, const char *path)
{
	char *data = NULL, *abs = NULL, *dir = NULL, *tmp;
	size_t len;
	struct stat st;
	int ret;

	memset(cf, 0, sizeof(*cf));
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size > CFILE_MAX)
		return cap_errf(CAP_E_DATA, "%s: too large for a Capstanfile (%llu bytes)", path,
				(unsigned long long)st.st_size);
	if ((ret = fs_read_all(path, &data, &len)))
		return ret;
	abs = realpath(path, NULL);
	if (!abs) {
		ret = cap_errnof(errno, "cannot resolve '%s'", path);
		goto out;
	}
	tmp = xstrdup(abs);
	dir = xstrdup(dirname(tmp));
	free(tmp);
	ret = cfile_parse(cf, path, dir, data, len);
out:
	free(data);
	free(abs);
	free(dir);
	return ret;
}

void cfile_release(struct cfile *cf)
{
	for (size_t i = 0; i < cf->nfiles; i++) {
		free(cf->files[i].guest);
		free(cf->files[i].host);
	}
	for (size_t i = 0; i < cf->nenv; i++) {
		free(cf->env[i].key);
		free(cf->env[i].value);
	}
	free(cf->files);
	free(cf->env);
	free(cf->path);
	free(cf->dir);
	free(cf->base);
	free(cf->cmdline);
	free(cf->build);
	free(cf->rootfs);
	memset(cf, 0, sizeof(*cf));
}
