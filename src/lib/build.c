// SPDX-License-Identifier: BSD-3-Clause
// build.c: 'capstan build': Capstanfile + base image + files -> an image in the local repository.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capstan/build.h"
#include "capstan/cfile.h"
#include "capstan/disk.h"
#include "capstan/err.h"
#include "capstan/fs.h"
#include "capstan/image.h"
#include "capstan/layout.h"
#include "capstan/proc.h"
#include "capstan/registry.h"
#include "capstan/repo.h"
#include "capstan/str.h"
#include "capstan/banned.h"

/*
 * The steps, in order: parse the Capstanfile, run its build step, find the
 * base image (local repository, else pulled from the registry; without a
 * base, the kernel and boot sector bundled with capstan), gather the
 * new files (rootfs folder first, then 'files', later overriding earlier; a
 * guest path that 'files' yields twice is an error), then write base MBR +
 * base kernel + base root fs + new files + new cmdline into a lazily
 * allocated qcow2 and install it.  Everything in the image that could vary
 * between runs (times, owners, order) is fixed, so the same inputs give the
 * same bytes.
 */

struct gather {
	struct layout_file *v;
	size_t n, cap;
	size_t first_new; /* entries from 'files' start here (duplicates are checked among them) */
	int64_t mtime;
};

static void gather_release(struct gather *g)
{
	for (size_t i = 0; i < g->n; i++)
		layout_file_release(&g->v[i]);
	free(g->v);
	memset(g, 0, sizeof(*g));
}

static struct layout_file *gather_add(struct gather *g)
{
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 64;
		g->v = xrealloc(g->v, g->cap * sizeof(*g->v));
	}
	memset(&g->v[g->n], 0, sizeof(g->v[0]));
	return &g->v[g->n++];
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_path(struct gather *g, const char *host, const char *guest, const char *what);

/* Add the children of folder host as guest/..., sorted so the order is stable. */
static int add_dir_children(struct gather *g, const char *host, const char *guest, const char *what)
{
	DIR *d = opendir(host);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int ret = 0;

	if (!d)
		return cap_errf(CAP_E_DATA, "%s: cannot read folder '%s': %s", what, host,
				strerror(errno));
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (!ret) {
			char *h = xasprintf("%s/%s", host, names[i]);
			char *gp = xasprintf("%s/%s", strcmp(guest, "/") ? guest : "", names[i]);
			ret = add_path(g, h, gp, what);
			free(h);
			free(gp);
		}
		free(names[i]);
	}
	free(names);
	return ret;
}

static int add_path(struct gather *g, const char *host, const char *guest, const char *what)
{
	struct layout_file *f;
	struct stat st;

	if (lstat(host, &st) < 0)
		return cap_errf(CAP_E_DATA, "%s: cannot read '%s' (for '%s'): %s", what, host,
				guest, strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode))
		return cap_errf(CAP_E_DATA, "%s: '%s' is not a file, folder or symbolic link", what,
				host);
	if (!strcmp(guest, "/")) {
		if (!S_ISDIR(st.st_mode))
			return cap_errf(CAP_E_DATA, "%s: '/' can only be a folder, '%s' is not one",
					what, host);
		return add_dir_children(g, host, guest, what);
	}
	if (S_ISREG(st.st_mode)) {
		int fd = open(host, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return cap_errf(CAP_E_DATA, "%s: cannot read '%s': %s", what, host,
					strerror(errno));
		close(fd);
	}
	f = gather_add(g);
	f->path = xstrdup(guest);
	f->mode = (st.st_mode & S_IFMT) | (st.st_mode & 07777);
	f->mtime = g->mtime;
	if (S_ISREG(st.st_mode)) {
		f->host = xstrdup(host);
		f->size = (uint64_t)st.st_size;
	} else if (S_ISLNK(st.st_mode)) {
		char buf[PATH_MAX];
		ssize_t n = readlink(host, buf, sizeof(buf) - 1);
		if (n < 0)
			return cap_errf(CAP_E_DATA, "%s: cannot read link '%s': %s", what, host,
					strerror(errno));
		buf[n] = '\0';
		f->target = xstrdup(buf);
		f->size = (uint64_t)n;
	} else {
		return add_dir_children(g, host, guest, what);
	}
	return 0;
}

static int cmp_entry_path(const void *a, const void *b)
{
	return strcmp((*(const struct layout_file *const *)a)->path,
		      (*(const struct layout_file *const *)b)->path);
}

/* A guest path 'files' gives twice (e.g. a folder's content and an explicit entry). */
static int check_duplicates(const struct gather *g, const struct cfile *cf)
{
	size_t n = g->n - g->first_new;
	const struct layout_file **v;
	int ret = 0;

	if (n < 2)
		return 0;
	v = xmalloc(n * sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = &g->v[g->first_new + i];
	qsort(v, n, sizeof(*v), cmp_entry_path); /* equal paths end up adjacent */
	for (size_t i = 1; i < n && !ret; i++)
		if (!strcmp(v[i - 1]->path, v[i]->path) &&
		    !(S_ISDIR(v[i]->mode) && S_ISDIR(v[i - 1]->mode)))
			ret = cap_errf(CAP_E_DATA, "%s: guest path '%s' listed twice", cf->path,
				       v[i]->path);
	free(v);
	return ret;
}

static int64_t build_time(void)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char *end;
	long long v;

	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < 0)
		return 0;
	return v;
}

static int run_build_step(const struct cap_ctx *ctx, const struct cfile *cf)
{
	const char *argv[] = {"/bin/sh", "-c", cf->build, NULL};
	struct strbuf out = STRBUF_INIT;
	int ret;

	cap_info(ctx, "Building: %s", cf->build);
	fflush(ctx->out);
	ret = proc_run(argv, cf->dir, ctx->verbose ? NULL : &out);
	if (ret > 0) {
		if (out.len) {
			fwrite(out.buf, 1, out.len, ctx->err);
			if (out.buf[out.len - 1] != '\n')
				fputc('\n', ctx->err);
		}
		ret = cap_errf(CAP_E_CHILD, "%s: build step '%s' failed with exit status %d",
			       cf->path, cf->build, ret);
	} else if (ret < 0) {
		ret = cap_errctx(ret, "%s: build step", cf->path);
	}
	sb_release(&out);
	return ret;
}

/* The base from the local repository, pulled from the registry (-u, default tree) when missing. */
static int find_base(const struct cap_ctx *ctx, const char *name, struct repo_image *img)
{
	int ret = reg_ensure(ctx, name, "qemu");

	if (ret)
		return cap_errctx(ret, "base image '%s'", name);
	return repo_find(ctx, name, "qemu", img);
}

/* The kernel and boot sector bundled with capstan, for a Capstanfile without a base. */
static char *bundled(const struct cap_ctx *ctx, const char *file)
{
	char *p = xasprintf("%s/%s", ctx->datadir, file);

	if (fs_exists(p))
		return p;
	free(p);
	p = xasprintf("%s/src/kernel/%s", ctx->datadir, file); /* the build folder */
	if (fs_exists(p))
		return p;
	free(p);
	return NULL;
}

static int bundled_kernel(const struct cap_ctx *ctx, struct layout_image *img)
{
	char *k = bundled(ctx, "capstan-kernel.elf"), *m = bundled(ctx, "mbr.bin");
	int ret;

	if (!k || !m)
		ret = cap_errf(CAP_E_NOTFOUND,
			       "no bundled kernel and boot sector in '%s' (needed without 'base')",
			       ctx->datadir);
	else
		ret = layout_image_kernel(img, k, m, CAPSTAN_VERSION);
	free(k);
	free(m);
	return ret;
}

/* Append s quoted for the kernel's sh-style cmdline parser (as is when nothing needs quoting). */
static void add_quoted(struct strbuf *sb, const char *s)
{
	bool plain = *s != '\0';

	for (const char *p = s; *p && plain; p++)
		plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || strchr("_@%+=:,./-", *p);
	if (plain) {
		sb_adds(sb, s);
		return;
	}
	sb_addc(sb, '\'');
	for (const char *p = s; *p; p++) {
		if (*p == '\'')
			sb_adds(sb, "'\\''");
		else
			sb_addc(sb, *p);
	}
	sb_addc(sb, '\'');
}

/* env entries become --env=K=V words (quoted) before the Capstanfile's cmdline. */
static char *compose_cmdline(const struct cfile *cf)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < cf->nenv; i++) {
		sb_addf(&sb, "--env=%s=", cf->env[i].key);
		add_quoted(&sb, cf->env[i].value);
		sb_addc(&sb, ' ');
	}
	sb_adds(&sb, cf->cmdline);
	return sb_detach(&sb);
}

static char *default_name(const struct cfile *cf)
{
	char *d = xstrdup(cf->dir), *n = xstrdup(basename(d));

	free(d);
	return n;
}

int build_image(const struct cap_ctx *ctx, const struct build_opts *o)
{
	const char *platform = o->platform ? o->platform : "qemu";
	struct disk_qcow2_opts qopts = {0};
	struct cfile cf;
	struct repo_image base;
	struct layout_image img;
	struct gather g = {0};
	struct disk *src = NULL, *dst = NULL;
	struct fs_tmp tmp = {-1, NULL, NULL};
	struct repo_meta meta = {NULL, NULL, NULL, NULL};
	char *name = NULL, *cmdline = NULL, *top = NULL, *hold = NULL, *mid = NULL;
	int ret;

	memset(&cf, 0, sizeof(cf));
	memset(&base, 0, sizeof(base));
	memset(&img, 0, sizeof(img));
	if (!disk_platform_valid(platform))
		return cap_errf(CAP_E_USAGE, "unknown platform '%s' (qemu, raw, vbox, vmw, gce)",
				platform);
	if ((ret = cfile_load(&cf, o->file ? o->file : "Capstanfile"))) {
		char cwd[PATH_MAX];
		if (ret == -ENOENT && !o->file)
			ret = cap_errf(CAP_E_DATA, "no Capstanfile in %s (give one with -f FILE)",
				       getcwd(cwd, sizeof(cwd)) ? cwd : "the current folder");
		goto out;
	}
	name = o->name ? xstrdup(o->name) : default_name(&cf);
	if (!repo_name_valid(name)) {
		ret = cap_errf(
		    CAP_E_USAGE,
		    "invalid image name '%s' (letters, digits, '.', '_', '-'; [ns/]name)", name);
		goto out;
	}
	if (cf.build && (ret = run_build_step(ctx, &cf)))
		goto out;

	if (cf.base) {
		if ((ret = find_base(ctx, cf.base, &base)))
			goto out;
		if ((ret = disk_open(&src, base.path, DISK_RDONLY)))
			goto out;
		if ((ret = layout_image_read(src, &img))) {
			cap_errctx(ret, "base image '%s'", base.name);
			goto out;
		}
	} else if ((ret = bundled_kernel(ctx, &img))) {
		goto out;
	}

	g.mtime = build_time();
	if (cf.rootfs && (ret = add_dir_children(&g, cf.rootfs, "/", cf.path)))
		goto out;
	g.first_new = g.n;
	for (size_t i = 0; i < cf.nfiles; i++)
		if ((ret = add_path(&g, cf.files[i].host, cf.files[i].guest, cf.path)))
			goto out;
	if (ctx->interrupted) {
		ret = cap_errf(CAP_E_INTR, "interrupted");
		goto out;
	}
	if ((ret = check_duplicates(&g, &cf)))
		goto out;
	cmdline = compose_cmdline(&cf);
	if (strlen(cmdline) >= CAP_IMG_CMDLINE_MAX) {
		ret = cap_errf(CAP_E_DATA, "%s: cmdline of %zu bytes is longer than %u", cf.path,
			       strlen(cmdline), CAP_IMG_CMDLINE_MAX - 1);
		goto out;
	}
	layout_image_merge(&img, g.v, g.n, g.mtime);
	free(img.cmdline);
	img.cmdline = cmdline;
	cmdline = NULL;

	top = cap_path(ctx, "repository");
	if ((ret = fs_mkdirs(top, 0755))) {
		ret = cap_errnof(ret, "cannot create '%s'", top);
		goto out;
	}
	hold = xasprintf("%s/.build", top);
	if ((ret = fs_tmp_open(&tmp, hold, 0644)))
		goto out;
	/*
	 * 4 KiB clusters keep a small image small (little metadata and padding);
	 * 64 KiB clusters keep a large one's data contiguous in the file (an L2
	 * table every 512 MiB instead of every 2 MiB), which is what writeback wants.
	 */
	qopts.cluster_bits = layout_image_size(&img) <= (64u << 20) ? 12 : 16;
	if (!strcmp(platform, "qemu")) {
		ret = disk_qcow2_create_fd(&dst, tmp.fd, layout_image_size(&img), &qopts);
	} else {
		mid = xasprintf("%s.qcow2", tmp.tmp_path);
		ret = disk_qcow2_create(&dst, mid, layout_image_size(&img), &qopts);
	}
	if (ret)
		goto out;
	img.interrupted = &ctx->interrupted; /* Ctrl-C stops the write, nothing is installed */
	if ((ret = layout_image_write(dst, &img)))
		goto out;
	if (strcmp(platform, "qemu") &&
	    (ret = disk_convert(dst, platform, tmp.fd, tmp.tmp_path, g.mtime)))
		goto out;
	/* repo_install syncs the file before it renames it into place */
	if (!strcmp(platform, "qemu") && (ret = disk_commit(dst)))
		goto out;

	meta.version = xstrdup("1");
	meta.created = str_utc_time((time_t)(getenv("SOURCE_DATE_EPOCH") ? g.mtime : time(NULL)));
	meta.description = xasprintf("%s, built from %s", name, cf.path);
	meta.build = xasprintf("capstan build%s", cf.build ? " (with a build step)" : "");
	ret = repo_install(ctx, name, platform, &tmp, &meta);
	if (!ret && base.name)
		cap_info(ctx, "Built %s (%s) on %s", name, platform, base.name);
	else if (!ret)
		cap_info(ctx, "Built %s (%s) on the bundled kernel %s", name, platform,
			 CAPSTAN_VERSION);
out:
	disk_close(dst);
	disk_close(src);
	if (mid)
		unlink(mid);
	if (tmp.tmp_path)
		fs_tmp_abort(&tmp);
	layout_image_release(&img);
	gather_release(&g);
	repo_image_release(&base);
	repo_meta_release(&meta);
	cfile_release(&cf);
	free(name);
	free(cmdline);
	free(top);
	free(hold);
	free(mid);
	return ret;
}
