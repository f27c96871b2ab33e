// SPDX-License-Identifier: BSD-3-Clause
// The local image repository: Capstan's repository/<ns>/<name>/<name>.<platform> plus index.yaml.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "capstan/err.h"
#include "capstan/fs.h"
#include "capstan/probe.h"
#include "capstan/repo.h"
#include "capstan/str.h"
#include "capstan/banned.h"

/*
 * Platforms we write.  "vmware" is also read: Capstan's import named VMDK
 * files <name>.vmware while its run looked for <name>.vmw; both list as vmw.
 */
static const char *const platforms[] = {"gce", "qemu", "raw", "vbox", "vmw"};
#define NPLATFORMS (sizeof(platforms) / sizeof(platforms[0]))

static int platform_valid(const char *p)
{
	for (size_t i = 0; i < NPLATFORMS; i++)
		if (!strcmp(p, platforms[i]))
			return 1;
	return 0;
}

static int part_valid(const char *s, size_t n)
{
	if (!n || n > 255)
		return 0;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
	      (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int repo_name_valid(const char *name)
{
	const char *slash = strchr(name, '/');

	if (strstr(name, ".."))
		return 0;
	if (!slash)
		return part_valid(name, strlen(name));
	if (strchr(slash + 1, '/'))
		return 0;
	return part_valid(name, (size_t)(slash - name)) && part_valid(slash + 1, strlen(slash + 1));
}

static int check_name(const char *name)
{
	if (!repo_name_valid(name))
		return cap_errf(CAP_E_USAGE,
				"invalid image name '%s' (expected [namespace/]name of letters, "
				"digits, '.', '_', '-')",
				name);
	return 0;
}

char *repo_image_dir(const struct cap_ctx *ctx, const char *name)
{
	return cap_path(ctx, "repository/%s", name);
}

static const char *base_of(const char *name)
{
	const char *s = strrchr(name, '/');

	return s ? s + 1 : name;
}

void repo_meta_release(struct repo_meta *m)
{
	free(m->version);
	free(m->created);
	free(m->description);
	free(m->build);
	memset(m, 0, sizeof(*m));
}

void repo_image_release(struct repo_image *img)
{
	free(img->name);
	free(img->platform);
	free(img->path);
	repo_meta_release(&img->meta);
	memset(img, 0, sizeof(*img));
}

void repo_images_free(struct repo_image *imgs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		repo_image_release(&imgs[i]);
	free(imgs);
}

/* ---- index.yaml ---- */

static int digits(const char **p, int n)
{
	for (int i = 0; i < n; i++, (*p)++)
		if (**p < '0' || **p > '9')
			return 0;
	return 1;
}

static int lit(const char **p, char c)
{
	if (**p != c)
		return 0;
	(*p)++;
	return 1;
}

/* "HH:MM:SS" with an optional fraction, then an optional zone (Z or +HH:MM). */
static int time_and_zone(const char *p)
{
	if (!digits(&p, 2) || !lit(&p, ':') || !digits(&p, 2) || !lit(&p, ':') || !digits(&p, 2))
		return 0;
	if (lit(&p, '.')) {
		if (!digits(&p, 1))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (!*p || lit(&p, 'Z') || lit(&p, 'z'))
		return !*p;
	if (!lit(&p, '+') && !lit(&p, '-'))
		return 0;
	return digits(&p, 2) && lit(&p, ':') && digits(&p, 2) && !*p;
}

int repo_created_valid(const char *s)
{
	const char *p = s;

	if (!digits(&p, 4) || !lit(&p, '-') || !digits(&p, 2) || !lit(&p, '-') || !digits(&p, 2))
		return 0;
	if (lit(&p, ' ')) {
		const char *q = p;
		if (digits(&q, 2) && lit(&q, ':') && digits(&q, 2) && !*q)
			return 1; /* Capstan's "2006-01-02 15:04" */
		return time_and_zone(p);
	}
	if (!lit(&p, 'T') && !lit(&p, 't'))
		return 0;
	return time_and_zone(p);
}

int repo_meta_parse(const char *path, const char *data, size_t len, struct repo_meta *m)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	int ret = 0;

	memset(m, 0, sizeof(*m));
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	if (!yaml_parser_load(&parser, &doc)) {
		ret = cap_errf(CAP_E_DATA, "%s:%zu:%zu: invalid YAML: %s", path,
			       parser.problem_mark.line + 1, parser.problem_mark.column + 1,
			       parser.problem ? parser.problem : "parse error");
		yaml_parser_delete(&parser);
		return ret;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root)
		goto out;
	if (root->type != YAML_MAPPING_NODE) {
		ret = cap_errf(CAP_E_DATA, "%s:%zu:%zu: expected a mapping", path,
			       root->start_mark.line + 1, root->start_mark.column + 1);
		goto out;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(&doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&doc, p->value);
		char **dst = NULL;
		if (k->type != YAML_SCALAR_NODE)
			continue;
		const char *key = (const char *)k->data.scalar.value;
		if (!strcmp(key, "version"))
			dst = &m->version;
		else if (!strcmp(key, "created"))
			dst = &m->created;
		else if (!strcmp(key, "description"))
			dst = &m->description;
		else if (!strcmp(key, "build"))
			dst = &m->build;
		if (!dst)
			continue; /* format_version, platform, and fields other tools add */
		if (v->type != YAML_SCALAR_NODE) {
			ret = cap_errf(CAP_E_DATA, "%s:%zu:%zu: '%s' must be a string", path,
				       v->start_mark.line + 1, v->start_mark.column + 1, key);
			goto out;
		}
		if (!v->data.scalar.length || (*dst))
			continue;
		*dst = xstrdup((const char *)v->data.scalar.value);
	}
out:
	if (ret)
		repo_meta_release(m);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return ret;
}

/* An image's index.yaml is a few lines; this bounds what a hostile one can cost. */
#define INDEX_MAX (1u << 20)

/*
 * Read dir/index.yaml.  One that cannot be an index (a FIFO, a device, over
 * INDEX_MAX, unreadable) is an error: the caller skips the image.  Bad YAML
 * in a regular file is only a warning: the image lists with empty fields.
 */
static int meta_load(const struct cap_ctx *ctx, const char *dir, struct repo_meta *m)
{
	char *path = xasprintf("%s/index.yaml", dir), *data = NULL;
	size_t len;
	int ret = 0;

	memset(m, 0, sizeof(*m));
	if (lstat(path, &(struct stat){0}) < 0 && errno == ENOENT)
		goto out;
	if ((ret = fs_read_regular(path, INDEX_MAX, &data, &len)))
		goto out;
	int bad = repo_meta_parse(path, data, len, m);
	if (bad)
		cap_warn(ctx, "%s", cap_errmsg(bad));
out:
	free(data);
	free(path);
	return ret;
}

/* A YAML double-quoted scalar: always valid, whatever the text. */
static void yaml_quote(struct strbuf *sb, const char *s)
{
	sb_addc(sb, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			sb_addc(sb, '\\');
			sb_addc(sb, (char)c);
		} else if (c == '\n') {
			sb_adds(sb, "\\n");
		} else if (c < 0x20 || c == 0x7f) {
			sb_addf(sb, "\\x%02x", c);
		} else {
			sb_addc(sb, (char)c);
		}
	}
	sb_addc(sb, '"');
}

static void meta_field(struct strbuf *sb, const char *key, const char *val)
{
	if (!val)
		return;
	sb_addf(sb, "%s: ", key);
	yaml_quote(sb, val);
	sb_addc(sb, '\n');
}

static char *meta_format(const struct repo_meta *m, const char *platform)
{
	struct strbuf sb = STRBUF_INIT;

	sb_adds(&sb, "format_version: \"1\"\n");
	meta_field(&sb, "version", m->version);
	meta_field(&sb, "created", m->created);
	meta_field(&sb, "description", m->description);
	meta_field(&sb, "build", m->build);
	meta_field(&sb, "platform", platform);
	return sb_detach(&sb);
}

/* ---- listing ---- */

static int is_regular(const char *path, uint64_t *size)
{
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	if (size)
		*size = (uint64_t)st.st_size;
	return 1;
}

/* Path of NAME's file for platform, or NULL; vmw falls back to Capstan's .vmware. */
static char *platform_file(const char *dir, const char *base, const char *platform, uint64_t *size)
{
	char *p = xasprintf("%s/%s.%s", dir, base, platform);

	if (is_regular(p, size))
		return p;
	free(p);
	if (!strcmp(platform, "vmw")) {
		p = xasprintf("%s/%s.vmware", dir, base);
		if (is_regular(p, size))
			return p;
		free(p);
	}
	return NULL;
}

struct list {
	struct repo_image *v;
	size_t n, cap;
};

/* Add NAME's images in dir to l; -CAP_E_DATA (nothing added) if its index.yaml is broken. */
static int scan_image(const struct cap_ctx *ctx, struct list *l, const char *dir, const char *name)
{
	struct repo_meta meta;
	int loaded = 0, ret;

	for (size_t i = 0; i < NPLATFORMS; i++) {
		uint64_t size = 0;
		char *file = platform_file(dir, base_of(name), platforms[i], &size);
		if (!file)
			continue;
		if (!loaded) {
			if ((ret = meta_load(ctx, dir, &meta))) {
				free(file);
				return cap_errctx(ret, "image '%s'", name);
			}
			loaded = 1;
		}
		if (l->n == l->cap) {
			l->cap = l->cap ? 2 * l->cap : 16;
			l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
		}
		struct repo_image *img = &l->v[l->n++];
		memset(img, 0, sizeof(*img));
		img->name = xstrdup(name);
		img->platform = xstrdup(platforms[i]);
		img->path = file;
		img->size = size;
		img->meta.version = meta.version ? xstrdup(meta.version) : NULL;
		img->meta.created = meta.created ? xstrdup(meta.created) : NULL;
		img->meta.description = meta.description ? xstrdup(meta.description) : NULL;
		img->meta.build = meta.build ? xstrdup(meta.build) : NULL;
	}
	if (loaded)
		repo_meta_release(&meta);
	return 0;
}

/* Listing goes on past a broken image: one warning names it. */
static void scan_or_skip(const struct cap_ctx *ctx, struct list *l, const char *dir,
			 const char *name)
{
	int ret = scan_image(ctx, l, dir, name);

	if (ret)
		cap_warn(ctx, "skipping %s", cap_errmsg(ret));
}

static int cmp_image(const void *a, const void *b)
{
	const struct repo_image *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->platform, y->platform);
}

static int is_dir_entry(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int repo_list(const struct cap_ctx *ctx, struct repo_image **out, size_t *n)
{
	char *top = cap_path(ctx, "repository");
	struct list l = {NULL, 0, 0};
	DIR *d = opendir(top);
	struct dirent *e1;
	int ret = 0;

	*out = NULL;
	*n = 0;
	if (!d) {
		if (errno != ENOENT)
			ret = cap_errnof(errno, "cannot read '%s'", top);
		goto out;
	}
	while ((e1 = readdir(d))) {
		if (e1->d_name[0] == '.' || !repo_name_valid(e1->d_name))
			continue;
		char *d1 = xasprintf("%s/%s", top, e1->d_name);
		if (!is_dir_entry(d1)) {
			free(d1);
			continue;
		}
		scan_or_skip(ctx, &l, d1, e1->d_name);
		DIR *sub = opendir(d1);
		struct dirent *e2;
		while (sub && (e2 = readdir(sub))) {
			if (e2->d_name[0] == '.')
				continue;
			char *name = xasprintf("%s/%s", e1->d_name, e2->d_name);
			char *d2 = xasprintf("%s/%s", d1, e2->d_name);
			if (repo_name_valid(name) && is_dir_entry(d2))
				scan_or_skip(ctx, &l, d2, name);
			free(name);
			free(d2);
		}
		if (sub)
			closedir(sub);
		free(d1);
	}
	closedir(d);
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), cmp_image);
	*out = l.v;
	*n = l.n;
out:
	free(top);
	return ret;
}

/* NAME's images, sorted by platform (only NAME's folder is read). */
static int find_all(const struct cap_ctx *ctx, const char *name, struct list *l)
{
	char *dir;
	int ret;

	if ((ret = check_name(name)))
		return ret;
	/* a broken image elsewhere does not concern this one */
	dir = repo_image_dir(ctx, name);
	ret = is_dir_entry(dir) ? scan_image(ctx, l, dir, name) : 0;
	free(dir);
	if (!ret && l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_image);
	return ret;
}

static int not_found(const struct cap_ctx *ctx, const char *name)
{
	return cap_errf(CAP_E_NOTFOUND, "image '%s' not found in '%s/repository'", name, ctx->root);
}

int repo_find(const struct cap_ctx *ctx, const char *name, const char *platform,
	      struct repo_image *out)
{
	struct list l = {NULL, 0, 0};
	int ret;

	memset(out, 0, sizeof(*out));
	if (!platform)
		platform = "qemu";
	if ((ret = find_all(ctx, name, &l)))
		return ret;
	ret = not_found(ctx, name);
	for (size_t i = 0; i < l.n; i++) {
		if (!strcmp(l.v[i].platform, platform)) {
			*out = l.v[i];
			memset(&l.v[i], 0, sizeof(l.v[i]));
			ret = 0;
			break;
		}
		ret = cap_errf(CAP_E_NOTFOUND, "image '%s' has no '%s' platform (it has '%s')",
			       name, platform, l.v[i].platform);
	}
	repo_images_free(l.v, l.n);
	return ret;
}

int repo_find_default(const struct cap_ctx *ctx, const char *name, struct repo_image *out)
{
	struct list l = {NULL, 0, 0};
	size_t pick = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = find_all(ctx, name, &l)))
		return ret;
	for (size_t i = 0; i < l.n; i++)
		if (!strcmp(l.v[i].platform, "qemu"))
			pick = i;
	if (!l.n)
		ret = not_found(ctx, name);
	else if (l.n > 1 && strcmp(l.v[pick].platform, "qemu"))
		ret = cap_errf(CAP_E_USAGE, "image '%s' has several platforms: choose one with -p",
			       name);
	if (!ret) {
		*out = l.v[pick];
		memset(&l.v[pick], 0, sizeof(l.v[pick]));
	}
	repo_images_free(l.v, l.n);
	return ret;
}

/* ---- writing ---- */

static int repo_top(const struct cap_ctx *ctx, char **top)
{
	int ret;

	*top = cap_path(ctx, "repository");
	if ((ret = cap_mkdirs(ctx, *top, 0755))) {
		free(*top);
		*top = NULL;
	}
	return ret;
}

static int lock_repo(const struct cap_ctx *ctx)
{
	char *lock = cap_path(ctx, "repository/.lock");
	int fd = fs_lock(lock);

	free(lock);
	return fd;
}

/* ---- what a killed import, build or rmi left behind ---- */

/* A build's conversion file "<tmp>.qcow2" lives exactly as long as its "<tmp>". */
static bool build_mid_orphaned(const char *path)
{
	char *base = xstrndup(path, strlen(path) - strlen(".qcow2"));
	bool orphan = !fs_exists(base) || fs_tmp_orphaned(base);

	free(base);
	return orphan;
}

static void sweep_dir_tmp(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		if (!str_has_prefix(e->d_name, prefix))
			continue;
		char *p = xasprintf("%s/%s", dir, e->d_name);
		bool mid = str_has_suffix(e->d_name, ".qcow2");
		if (mid ? build_mid_orphaned(p) : fs_tmp_orphaned(p))
			unlink(p);
		free(p);
	}
	if (d)
		closedir(d);
}

/* index.yaml temps in every image folder (namespaced or not). */
static void sweep_index_tmp(const char *top)
{
	DIR *d = opendir(top);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' || !repo_name_valid(e->d_name))
			continue;
		char *d1 = xasprintf("%s/%s", top, e->d_name);
		DIR *sub = is_dir_entry(d1) ? opendir(d1) : NULL;
		struct dirent *e2;
		sweep_dir_tmp(d1, "index.yaml.tmp.");
		while (sub && (e2 = readdir(sub))) {
			if (e2->d_name[0] == '.' || !part_valid(e2->d_name, strlen(e2->d_name)))
				continue;
			char *d2 = xasprintf("%s/%s", d1, e2->d_name);
			if (is_dir_entry(d2))
				sweep_dir_tmp(d2, "index.yaml.tmp.");
			free(d2);
		}
		if (sub)
			closedir(sub);
		free(d1);
	}
	if (d)
		closedir(d);
}

/*
 * Remove temp files and folders whose owner is gone (killed mid-import,
 * -build or -rmi).  Called with the repository lock held: an rmi works
 * entirely under it, so every .rmi.* folder seen then is stale; temp files
 * are made outside the lock and carry their owner's flock (fs_tmp_orphaned).
 */
static void sweep_stale(const char *top)
{
	DIR *d = opendir(top);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		if (!str_has_prefix(e->d_name, ".rmi."))
			continue;
		char *p = xasprintf("%s/%s", top, e->d_name);
		fs_rm_rf(p);
		free(p);
	}
	if (d)
		closedir(d);
	sweep_dir_tmp(top, ".incoming.tmp.");
	sweep_dir_tmp(top, ".build.tmp.");
	sweep_index_tmp(top);
}

int repo_tmp_open(const struct cap_ctx *ctx, struct fs_tmp *tmp)
{
	char *top, *incoming;
	int ret;

	if ((ret = repo_top(ctx, &top)))
		return ret;
	incoming = xasprintf("%s/.incoming", top);
	ret = fs_tmp_open(tmp, incoming, 0644);
	free(incoming);
	free(top);
	return ret;
}

/* Make dir (and its namespace folder), remembering which ones we created for a rollback. */
static int make_image_dir(const char *top, const char *name, char **created1, char **created2)
{
	char *ns = NULL, *dir = xasprintf("%s/%s", top, name);
	const char *slash = strchr(name, '/');
	int ret = 0;

	*created1 = *created2 = NULL;
	if (slash) {
		ns = xasprintf("%s/%.*s", top, (int)(slash - name), name);
		if (mkdir(ns, 0755) == 0)
			*created1 = xstrdup(ns);
		else if (errno != EEXIST)
			ret = cap_errnof(errno, "cannot create folder '%s'", ns);
	}
	if (!ret) {
		if (mkdir(dir, 0755) == 0)
			*created2 = xstrdup(dir);
		else if (errno != EEXIST)
			ret = cap_errnof(errno, "cannot create folder '%s'", dir);
		else if (!is_dir_entry(dir))
			ret = cap_errf(ENOTDIR, "'%s' is not a folder", dir);
	}
	free(ns);
	free(dir);
	return ret;
}

static void undo_dirs(char *created1, char *created2)
{
	if (created2)
		rmdir(created2);
	if (created1)
		rmdir(created1);
	free(created1);
	free(created2);
}

/* Release a tmp that has been renamed away (nothing left to unlink). */
static void tmp_forget(struct fs_tmp *t)
{
	if (t->fd >= 0)
		close(t->fd);
	free(t->tmp_path);
	free(t->final_path);
	t->fd = -1;
	t->tmp_path = t->final_path = NULL;
}

/* rename, or copy when tmp lives on another file system. */
static int move_into(struct fs_tmp *tmp, const char *final)
{
	struct fs_tmp t2;
	struct stat st;
	int ret;

	if (fsync(tmp->fd) < 0)
		return cap_errnof(errno, "cannot write '%s'", final);
	if (rename(tmp->tmp_path, final) == 0)
		return 0;
	if (errno != EXDEV)
		return cap_errnof(errno, "cannot rename into '%s'", final);
	if (fstat(tmp->fd, &st) < 0 || lseek(tmp->fd, 0, SEEK_SET) < 0)
		return cap_errnof(errno, "cannot read '%s'", tmp->tmp_path);
	if ((ret = fs_tmp_open(&t2, final, 0644)))
		return ret;
	if ((ret = fs_copy_fd(tmp->fd, t2.fd, (uint64_t)st.st_size))) {
		fs_tmp_abort(&t2);
		return cap_errnof(ret, "cannot write '%s'", final);
	}
	if ((ret = fs_tmp_commit(&t2)))
		return ret;
	unlink(tmp->tmp_path);
	return 0;
}

int repo_install(const struct cap_ctx *ctx, const char *name, const char *platform,
		 struct fs_tmp *tmp, const struct repo_meta *meta)
{
	char *top = NULL, *dir = NULL, *final = NULL, *index = NULL, *text = NULL, *c1 = NULL,
	     *c2 = NULL;
	struct fs_tmp itmp = {-1, NULL, NULL};
	int lock = -1, ret, existed;

	if ((ret = check_name(name)))
		goto out;
	if (!platform_valid(platform)) {
		ret = cap_errf(CAP_E_USAGE, "unknown platform '%s'", platform);
		goto out;
	}
	if ((ret = repo_top(ctx, &top)))
		goto out;
	if ((lock = lock_repo(ctx)) < 0) {
		ret = lock;
		goto out;
	}
	sweep_stale(top);
	if ((ret = make_image_dir(top, name, &c1, &c2)))
		goto out;
	dir = xasprintf("%s/%s", top, name);
	final = xasprintf("%s/%s.%s", dir, base_of(name), platform);
	index = xasprintf("%s/index.yaml", dir);
	existed = fs_exists(final);
	/* Write the index first (a full disk fails here), then move both into place. */
	text = meta_format(meta, platform);
	if ((ret = fs_tmp_open(&itmp, index, 0644)))
		goto undo;
	if ((ret = fs_write_full(itmp.fd, text, strlen(text)))) {
		ret = cap_errnof(ret, "cannot write '%s'", index);
		goto undo;
	}
	if ((ret = move_into(tmp, final)))
		goto undo;
	tmp_forget(tmp);
	if ((ret = fs_tmp_commit(&itmp))) {
		if (!existed)
			unlink(final);
		goto undo;
	}
	fs_sync_dir(dir);
	goto out;
undo:
	if (itmp.tmp_path)
		fs_tmp_abort(&itmp);
	undo_dirs(c1, c2);
	c1 = c2 = NULL;
out:
	free(c1);
	free(c2);
	if (tmp->tmp_path)
		fs_tmp_abort(tmp);
	if (lock >= 0)
		fs_unlock(lock);
	free(top);
	free(dir);
	free(final);
	free(index);
	free(text);
	return ret;
}

/* Copy len bytes, skipping holes so sparse images stay sparse. */
static int copy_sparse(int src, int dst, uint64_t len)
{
	off_t pos = 0;
	int ret;

	while ((uint64_t)pos < len) {
		off_t data = lseek(src, pos, SEEK_DATA);
		if (data < 0) {
			if (errno == ENXIO)
				break; /* only a hole is left */
			if (pos == 0 && (errno == EINVAL || errno == EOPNOTSUPP)) {
				if (lseek(src, 0, SEEK_SET) < 0)
					return -errno;
				return fs_copy_fd(src, dst, len);
			}
			return -errno;
		}
		off_t hole = lseek(src, data, SEEK_HOLE);
		if (hole < 0)
			return -errno;
		if ((uint64_t)hole > len)
			hole = (off_t)len;
		if (lseek(src, data, SEEK_SET) < 0 || lseek(dst, data, SEEK_SET) < 0)
			return -errno;
		if ((ret = fs_copy_fd(src, dst, (uint64_t)(hole - data))))
			return ret;
		pos = hole;
	}
	if (ftruncate(dst, (off_t)len) < 0)
		return -errno;
	return 0;
}

int repo_import(const struct cap_ctx *ctx, const char *name, const char *file,
		const struct repo_meta *meta)
{
	struct probe_info info;
	struct fs_tmp tmp = {-1, NULL, NULL};
	struct repo_meta m = *meta;
	char *now = NULL;
	const char *platform;
	int fd = -1, ret;

	memset(&info, 0, sizeof(info));
	if ((ret = check_name(name)))
		return ret;
	/* O_NONBLOCK: a FIFO must not hang the open; probe_fd() refuses it. */
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return cap_errnof(errno, "cannot read '%s'", file);
	if ((ret = probe_fd(fd, file, &info)))
		goto out;
	if (info.format == PROBE_GZIP) {
		ret = cap_errf(CAP_E_DATA,
			       "'%s' is gzip-compressed, not a disk image (gunzip it first)", file);
		goto out;
	}
	if (info.format == PROBE_VMDK && info.vmdk_descriptor) {
		ret = cap_errf(
		    CAP_E_DATA,
		    "'%s' is a VMDK descriptor whose data lives in other files (convert it to one "
		    "file with 'qemu-img convert -O vmdk')",
		    file);
		goto out;
	}
	if ((ret = probe_standalone_fd(fd, file)))
		goto out;
	platform = probe_platform(info.format);
	if ((ret = repo_tmp_open(ctx, &tmp)))
		goto out;
	if ((ret = copy_sparse(fd, tmp.fd, info.file_size))) {
		ret = cap_errnof(ret, "cannot copy '%s' into '%s'", file, tmp.tmp_path);
		fs_tmp_abort(&tmp);
		goto out;
	}
	if (!m.created)
		m.created = now = str_utc_time(time(NULL));
	cap_verbose(ctx, "importing '%s' (%s) as '%s' for platform '%s'", file,
		    probe_format_name(info.format), name, platform);
	ret = repo_install(ctx, name, platform, &tmp, &m);
out:
	probe_info_release(&info);
	free(now);
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Files of an image that shares its folder with images of the namespace of the same name. */
static int remove_files(const char *dir, const char *base)
{
	int ret = 0;

	for (size_t i = 0; i <= NPLATFORMS; i++) {
		const char *p = i < NPLATFORMS ? platforms[i] : "vmware";
		char *f = xasprintf("%s/%s.%s", dir, base, p), *c = xasprintf("%s.cache", f);
		if (unlink(f) < 0 && errno != ENOENT && !ret)
			ret = cap_errnof(errno, "cannot remove '%s'", f);
		unlink(c);
		free(f);
		free(c);
	}
	char *idx = xasprintf("%s/index.yaml", dir);
	if (unlink(idx) < 0 && errno != ENOENT && !ret)
		ret = cap_errnof(errno, "cannot remove '%s'", idx);
	free(idx);
	return ret;
}

static int has_subdir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;

	while (d && !found && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *p = xasprintf("%s/%s", dir, e->d_name);
		found = is_dir_entry(p);
		free(p);
	}
	if (d)
		closedir(d);
	return found;
}

int repo_remove(const struct cap_ctx *ctx, const char *name)
{
	char *top = NULL, *dir = NULL, *trash = NULL;
	int lock = -1, ret;

	if ((ret = check_name(name)))
		return ret;
	top = cap_path(ctx, "repository");
	dir = xasprintf("%s/%s", top, name);
	if (!is_dir_entry(top)) {
		ret = cap_errf(CAP_E_NOTFOUND, "image '%s' not found in '%s'", name, top);
		goto out;
	}
	if ((lock = lock_repo(ctx)) < 0) {
		ret = lock;
		goto out;
	}
	sweep_stale(top);
	int found = 0;
	for (size_t i = 0; i < NPLATFORMS && !found; i++) {
		char *f = platform_file(dir, base_of(name), platforms[i], NULL);
		found = f != NULL;
		free(f);
	}
	if (!found) {
		ret = cap_errf(CAP_E_NOTFOUND, "image '%s' not found in '%s'", name, top);
		goto out;
	}
	if (has_subdir(dir)) {
		ret = remove_files(dir, base_of(name));
		goto out;
	}
	/* Rename first, so an interrupted removal never leaves half an image under its name. */
	trash = xasprintf("%s/.rmi.%ld.XXXXXX", top, (long)getpid());
	if (!mkdtemp(trash)) {
		ret = cap_errnof(errno, "cannot remove '%s'", dir);
		goto out;
	}
	char *into = xasprintf("%s/img", trash);
	if (rename(dir, into) < 0) {
		ret = cap_errnof(errno, "cannot remove '%s'", dir);
		free(into);
		rmdir(trash);
		goto out;
	}
	free(into);
	fs_sync_dir(top);
	ret = fs_rm_rf(trash);
	if (strchr(name, '/')) {
		char *ns = xasprintf("%s/%.*s", top, (int)(strchr(name, '/') - name), name);
		rmdir(ns); /* only succeeds when the namespace is now empty */
		free(ns);
	}
out:
	if (lock >= 0)
		fs_unlock(lock);
	free(top);
	free(dir);
	free(trash);
	return ret;
}
