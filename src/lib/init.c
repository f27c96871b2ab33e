// SPDX-License-Identifier: BSD-3-Clause
// init.c: 'capstan init': a new project folder from a template in $datadir/templates.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capstan/build.h"
#include "capstan/err.h"
#include "capstan/fs.h"
#include "capstan/str.h"
#include "capstan/banned.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted regular file (or folder, if dirs) names in path, dot files skipped. */
static int list_dir(const char *path, bool dirs, char ***out, size_t *n)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char **v = NULL;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct stat st;
		char *p;
		if (de->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s", path, de->d_name);
		if (stat(p, &st) == 0 && (dirs ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode))) {
			v = xrealloc(v, (k + 1) * sizeof(*v));
			v[k++] = xstrdup(de->d_name);
		}
		free(p);
	}
	closedir(d);
	if (k)
		qsort(v, k, sizeof(*v), cmp_str);
	*out = v;
	*n = k;
	return 0;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* A project name usable as an image name and a file name. */
static char *project_name(const char *dir)
{
	char abs[PATH_MAX];
	const char *base;
	struct strbuf sb = STRBUF_INIT;

	if (!realpath(dir, abs))
		strlcpy_(abs, dir, sizeof(abs));
	base = strrchr(abs, '/');
	base = base ? base + 1 : abs;
	for (const char *p = base; *p; p++) {
		char c = *p;
		bool alnum =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!sb.len && !alnum)
			continue; /* names start with a letter or digit */
		sb_addc(&sb, alnum || c == '.' || c == '_' || c == '-' ? c : '-');
	}
	if (!sb.len) {
		sb_release(&sb);
		return xstrdup("app");
	}
	return sb_detach(&sb);
}

/* The one static-looking ELF executable in dir, if exactly one. */
static char *find_binary(const char *dir)
{
	char **names;
	size_t n, found = 0;
	char *bin = NULL;

	if (list_dir(dir, false, &names, &n) < 0)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char *p = xasprintf("%s/%s", dir, names[i]);
		unsigned char m[4];
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && access(p, X_OK) == 0 && read(fd, m, 4) == 4 &&
		    !memcmp(m, "\177ELF", 4)) {
			found++;
			free(bin);
			bin = xstrdup(names[i]);
		}
		if (fd >= 0)
			close(fd);
		free(p);
	}
	free_list(names, n);
	if (found != 1) {
		free(bin);
		return NULL;
	}
	return bin;
}

static char *substitute(const char *text, const char *name, const char *binary)
{
	struct strbuf sb = STRBUF_INIT;

	for (const char *p = text; *p;) {
		if (str_has_prefix(p, "@NAME@")) {
			sb_adds(&sb, name);
			p += 6;
		} else if (str_has_prefix(p, "@BINARY@")) {
			sb_adds(&sb, binary);
			p += 8;
		} else {
			sb_addc(&sb, *p++);
		}
	}
	return sb_detach(&sb);
}

int build_init_project(const struct cap_ctx *ctx, const char *tmpl, const char *dir)
{
	char *tdir = xasprintf("%s/templates/%s", ctx->datadir, tmpl);
	char **files = NULL, *name = NULL, *binary = NULL;
	size_t nfiles = 0;
	int ret;

	if (!*tmpl || strchr(tmpl, '/') || tmpl[0] == '.' ||
	    list_dir(tdir, false, &files, &nfiles) < 0 || !nfiles) {
		char *all = xasprintf("%s/templates", ctx->datadir);
		char **names;
		size_t n;
		struct strbuf sb = STRBUF_INIT;
		if (list_dir(all, true, &names, &n) == 0)
			for (size_t i = 0; i < n; i++)
				sb_addf(&sb, "%s%s", i ? ", " : "", names[i]);
		ret = cap_errf(CAP_E_NOTFOUND, "unknown template '%s' (templates: %s)", tmpl,
			       sb.len ? sb.buf : "none found");
		free_list(names, n);
		sb_release(&sb);
		free(all);
		goto out;
	}
	/* refuse before writing anything */
	for (size_t i = 0; i < nfiles; i++) {
		char *p = xasprintf("%s/%s", dir, files[i]);
		bool there = fs_exists(p);
		if (there)
			ret = cap_errf(CAP_E_EXISTS, "'%s' already exists", p);
		free(p);
		if (there)
			goto out;
	}
	ret = fs_mkdirs(dir, 0755);
	if (ret) {
		ret = cap_errnof(ret, "cannot create '%s'", dir);
		goto out;
	}
	name = project_name(dir);
	binary = find_binary(dir);
	if (!binary)
		binary = xstrdup(!strcmp(tmpl, "binary") ? "app" : name);
	for (size_t i = 0; i < nfiles; i++) {
		char *src = xasprintf("%s/%s", tdir, files[i]);
		char *dst = xasprintf("%s/%s", dir, files[i]);
		char *text = NULL, *out = NULL;
		size_t len;
		ret = fs_read_all(src, &text, &len);
		if (ret)
			ret = cap_errnof(ret, "cannot read template file '%s'", src);
		if (!ret) {
			out = substitute(text, name, binary);
			ret = fs_write_atomic(dst, out, strlen(out), 0644);
			if (ret)
				ret = cap_errnof(ret, "cannot write '%s'", dst);
		}
		free(text);
		free(out);
		free(src);
		free(dst);
		if (ret)
			goto out;
	}
	cap_info(ctx, "Created project '%s' in %s from template '%s'", name, dir, tmpl);
	if (!strcmp(tmpl, "binary")) {
		char *bp = xasprintf("%s/%s", dir, binary);
		if (!fs_exists(bp))
			cap_info(ctx, "Put your static executable at %s, then run 'capstan build'",
				 bp);
		free(bp);
	}
out:
	free_list(files, nfiles);
	free(tdir);
	free(name);
	free(binary);
	return ret;
}
