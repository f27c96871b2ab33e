/* SPDX-License-Identifier: BSD-3-Clause */
/* The image's root fs as a list of entries (written by cpio_write(), with libarchive). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capstan/err.h"
#include "capstan/layout.h"
#include "capstan/str.h"
#include "capstan/banned.h"

enum kind { E_DIR, E_HOST, E_DATA, E_LINK };

struct entry {
	char *path; /* normalized, no leading "/" */
	enum kind kind;
	unsigned mode;
	char *host;
	void *data;
	size_t len;
	char *target;
};

struct rootfs {
	struct entry *e;
	size_t n, cap;
};

struct rootfs *rootfs_new(void)
{
	return xcalloc(1, sizeof(struct rootfs));
}

static void entry_release(struct entry *e)
{
	free(e->host);
	free(e->data);
	free(e->target);
	e->host = e->target = NULL;
	e->data = NULL;
}

void rootfs_free(struct rootfs *rf)
{
	if (!rf)
		return;
	for (size_t i = 0; i < rf->n; i++) {
		entry_release(&rf->e[i]);
		free(rf->e[i].path);
	}
	free(rf->e);
	free(rf);
}

size_t rootfs_count(const struct rootfs *rf)
{
	return rf->n;
}

/* "/a//b/./c/" -> "a/b/c"; rejects "..", empty names and the root itself. */
static int normalize(const char *guest, char **out)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = guest;
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = p;
		while (*e && *e != '/')
			e++;
		size_t n = (size_t)(e - p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			sb_release(&sb);
			return cap_errf(CAP_E_DATA, "%s: guest path may not contain \"..\"", guest);
		}
		if (n && !(n == 1 && p[0] == '.')) {
			if (sb.len)
				sb_addc(&sb, '/');
			sb_add(&sb, p, n);
		}
		p = e;
	}
	if (!sb.len) {
		sb_release(&sb);
		return cap_errf(CAP_E_DATA, "%s: not a file path inside the image", guest);
	}
	if (sb.len > 4000) {
		sb_release(&sb);
		return cap_errf(CAP_E_DATA, "%s: guest path too long", guest);
	}
	*out = sb_detach(&sb);
	return 0;
}

static struct entry *find(struct rootfs *rf, const char *path)
{
	for (size_t i = rf->n; i-- > 0;)
		if (!strcmp(rf->e[i].path, path))
			return &rf->e[i];
	return NULL;
}

static struct entry *add(struct rootfs *rf, char *path, enum kind kind, unsigned mode);

/* Parents first, so that any cpio reader sees folders before their files. */
static void add_parents(struct rootfs *rf, const char *path)
{
	for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
		char *parent = xstrndup(path, (size_t)(s - path));
		if (!find(rf, parent))
			add(rf, parent, E_DIR, S_IFDIR | 0755);
		else
			free(parent);
	}
}

/* Takes ownership of path.  A later entry replaces an earlier one in place. */
static struct entry *add(struct rootfs *rf, char *path, enum kind kind, unsigned mode)
{
	struct entry *e = find(rf, path);
	if (e) {
		entry_release(e);
		free(path);
	} else {
		add_parents(rf, path);
		if (rf->n == rf->cap) {
			rf->cap = rf->cap ? rf->cap * 2 : 64;
			rf->e = xrealloc(rf->e, rf->cap * sizeof(*rf->e));
		}
		e = &rf->e[rf->n++];
		memset(e, 0, sizeof(*e));
		e->path = path;
	}
	e->kind = kind;
	e->mode = mode;
	return e;
}

int rootfs_add_dir(struct rootfs *rf, const char *guest, unsigned mode)
{
	char *path;
	int r = normalize(guest, &path);
	if (r)
		return r;
	add(rf, path, E_DIR, S_IFDIR | (mode & 07777));
	return 0;
}

int rootfs_add_data(struct rootfs *rf, const char *guest, const void *data, size_t len,
		    unsigned mode)
{
	char *path;
	int r = normalize(guest, &path);
	if (r)
		return r;
	struct entry *e = add(rf, path, E_DATA, S_IFREG | (mode & 07777));
	e->data = xmalloc(len ? len : 1);
	memcpy(e->data, data, len);
	e->len = len;
	return 0;
}

int rootfs_add_symlink(struct rootfs *rf, const char *guest, const char *target)
{
	char *path;
	int r = normalize(guest, &path);
	if (r)
		return r;
	if (!*target)
		return cap_errf(CAP_E_DATA, "%s: empty symlink target", guest);
	struct entry *e = add(rf, path, E_LINK, S_IFLNK | 0777);
	e->target = xstrdup(target);
	return 0;
}

static int add_host_at(struct rootfs *rf, char *path, const char *host, int depth)
{
	struct stat st;
	int r = 0;
	if (depth > 64) {
		free(path);
		return cap_errf(CAP_E_DATA, "%s: folders nested too deep", host);
	}
	if (lstat(host, &st)) {
		r = cap_errnof(errno, "%s", host);
		free(path);
		return r;
	}
	if (S_ISLNK(st.st_mode)) {
		char buf[4096];
		ssize_t n = readlink(host, buf, sizeof(buf) - 1);
		if (n <= 0) {
			free(path);
			return cap_errf(n < 0 ? -errno : CAP_E_DATA, "%s: cannot read symlink",
					host);
		}
		buf[n] = 0;
		struct entry *e = add(rf, path, E_LINK, S_IFLNK | 0777);
		e->target = xstrdup(buf);
	} else if (S_ISREG(st.st_mode)) {
		struct entry *e = add(rf, path, E_HOST, S_IFREG | (st.st_mode & 07777));
		e->host = xstrdup(host);
		e->len = (size_t)st.st_size;
	} else if (S_ISDIR(st.st_mode)) {
		struct dirent **list = NULL;
		add(rf, xstrdup(path), E_DIR, S_IFDIR | (st.st_mode & 07777));
		int n = scandir(host, &list, NULL, alphasort);
		if (n < 0) {
			r = cap_errnof(errno, "%s", host);
			free(path);
			return r;
		}
		for (int i = 0; i < n; i++) {
			const char *nm = list[i]->d_name;
			if (!r && strcmp(nm, ".") && strcmp(nm, "..")) {
				char *child = xasprintf("%s/%s", path, nm);
				char *hchild = xasprintf("%s/%s", host, nm);
				r = add_host_at(rf, child, hchild, depth + 1);
				free(hchild);
			}
			free(list[i]);
		}
		free(list);
		free(path);
	} else {
		free(path);
		return cap_errf(CAP_E_DATA, "%s: not a regular file, folder or symlink", host);
	}
	return r;
}

int rootfs_add_host(struct rootfs *rf, const char *guest, const char *host_path)
{
	char *path;
	int r = normalize(guest, &path);
	if (r)
		return r;
	return add_host_at(rf, path, host_path, 0);
}

void rootfs_files(const struct rootfs *rf, struct layout_file **files, size_t *n)
{
	struct layout_file *v = xcalloc(rf->n ? rf->n : 1, sizeof(*v));

	for (size_t i = 0; i < rf->n; i++) {
		const struct entry *e = &rf->e[i];
		v[i].path = xasprintf("/%s", e->path);
		v[i].mode = e->mode;
		v[i].mtime = 0; /* reproducible images */
		if (e->kind == E_HOST || e->kind == E_DATA)
			v[i].size = e->len;
		if (e->kind == E_HOST)
			v[i].host = xstrdup(e->host);
		if (e->kind == E_DATA) {
			v[i].data = xmalloc(e->len ? e->len : 1);
			memcpy(v[i].data, e->data, e->len);
		}
		if (e->kind == E_LINK) {
			v[i].target = xstrdup(e->target);
			v[i].size = strlen(e->target);
		}
	}
	*files = v;
	*n = rf->n;
}
