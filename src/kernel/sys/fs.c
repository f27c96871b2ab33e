/* SPDX-License-Identifier: BSD-3-Clause */
/* Paths and the file system calls: stat, open, directories, links, the working directory. */
#include "sys.h"

int ustr(uint64_t p, char *buf, size_t size)
{
	for (size_t i = 0; i < size; i++) {
		if (!(i % PAGE_SIZE) || !((p + i) % PAGE_SIZE))
			if (!vm_user_ok(p + i, 1))
				return -EFAULT;
		buf[i] = *(const char *)(p + i);
		if (!buf[i])
			return 0;
	}
	return -ENAMETOOLONG;
}

static int dirfd_node(long dirfd, struct node **dir)
{
	if ((int)dirfd == AT_FDCWD) {
		*dir = vfs_cwd;
		return 0;
	}
	struct file *f = fd_get(dirfd);
	if (!f)
		return -EBADF;
	if (f->n->kind != K_DIR)
		return -ENOTDIR;
	*dir = f->n;
	return 0;
}

/* The user's path copied in, and the folder a relative one starts from. */
static int walk_from(long dirfd, uint64_t upath, char *path, struct node **dir)
{
	int r = ustr(upath, path, 4096);
	return r ? r : dirfd_node(dirfd, dir);
}

int lookup_at(long dirfd, uint64_t upath, bool follow, struct node **out)
{
	char path[4096];
	struct node *dir;
	int r = walk_from(dirfd, upath, path, &dir);
	return r ? r : vfs_walk(dir, path, follow, out, NULL, NULL);
}

/* For creating: *n is the existing node or NULL with *parent/name set. */
int lookup_create(long dirfd, uint64_t upath, bool follow, struct node **n, struct node **parent,
		  char *name)
{
	char path[4096];
	struct node *dir;
	int r = walk_from(dirfd, upath, path, &dir);
	if (r)
		return r;
	r = vfs_walk(dir, path, follow, n, parent, name);
	return r == -ENOENT && *parent ? 0 : r;
}

/*
 * The name itself, not the file a hard link names: for unlink and rename.
 * *n is NULL with *parent and name set when only the last component is missing.
 */
static int lookup_entry(long dirfd, uint64_t upath, struct node **n, struct node **parent,
			char *name)
{
	char path[4096];
	struct node *dir;
	int r = walk_from(dirfd, upath, path, &dir);
	if (r)
		return r;
	r = vfs_walk_entry(dir, path, n, parent, name);
	return r == -ENOENT && parent && *parent ? 0 : r;
}

static struct node *file_of(struct node *n)
{
	return n && n->kind == K_HLINK ? n->target : n;
}

/* Device numbers as on Linux: mem devices are major 1, the console is ttyS0 (4, 64). */
static uint64_t node_rdev(const struct node *n)
{
	switch (n->kind) {
	case K_NULL:
		return (1 << 8) | 3;
	case K_ZERO:
		return (1 << 8) | 5;
	case K_RANDOM:
		return (1 << 8) | 8;
	case K_URANDOM:
		return (1 << 8) | 9;
	case K_TTY:
		return (4 << 8) | 64;
	default:
		return 0;
	}
}

static void fill_stat(struct node *n, struct linux_stat *st)
{
	memset(st, 0, sizeof(*st));
	/* device numbers of the file systems as Linux numbers them; anonymous pipes have their own
	 */
	st->dev = n->unnamed ? 0xc : n->fs == FS_PROC ? 0x16 : n->fs == FS_SYS ? 0x15 : 1;
	st->ino = n->ino;
	st->nlink = n->kind == K_DIR ? 2 : n->nlink;
	st->mode = n->mode;
	st->uid = n->uid;
	st->gid = n->gid;
	if (n->kind == K_LINK)
		st->size = (int64_t)strlen(n->link);
	else if (n->kind == K_FILE)
		st->size = (int64_t)n->size;
	st->rdev = node_rdev(n);
	st->blksize = 4096;
	if (n->kind == K_FILE) /* whole pages, as tmpfs counts them; links and folders hold none */
		st->blocks = (st->size + 4095) / 4096 * 8;
	st->atime = n->atime.sec, st->atime_ns = n->atime.nsec;
	st->mtime = n->mtime.sec, st->mtime_ns = n->mtime.nsec;
	st->ctime = n->ctime.sec, st->ctime_ns = n->ctime.nsec;
}

static long put_stat(struct node *n, uint64_t ust)
{
	struct linux_stat st;
	UOK(ust, sizeof(st));
	fill_stat(n, &st);
	memcpy((void *)ust, &st, sizeof(st));
	return 0;
}

static long stat_at(long dirfd, uint64_t path, uint64_t ust, long flags)
{
	struct node *n;
	char p0 = 0;
	if ((flags & AT_EMPTY_PATH) && vm_user_ok(path, 1))
		p0 = *(char *)path;
	if ((flags & AT_EMPTY_PATH) && !p0) {
		struct file *f = fd_get(dirfd);
		if ((int)dirfd == AT_FDCWD)
			return put_stat(vfs_cwd, ust);
		if (!f)
			return -EBADF;
		return put_stat(f->n, ust);
	}
	int r = lookup_at(dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW), &n);
	return r ? r : put_stat(n, ust);
}

SYSCALL2(stat, uint64_t, path, uint64_t, ust)
{
	return stat_at(AT_FDCWD, path, ust, 0);
}

SYSCALL2(fstat, long, fd, uint64_t, ust)
{
	return stat_at(fd, 0, ust, AT_EMPTY_PATH);
}

SYSCALL2(lstat, uint64_t, path, uint64_t, ust)
{
	return stat_at(AT_FDCWD, path, ust, AT_SYMLINK_NOFOLLOW);
}

SYSCALL4(newfstatat, long, dirfd, uint64_t, path, uint64_t, ust, long, flags)
{
	return stat_at(dirfd, path, ust, flags);
}

SYSCALL5(statx, long, dirfd, uint64_t, path, long, flags, long, mask, uint64_t, ubuf)
{
	struct node *n;
	struct linux_stat st;
	uint8_t sx[256];
	char p0 = 0;
	UOK(ubuf, sizeof(sx));
	if (vm_user_ok(path, 1))
		p0 = *(char *)path;
	if ((flags & AT_EMPTY_PATH) && !p0) {
		if ((int)dirfd == AT_FDCWD) {
			n = vfs_cwd;
		} else {
			struct file *f = fd_get(dirfd);
			if (!f)
				return -EBADF;
			n = f->n;
		}
	} else {
		int r = lookup_at(dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW), &n);
		if (r)
			return r;
	}
	fill_stat(n, &st);
	memset(sx, 0, sizeof(sx));
	uint32_t m = 0x7ff, blksize = 4096, nlink = (uint32_t)st.nlink;
	uint16_t mode = (uint16_t)st.mode;
	memcpy(sx + 0, &m, 4);
	memcpy(sx + 4, &blksize, 4);
	memcpy(sx + 16, &nlink, 4);
	memcpy(sx + 20, &st.uid, 4);
	memcpy(sx + 24, &st.gid, 4);
	memcpy(sx + 28, &mode, 2);
	memcpy(sx + 32, &st.ino, 8);
	memcpy(sx + 40, &st.size, 8);
	memcpy(sx + 48, &st.blocks, 8);
	/* atime, btime (the change time stands in), ctime, mtime: seconds then nanoseconds */
	const int64_t t[4][2] = {{st.atime, st.atime_ns},
				 {st.ctime, st.ctime_ns},
				 {st.ctime, st.ctime_ns},
				 {st.mtime, st.mtime_ns}};
	for (int i = 0; i < 4; i++) {
		uint32_t ns = (uint32_t)t[i][1];
		memcpy(sx + 0x40 + 0x10 * i, &t[i][0], 8);
		memcpy(sx + 0x48 + 0x10 * i, &ns, 4);
	}
	uint32_t rmaj = (uint32_t)(st.rdev >> 8), rmin = (uint32_t)(st.rdev & 0xff),
		 dmaj = (uint32_t)(st.dev >> 8), dmin = (uint32_t)(st.dev & 0xff);
	memcpy(sx + 0x80, &rmaj, 4);
	memcpy(sx + 0x84, &rmin, 4);
	memcpy(sx + 0x88, &dmaj, 4);
	memcpy(sx + 0x8c, &dmin, 4);
	memcpy((void *)ubuf, sx, sizeof(sx));
	return 0;
}

SYSCALL4(openat, long, dirfd, uint64_t, upath, long, flags, long, mode)
{
	struct node *n = NULL, *parent = NULL;
	char name[256];
	int acc = (int)flags & O_ACCMODE;
	int r = lookup_create(dirfd, upath, !(flags & O_NOFOLLOW), &n, &parent, name);
	if (r)
		return r;
	if (!n) {
		if (!(flags & O_CREAT))
			return -ENOENT;
		if (parent->kind != K_DIR)
			return -ENOTDIR;
		n = vfs_create(parent, name, K_FILE,
			       S_IFREG | ((uint32_t)mode & 07777 & ~proc_umask()));
		if (!n)
			return -ENOMEM;
	} else {
		if ((flags & O_CREAT) && (flags & O_EXCL))
			return -EEXIST;
		if (n->kind == K_LINK)
			return -ELOOP;
		if ((flags & O_DIRECTORY) && n->kind != K_DIR)
			return -ENOTDIR;
		if (n->kind == K_DIR && acc != 0 && !(flags & O_PATH))
			return -EISDIR;
		if ((n->mode & S_IFMT) == S_IFSOCK && !(flags & O_PATH))
			return -ENXIO; /* an AF_UNIX socket's name: connect(2), not open */
		if ((flags & O_TRUNC) && acc != 0 && n->kind == K_FILE && (r = vfs_truncate(n, 0)))
			return r;
	}
	struct file *f = file_new(n, (int)flags);
	if (!f)
		return -ENOMEM;
	if (n->kind == K_PROC && !(flags & O_PATH) && (r = procfs_fill(f))) {
		n->opens--;
		kfree(f);
		return r;
	}
	if (n->kind == K_FIFO && !(flags & O_PATH) && (r = pipe_open(f))) {
		n->opens--;
		kfree(f);
		return r;
	}
	r = fd_alloc(f, 0, flags & O_CLOEXEC);
	if (r < 0) {
		f->refs = 1;
		file_put(f);
	}
	return r;
}

/* mknod makes FIFOs and regular files; device nodes have no driver behind them here. */
SYSCALL4(mknodat, long, dirfd, uint64_t, path, long, mode, long, dev)
{
	struct node *n = NULL, *parent = NULL;
	char name[256];
	uint32_t type = (uint32_t)mode & S_IFMT, perm = (uint32_t)mode & 07777 & ~proc_umask();
	if (type != 0 && type != S_IFREG && type != S_IFIFO)
		return type == S_IFCHR || type == 0060000 || type == S_IFSOCK ? -EPERM : -EINVAL;
	int r = lookup_create(dirfd, path, false, &n, &parent, name);
	if (r)
		return r;
	if (n)
		return -EEXIST;
	if (type == S_IFIFO)
		return vfs_create(parent, name, K_FIFO, S_IFIFO | perm) ? 0 : -ENOMEM;
	return vfs_create(parent, name, K_FILE, S_IFREG | perm) ? 0 : -ENOMEM;
}

SYSCALL3(mknod, uint64_t, path, long, mode, long, dev)
{
	return do_mknodat(AT_FDCWD, path, mode, dev);
}

SYSCALL2(creat, uint64_t, upath, long, mode)
{
	return do_openat(AT_FDCWD, upath, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

SYSCALL3(open, uint64_t, upath, long, flags, long, mode)
{
	return do_openat(AT_FDCWD, upath, flags, mode);
}

SYSCALL3(getdents64, long, fd, uint64_t, ubuf, size_t, len)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	if (f->n->kind != K_DIR)
		return -ENOTDIR;
	UOK(ubuf, len);
	char *out = (char *)ubuf;
	size_t pos = 0;
	for (;;) {
		struct node *c = NULL;
		const char *name;
		uint64_t ino;
		uint8_t type;
		if (f->dirpos == 0) {
			if (f->n->refresh)
				f->n->refresh(f->n);
			name = ".", ino = f->n->ino, type = 4;
		} else if (f->dirpos == 1) {
			name = "..", ino = f->n->parent->ino, type = 4;
		} else {
			c = f->n->child;
			for (uint32_t i = 2; c && i < f->dirpos; i++)
				c = c->sibling;
			if (!c)
				break;
			name = c->name;
			c = file_of(c);
			ino = c->ino;
			type = (c->mode & S_IFMT) == S_IFSOCK ? 12
			       : c->kind == K_DIR	      ? 4
			       : c->kind == K_LINK	      ? 10
			       : c->kind == K_FILE	      ? 8
			       : c->kind == K_FIFO	      ? 1
							      : 2;
		}
		size_t nl = strlen(name), rec = (19 + nl + 1 + 7) & ~7ul;
		if (pos + rec > len) {
			if (!pos)
				return -EINVAL;
			break;
		}
		int64_t next = f->dirpos + 1;
		uint16_t r16 = (uint16_t)rec;
		memcpy(out + pos, &ino, 8);
		memcpy(out + pos + 8, &next, 8);
		memcpy(out + pos + 16, &r16, 2);
		out[pos + 18] = (char)type;
		memcpy(out + pos + 19, name, nl + 1);
		pos += rec;
		f->dirpos++;
	}
	return (long)pos;
}

SYSCALL3(mkdirat, long, dirfd, uint64_t, path, long, mode)
{
	struct node *n = NULL, *parent = NULL;
	char name[256];
	int r = lookup_create(dirfd, path, false, &n, &parent, name);
	if (r)
		return r;
	if (n)
		return -EEXIST;
	return vfs_create(parent, name, K_DIR, S_IFDIR | ((uint32_t)mode & 07777 & ~proc_umask()))
		   ? 0
		   : -ENOMEM;
}

SYSCALL2(mkdir, uint64_t, path, long, mode)
{
	return do_mkdirat(AT_FDCWD, path, mode);
}

SYSCALL3(unlinkat, long, dirfd, uint64_t, path, long, flags)
{
	struct node *n;
	int r = lookup_entry(dirfd, path, &n, NULL, NULL);
	if (r)
		return r;
	if (n == vfs_root)
		return -EPERM;
	if (flags & AT_REMOVEDIR) {
		if (n->kind != K_DIR)
			return -ENOTDIR;
		if (n->child)
			return -ENOTEMPTY;
		if (n == vfs_cwd)
			return -EPERM;
	} else if (n->kind == K_DIR) {
		return -EISDIR;
	}
	vfs_remove(n);
	return 0;
}

SYSCALL1(unlink, uint64_t, path)
{
	return do_unlinkat(AT_FDCWD, path, 0);
}

SYSCALL1(rmdir, uint64_t, path)
{
	return do_unlinkat(AT_FDCWD, path, AT_REMOVEDIR);
}

SYSCALL5(renameat2, long, olddir, uint64_t, oldpath, long, newdir, uint64_t, newpath, long, flags)
{
	struct node *from, *to = NULL, *parent = NULL;
	char name[256];
	if (flags & ~1l)
		return -EINVAL;
	int r = lookup_entry(olddir, oldpath, &from, NULL, NULL);
	if (r)
		return r;
	if ((r = lookup_entry(newdir, newpath, &to, &parent, name)))
		return r;
	if (file_of(to) == file_of(from))
		return 0; /* two names of one file: Linux does nothing */
	if (to) {
		if (flags & 1)
			return -EEXIST;
		if (to->kind == K_DIR && from->kind != K_DIR)
			return -EISDIR;
		if (to->kind != K_DIR && from->kind == K_DIR)
			return -ENOTDIR;
		if (to->kind == K_DIR && to->child)
			return -ENOTEMPTY;
		parent = to->parent;
		memcpy(name, to->name, strlen(to->name) + 1);
	}
	for (struct node *p = parent; p != vfs_root; p = p->parent)
		if (p == from)
			return -EINVAL; /* into itself */
	if (to)
		vfs_remove(to);
	return vfs_rename(from, parent, name);
}

SYSCALL4(renameat, long, olddir, uint64_t, oldpath, long, newdir, uint64_t, newpath)
{
	return do_renameat2(olddir, oldpath, newdir, newpath, 0);
}

SYSCALL2(rename, uint64_t, oldpath, uint64_t, newpath)
{
	return do_renameat2(AT_FDCWD, oldpath, AT_FDCWD, newpath, 0);
}

/* linkat: a further name for a file (not a directory); the file keeps one inode number */
SYSCALL5(linkat, long, olddir, uint64_t, oldpath, long, newdir, uint64_t, newpath, long, flags)
{
	struct node *from, *to = NULL, *parent = NULL;
	char name[256];
	if (flags & ~(long)(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	int r;
	if ((flags & AT_EMPTY_PATH) && vm_user_ok(oldpath, 1) && !*(char *)oldpath) {
		struct file *f = fd_get(olddir);
		if (!f)
			return -EBADF;
		from = f->n;
	} else if ((r = lookup_at(olddir, oldpath, flags & AT_SYMLINK_FOLLOW, &from))) {
		return r;
	}
	if (from->kind == K_DIR)
		return -EPERM;
	if (from->dead || from->unnamed)
		return -ENOENT;
	if ((r = lookup_entry(newdir, newpath, &to, &parent, name)))
		return r;
	if (to)
		return -EEXIST;
	return vfs_link(from, parent, name);
}

SYSCALL2(link, uint64_t, oldpath, uint64_t, newpath)
{
	return do_linkat(AT_FDCWD, oldpath, AT_FDCWD, newpath, 0);
}

SYSCALL4(readlinkat, long, dirfd, uint64_t, upath, uint64_t, buf, long, size)
{
	struct node *n;
	if (size <= 0)
		return -EINVAL;
	UOK(buf, (uint64_t)size);
	int r = lookup_at(dirfd, upath, false, &n);
	if (r)
		return r;
	if (n->kind != K_LINK)
		return -EINVAL;
	const char *target = n->link;
	size_t l = MIN(strlen(target), (size_t)size);
	memcpy((void *)buf, target, l);
	return (long)l;
}

SYSCALL3(readlink, uint64_t, upath, uint64_t, buf, long, size)
{
	return do_readlinkat(AT_FDCWD, upath, buf, size);
}

SYSCALL3(symlinkat, uint64_t, utarget, long, dirfd, uint64_t, path)
{
	char target[4096];
	struct node *n = NULL, *parent = NULL;
	char name[256];
	int r = ustr(utarget, target, sizeof(target));
	if (r || (r = lookup_create(dirfd, path, false, &n, &parent, name)))
		return r;
	if (n)
		return -EEXIST;
	n = vfs_create(parent, name, K_LINK, S_IFLNK | 0777);
	if (!n || !(n->link = kstrdup(target)))
		return -ENOMEM;
	return 0;
}

SYSCALL2(symlink, uint64_t, utarget, uint64_t, path)
{
	return do_symlinkat(utarget, AT_FDCWD, path);
}

SYSCALL4(faccessat2, long, dirfd, uint64_t, path, long, mode, long, flags)
{
	struct node *n;
	int r = lookup_at(dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW), &n);
	if (r)
		return r;
	if ((mode & 1) && n->kind == K_FILE && !(n->mode & 0111))
		return -EACCES;
	return 0;
}

SYSCALL3(faccessat, long, dirfd, uint64_t, path, long, mode)
{
	return do_faccessat2(dirfd, path, mode, 0);
}

SYSCALL2(access, uint64_t, path, long, mode)
{
	return do_faccessat2(AT_FDCWD, path, mode, 0);
}

SYSCALL2(getcwd, uint64_t, buf, size_t, size)
{
	char tmp[4096];
	UOK(buf, size);
	int r = vfs_path(vfs_cwd, tmp, sizeof(tmp));
	if (r < 0)
		return r;
	if ((size_t)r > size)
		return -ERANGE;
	memcpy((void *)buf, tmp, (size_t)r);
	return r;
}

SYSCALL1(chdir, uint64_t, path)
{
	struct node *n;
	int r = lookup_at(AT_FDCWD, path, true, &n);
	if (r)
		return r;
	if (n->kind != K_DIR)
		return -ENOTDIR;
	vfs_cwd = n;
	return 0;
}

SYSCALL1(fchdir, long, fd)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	if (f->n->kind != K_DIR)
		return -ENOTDIR;
	vfs_cwd = f->n;
	return 0;
}
