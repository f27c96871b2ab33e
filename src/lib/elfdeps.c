// SPDX-License-Identifier: BSD-3-Clause
// elfdeps.c: find a dynamic program's interpreter and libraries the way ld.so (glibc or musl) does.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capstan/elfdeps.h"
#include "capstan/err.h"
#include "capstan/fs.h"
#include "capstan/str.h"
#include "capstan/banned.h"

/*
 * Only what the loaders read is parsed: the ELF header, the program headers,
 * PT_INTERP and the PT_DYNAMIC entries with their string table (found through
 * the PT_LOAD that holds DT_STRTAB).  Every offset and size comes from a file
 * that may be hostile, so each is checked against the file before use.
 */

#define PT_LOAD	   1
#define PT_DYNAMIC 2
#define PT_INTERP  3
#define DT_NULL	   0
#define DT_NEEDED  1
#define DT_STRTAB  5
#define DT_STRSZ   10
#define DT_RPATH   15
#define DT_RUNPATH 29
#define EM_X86_64  62

#define MAX_PHNUM    4096
#define MAX_DYNAMIC  (1u << 20)
#define MAX_STR	     4096
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *const glibc_dirs[] = {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
					 "/lib", "/usr/lib", NULL};
static const char *const musl_dirs[] = {"/lib", "/usr/local/lib", "/usr/lib", NULL};

void elfdeps_conf_host(struct elfdeps_conf *c)
{
	c->cache = "/etc/ld.so.cache";
	c->dirs = glibc_dirs;
	c->musl_path = "/etc/ld-musl-x86_64.path";
	c->musl_dirs = musl_dirs;
}

/* What one object asks of the loader. */
struct elfobj {
	bool dynamic; /* an x86-64 ELF with PT_INTERP or PT_DYNAMIC */
	char *interp;
	char **needed;
	size_t nneeded;
	char *rpath, *runpath;
};

static void elfobj_release(struct elfobj *o)
{
	free(o->interp);
	for (size_t i = 0; i < o->nneeded; i++)
		free(o->needed[i]);
	free(o->needed);
	free(o->rpath);
	free(o->runpath);
	memset(o, 0, sizeof(*o));
}

static uint16_t rd16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static uint64_t rd64(const unsigned char *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* An ELF header of the kind the x86-64 loaders accept: 64-bit, little-endian, x86-64. */
static bool elf_ours(const unsigned char *h)
{
	return !memcmp(h, "\177ELF", 4) && h[4] == 2 && h[5] == 1 && rd16(h + 18) == EM_X86_64;
}

/* A NUL-terminated string at off of at most MAX_STR bytes, or NULL. */
static char *read_str(int fd, uint64_t off, uint64_t limit)
{
	char buf[MAX_STR];
	size_t want = limit - off < sizeof(buf) ? (size_t)(limit - off) : sizeof(buf);
	ssize_t got;

	if (off >= limit)
		return NULL;
	got = pread(fd, buf, want, (off_t)off);
	if (got <= 0)
		return NULL;
	char *nul = memchr(buf, '\0', (size_t)got);
	return nul ? xstrdup(buf) : NULL;
}

static int bad(const char *host, const char *why)
{
	return cap_errf(CAP_E_DATA, "'%s': malformed ELF file: %s", host, why);
}

/* The file offset of virtual address a, from the PT_LOAD that holds it. */
static bool vaddr_off(const unsigned char *ph, size_t phnum, uint64_t a, uint64_t *off)
{
	for (size_t i = 0; i < phnum; i++, ph += 56) {
		uint64_t vaddr = rd64(ph + 16), filesz = rd64(ph + 32);
		if (rd32(ph) == PT_LOAD && a >= vaddr && a - vaddr < filesz) {
			*off = rd64(ph + 8) + (a - vaddr);
			return true;
		}
	}
	return false;
}

static int read_dynamic(int fd, const char *host, uint64_t fsize, const unsigned char *ph,
			size_t phnum, uint64_t doff, uint64_t dsize, struct elfobj *o)
{
	unsigned char *dyn;
	uint64_t strtab = 0, strsz = 0, stroff, rpath = UINT64_MAX, runpath = UINT64_MAX;
	size_t n;
	int ret = 0;

	if (dsize > MAX_DYNAMIC || doff > fsize || dsize > fsize - doff)
		return bad(host, "PT_DYNAMIC out of the file");
	n = (size_t)dsize / 16;
	dyn = xmalloc(n * 16 + 1);
	if (fs_pread_full(fd, dyn, n * 16, (off_t)doff)) {
		free(dyn);
		return bad(host, "cannot read PT_DYNAMIC");
	}
	for (size_t i = 0; i < n && rd64(dyn + 16 * i) != DT_NULL; i++) {
		uint64_t tag = rd64(dyn + 16 * i), val = rd64(dyn + 16 * i + 8);
		if (tag == DT_STRTAB)
			strtab = val;
		else if (tag == DT_STRSZ)
			strsz = val;
		else if (tag == DT_RPATH)
			rpath = val;
		else if (tag == DT_RUNPATH)
			runpath = val;
	}
	if (!strtab) /* nothing to look up (a static-pie's PT_DYNAMIC) */
		goto out;
	if (!vaddr_off(ph, phnum, strtab, &stroff) || stroff > fsize || strsz > fsize - stroff) {
		ret = bad(host, "DT_STRTAB out of the file");
		goto out;
	}
	for (size_t i = 0; i < n && rd64(dyn + 16 * i) != DT_NULL && !ret; i++) {
		uint64_t tag = rd64(dyn + 16 * i), val = rd64(dyn + 16 * i + 8);
		if (tag != DT_NEEDED && !(tag == DT_RPATH && val == rpath) &&
		    !(tag == DT_RUNPATH && val == runpath))
			continue;
		char *s = val < strsz ? read_str(fd, stroff + val, stroff + strsz) : NULL;
		if (!s) {
			ret = bad(host, "a dynamic string out of DT_STRTAB");
		} else if (tag == DT_NEEDED) {
			o->needed = xrealloc(o->needed, (o->nneeded + 1) * sizeof(*o->needed));
			o->needed[o->nneeded++] = s;
		} else if (tag == DT_RPATH && !o->rpath) {
			o->rpath = s;
		} else if (tag == DT_RUNPATH && !o->runpath) {
			o->runpath = s;
		} else {
			free(s);
		}
	}
out:
	free(dyn);
	return ret;
}

/* Read host's loader requests; o->dynamic stays false for anything else. */
static int elfobj_read(const char *host, struct elfobj *o)
{
	unsigned char eh[64], *ph = NULL;
	uint64_t phoff, fsize, doff = 0, dsize = 0;
	size_t phnum;
	bool has_dyn = false;
	struct stat st;
	int fd, ret = 0;

	memset(o, 0, sizeof(*o));
	fd = open(host, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cap_errf(CAP_E_DATA, "cannot read '%s': %s", host, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || fs_pread_full(fd, eh, 64, 0) ||
	    !elf_ours(eh))
		goto out; /* not an x86-64 ELF: nothing for a loader */
	fsize = (uint64_t)st.st_size;
	phoff = rd64(eh + 32);
	phnum = rd16(eh + 56);
	if (rd16(eh + 16) != 2 && rd16(eh + 16) != 3)
		goto out; /* neither executable nor shared object */
	if (!phnum)
		goto out;
	if (rd16(eh + 54) != 56 || phnum > MAX_PHNUM || phoff > fsize ||
	    phnum * 56 > fsize - phoff) {
		ret = bad(host, "program headers out of the file");
		goto out;
	}
	ph = xmalloc(phnum * 56);
	if (fs_pread_full(fd, ph, phnum * 56, (off_t)phoff)) {
		ret = bad(host, "cannot read the program headers");
		goto out;
	}
	for (size_t i = 0; i < phnum && !ret; i++) {
		const unsigned char *p = ph + 56 * i;
		uint64_t off = rd64(p + 8), filesz = rd64(p + 32);
		if (rd32(p) == PT_INTERP && !o->interp) {
			if (off > fsize || filesz > fsize - off || filesz > MAX_STR)
				ret = bad(host, "PT_INTERP out of the file");
			else if (!(o->interp = read_str(fd, off, off + filesz)) || !*o->interp)
				ret = bad(host, "PT_INTERP is not a path");
		} else if (rd32(p) == PT_DYNAMIC && !has_dyn) {
			has_dyn = true;
			doff = off;
			dsize = filesz;
		}
	}
	if (!ret && has_dyn)
		ret = read_dynamic(fd, host, fsize, ph, phnum, doff, dsize, o);
	o->dynamic = !ret && (o->interp || has_dyn);
out:
	free(ph);
	close(fd);
	if (ret)
		elfobj_release(o);
	return ret;
}

/* ---- ld.so.cache (glibc's "glibc-ld.so.cache1.1", after an optional old-format part) ---- */

#define CACHE_OLD	  "ld.so-1.7.0"
#define CACHE_NEW	  "glibc-ld.so.cache1.1"
#define CACHE_FLAGS_X8664 0x0303 /* FLAG_ELF_LIBC6 | FLAG_X8664_LIB64 */

static void cache_load(struct elfdeps *d, const struct elfdeps_conf *c)
{
	char *data = NULL;
	size_t len = 0;

	d->cache_loaded = true;
	if (!c->cache || fs_read_all(c->cache, &data, &len))
		return; /* no cache: the loader too goes on to the default folders */
	size_t start = 0;
	if (len >= 16 && !memcmp(data, CACHE_OLD, strlen(CACHE_OLD))) {
		uint64_t nold = rd32((unsigned char *)data + 12);
		start = (size_t)((16 + nold * 12 + 7) & ~7ull);
	}
	if (start > len || len - start < 48 || memcmp(data + start, CACHE_NEW, strlen(CACHE_NEW))) {
		free(data);
		return; /* a format we do not know: the loader would ignore it as well */
	}
	memmove(data, data + start, len - start);
	d->cache_data = data;
	d->cache_len = len - start;
}

/* The path the cache gives for name (a 64-bit libc6 entry for no hwcap subfolder), or NULL. */
static const char *cache_lookup(const struct elfdeps *d, const char *name)
{
	const unsigned char *p = (const unsigned char *)d->cache_data;
	uint64_t nlibs;

	if (!p)
		return NULL;
	nlibs = rd32(p + 20);
	if (nlibs > (d->cache_len - 48) / 24)
		return NULL;
	for (uint64_t i = 0; i < nlibs; i++) {
		const unsigned char *e = p + 48 + 24 * i;
		uint32_t key = rd32(e + 4), value = rd32(e + 8);
		if ((rd32(e) & 0xffff) != CACHE_FLAGS_X8664 || rd64(e + 16) != 0 ||
		    key >= d->cache_len || value >= d->cache_len ||
		    !memchr(p + key, '\0', d->cache_len - key) ||
		    !memchr(p + value, '\0', d->cache_len - value))
			continue;
		if (!strcmp((const char *)p + key, name))
			return (const char *)p + value;
	}
	return NULL;
}

/* ---- the search ---- */

/* One object being scanned, with what its search needs from the objects that loaded it. */
struct scanobj {
	const char *guest, *host;
	const struct elfobj *elf;
	const struct scanobj
	    *parent; /* the object that needed this one; NULL for a file of the image */
	bool musl;
};

struct search {
	struct elfdeps *d;
	const struct elfdeps_conf *c;
	elfdeps_has_fn has;
	void *arg;
	bool programs; /* look only at files with a PT_INTERP */
};

static bool seen(const struct elfdeps *d, const char *guest)
{
	for (size_t i = 0; i < d->nseen; i++)
		if (!strcmp(d->seen[i], guest))
			return true;
	return false;
}

static void mark_seen(struct elfdeps *d, const char *guest)
{
	if (d->nseen == d->capseen) {
		d->capseen = d->capseen ? 2 * d->capseen : 64;
		d->seen = xrealloc(d->seen, d->capseen * sizeof(*d->seen));
	}
	d->seen[d->nseen++] = xstrdup(guest);
}

static const struct elfdeps_add *added(const struct elfdeps *d, const char *guest)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].guest, guest))
			return &d->v[i];
	return NULL;
}

/* Whether host is a regular x86-64 ELF file (what the loader would accept at that path). */
static bool host_ok(const char *host, struct stat *st)
{
	unsigned char eh[64];
	int fd = open(host, O_RDONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok =
	    !fstat(fd, st) && S_ISREG(st->st_mode) && !fs_pread_full(fd, eh, 64, 0) && elf_ours(eh);
	close(fd);
	return ok;
}

/* A found file: where it is in the guest, and the host file to read it from (NULL: not readable).
 */
struct found {
	char *guest, *host;
	bool in_image; /* the Capstanfile puts it there already */
	struct stat st;
};

static void found_release(struct found *f)
{
	free(f->guest);
	free(f->host);
	memset(f, 0, sizeof(*f));
}

/* Try guest path g, to be taken from host path h when the image does not hold it. */
static bool try_path(struct search *s, const char *g, const char *h, struct found *f)
{
	const char *in = s->has(s->arg, g);
	const struct elfdeps_add *a = added(s->d, g);

	memset(f, 0, sizeof(*f));
	if (in || a) {
		f->in_image = in != NULL;
		f->guest = xstrdup(g);
		f->host = in ? (*in ? xstrdup(in) : NULL) : xstrdup(a->host);
		return true;
	}
	if (!host_ok(h, &f->st))
		return false;
	f->guest = xstrdup(g);
	f->host = xstrdup(h);
	return true;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash || slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/*
 * Expand the dynamic string tokens of one search folder for origin; NULL when
 * it holds one the loader does not know (the loader then skips the folder).
 */
static char *expand(const char *elem, const char *origin)
{
	static const struct {
		const char *name;
		const char *value; /* NULL: the origin */
	} tokens[] = {{"ORIGIN", NULL}, {"LIB", "lib/x86_64-linux-gnu"}, {"PLATFORM", "x86_64"}};
	struct strbuf sb = STRBUF_INIT;

	for (const char *p = elem; *p;) {
		if (*p != '$') {
			sb_addc(&sb, *p++);
			continue;
		}
		size_t i, len = 0;
		bool brace = p[1] == '{';
		for (i = 0; i < ARRAY_LEN(tokens); i++) {
			len = strlen(tokens[i].name);
			if (!strncmp(p + 1 + brace, tokens[i].name, len) &&
			    (brace ? p[1 + len + 1] == '}'
				   : !(p[1 + len] == '_' ||
				       (p[1 + len] >= 'A' && p[1 + len] <= 'Z') ||
				       (p[1 + len] >= 'a' && p[1 + len] <= 'z') ||
				       (p[1 + len] >= '0' && p[1 + len] <= '9'))))
				break;
		}
		if (i == ARRAY_LEN(tokens)) {
			sb_release(&sb);
			return NULL;
		}
		sb_adds(&sb, tokens[i].value ? tokens[i].value : origin);
		p += 1 + len + 2 * brace;
	}
	return sb_detach(&sb);
}

/* An absolute path with '.', '..' and '//' resolved, as the image stores paths. */
static char *normalise(const char *path)
{
	char *out = xmalloc(strlen(path) + 2);
	size_t len = 0;

	for (const char *p = path; *p;) {
		size_t n = strcspn(p, "/");
		if ((n == 1 && p[0] == '.') || n == 0) {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (len > 0 && out[--len] != '/')
				;
		} else {
			out[len++] = '/';
			memcpy(out + len, p, n);
			len += n;
		}
		p += n + (p[n] == '/');
	}
	if (!len)
		out[len++] = '/';
	out[len] = '\0';
	return out;
}

char *elfdeps_guest_path(const char *from, const char *target)
{
	char *dir = dir_of(from);
	char *joined = target[0] == '/' ? xstrdup(target) : xasprintf("%s/%s", dir, target);
	char *norm = normalise(joined);
	free(dir);
	free(joined);
	return norm;
}

/* Look for name in the ':'-separated folders list of object o. */
static bool try_list(struct search *s, const struct scanobj *o, const char *list, const char *name,
		     struct found *f)
{
	char *gorigin = dir_of(o->guest), *horigin = dir_of(o->host);
	char *copy = xstrdup(list), *save = NULL, *elem;
	bool ok = false;

	for (elem = strtok_r(copy, ":", &save); elem && !ok; elem = strtok_r(NULL, ":", &save)) {
		char *gd = expand(elem, gorigin), *hd = expand(elem, horigin);
		if (gd && hd && gd[0] == '/') {
			char *g = xasprintf("%s/%s", gd, name), *h = xasprintf("%s/%s", hd, name);
			char *norm = normalise(g);
			ok = try_path(s, norm, h, f);
			free(norm);
			free(g);
			free(h);
		}
		free(gd);
		free(hd);
	}
	free(copy);
	free(gorigin);
	free(horigin);
	return ok;
}

static bool try_dirs(struct search *s, const char *const *dirs, const char *name, struct found *f)
{
	for (size_t i = 0; dirs && dirs[i]; i++) {
		char *p = xasprintf("%s/%s", dirs[i], name);
		bool ok = try_path(s, p, p, f);
		free(p);
		if (ok)
			return true;
	}
	return false;
}

/* musl's folders: its path file (':' or newline separated) when present, else the defaults. */
static bool try_musl_dirs(struct search *s, const char *name, struct found *f)
{
	char *data = NULL;
	size_t len = 0;
	bool ok = false;

	if (s->c->musl_path && !fs_read_all(s->c->musl_path, &data, &len)) {
		char *save = NULL;
		for (char *e = strtok_r(data, ":\n", &save); e && !ok;
		     e = strtok_r(NULL, ":\n", &save)) {
			if (e[0] != '/')
				continue;
			char *p = xasprintf("%s/%s", e, name);
			ok = try_path(s, p, p, f);
			free(p);
		}
		free(data);
		return ok;
	}
	return try_dirs(s, s->c->musl_dirs, name, f);
}

/* musl answers these names with itself (its libc holds libpthread, libm, libdl...). */
static bool musl_reserved(const char *name)
{
	static const char *const reserved[] = {"c", "pthread", "rt", "m", "dl", "util", "xnet"};
	const char *dot = strchr(name, '.');

	if (strncmp(name, "lib", 3) || !dot || strncmp(dot, ".so", 3))
		return false;
	for (size_t i = 0; i < ARRAY_LEN(reserved); i++)
		if (strlen(reserved[i]) == (size_t)(dot - name - 3) &&
		    !strncmp(name + 3, reserved[i], (size_t)(dot - name - 3)))
			return true;
	return false;
}

/* Find name for o in the loader's order; *how says where it was found. */
static bool find_lib(struct search *s, const struct scanobj *o, const char *name, struct found *f,
		     const char **how)
{
	if (strchr(name, '/')) {
		*how = "path";
		return name[0] == '/' && try_path(s, name, name, f);
	}
	if (o->musl) {
		/* musl: the RPATH or RUNPATH of the object and of those that loaded it */
		for (const struct scanobj *p = o; p; p = p->parent) {
			const char *list = p->elf->runpath ? p->elf->runpath : p->elf->rpath;
			*how = p->elf->runpath ? "RUNPATH" : "RPATH";
			if (list && try_list(s, p, list, name, f))
				return true;
		}
		*how = "default folder";
		return try_musl_dirs(s, name, f);
	}
	/* glibc: RPATH (object, then its loaders) unless it has a RUNPATH; RUNPATH; cache; defaults
	 */
	if (!o->elf->runpath) {
		*how = "RPATH";
		for (const struct scanobj *p = o; p; p = p->parent)
			if (!p->elf->runpath && p->elf->rpath &&
			    try_list(s, p, p->elf->rpath, name, f))
				return true;
	} else {
		*how = "RUNPATH";
		if (try_list(s, o, o->elf->runpath, name, f))
			return true;
	}
	*how = "ld.so.cache";
	if (!s->d->cache_loaded)
		cache_load(s->d, s->c);
	const char *cached = cache_lookup(s->d, name);
	if (cached && cached[0] == '/' && try_path(s, cached, cached, f))
		return true;
	*how = "default folder";
	return try_dirs(s, s->c->dirs, name, f);
}

static bool musl_interp(const char *interp)
{
	const char *base = strrchr(interp, '/');

	return !strncmp(base ? base + 1 : interp, "ld-musl-", 8);
}

/* Whether a library scanned on its own (no interpreter) was linked against musl. */
static bool musl_lib(const struct elfobj *o)
{
	for (size_t i = 0; i < o->nneeded; i++)
		if (!strcmp(o->needed[i], "libc.so"))
			return true;
	return false;
}

/* Record f, found for by; a host file added already under another path becomes a link to it. */
static void add(struct elfdeps *d, const struct found *f, const char *name, const char *by,
		const char *how)
{
	unsigned long long id[2] = {(unsigned long long)f->st.st_dev,
				    (unsigned long long)f->st.st_ino};
	struct elfdeps_add *a;
	size_t i;

	for (i = 0; i < d->nids; i++)
		if (d->ids[3 * i] == id[0] && d->ids[3 * i + 1] == id[1])
			break;
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 16;
		d->v = xrealloc(d->v, d->cap * sizeof(*d->v));
	}
	a = &d->v[d->n];
	memset(a, 0, sizeof(*a));
	a->guest = xstrdup(f->guest);
	a->host = xstrdup(f->host);
	a->by = xstrdup(by);
	a->how = xstrdup(how);
	a->name = xstrdup(name);
	if (i < d->nids) {
		a->link = xstrdup(d->v[d->ids[3 * i + 2]].guest);
	} else {
		d->ids = xrealloc(d->ids, (d->nids + 1) * 3 * sizeof(*d->ids));
		d->ids[3 * d->nids] = id[0];
		d->ids[3 * d->nids + 1] = id[1];
		d->ids[3 * d->nids + 2] = d->n;
		d->nids++;
	}
	d->n++;
}

static int scan(struct search *s, const struct scanobj *parent, const char *guest, const char *host,
		bool musl);

/* The object's name for messages: the program at the top and the library in between. */
static const char *top_guest(const struct scanobj *o)
{
	while (o->parent)
		o = o->parent;
	return o->guest;
}

/* Take f as needed by o: add it unless the image has it, then look at what it needs. */
static int take(struct search *s, const struct scanobj *o, struct found *f, const char *name,
		const char *how)
{
	int ret = 0;

	if (!f->in_image && !added(s->d, f->guest))
		add(s->d, f, name, o->guest, how);
	if (f->host && !seen(s->d, f->guest))
		ret = scan(s, o, f->guest, f->host, o->musl);
	return ret;
}

static int scan_needs(struct search *s, const struct scanobj *o)
{
	const struct elfobj *e = o->elf;
	struct found f;
	const char *how = "interpreter";
	int ret = 0;

	if (e->interp) {
		if (!try_path(s, e->interp, e->interp, &f))
			return cap_errf(
			    CAP_E_DATA,
			    "%s: interpreter '%s' not found on this host (nor in the image)",
			    top_guest(o), e->interp);
		ret = take(s, o, &f, e->interp, how);
		found_release(&f);
	}
	for (size_t i = 0; i < e->nneeded && !ret; i++) {
		const char *name = e->needed[i];
		if (o->musl && musl_reserved(name))
			continue; /* the interpreter itself */
		if (!find_lib(s, o, name, &f, &how)) {
			if (o->parent)
				return cap_errf(CAP_E_DATA,
						"%s: library '%s' not found (needed by %s)",
						top_guest(o), name, o->guest);
			return cap_errf(CAP_E_DATA, "%s: library '%s' not found", o->guest, name);
		}
		ret = take(s, o, &f, name, how);
		found_release(&f);
	}
	return ret;
}

static int scan(struct search *s, const struct scanobj *parent, const char *guest, const char *host,
		bool musl)
{
	struct elfobj e;
	struct scanobj o = {guest, host, &e, parent, musl};
	int ret;

	mark_seen(s->d, guest);
	if ((ret = elfobj_read(host, &e)))
		return ret;
	if (!parent && s->programs && !e.interp) {
		free(s->d->seen[--s->d->nseen]); /* left for the call that takes every file */
	} else if (e.dynamic) {
		if (e.interp)
			o.musl = musl_interp(e.interp);
		else if (!parent)
			o.musl = musl_lib(&e);
		ret = scan_needs(s, &o);
	}
	elfobj_release(&e);
	return ret;
}

int elfdeps_scan(struct elfdeps *d, const struct elfdeps_conf *c, elfdeps_has_fn has, void *arg,
		 const char *guest, const char *host, bool programs)
{
	struct search s = {d, c, has, arg, programs};

	if (seen(d, guest))
		return 0;
	return scan(&s, NULL, guest, host, false);
}

/* glibc's order of cache keys: digit runs compare as numbers. */
static int libcmp(const char *a, const char *b)
{
	while (*a) {
		bool da = *a >= '0' && *a <= '9', db = *b >= '0' && *b <= '9';
		if (da && db) {
			unsigned long va = 0, vb = 0;
			while (*a >= '0' && *a <= '9')
				va = va * 10 + (unsigned long)(*a++ - '0');
			while (*b >= '0' && *b <= '9')
				vb = vb * 10 + (unsigned long)(*b++ - '0');
			if (va != vb)
				return va < vb ? -1 : 1;
		} else if (da || db) {
			return da ? 1 : -1;
		} else if (*a != *b) {
			return (unsigned char)*a - (unsigned char)*b;
		} else {
			a++;
			b++;
		}
	}
	return -(unsigned char)*b;
}

static int cmp_cache_desc(const void *x, const void *y)
{
	const struct elfdeps_add *a = *(const struct elfdeps_add *const *)x,
				 *b = *(const struct elfdeps_add *const *)y;
	int r = libcmp(b->name, a->name);
	return r ? r : strcmp(a->guest, b->guest);
}

static bool in_dirs(const char *path, const char *const *dirs)
{
	char *dir = dir_of(path);
	bool in = false;

	for (size_t i = 0; dirs && dirs[i] && !in; i++)
		in = !strcmp(dirs[i], dir);
	free(dir);
	return in;
}

static void put32(struct strbuf *sb, uint32_t v)
{
	unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			      (unsigned char)(v >> 24)};
	sb_add(sb, b, 4);
}

int elfdeps_guest_cache(const struct elfdeps *d, const struct elfdeps_conf *c, unsigned char **data,
			size_t *len)
{
	const struct elfdeps_add **v = xmalloc((d->n + 1) * sizeof(*v));
	struct strbuf sb = STRBUF_INIT, strs = STRBUF_INIT;
	size_t n = 0;
	bool needed = false;

	for (size_t i = 0; i < d->n; i++) {
		if (strcmp(d->v[i].how, "ld.so.cache"))
			continue;
		v[n++] = &d->v[i];
		needed |= !in_dirs(d->v[i].guest, c->dirs);
	}
	if (!needed) {
		free(v);
		return 0;
	}
	qsort(v, n, sizeof(*v), cmp_cache_desc);
	size_t strings = 48 + 24 * n;
	sb_add(&sb, CACHE_NEW, strlen(CACHE_NEW));
	put32(&sb, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		sb_add(&strs, v[i]->name, strlen(v[i]->name) + 1);
		sb_add(&strs, v[i]->guest, strlen(v[i]->guest) + 1);
	}
	put32(&sb, (uint32_t)strs.len);
	put32(&sb, 2); /* flags: little-endian; then 3 bytes of padding */
	put32(&sb, 0); /* no extensions */
	put32(&sb, 0);
	put32(&sb, 0);
	put32(&sb, 0);
	size_t off = strings;
	for (size_t i = 0; i < n; i++) {
		put32(&sb, CACHE_FLAGS_X8664);
		put32(&sb, (uint32_t)off);
		off += strlen(v[i]->name) + 1;
		put32(&sb, (uint32_t)off);
		off += strlen(v[i]->guest) + 1;
		put32(&sb, 0); /* os version */
		put32(&sb, 0); /* hwcap */
		put32(&sb, 0);
	}
	sb_add(&sb, strs.buf, strs.len);
	sb_release(&strs);
	free(v);
	*len = sb.len;
	*data = (unsigned char *)sb_detach(&sb);
	return 1;
}

void elfdeps_release(struct elfdeps *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].guest);
		free(d->v[i].host);
		free(d->v[i].link);
		free(d->v[i].by);
		free(d->v[i].how);
		free(d->v[i].name);
	}
	free(d->v);
	for (size_t i = 0; i < d->nseen; i++)
		free(d->seen[i]);
	free(d->seen);
	free(d->ids);
	free(d->cache_data);
	memset(d, 0, sizeof(*d));
}
