// SPDX-License-Identifier: BSD-3-Clause
// Settings: flags, environment, $CAPSTAN_ROOT/config.yaml and defaults, in that order.
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "capstan/ctx.h"
#include "capstan/err.h"
#include "capstan/str.h"
#include "capstan/banned.h"

#ifndef CAPSTAN_DATADIR
#define CAPSTAN_DATADIR "/usr/local/share/capstan"
#endif
#ifndef CAPSTAN_BUILD_ROOT
#define CAPSTAN_BUILD_ROOT ""
#endif

void cap_ctx_init(struct cap_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->disable_kvm = -1;
	ctx->out = stdout;
	ctx->err = stderr;
}

void cap_ctx_release(struct cap_ctx *ctx)
{
	free(ctx->root);
	free(ctx->repo_url);
	free(ctx->qemu_path);
	free(ctx->datadir);
	ctx->root = ctx->repo_url = ctx->qemu_path = ctx->datadir = NULL;
}

static int parse_bool(const char *s, int *out)
{
	if (!strcasecmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes") ||
	    !strcasecmp(s, "on"))
		*out = 1;
	else if (!strcasecmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "no") ||
		 !strcasecmp(s, "off") || !*s)
		*out = 0;
	else
		return -1;
	return 0;
}

/*
 * The default registry is the tree the build makes from repo/.  Run from the
 * build folder, the binary uses the build folder's tree, so a fresh checkout
 * needs no install step; installed, it uses $datadir/capstan.
 */
static char *default_datadir(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *b = CAPSTAN_BUILD_ROOT;
	size_t bl = strlen(b);

	if (n > 0 && bl) {
		exe[n] = '\0';
		if (!strncmp(exe, b, bl) && exe[bl] == '/')
			return xstrdup(b);
	}
	return xstrdup(CAPSTAN_DATADIR);
}

static int config_error(const char *path, const yaml_mark_t *m, const char *what)
{
	return cap_errf(CAP_E_DATA, "%s:%zu:%zu: %s", path, m->line + 1, m->column + 1, what);
}

static int load_config(struct cap_ctx *ctx, const char *path)
{
	static const char *const keys[] = {"repo_url", "disable_kvm", "qemu_path"};
	yaml_parser_t parser;
	yaml_document_t doc;
	FILE *f = fopen(path, "rb");
	int ret = 0;

	struct stat st;

	if (!f)
		return errno == ENOENT ? 0 : cap_errnof(errno, "cannot read '%s'", path);
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		return cap_errnof(EISDIR, "cannot read '%s'", path);
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		ret = cap_errf(CAP_E_DATA, "%s:%zu:%zu: %s", path, parser.problem_mark.line + 1,
			       parser.problem_mark.column + 1,
			       parser.problem ? parser.problem : "invalid YAML");
		yaml_parser_delete(&parser);
		fclose(f);
		return ret;
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (!root || root->type == YAML_SCALAR_NODE) {
		if (root && root->data.scalar.length)
			ret =
			    config_error(path, &root->start_mark, "expected a mapping of settings");
		goto out;
	}
	if (root->type != YAML_MAPPING_NODE) {
		ret = config_error(path, &root->start_mark, "expected a mapping of settings");
		goto out;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(&doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&doc, p->value);
		if (k->type != YAML_SCALAR_NODE || v->type != YAML_SCALAR_NODE) {
			ret = config_error(path, &k->start_mark,
					   "settings must be 'key: value' scalars");
			goto out;
		}
		const char *key = (const char *)k->data.scalar.value;
		const char *val = (const char *)v->data.scalar.value;
		if (!strcmp(key, "repo_url")) {
			if (!ctx->repo_url && *val)
				ctx->repo_url = xstrdup(val);
		} else if (!strcmp(key, "qemu_path")) {
			if (!ctx->qemu_path && *val)
				ctx->qemu_path = xstrdup(val);
		} else if (!strcmp(key, "disable_kvm")) {
			int b;
			if (parse_bool(val, &b) < 0) {
				ret = config_error(path, &v->start_mark,
						   "disable_kvm must be true or false");
				goto out;
			}
			if (ctx->disable_kvm < 0)
				ctx->disable_kvm = b;
		} else {
			const char *best = keys[0];
			for (size_t i = 1; i < sizeof(keys) / sizeof(keys[0]); i++)
				if (str_distance(key, keys[i]) < str_distance(key, best))
					best = keys[i];
			ret = cap_errf(
			    CAP_E_DATA, "%s:%zu:%zu: unknown setting '%s' (did you mean '%s'?)",
			    path, k->start_mark.line + 1, k->start_mark.column + 1, key, best);
			goto out;
		}
	}
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return ret;
}

int cap_ctx_load(struct cap_ctx *ctx)
{
	const char *e;
	int ret;

	if (!ctx->root && (e = getenv("CAPSTAN_ROOT")) && *e)
		ctx->root = xstrdup(e);
	if (!ctx->root) {
		const char *home = getenv("HOME");
		if (!home || !*home) {
			struct passwd *pw = getpwuid(getuid());
			home = pw ? pw->pw_dir : NULL;
		}
		if (!home)
			return cap_errf(CAP_E_USAGE,
					"cannot find a home folder: set CAPSTAN_ROOT or --root");
		ctx->root = xasprintf("%s/.capstan", home);
	}
	if (!ctx->repo_url && (e = getenv("CAPSTAN_REPO_URL")) && *e)
		ctx->repo_url = xstrdup(e);
	if (!ctx->qemu_path && (e = getenv("CAPSTAN_QEMU_PATH")) && *e)
		ctx->qemu_path = xstrdup(e);
	if (ctx->disable_kvm < 0 && (e = getenv("CAPSTAN_DISABLE_KVM"))) {
		int b;
		if (parse_bool(e, &b) < 0)
			return cap_errf(CAP_E_USAGE,
					"CAPSTAN_DISABLE_KVM: expected true or false, got '%s'", e);
		ctx->disable_kvm = b;
	}
	char *cfg = cap_path(ctx, "config.yaml");
	ret = load_config(ctx, cfg);
	free(cfg);
	if (ret)
		return ret;
	if (ctx->disable_kvm < 0)
		ctx->disable_kvm = 0;
	if (!ctx->datadir && (e = getenv("CAPSTAN_DATADIR")) && *e)
		ctx->datadir = xstrdup(e);
	if (!ctx->datadir)
		ctx->datadir = default_datadir();
	if (!ctx->repo_url)
		ctx->repo_url = xasprintf("file://%s/repo", ctx->datadir);
	return 0;
}

char *cap_path(const struct cap_ctx *ctx, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	char *tail;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	tail = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(tail, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb_addf(&sb, "%s/%s", ctx->root, tail);
	free(tail);
	return sb_detach(&sb);
}

static void vput(FILE *f, const char *prefix, const char *fmt, va_list ap)
{
	if (prefix)
		fputs(prefix, f);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
	fflush(f);
}

void cap_info(const struct cap_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->quiet)
		return;
	va_start(ap, fmt);
	vput(ctx->out, NULL, fmt, ap);
	va_end(ap);
}

void cap_verbose(const struct cap_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (!ctx->verbose)
		return;
	va_start(ap, fmt);
	vput(ctx->err, NULL, fmt, ap);
	va_end(ap);
}

void cap_warn(const struct cap_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vput(ctx->err, "capstan: warning: ", fmt, ap);
	va_end(ap);
}
