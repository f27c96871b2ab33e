/* SPDX-License-Identifier: BSD-3-Clause */
/* Files: the cpio root indexed in place, a RAM overlay for every change, device nodes. */
#include "vfs.h"
#include "kcpio.h"

#define NBUCKET 1024
static struct node *bucket[NBUCKET];
struct node *vfs_root;
long vfs_nodes;
static uint64_t next_ino = 1;

static uint32_t hash(const struct node *parent, const char *name)
{
	uint64_t h = (uint64_t)parent * 0x9e3779b97f4a7c15ull;
	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	return (uint32_t)(h >> 20) % NBUCKET;
}

static struct node *child(struct node *dir, const char *name, size_t len)
{
	char tmp[256];
	if (len >= sizeof(tmp))
		return NULL;
	memcpy(tmp, name, len);
	tmp[len] = 0;
	for (struct node *n = bucket[hash(dir, tmp)]; n; n = n->hnext)
		if (n->parent == dir && !strcmp(n->name, tmp))
			return n;
	return NULL;
}

struct node *vfs_lookup(struct node *dir, const char *name)
{
	return child(dir, name, strlen(name));
}

static void link_in(struct node *n)
{
	uint32_t h = hash(n->parent, n->name);
	n->hnext = bucket[h];
	bucket[h] = n;
	n->sibling = n->parent->child;
	n->parent->child = n;
}

static void link_out(struct node *n)
{
	struct node **pp;
	for (pp = &bucket[hash(n->parent, n->name)]; *pp; pp = &(*pp)->hnext)
		if (*pp == n) {
			*pp = n->hnext;
			break;
		}
	for (pp = &n->parent->child; *pp; pp = &(*pp)->sibling)
		if (*pp == n) {
			*pp = n->sibling;
			break;
		}
}

struct linux_timespec vfs_now(void)
{
	int64_t ns = time_realtime_offset() + (int64_t)time_ns();
	return (struct linux_timespec){ns / 1000000000, ns % 1000000000};
}

void vfs_touch(struct node *n, bool modified)
{
	n->ctime = vfs_now();
	if (modified)
		n->mtime = n->ctime;
}

struct node *vfs_create(struct node *parent, const char *name, enum node_kind kind, uint32_t mode)
{
	struct node *n = kzalloc(sizeof(*n));
	if (!n || !(n->name = kstrdup(name))) {
		kfree(n);
		return NULL;
	}
	n->parent = parent ? parent : n;
	n->kind = kind;
	n->mode = mode;
	n->uid = cred_fsuid();
	n->gid = cred_fsgid();
	n->ino = next_ino++;
	n->ram = true;
	n->nlink = 1;
	n->atime = n->mtime = n->ctime = vfs_now();
	if (parent)
		link_in(n);
	vfs_nodes++;
	return n;
}

/* A hard link's name goes: the file keeps its other names. */
static void remove_alias(struct node *a)
{
	struct node *t = a->target, **pp;
	link_out(a);
	for (pp = &t->aliases; *pp; pp = &(*pp)->next_alias)
		if (*pp == a) {
			*pp = a->next_alias;
			break;
		}
	t->nlink--;
	vfs_touch(t, false);
	vfs_nodes--;
	vfs_free(a);
}

/* The file's own name goes while it has others: it moves into the place of one of them. */
static void take_alias_place(struct node *n)
{
	struct node *a = n->aliases;
	char *name = a->name;
	link_out(a);
	link_out(n);
	n->aliases = a->next_alias;
	kfree(n->name);
	n->name = name;
	n->parent = a->parent;
	link_in(n);
	a->name = NULL;
	n->nlink--;
	vfs_touch(n, false);
	vfs_nodes--;
	vfs_free(a);
}

int vfs_link(struct node *target, struct node *parent, const char *name)
{
	struct node *a = vfs_create(parent, name, K_HLINK, target->mode);
	if (!a)
		return -12;
	a->target = target;
	a->next_alias = target->aliases;
	target->aliases = a;
	target->nlink++;
	vfs_touch(target, false);
	return 0;
}

void vfs_remove(struct node *n)
{
	if (n->kind == K_HLINK) {
		remove_alias(n);
		return;
	}
	if (n->aliases) {
		take_alias_place(n);
		return;
	}
	link_out(n);
	n->dead = true;
	n->parent = n; /* unreachable: keep it valid for open descriptors */
	if (!n->opens && n->kind == K_FILE) {
		kfree(n->data);
		n->data = NULL;
		n->cap = 0;
	}
	vfs_nodes--;
}

void vfs_free(struct node *n)
{
	shm_forget(n);
	kfree(n->name);
	kfree(n->link);
	kfree(n->data);
	kfree(n);
}

int vfs_rename(struct node *n, struct node *newparent, const char *newname)
{
	char *nm = kstrdup(newname);
	if (!nm)
		return -12;
	link_out(n);
	kfree(n->name);
	n->name = nm;
	n->parent = newparent;
	link_in(n);
	return 0;
}

static int walk(struct node *dir, const char *path, bool follow, bool entry, struct node **out,
		struct node **parent, char *last);

int vfs_walk(struct node *dir, const char *path, bool follow, struct node **out,
	     struct node **parent, char *last)
{
	return walk(dir, path, follow, false, out, parent, last);
}

int vfs_walk_entry(struct node *dir, const char *path, struct node **out, struct node **parent,
		   char *last)
{
	return walk(dir, path, false, true, out, parent, last);
}

static int walk(struct node *dir, const char *path, bool follow, bool entry, struct node **out,
		struct node **parent, char *last)
{
	char buf[4096];
	int hops = 0;
	size_t len = strlen(path);
	if (!len)
		return -2;
	if (len >= sizeof(buf))
		return -36;
	memcpy(buf, path, len + 1);
	struct node *cur = buf[0] == '/' ? vfs_root : dir;
	char *p = buf;
	*out = NULL;
	if (parent)
		*parent = NULL;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p) {
			*out = cur;
			return 0;
		}
		if (cur->kind != K_DIR)
			return -20;
		char *end = p;
		while (*end && *end != '/')
			end++;
		size_t clen = (size_t)(end - p);
		char *rest = end;
		while (*rest == '/')
			rest++;
		bool is_last = !*rest;
		if (clen > 255)
			return -36;
		if (clen == 1 && p[0] == '.') {
			p = end;
			continue;
		}
		if (clen == 2 && p[0] == '.' && p[1] == '.') {
			cur = cur->parent;
			p = end;
			continue;
		}
		if (cur->refresh)
			cur->refresh(cur);
		struct node *n = child(cur, p, clen);
		if (n && n->kind == K_HLINK && !(entry && is_last))
			n = n->target;
		if (!n) {
			if (!is_last || !parent)
				return -2;
			*parent = cur;
			memcpy(last, p, clen);
			last[clen] = 0;
			return -2;
		}
		if (n->kind == K_LINK && (!is_last || follow)) {
			if (++hops > 40)
				return -40;
			size_t tl = strlen(n->link), rl = strlen(end);
			if (tl + rl + 1 >= sizeof(buf))
				return -36;
			memmove(buf + tl, end, rl + 1);
			memcpy(buf, n->link, tl);
			p = buf;
			if (buf[0] == '/')
				cur = vfs_root;
			/* a relative target resolves from the link's directory, cur */
			continue;
		}
		if (is_last) {
			*out = n;
			if (parent)
				*parent = cur;
			return 0;
		}
		cur = n;
		p = end;
	}
}

int vfs_path(struct node *n, char *buf, size_t size)
{
	char tmp[4096];
	size_t pos = sizeof(tmp) - 1;
	tmp[pos] = 0;
	if (n->dead)
		return -2;
	if (n == vfs_root)
		tmp[--pos] = '/';
	for (; n != vfs_root; n = n->parent) {
		size_t l = strlen(n->name);
		if (l + 1 > pos)
			return -36;
		pos -= l;
		memcpy(tmp + pos, n->name, l);
		tmp[--pos] = '/';
	}
	size_t l = sizeof(tmp) - 1 - pos;
	if (l + 1 > size)
		return -34;
	memcpy(buf, tmp + pos, l + 1);
	return (int)l + 1;
}

/* Bring a disk-backed file into RAM before its first change. */
static int copy_up(struct node *n, size_t want)
{
	if (n->ram && n->cap >= want)
		return 0;
	size_t cap = MAX(want, n->ram ? n->cap * 2 : (size_t)n->size);
	cap = MAX(cap, 64);
	char *d = kmalloc(cap);
	if (!d)
		return -28; /* ENOSPC: the overlay lives in RAM */
	if (n->ram) {
		memcpy(d, n->data, n->size);
		kfree(n->data);
	} else if (n->size && blk_read(n->disk_off, d, n->size)) {
		kfree(d);
		return -5;
	}
	n->data = d;
	n->cap = cap;
	n->ram = true;
	return 0;
}

int vfs_make_ram(struct node *n)
{
	return copy_up(n, (size_t)n->size);
}

int vfs_truncate(struct node *n, uint64_t size)
{
	if (n->kind != K_FILE)
		return n->kind == K_DIR ? -21 : -22;
	int r = copy_up(n, MAX((size_t)size, (size_t)n->size));
	if (r)
		return r;
	if (n->sh) /* what stays may be newer in a mapping */
		shm_sync_in(n, 0, n->size);
	if (size > n->size)
		memset(n->data + n->size, 0, size - n->size);
	n->size = size;
	if (n->sh) /* and what went reads as zeros there */
		shm_sync_out(n, 0, ~0ull >> 1);
	vfs_touch(n, true);
	return 0;
}

long vfs_pread(struct node *n, void *buf, size_t len, uint64_t off)
{
	if (off >= n->size)
		return 0;
	len = MIN(len, n->size - off);
	if (n->sh)
		shm_sync_in(n, off, len);
	if (n->ram)
		memcpy(buf, n->data + off, len);
	else if (blk_read(n->disk_off + off, buf, len))
		return -5;
	return (long)len;
}

long vfs_pwrite(struct node *n, const void *buf, size_t len, uint64_t off)
{
	if (off + len < off)
		return -27;
	int r = copy_up(n, (size_t)MAX(off + len, n->size));
	if (r)
		return r;
	if (off > n->size)
		memset(n->data + n->size, 0, off - n->size);
	if (n->sh) /* the rest of the pages written may be newer in a mapping */
		shm_sync_in(n, off, len);
	memcpy(n->data + off, buf, len);
	if (off + len > n->size)
		n->size = off + len;
	if (n->sh)
		shm_sync_out(n, off, len);
	vfs_touch(n, true);
	return (long)len;
}

static struct node *mkdirs(const char *path, size_t len)
{
	struct node *cur = vfs_root;
	const char *p = path, *end = path + len;
	while (p < end) {
		const char *e = p;
		while (e < end && *e != '/')
			e++;
		if (e > p) {
			struct node *n = child(cur, p, (size_t)(e - p));
			if (!n) {
				char name[256];
				if ((size_t)(e - p) >= sizeof(name))
					return NULL;
				memcpy(name, p, (size_t)(e - p));
				name[e - p] = 0;
				n = vfs_create(cur, name, K_DIR, S_IFDIR | 0755);
				if (!n)
					return NULL;
			}
			if (n->kind != K_DIR)
				return NULL;
			cur = n;
		}
		p = e + 1;
	}
	return cur;
}

/* A symbolic link the kernel makes at boot. */
static void boot_link(struct node *dir, const char *name, const char *target)
{
	struct node *n = vfs_create(dir, name, K_LINK, S_IFLNK | 0777);
	if (!n || !(n->link = kstrdup(target)))
		panic("out of memory for /%s/%s", dir->name, name);
}

/*
 * What a Linux system has before its first program runs: the devices, the
 * links devtmpfs and init add (/dev/stdout for a log "file" such as nginx's
 * access_log, /dev/fd for bash), a /tmp and a /run (pid files, sockets).
 */
void vfs_init(void)
{
	vfs_root = vfs_create(NULL, "", K_DIR, S_IFDIR | 0755);
	vfs_cwd = vfs_root;
	struct node *dev = vfs_create(vfs_root, "dev", K_DIR, S_IFDIR | 0755);
	vfs_create(dev, "null", K_NULL, S_IFCHR | 0666);
	vfs_create(dev, "zero", K_ZERO, S_IFCHR | 0666);
	vfs_create(dev, "random", K_RANDOM, S_IFCHR | 0666);
	vfs_create(dev, "urandom", K_URANDOM, S_IFCHR | 0666);
	vfs_create(dev, "tty", K_TTY, S_IFCHR | 0666);
	vfs_create(dev, "console", K_TTY, S_IFCHR | 0600);
	boot_link(dev, "fd", "/proc/self/fd");
	boot_link(dev, "stdin", "/proc/self/fd/0");
	boot_link(dev, "stdout", "/proc/self/fd/1");
	boot_link(dev, "stderr", "/proc/self/fd/2");
	vfs_create(vfs_root, "tmp", K_DIR, S_IFDIR | 01777);
	vfs_create(vfs_root, "run", K_DIR, S_IFDIR | 0755);
}

struct scan_ctx {
	uint64_t base;
	int err;
};

static int scan_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct scan_ctx *s = ctx;
	return blk_read(s->base + off, buf, len) ? -5 : 0;
}

/* One cpio entry: later entries override earlier ones, parents appear as needed. */
static int scan_entry(void *ctx, const struct kcpio_entry *e)
{
	struct scan_ctx *s = ctx;
	if (!e->name[0])
		return 0;
	const char *slash = strrchr(e->name, '/');
	struct node *dir = slash ? mkdirs(e->name, (size_t)(slash - e->name)) : vfs_root;
	const char *base = slash ? slash + 1 : e->name;
	if (!dir || !*base || !strcmp(base, ".") || !strcmp(base, ".."))
		return 0;
	enum node_kind kind;
	switch (e->mode & S_IFMT) {
	case S_IFDIR:
		kind = K_DIR;
		break;
	case S_IFLNK:
		kind = K_LINK;
		break;
	case S_IFREG:
		kind = K_FILE;
		break;
	case S_IFIFO:
		kind = K_FIFO;
		break;
	default:
		return 0; /* devices and sockets: not in a unikernel's root */
	}
	struct node *n = child(dir, base, strlen(base));
	if (n && n->kind == K_DIR && kind == K_DIR) {
		n->mode = e->mode;
		return 0;
	}
	if (n)
		vfs_remove(n);
	n = vfs_create(dir, base, kind, e->mode);
	if (!n)
		return -12;
	n->atime = n->mtime = n->ctime = (struct linux_timespec){e->mtime, 0};
	n->uid = e->uid;
	n->gid = e->gid;
	n->ram = false;
	n->size = kind == K_DIR ? 0 : e->size;
	n->disk_off = s->base + e->data_off;
	if (kind == K_LINK) {
		if (e->size == 0 || e->size > 4095)
			return 0;
		n->link = kmalloc(e->size + 1);
		if (!n->link || blk_read(n->disk_off, n->link, e->size))
			return -5;
		n->link[e->size] = 0;
	}
	return 0;
}

int vfs_index(uint64_t rootfs_off, uint64_t rootfs_size)
{
	static char namebuf[KCPIO_NAME_MAX + 1];
	struct scan_ctx s = {rootfs_off, 0};
	uint64_t bad = 0;
	long r = kcpio_scan(scan_read, &s, rootfs_size, scan_entry, &s, namebuf, &bad);
	if (r < 0)
		panic("root fs: %s at byte %lu of the archive", kcpio_strerror(r), bad);
	return (int)r;
}
