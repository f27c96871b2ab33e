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
#include "capstan/elfdeps.h"
#include "capstan/err.h"
#include "capstan/fs.h"
#include "capstan/image.h"
#include "capstan/layout.h"
#include "capstan/proc.h"
#include "capstan/registry.h"
#include "capstan/repo.h"
#include "capstan/size.h"
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
 * between runs (owners, order, and times when SOURCE_DATE_EPOCH is set) is
 * fixed, so the same inputs give the same bytes.
 */

struct gather {
	struct layout_file *v;
	size_t n, cap;
	size_t first_new; /* entries from 'files' start here (duplicates are checked among them) */
	int64_t mtime;	  /* of what the build makes: SOURCE_DATE_EPOCH, else 0 */
	bool fixed;	  /* SOURCE_DATE_EPOCH is set: every file gets mtime */
	const volatile sig_atomic_t *interrupted; /* the context's: Ctrl-C ends the walk */
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

/*
 * What the image reader (cpio.c) and the kernel (kcpio.c, vfs.c) accept: a
 * member name of at most 4095 bytes, a path component of at most 255, a
 * link target of at most 4095.  Anything longer would give an image capstan
 * cannot read back and a kernel that panics on it, so it is refused here.
 */
#define GUEST_PATH_MAX 4095
#define GUEST_NAME_MAX 255

static int check_guest_path(const char *guest, const char *host, const char *what)
{
	size_t n = strlen(guest);

	if (n > GUEST_PATH_MAX)
		return cap_errf(CAP_E_DATA,
				"%s: guest path for '%.200s...' is %zu bytes, longer than %u", what,
				host, n, GUEST_PATH_MAX);
	for (const char *c = guest; *c;) {
		size_t len = strcspn(c, "/");
		if (len > GUEST_NAME_MAX)
			return cap_errf(
			    CAP_E_DATA,
			    "%s: a name in the guest path for '%.200s...' is %zu bytes, "
			    "longer than %u",
			    what, host, len, GUEST_NAME_MAX);
		c += len;
		c += strspn(c, "/");
	}
	return 0;
}

/* The sorted names in folder host. */
static int read_names(const char *host, const char *what, char ***out, size_t *count)
{
	DIR *d = opendir(host);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;

	*out = NULL;
	*count = 0;
	if (!d)
		return cap_errf(CAP_E_DATA, "%s: cannot read folder '%s': %s", what, host,
				strerror(errno));
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	*out = names;
	*count = n;
	return 0;
}

/* A (host, guest) pair still to visit. */
struct walk {
	struct {
		char *host, *guest;
	} * v;
	size_t n, cap;
};

static void walk_push(struct walk *w, char *host, char *guest)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 64;
		w->v = xrealloc(w->v, w->cap * sizeof(*w->v));
	}
	w->v[w->n].host = host;
	w->v[w->n].guest = guest;
	w->n++;
}

/*
 * A file's time in the image: SOURCE_DATE_EPOCH when that is set, so that the
 * same files give the same image whatever their times (a fresh checkout);
 * else the file's own, so that a cache that checks its source's time
 * (Python's .pyc beside Debian's .py) still matches it in the guest instead
 * of being compiled again at every boot.
 */
static int64_t file_time(const struct gather *g, const struct stat *st)
{
	if (g->fixed)
		return g->mtime;
	return st->st_mtime < 0 ? 0 : (int64_t)st->st_mtime;
}

/* Push the children of folder host in reverse order, so they are popped sorted. */
static int push_children(struct walk *w, const char *host, const char *guest, const char *what)
{
	char **names;
	size_t n;
	int ret = read_names(host, what, &names, &n);

	if (ret)
		return ret;
	for (size_t i = n; i-- > 0;) {
		walk_push(w, xasprintf("%s/%s", host, names[i]),
			  xasprintf("%s/%s", strcmp(guest, "/") ? guest : "", names[i]));
		free(names[i]);
	}
	free(names);
	return 0;
}

/* One entry; a folder's children are pushed on the walk. */
static int add_one(struct gather *g, struct walk *w, const char *host, const char *guest,
		   const char *what)
{
	struct layout_file *f;
	struct stat st;
	int ret;

	/* '/' is the rootfs folder or a compose source: a link to a folder is followed */
	if ((strcmp(guest, "/") ? lstat(host, &st) : stat(host, &st)) < 0)
		return cap_errf(CAP_E_DATA, "%s: cannot read '%s' (for '%s'): %s", what, host,
				guest, strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode))
		return cap_errf(CAP_E_DATA, "%s: '%s' is not a file, folder or symbolic link", what,
				host);
	if (!strcmp(guest, "/")) {
		if (!S_ISDIR(st.st_mode))
			return cap_errf(CAP_E_DATA, "%s: '/' can only be a folder, '%s' is not one",
					what, host);
		return push_children(w, host, guest, what);
	}
	if ((ret = check_guest_path(guest, host, what)))
		return ret;
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
	f->mtime = file_time(g, &st);
	if (S_ISREG(st.st_mode)) {
		f->host = xstrdup(host);
		f->size = (uint64_t)st.st_size;
	} else if (S_ISLNK(st.st_mode)) {
		char buf[GUEST_PATH_MAX + 2];
		ssize_t n = readlink(host, buf, sizeof(buf) - 1);
		if (n < 0)
			return cap_errf(CAP_E_DATA, "%s: cannot read link '%s': %s", what, host,
					strerror(errno));
		if ((size_t)n > GUEST_PATH_MAX)
			return cap_errf(CAP_E_DATA,
					"%s: link '%s' has a target longer than %u bytes", what,
					host, GUEST_PATH_MAX);
		buf[n] = '\0';
		f->target = xstrdup(buf);
		f->size = (uint64_t)n;
	} else {
		return push_children(w, host, guest, what);
	}
	return 0;
}

/*
 * Add host as guest, a folder with everything below it in sorted depth-first
 * order.  Iterative: a tree thousands of folders deep needs no deep stack.
 */
static int add_path(struct gather *g, const char *host, const char *guest, const char *what)
{
	struct walk w = {NULL, 0, 0};
	int ret = 0;

	walk_push(&w, xstrdup(host), xstrdup(guest));
	while (w.n) {
		w.n--;
		char *h = w.v[w.n].host, *gp = w.v[w.n].guest;
		if (!ret && g->interrupted && *g->interrupted)
			ret = cap_errf(CAP_E_INTR, "interrupted");
		if (!ret)
			ret = add_one(g, &w, h, gp, what);
		free(h);
		free(gp);
	}
	free(w.v);
	return ret;
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

/* The image's entry at guest path (the last one wins, as in the image): its host file, "" or NULL.
 */
static const char *gather_has(void *arg, const char *guest)
{
	const struct gather *g = arg;

	for (size_t i = g->n; i-- > 0;)
		if (!strcmp(g->v[i].path, guest))
			return g->v[i].host ? g->v[i].host : "";
	return NULL;
}

/*
 * A 'files' entry that is a symbolic link on the host (/usr/bin/python3 ->
 * python3.11) brings what it points to when the image lacks it, following
 * up to 8 links, so that the program named in the cmdline is there.
 */
static void add_link_targets(const struct cap_ctx *ctx, struct gather *g, const struct cfile *cf)
{
	for (size_t i = 0; i < cf->nfiles; i++) {
		char *guest = xstrdup(cf->files[i].guest), *host = xstrdup(cf->files[i].host);
		struct stat st;
		for (int depth = 0; depth < 8 && !lstat(host, &st) && S_ISLNK(st.st_mode);
		     depth++) {
			char target[PATH_MAX];
			ssize_t n = readlink(host, target, sizeof(target) - 1);
			if (n <= 0)
				break;
			target[n] = '\0';
			char *gt = elfdeps_guest_path(guest, target);
			char *ht =
			    target[0] == '/' ? xstrdup(target) : elfdeps_guest_path(host, target);
			free(guest);
			free(host);
			guest = gt;
			host = ht;
			if (gather_has(g, guest) || lstat(host, &st) < 0 ||
			    !(S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)))
				break;
			struct layout_file *f = gather_add(g);
			f->path = xstrdup(guest);
			f->mtime = file_time(g, &st);
			f->mode = (st.st_mode & S_IFMT) | (st.st_mode & 07777);
			if (S_ISLNK(st.st_mode)) {
				n = readlink(host, target, sizeof(target) - 1);
				target[n > 0 ? n : 0] = '\0';
				f->target = xstrdup(target);
				f->size = strlen(target);
			} else {
				f->host = xstrdup(host);
				f->size = (uint64_t)st.st_size;
			}
			cap_verbose(ctx, "added %s from %s (the target of %s)", guest, host,
				    cf->files[i].guest);
		}
		free(guest);
		free(host);
	}
}

/*
 * Add the interpreters and shared libraries the dynamic programs and
 * libraries of the image need, at the paths their loader opens.  Programs
 * first, so that their RPATH applies to the libraries they load.
 */
static int add_elf_deps(const struct cap_ctx *ctx, struct gather *g)
{
	struct elfdeps_conf conf;
	struct elfdeps d = {0};
	size_t n = g->n;
	int ret = 0;

	elfdeps_conf_host(&conf);
	for (int pass = 0; pass < 2 && !ret; pass++)
		for (size_t i = 0; i < n && !ret; i++)
			if (g->v[i].host && S_ISREG(g->v[i].mode))
				ret = elfdeps_scan(&d, &conf, gather_has, g, g->v[i].path,
						   g->v[i].host, pass == 0);
	for (size_t i = 0; i < d.n && !ret; i++) {
		const struct elfdeps_add *a = &d.v[i];
		struct layout_file *f = gather_add(g);
		struct stat st;
		f->path = xstrdup(a->guest);
		f->mtime = g->mtime;
		if (a->link) {
			f->mode = S_IFLNK | 0777;
			f->target = xstrdup(a->link);
			f->size = strlen(a->link);
			cap_verbose(ctx, "added %s -> %s (%s, needed by %s)", a->guest, a->link,
				    a->how, a->by);
			continue;
		}
		if (stat(a->host, &st) < 0) {
			ret =
			    cap_errf(CAP_E_DATA, "cannot read '%s': %s", a->host, strerror(errno));
			break;
		}
		f->mode = S_IFREG | (st.st_mode & 0777);
		f->mtime = file_time(g, &st);
		f->host = xstrdup(a->host);
		f->size = (uint64_t)st.st_size;
		cap_verbose(ctx, "added %s from %s (%s, needed by %s)", a->guest, a->host, a->how,
			    a->by);
	}
	if (!ret && !gather_has(g, "/etc/ld.so.cache")) {
		unsigned char *cache;
		size_t len;
		if (elfdeps_guest_cache(&d, &conf, &cache, &len)) {
			struct layout_file *f = gather_add(g);
			f->path = xstrdup("/etc/ld.so.cache");
			f->mode = S_IFREG | 0644;
			f->mtime = g->mtime;
			f->data = cache;
			f->size = len;
			cap_verbose(ctx,
				    "added /etc/ld.so.cache (%zu bytes) for the libraries found "
				    "outside the loader's default folders",
				    len);
		}
	}
	elfdeps_release(&d);
	return ret;
}

/* SOURCE_DATE_EPOCH, else 0; *set says whether it was given (and valid). */
static int64_t build_time(bool *set)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char *end;
	long long v;

	*set = false;
	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < 0)
		return 0;
	*set = true;
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

static char *created_now(int64_t mtime)
{
	return str_utc_time((time_t)(getenv("SOURCE_DATE_EPOCH") ? mtime : time(NULL)));
}

/*
 * Write img into a temp file in the repository (a disk of at least min_size
 * bytes) and install it as name for platform with meta.  Nothing is left
 * behind on failure.
 */
static int install_image(const struct cap_ctx *ctx, const char *name, const char *platform,
			 const struct layout_image *img, int64_t mtime, uint64_t min_size,
			 const struct repo_meta *meta)
{
	struct disk_qcow2_opts qopts = {0};
	struct fs_tmp tmp = {-1, NULL, NULL};
	struct disk *dst = NULL;
	char *top = cap_path(ctx, "repository"), *hold = NULL, *mid = NULL;
	uint64_t size = layout_image_size(img);
	int ret;

	if (size < min_size)
		size = min_size;
	if ((ret = cap_mkdirs(ctx, top, 0755)))
		goto out;
	hold = xasprintf("%s/.build", top);
	if ((ret = fs_tmp_open(&tmp, hold, 0644)))
		goto out;
	/*
	 * 4 KiB clusters keep a small image small (little metadata and padding);
	 * 64 KiB clusters keep a large one's data contiguous in the file (an L2
	 * table every 512 MiB instead of every 2 MiB), which is what writeback wants.
	 */
	qopts.cluster_bits = layout_image_size(img) <= (64u << 20) ? 12 : 16;
	if (!strcmp(platform, "qemu")) {
		ret = disk_qcow2_create_fd(&dst, tmp.fd, size, &qopts);
	} else {
		mid = xasprintf("%s.qcow2", tmp.tmp_path);
		ret = disk_qcow2_create(&dst, mid, size, &qopts);
	}
	if (ret)
		goto out;
	if ((ret = layout_image_write(dst, img)))
		goto out;
	if (strcmp(platform, "qemu") &&
	    (ret = disk_convert(dst, platform, tmp.fd, tmp.tmp_path, mtime)))
		goto out;
	/* repo_install syncs the file before it renames it into place */
	if (!strcmp(platform, "qemu") && (ret = disk_commit(dst)))
		goto out;
	ret = repo_install(ctx, name, platform, &tmp, meta);
out:
	disk_close(dst);
	if (mid)
		unlink(mid);
	if (tmp.tmp_path)
		fs_tmp_abort(&tmp);
	free(top);
	free(hold);
	free(mid);
	return ret;
}

static int check_cmdline(const char *what, const char *cmdline)
{
	if (strlen(cmdline) >= CAP_IMG_CMDLINE_MAX)
		return cap_errf(CAP_E_DATA, "%s: cmdline of %zu bytes is longer than %u", what,
				strlen(cmdline), CAP_IMG_CMDLINE_MAX - 1);
	return 0;
}

/* The base image's kernel, boot sector and root fs, or the bundled kernel without a base. */
static int load_base(const struct cap_ctx *ctx, const char *name, struct repo_image *base,
		     struct layout_image *img)
{
	struct disk *src = NULL;
	int ret;

	if (!name)
		return bundled_kernel(ctx, img);
	if ((ret = find_base(ctx, name, base)))
		return ret;
	if ((ret = disk_open(&src, base->path, DISK_RDONLY)))
		return ret;
	if ((ret = layout_image_read(src, img)))
		cap_errctx(ret, "base image '%s'", base->name);
	disk_close(src);
	return ret;
}

static int check_name(const char *name)
{
	if (!repo_name_valid(name))
		return cap_errf(
		    CAP_E_USAGE,
		    "invalid image name '%s' (letters, digits, '.', '_', '-'; [ns/]name)", name);
	return 0;
}

static int load_capstanfile(const struct cap_ctx *ctx, const struct build_opts *o, struct cfile *cf)
{
	char cwd[PATH_MAX];
	int ret = cfile_load(cf, o->file ? o->file : "Capstanfile");

	if (ret == -ENOENT && !o->file)
		return cap_errf(CAP_E_DATA, "no Capstanfile in %s (give one with -f FILE)",
				getcwd(cwd, sizeof(cwd)) ? cwd : "the current folder");
	for (size_t i = 0; !ret && i < cf->nwarnings; i++)
		cap_warn(ctx, "%s", cf->warnings[i]);
	return ret;
}

int build_image(const struct cap_ctx *ctx, const struct build_opts *o)
{
	const char *platform = o->platform ? o->platform : "qemu";
	struct cfile cf;
	struct repo_image base;
	struct layout_image img;
	struct gather g = {0};
	struct repo_meta meta = {NULL, NULL, NULL, NULL};
	char *name = NULL, *cmdline = NULL;
	int ret;

	memset(&cf, 0, sizeof(cf));
	memset(&base, 0, sizeof(base));
	memset(&img, 0, sizeof(img));
	if (!disk_platform_valid(platform))
		return cap_errf(CAP_E_USAGE, "unknown platform '%s' (qemu, raw, vbox, vmw, gce)",
				platform);
	if (o->memory)
		cap_verbose(ctx, "-m %llu MiB: ignored, capstan build boots no VM",
			    (unsigned long long)(o->memory >> 20));
	if ((ret = load_capstanfile(ctx, o, &cf)))
		goto out;
	name = o->name ? xstrdup(o->name) : default_name(&cf);
	if ((ret = check_name(name)))
		goto out;
	if (cf.build && (ret = run_build_step(ctx, &cf)))
		goto out;
	/* after the build step, which may make the rootfs folder */
	if ((ret = cfile_resolve_rootfs(&cf)))
		goto out;
	if ((ret = load_base(ctx, cf.base, &base, &img)))
		goto out;

	g.mtime = build_time(&g.fixed);
	g.interrupted = &ctx->interrupted;
	if (cf.rootfs && (ret = add_path(&g, cf.rootfs, "/", cf.path)))
		goto out;
	g.first_new = g.n;
	for (size_t i = 0; i < cf.nfiles; i++)
		if ((ret = add_path(&g, cf.files[i].host, cf.files[i].guest, cf.path)))
			goto out;
	if ((ret = check_duplicates(&g, &cf)))
		goto out;
	add_link_targets(ctx, &g, &cf);
	if ((ret = add_elf_deps(ctx, &g))) {
		cap_errctx(ret, "%s", cf.path);
		goto out;
	}
	cmdline = compose_cmdline(&cf);
	if ((ret = check_cmdline(cf.path, cmdline)))
		goto out;
	layout_image_merge(&img, g.v, g.n, g.mtime);
	free(img.cmdline);
	img.cmdline = cmdline;
	cmdline = NULL;
	img.interrupted = &ctx->interrupted; /* Ctrl-C stops the write, nothing is installed */

	meta.version = xstrdup("1");
	meta.created = created_now(g.mtime);
	meta.description = xasprintf("%s, built from %s", name, cf.path);
	meta.build = xasprintf("capstan build%s", cf.build ? " (with a build step)" : "");
	ret = install_image(ctx, name, platform, &img, g.mtime, 0, &meta);
	if (!ret && base.name)
		cap_info(ctx, "Built %s (%s) on %s", name, platform, base.name);
	else if (!ret)
		cap_info(ctx, "Built %s (%s) on the bundled kernel %s", name, platform,
			 CAPSTAN_VERSION);
out:
	layout_image_release(&img);
	gather_release(&g);
	repo_image_release(&base);
	repo_meta_release(&meta);
	cfile_release(&cf);
	free(name);
	free(cmdline);
	return ret;
}

/* Compose's default cmdline: the one program, for a single file; none for a folder. */
static int compose_default_cmdline(const char *src, const struct stat *st, char **out)
{
	char *tmp;

	*out = NULL;
	if (!S_ISREG(st->st_mode))
		return cap_errf(CAP_E_USAGE,
				"'%s' is a folder: give the command line to run with -c", src);
	tmp = xstrdup(src);
	*out = xasprintf("/%s", basename(tmp));
	free(tmp);
	return 0;
}

int build_compose(const struct cap_ctx *ctx, const struct compose_opts *o)
{
	struct layout_image img;
	struct gather g = {0};
	struct repo_meta meta = {NULL, NULL, NULL, NULL};
	struct stat st;
	char *cmdline = NULL, *tmp = NULL, *guest = NULL, *host = NULL;
	int ret;

	memset(&img, 0, sizeof(img));
	if ((ret = check_name(o->name)))
		return ret;
	if (stat(o->source, &st) < 0)
		return cap_errnof(errno, "cannot read '%s'", o->source);
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return cap_errf(CAP_E_DATA, "'%s' is not a file or a folder", o->source);
	if (o->cmdline)
		cmdline = xstrdup(o->cmdline);
	else if ((ret = compose_default_cmdline(o->source, &st, &cmdline)))
		return ret;
	if ((ret = check_cmdline(o->source, cmdline)))
		goto out;
	if ((ret = bundled_kernel(ctx, &img)))
		goto out;
	g.mtime = build_time(&g.fixed);
	g.interrupted = &ctx->interrupted;
	/* Capstan's layout: a folder's content at '/', a file as /<its name> */
	tmp = xstrdup(o->source);
	guest = S_ISDIR(st.st_mode) ? xstrdup("/") : xasprintf("/%s", basename(tmp));
	/* the source itself is followed, as Capstan does: a link to a file gives the file */
	if (!(host = realpath(o->source, NULL))) {
		ret = cap_errnof(errno, "cannot resolve '%s'", o->source);
		goto out;
	}
	if ((ret = add_path(&g, host, guest, o->source)))
		goto out;
	layout_image_merge(&img, g.v, g.n, g.mtime);
	img.cmdline = cmdline;
	cmdline = NULL;
	img.interrupted = &ctx->interrupted;
	if (o->min_size && layout_image_size(&img) > o->min_size) {
		char a[32], b[32];
		ret = cap_errf(CAP_E_DATA, "'%s' needs an image of %s, more than the %s of -s",
			       o->source, fmt_size(layout_image_size(&img), a, sizeof(a)),
			       fmt_size(o->min_size, b, sizeof(b)));
		goto out;
	}
	meta.version = xstrdup("1");
	meta.created = created_now(g.mtime);
	meta.description = xasprintf("%s, composed from %s", o->name, o->source);
	meta.build = xstrdup("capstan compose");
	ret = install_image(ctx, o->name, "qemu", &img, g.mtime, o->min_size, &meta);
	if (!ret)
		cap_info(ctx, "Composed %s (qemu) on the bundled kernel %s", o->name,
			 CAPSTAN_VERSION);
out:
	layout_image_release(&img);
	gather_release(&g);
	repo_meta_release(&meta);
	free(cmdline);
	free(tmp);
	free(guest);
	free(host);
	return ret;
}
