/* SPDX-License-Identifier: BSD-3-Clause */
/* The Linux syscall table: one guarded dispatch by number; the rest returns -ENOSYS and is counted.
 */
#include "syscall.h"
#include "exec.h"
#include "fs/vfs.h"

#define EPERM	     1
#define ESRCH	     3
#define EINTR	     4
#define EBADF	     9
#define ENOMEM	     12
#define EFAULT	     14
#define EEXIST	     17
#define EXDEV	     18
#define ENOTDIR	     20
#define EISDIR	     21
#define EINVAL	     22
#define EMFILE	     24
#define ENOTTY	     25
#define ESPIPE	     29
#define ERANGE	     34
#define ENAMETOOLONG 36
#define ENOSYS	     38
#define ENOTEMPTY    39
#define ELOOP	     40
#define ENODEV	     19

#define AT_FDCWD	    (-100)
#define AT_SYMLINK_NOFOLLOW 0x100
#define AT_REMOVEDIR	    0x200
#define AT_EMPTY_PATH	    0x1000

long sys_last = -1;
#define NSYS 512
static uint32_t nosys_count[NSYS];

/* ---- descriptors ---- */
#define NFD 256
static struct {
	struct file *f;
	bool cloexec;
} fds[NFD];

static int fd_alloc(struct file *f, int from, bool cloexec)
{
	for (int i = from; i < NFD; i++)
		if (!fds[i].f) {
			fds[i].f = f;
			fds[i].cloexec = cloexec;
			f->refs++;
			return i;
		}
	return -EMFILE;
}

static struct file *fd_get(long fd)
{
	return fd >= 0 && fd < NFD ? fds[fd].f : NULL;
}

static void file_put(struct file *f)
{
	if (--f->refs)
		return;
	f->n->opens--;
	if (f->n->dead && !f->n->opens && f->n->kind == K_FILE) {
		kfree(f->n->data);
		f->n->data = NULL;
	}
	kfree(f);
}

static struct file *file_new(struct node *n, int flags)
{
	struct file *f = kzalloc(sizeof(*f));
	if (!f)
		return NULL;
	f->n = n;
	f->flags = flags;
	n->opens++;
	return f;
}

/* ---- user memory ---- */
static int ustr(uint64_t p, char *buf, size_t size)
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

#define UOK(p, n)                                                                                  \
	do {                                                                                       \
		if (!vm_user_ok((uint64_t)(p), (n)))                                               \
			return -EFAULT;                                                            \
	} while (0)

/* ---- paths ---- */
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

static int lookup_at(long dirfd, uint64_t upath, bool follow, struct node **out)
{
	char path[4096];
	struct node *dir;
	int r = ustr(upath, path, sizeof(path));
	if (r)
		return r;
	if ((r = dirfd_node(dirfd, &dir)))
		return r;
	return vfs_walk(dir, path, follow, out, NULL, NULL);
}

/* For creating: *n is the existing node or NULL with *parent/name set. */
static int lookup_create(long dirfd, uint64_t upath, bool follow, struct node **n,
			 struct node **parent, char *name)
{
	char path[4096];
	struct node *dir;
	int r = ustr(upath, path, sizeof(path));
	if (r)
		return r;
	if ((r = dirfd_node(dirfd, &dir)))
		return r;
	r = vfs_walk(dir, path, follow, n, parent, name);
	if (r == -ENOENT && *parent)
		return 0;
	return r;
}

/* ---- stat ---- */
struct kstat {
	uint64_t dev, ino, nlink;
	uint32_t mode, uid, gid, pad0;
	uint64_t rdev;
	int64_t size, blksize, blocks;
	int64_t atime, atime_ns, mtime, mtime_ns, ctime, ctime_ns;
	int64_t unused[3];
};

static void fill_stat(struct node *n, struct kstat *st)
{
	memset(st, 0, sizeof(*st));
	st->dev = 1;
	st->ino = n->ino;
	st->nlink = n->kind == K_DIR ? 2 : 1;
	st->mode = n->mode;
	if (n->kind == K_LINK)
		st->size = (int64_t)strlen(n->link);
	else if (n->kind == K_FILE)
		st->size = (int64_t)n->size;
	if (n->kind >= K_NULL)
		st->rdev = n->kind == K_TTY ? (4 << 8) | 64
					    : (1 << 8) | (n->kind == K_NULL   ? 3
							  : n->kind == K_ZERO ? 5
									      : 9);
	st->blksize = 4096;
	st->blocks = (st->size + 511) / 512;
	st->atime = st->mtime = st->ctime = n->mtime;
}

static long put_stat(struct node *n, uint64_t ust)
{
	struct kstat st;
	UOK(ust, sizeof(st));
	fill_stat(n, &st);
	memcpy((void *)ust, &st, sizeof(st));
	return 0;
}

static long sys_fstatat(long dirfd, uint64_t path, uint64_t ust, long flags)
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

static long sys_statx(long dirfd, uint64_t path, long flags, long mask, uint64_t ubuf)
{
	struct node *n;
	struct kstat st;
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
	memcpy(sx + 28, &mode, 2);
	memcpy(sx + 32, &st.ino, 8);
	memcpy(sx + 40, &st.size, 8);
	memcpy(sx + 48, &st.blocks, 8);
	for (int off = 0x40; off <= 0x70; off += 0x10)
		memcpy(sx + off, &st.mtime, 8);
	uint32_t rmaj = (uint32_t)(st.rdev >> 8), rmin = (uint32_t)(st.rdev & 0xff), dmin = 1;
	memcpy(sx + 0x80, &rmaj, 4);
	memcpy(sx + 0x84, &rmin, 4);
	memcpy(sx + 0x8c, &dmin, 4);
	memcpy((void *)ubuf, sx, sizeof(sx));
	return 0;
}

/* ---- open, read, write ---- */
static long sys_openat(long dirfd, uint64_t upath, long flags, long mode)
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
		if ((flags & O_TRUNC) && acc != 0 && n->kind == K_FILE && (r = vfs_truncate(n, 0)))
			return r;
	}
	struct file *f = file_new(n, (int)flags);
	if (!f)
		return -ENOMEM;
	r = fd_alloc(f, 0, flags & O_CLOEXEC);
	if (r < 0) {
		n->opens--;
		kfree(f);
	}
	return r;
}

static long do_read(struct file *f, void *buf, size_t len, uint64_t off, bool seekable)
{
	struct node *n = f->n;
	if ((f->flags & O_ACCMODE) == O_WRONLY || (f->flags & O_PATH))
		return -EBADF;
	switch (n->kind) {
	case K_TTY:
		return console_read(buf, len);
	case K_NULL:
		return 0;
	case K_ZERO:
		memset(buf, 0, len);
		return (long)len;
	case K_RANDOM:
		random_fill(buf, len);
		return (long)len;
	case K_DIR:
		return -EISDIR;
	default:
		return vfs_pread(n, buf, len, seekable ? off : f->off);
	}
}

static long do_write(struct file *f, const void *buf, size_t len, uint64_t off, bool positioned)
{
	struct node *n = f->n;
	if ((f->flags & O_ACCMODE) == 0 || (f->flags & O_PATH))
		return -EBADF;
	switch (n->kind) {
	case K_TTY:
		return console_write(buf, len);
	case K_NULL:
	case K_ZERO:
	case K_RANDOM:
		return (long)len;
	case K_DIR:
		return -EISDIR;
	default:
		if (!positioned)
			off = (f->flags & O_APPEND) ? n->size : f->off;
		return vfs_pwrite(n, buf, len, off);
	}
}

static long sys_read(long fd, uint64_t buf, size_t len)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	UOK(buf, len);
	long r = do_read(f, (void *)buf, len, 0, false);
	if (r > 0 && f->n->kind == K_FILE)
		f->off += (uint64_t)r;
	return r;
}

static long sys_write(long fd, uint64_t buf, size_t len)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	UOK(buf, len);
	long r = do_write(f, (void *)buf, len, 0, false);
	if (r > 0 && f->n->kind == K_FILE)
		f->off = ((f->flags & O_APPEND) ? f->n->size : f->off + (uint64_t)r);
	return r;
}

static long sys_pread(long fd, uint64_t buf, size_t len, int64_t off, bool write)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	if (f->n->kind == K_TTY)
		return -ESPIPE;
	if (off < 0)
		return -EINVAL;
	UOK(buf, len);
	return write ? do_write(f, (void *)buf, len, (uint64_t)off, true)
		     : do_read(f, (void *)buf, len, (uint64_t)off, true);
}

struct iovec {
	uint64_t base, len;
};

static long sys_rwv(long fd, uint64_t uiov, long cnt, bool write)
{
	if (cnt < 0 || cnt > 1024)
		return -EINVAL;
	UOK(uiov, (uint64_t)cnt * sizeof(struct iovec));
	const struct iovec *iov = (const struct iovec *)uiov;
	long total = 0;
	for (long i = 0; i < cnt; i++) {
		if (!iov[i].len)
			continue;
		long r = write ? sys_write(fd, iov[i].base, iov[i].len)
			       : sys_read(fd, iov[i].base, iov[i].len);
		if (r < 0)
			return total ? total : r;
		total += r;
		if ((uint64_t)r < iov[i].len)
			break;
	}
	return total;
}

static long sys_lseek(long fd, int64_t off, long whence)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	if (f->n->kind == K_TTY)
		return -ESPIPE;
	if (f->n->kind == K_DIR) {
		if (whence != 0 || off != 0)
			return -EINVAL;
		f->dirpos = 0;
		return 0;
	}
	int64_t base = whence == 0   ? 0
		       : whence == 1 ? (int64_t)f->off
		       : whence == 2 ? (int64_t)f->n->size
				     : -1;
	if (base < 0 && whence != 0)
		return -EINVAL;
	if (base + off < 0)
		return -EINVAL;
	f->off = (uint64_t)(base + off);
	return (long)f->off;
}

static long sys_close(long fd)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	fds[fd].f = NULL;
	file_put(f);
	return 0;
}

static long sys_dup3(long old, long new, long flags, bool dup2)
{
	struct file *f = fd_get(old);
	if (!f || new < 0 || new >= NFD)
		return -EBADF;
	if (old == new)
		return dup2 ? new : -EINVAL;
	if (flags & ~O_CLOEXEC)
		return -EINVAL;
	if (fds[new].f)
		file_put(fds[new].f);
	fds[new].f = f;
	fds[new].cloexec = flags & O_CLOEXEC;
	f->refs++;
	return new;
}

static long sys_fcntl(long fd, long cmd, uint64_t arg)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	switch (cmd) {
	case 0:	   /* F_DUPFD */
	case 1030: /* F_DUPFD_CLOEXEC */
		if ((long)arg < 0 || arg >= NFD)
			return -EINVAL;
		return fd_alloc(f, (int)arg, cmd == 1030);
	case 1: /* F_GETFD */
		return fds[fd].cloexec ? 1 : 0;
	case 2:
		fds[fd].cloexec = arg & 1;
		return 0;
	case 3: /* F_GETFL */
		return f->flags & ~O_CLOEXEC;
	case 4: /* F_SETFL: O_APPEND, O_NONBLOCK */
		f->flags = (f->flags & ~(O_APPEND | 04000)) | ((int)arg & (O_APPEND | 04000));
		return 0;
	case 5: /* F_GETLK: one process, so nothing ever conflicts */
		UOK(arg, 2);
		*(int16_t *)arg = 2; /* F_UNLCK */
		return 0;
	case 6:
	case 7:
		return 0;
	}
	return -EINVAL;
}

/* ---- directories ---- */
static long sys_getdents64(long fd, uint64_t ubuf, size_t len)
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
			name = ".", ino = f->n->ino, type = 4;
		} else if (f->dirpos == 1) {
			name = "..", ino = f->n->parent->ino, type = 4;
		} else {
			c = f->n->child;
			for (uint32_t i = 2; c && i < f->dirpos; i++)
				c = c->sibling;
			if (!c)
				break;
			name = c->name, ino = c->ino;
			type = c->kind == K_DIR	   ? 4
			       : c->kind == K_LINK ? 10
			       : c->kind == K_FILE ? 8
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

static long sys_mkdirat(long dirfd, uint64_t path, long mode)
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

static long sys_unlinkat(long dirfd, uint64_t path, long flags)
{
	struct node *n;
	int r = lookup_at(dirfd, path, false, &n);
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

static long sys_renameat(long olddir, uint64_t oldpath, long newdir, uint64_t newpath, long flags)
{
	struct node *from, *to = NULL, *parent = NULL;
	char name[256];
	if (flags & ~1l)
		return -EINVAL;
	int r = lookup_at(olddir, oldpath, false, &from);
	if (r)
		return r;
	if ((r = lookup_create(newdir, newpath, false, &to, &parent, name)))
		return r;
	if (to == from)
		return 0;
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

static long sys_readlinkat(long dirfd, uint64_t upath, uint64_t buf, long size)
{
	char path[4096];
	struct node *n;
	if (size <= 0)
		return -EINVAL;
	UOK(buf, (uint64_t)size);
	int r = ustr(upath, path, sizeof(path));
	if (r)
		return r;
	const char *target;
	char exe[4096];
	if (!strcmp(path, "/proc/self/exe")) {
		struct node *e;
		if (vfs_walk(vfs_root, proc.exe, true, &e, NULL, NULL) ||
		    vfs_path(e, exe, sizeof(exe)) < 0)
			return -ENOENT;
		target = exe;
	} else {
		if ((r = lookup_at(dirfd, upath, false, &n)))
			return r;
		if (n->kind != K_LINK)
			return -EINVAL;
		target = n->link;
	}
	size_t l = MIN(strlen(target), (size_t)size);
	memcpy((void *)buf, target, l);
	return (long)l;
}

static long sys_symlinkat(uint64_t utarget, long dirfd, uint64_t path)
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

static long sys_faccessat(long dirfd, uint64_t path, long mode, long flags)
{
	struct node *n;
	int r = lookup_at(dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW), &n);
	if (r)
		return r;
	if ((mode & 1) && n->kind == K_FILE && !(n->mode & 0111))
		return -EACCES;
	return 0;
}

static long sys_getcwd(uint64_t buf, size_t size)
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

static long sys_chdir(uint64_t path)
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

static long sys_ftruncate(long fd, int64_t len)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	if (len < 0 || (f->flags & O_ACCMODE) == 0)
		return -EINVAL;
	return vfs_truncate(f->n, (uint64_t)len);
}

/* ---- poll ---- */
struct pollfd {
	int fd;
	int16_t events, revents;
};

static long sys_poll(uint64_t ufds, uint64_t nfds, long timeout_ms)
{
	if (nfds > NFD)
		return -EINVAL;
	UOK(ufds, nfds * sizeof(struct pollfd));
	struct pollfd *p = (struct pollfd *)ufds;
	uint64_t end = timeout_ms > 0 ? time_ns() + (uint64_t)timeout_ms * 1000000 : 0;
	for (;;) {
		long ready = 0;
		bool tty_in = false; /* waiting for console input: poll the UART often */
		for (uint64_t i = 0; i < nfds; i++) {
			p[i].revents = 0;
			if (p[i].fd < 0)
				continue;
			struct file *f = fd_get(p[i].fd);
			if (!f) {
				p[i].revents = 0x20; /* POLLNVAL */
			} else if (f->n->kind == K_TTY) {
				p[i].revents = (int16_t)(p[i].events & 4); /* POLLOUT */
				if ((p[i].events & 1) && console_readable())
					p[i].revents |= 1;
				tty_in |= p[i].events & 1;
			} else {
				p[i].revents = (int16_t)(p[i].events & 5);
			}
			if (p[i].revents)
				ready++;
		}
		uint64_t now = time_ns();
		if (ready || timeout_ms == 0 || (timeout_ms > 0 && now >= end))
			return ready;
		if (power_stop_requested())
			kexit(128 + 15, "stopped by power button");
		uint64_t wait = timeout_ms > 0 ? end - now : IDLE_MAX_NS;
		cpu_idle(tty_in && wait > IDLE_CONSOLE_NS ? IDLE_CONSOLE_NS : wait);
	}
}

/* ---- memory ---- */
#define MAP_SHARED	    1
#define MAP_PRIVATE	    2
#define MAP_FIXED	    0x10
#define MAP_ANONYMOUS	    0x20
#define MAP_POPULATE	    0x8000
#define MAP_FIXED_NOREPLACE 0x100000
#define MMAP_TOP	    0x7f0000000000ul
static uint64_t mmap_next = MMAP_TOP;

static long sys_brk(uint64_t addr)
{
	if (addr < proc.brk_start)
		return (long)proc.brk;
	uint64_t old = PAGE_ALIGN_UP(proc.brk), want = PAGE_ALIGN_UP(addr);
	if (addr > proc.brk_start + (1ul << 40))
		return (long)proc.brk;
	if (want > old) {
		if (!vm_is_free(old, want - old) ||
		    vm_map(old, want - old, PROT_READ | PROT_WRITE, true))
			return (long)proc.brk;
	} else if (want < old) {
		vm_unmap(want, old - want);
	}
	proc.brk = addr;
	return (long)proc.brk;
}

static long sys_mmap(uint64_t addr, uint64_t len, long prot, long flags, long fd, int64_t off)
{
	if (!len || (off & 4095) || off < 0)
		return -EINVAL;
	len = PAGE_ALIGN_UP(len);
	if (!len || len > (1ul << 46))
		return -ENOMEM;
	struct file *f = NULL;
	if (!(flags & MAP_ANONYMOUS)) {
		if (!(f = fd_get(fd)))
			return -EBADF;
		if (f->n->kind != K_FILE && f->n->kind != K_ZERO)
			return -ENODEV;
		if ((flags & MAP_SHARED) && (prot & PROT_WRITE))
			return -ENODEV; /* shared writable file mappings are not supported */
	}
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if (addr & 4095)
			return -EINVAL;
		if ((flags & MAP_FIXED_NOREPLACE) && !vm_is_free(addr, len))
			return -EEXIST;
		if (addr + len < addr || addr + len > 0x800000000000ul)
			return -ENOMEM;
	} else if (!addr || (addr & 4095) || !vm_is_free(addr, len)) {
		if (mmap_next - len < 0x100000000ul || !vm_is_free(mmap_next - len, len)) {
			uint64_t a = mmap_next - len;
			while (a > 0x100000000ul && !vm_is_free(a, len))
				a -= len;
			if (a <= 0x100000000ul)
				return -ENOMEM;
			mmap_next = a + len;
		}
		addr = mmap_next - len;
		mmap_next = addr;
	}
	bool file = f && f->n->kind == K_FILE;
	int r = vm_map(addr, len, file ? PROT_READ | PROT_WRITE : (int)prot & 7,
		       !file && !(flags & MAP_POPULATE));
	if (r)
		return r;
	if (file) {
		long got = vfs_pread(f->n, (void *)addr, len, (uint64_t)off);
		if (got < 0) {
			vm_unmap(addr, len);
			return got;
		}
		vm_protect(addr, len, (int)prot & 7);
	}
	return (long)addr;
}

static long sys_munmap(uint64_t addr, uint64_t len)
{
	if ((addr & 4095) || !len)
		return -EINVAL;
	vm_unmap(addr, PAGE_ALIGN_UP(len));
	return 0;
}

static long sys_mprotect(uint64_t addr, uint64_t len, long prot)
{
	if (addr & 4095)
		return -EINVAL;
	return vm_protect(addr, PAGE_ALIGN_UP(len), (int)prot & 7);
}

static long sys_mremap(uint64_t old, uint64_t oldlen, uint64_t newlen, long flags, uint64_t newaddr)
{
	if ((old & 4095) || !newlen || (flags & ~3l) || ((flags & 2) && !(flags & 1)))
		return -EINVAL;
	oldlen = PAGE_ALIGN_UP(oldlen);
	newlen = PAGE_ALIGN_UP(newlen);
	if (!vm_user_ok(old, oldlen))
		return -EFAULT;
	if (flags & 2) {
		if (newaddr & 4095)
			return -EINVAL;
		vm_unmap(newaddr, newlen);
		vm_move(old, newaddr, MIN(oldlen, newlen));
		if (newlen > oldlen)
			vm_map(newaddr + oldlen, newlen - oldlen, PROT_READ | PROT_WRITE, true);
		vm_unmap(old, oldlen);
		return (long)newaddr;
	}
	if (newlen <= oldlen) {
		vm_unmap(old + newlen, oldlen - newlen);
		return (long)old;
	}
	if (vm_is_free(old + oldlen, newlen - oldlen)) {
		int r = vm_map(old + oldlen, newlen - oldlen, PROT_READ | PROT_WRITE, true);
		return r ? r : (long)old;
	}
	if (!(flags & 1))
		return -ENOMEM;
	long to = sys_mmap(0, newlen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (to < 0)
		return to;
	vm_move(old, (uint64_t)to, oldlen);
	return to;
}

static long sys_madvise(uint64_t addr, uint64_t len, long advice)
{
	if (addr & 4095)
		return -EINVAL;
	if (advice == 4) /* MADV_DONTNEED: private anonymous memory reads back as zeros */
		for (uint64_t a = addr; a < addr + len; a += PAGE_SIZE)
			if (vm_user_ok(a, 1))
				vm_zero_page(a);
	return 0;
}

/* ---- time ---- */
struct timespec {
	int64_t sec, nsec;
};

static uint64_t clock_ns(long clk)
{
	int64_t t = (int64_t)time_ns();
	if (clk == 0 || clk == 5 || clk == 11)
		t += time_realtime_offset();
	return (uint64_t)t;
}

static long sys_clock_gettime(long clk, uint64_t uts)
{
	if (clk < 0 || clk > 11 || clk == 8 || clk == 9 || clk == 10)
		return -EINVAL;
	UOK(uts, sizeof(struct timespec));
	uint64_t t = clock_ns(clk);
	struct timespec *ts = (struct timespec *)uts;
	ts->sec = (int64_t)(t / 1000000000);
	ts->nsec = (int64_t)(t % 1000000000);
	return 0;
}

static long sys_nanosleep_ts(long clk, long flags, uint64_t ureq, uint64_t urem)
{
	UOK(ureq, sizeof(struct timespec));
	const struct timespec *req = (const struct timespec *)ureq;
	if (req->sec < 0 || req->nsec < 0 || req->nsec >= 1000000000)
		return -EINVAL;
	uint64_t ns = (uint64_t)req->sec * 1000000000 + (uint64_t)req->nsec;
	if (flags & 1) { /* TIMER_ABSTIME */
		uint64_t now = clock_ns(clk);
		ns = ns > now ? ns - now : 0;
	}
	time_delay_ns(ns);
	if (urem && vm_user_ok(urem, sizeof(struct timespec)))
		memset((void *)urem, 0, sizeof(struct timespec));
	return 0;
}

/* ---- identity, limits ---- */
static struct {
	uint64_t cur, max;
} rlim[16];

static void rlim_init(void)
{
	for (int i = 0; i < 16; i++)
		rlim[i].cur = rlim[i].max = ~0ul;
	rlim[3].cur = 8ul << 20;	 /* RLIMIT_STACK */
	rlim[7].cur = rlim[7].max = NFD; /* RLIMIT_NOFILE */
	rlim[4].cur = 0;		 /* RLIMIT_CORE */
}

static long sys_prlimit(long pid, long res, uint64_t unew, uint64_t uold)
{
	if (pid != 0 && pid != 1)
		return -ESRCH;
	if (res < 0 || res >= 16)
		return -EINVAL;
	if (uold) {
		UOK(uold, 16);
		memcpy((void *)uold, &rlim[res], 16);
	}
	if (unew) {
		UOK(unew, 16);
		uint64_t v[2];
		memcpy(v, (void *)unew, 16);
		if (v[0] > v[1])
			return -EINVAL;
		if (v[1] > rlim[res].max)
			return -EPERM;
		rlim[res].cur = v[0];
		rlim[res].max = v[1];
	}
	return 0;
}

static long sys_uname(uint64_t ubuf)
{
	static const char *const f[6] = {
	    "Linux", "capstan", "6.1.0-capstan", "#1 capstan " CAPSTAN_VERSION, "x86_64", "(none)"};
	UOK(ubuf, 6 * 65);
	char *b = (char *)ubuf;
	memset(b, 0, 6 * 65);
	for (int i = 0; i < 6; i++)
		memcpy(b + i * 65, f[i], strlen(f[i]));
	return 0;
}

static long sys_sysinfo(uint64_t ubuf)
{
	uint8_t si[112];
	UOK(ubuf, sizeof(si));
	memset(si, 0, sizeof(si));
	uint64_t up = time_ns() / 1000000000, total = pmm_total_pages() * PAGE_SIZE,
		 fr = pmm_free_pages() * PAGE_SIZE;
	uint16_t procs = 1;
	uint32_t unit = 1;
	memcpy(si, &up, 8);
	memcpy(si + 32, &total, 8);
	memcpy(si + 40, &fr, 8);
	memcpy(si + 80, &procs, 2);
	memcpy(si + 104, &unit, 4);
	memcpy((void *)ubuf, si, sizeof(si));
	return 0;
}

/* ---- signals: honest for a process that never receives one ---- */
static uint64_t sigact[65][4];
static uint64_t sigmask;
static uint64_t altstack[3];

static long sys_rt_sigaction(long sig, uint64_t act, uint64_t oact, long size)
{
	if (sig < 1 || sig > 64 || size != 8)
		return -EINVAL;
	if (act && (sig == 9 || sig == 19))
		return -EINVAL;
	if (oact) {
		UOK(oact, 32);
		memcpy((void *)oact, sigact[sig], 32);
	}
	if (act) {
		UOK(act, 32);
		memcpy(sigact[sig], (void *)act, 32);
	}
	return 0;
}

static long sys_rt_sigprocmask(long how, uint64_t set, uint64_t oset, long size)
{
	if (size != 8)
		return -EINVAL;
	if (oset) {
		UOK(oset, 8);
		*(uint64_t *)oset = sigmask;
	}
	if (set) {
		UOK(set, 8);
		uint64_t s = *(uint64_t *)set & ~((1ul << 8) | (1ul << 18)); /* not KILL, STOP */
		if (how == 0)
			sigmask |= s;
		else if (how == 1)
			sigmask &= ~s;
		else if (how == 2)
			sigmask = s;
		else
			return -EINVAL;
	}
	return 0;
}

static long sys_sigaltstack(uint64_t ss, uint64_t oss)
{
	if (oss) {
		UOK(oss, 24);
		memcpy((void *)oss, altstack, 24);
		if (!altstack[0] && !altstack[2])
			((uint32_t *)oss)[2] = 2; /* SS_DISABLE */
	}
	if (ss) {
		UOK(ss, 24);
		memcpy(altstack, (void *)ss, 24);
	}
	return 0;
}

/* A signal sent to ourselves: default actions only, as there are no signal frames. */
static long sys_kill(long pid, long sig)
{
	if (pid != 1 && pid != 0 && pid != -1)
		return -ESRCH;
	if (sig < 0 || sig > 64)
		return -EINVAL;
	if (!sig || (sig < 64 && (sigmask & (1ul << (sig - 1))) && sig != 9))
		return 0;
	uint64_t h = sigact[sig][0];
	if (h == 1) /* SIG_IGN */
		return 0;
	if (h == 0 && (sig == 17 || sig == 23 || sig == 28 || sig == 18))
		return 0;
	char msg[80];
	ksnprintf(msg, sizeof(msg),
		  h ? "signal %ld has a handler, which this kernel cannot run"
		    : "killed by signal %ld",
		  sig);
	kexit(128 + (int)sig, msg);
}

/* ---- misc ---- */
static uint32_t umask_val = 022;
uint32_t proc_umask(void)
{
	return umask_val;
}

static long sys_arch_prctl(long code, uint64_t addr)
{
	switch (code) {
	case 0x1001: /* ARCH_SET_GS */
		if (addr >= 0x800000000000ul)
			return -EPERM;
		wrmsr(0xc0000101, addr);
		return 0;
	case 0x1002: /* ARCH_SET_FS */
		if (addr >= 0x800000000000ul)
			return -EPERM;
		wrmsr(0xc0000100, addr);
		return 0;
	case 0x1003:
	case 0x1004:
		UOK(addr, 8);
		*(uint64_t *)addr = rdmsr(code == 0x1003 ? 0xc0000100 : 0xc0000101);
		return 0;
	}
	return -EINVAL;
}

static long sys_getrandom(uint64_t buf, size_t len, long flags)
{
	if (flags & ~7l)
		return -EINVAL;
	UOK(buf, len);
	random_fill((void *)buf, len);
	return (long)len;
}

static long sys_rseq(uint64_t rs, uint32_t len, long flags, uint32_t sig)
{
	if (flags == 1)
		return 0;
	if (flags || len < 32)
		return -EINVAL;
	UOK(rs, 32);
	/* one CPU, never preempted: the critical sections never need aborting */
	((uint32_t *)rs)[0] = 0;
	((uint32_t *)rs)[1] = 0;
	return 0;
}

static void NORETURN sys_exit(long status)
{
	kexit((int)(status & 0xff), NULL);
}

/* ---- execve: the new program replaces the old one ---- */
#define EXEC_STRINGS (256u << 10) /* bytes of argv and envp strings, like a small ARG_MAX */

/* Copy a NULL-terminated user array of strings into pool; the count or a negative errno. */
static long copy_strv(uint64_t uv, char **out, char *pool, size_t *used)
{
	long n = 0;
	if (!uv)
		goto done;
	for (;; n++) {
		UOK(uv + (uint64_t)n * 8, 8);
		uint64_t p = *(const uint64_t *)(uv + (uint64_t)n * 8);
		if (!p)
			break;
		if (n >= KARGS)
			return -E2BIG;
		int r = ustr(p, pool + *used, EXEC_STRINGS - *used);
		if (r)
			return r == -ENAMETOOLONG ? -E2BIG : r;
		out[n] = pool + *used;
		*used += strlen(out[n]) + 1;
	}
done:
	out[n] = NULL;
	return n;
}

static long sys_execve(uint64_t upath, uint64_t uargv, uint64_t uenvp)
{
	static char path[4096], pool[EXEC_STRINGS + 1], why[400]; /* + 1: an empty argv[0] */
	static char *argv[KARGS + 1], *envp[KARGS + 1];
	static struct exec_image img;
	size_t used = 0;
	int r = ustr(upath, path, sizeof(path));
	if (r)
		return r;
	long argc = copy_strv(uargv, argv, pool, &used);
	if (argc < 0)
		return argc;
	long envc = copy_strv(uenvp, envp, pool, &used);
	if (envc < 0)
		return envc;
	if (!path[0])
		return -ENOENT;
	r = exec_check(path, &img, why, sizeof(why));
	if (r) {
		if (img.info.interp_size) /* the message the kernel gives at boot */
			kprintf("capstan: %s: %s\n", path, why);
		kverbose("capstan: execve %s: %s\n", path, why);
		return r;
	}
	if (!argc) { /* Linux gives such a program an empty argv[0] */
		argv[0] = pool + used;
		pool[used] = 0;
		argv[argc = 1] = NULL;
	}

	/* past the point of no return: tear down the old program */
	for (int i = 0; i < NFD; i++)
		if (fds[i].f && fds[i].cloexec) {
			file_put(fds[i].f);
			fds[i].f = NULL;
			fds[i].cloexec = false;
		}
	for (int i = 1; i <= 64; i++) {
		uint64_t keep = sigact[i][0] == 1 ? 1 : 0; /* ignored stays ignored */
		memset(sigact[i], 0, sizeof(sigact[i]));
		sigact[i][0] = keep;
	}
	memset(altstack, 0, sizeof(altstack));
	wrmsr(0xc0000100, 0);
	wrmsr(0xc0000101, 0);
	vm_release_user();
	mmap_next = MMAP_TOP;
	proc.brk_start = proc.brk = 0;
	exec_enter(&img, path, (int)argc, argv, envp, 0);
}

/* ---- names, for reports ---- */
static const char *const names[NSYS] = {
    [0] = "read",
    [1] = "write",
    [2] = "open",
    [3] = "close",
    [4] = "stat",
    [5] = "fstat",
    [6] = "lstat",
    [7] = "poll",
    [8] = "lseek",
    [9] = "mmap",
    [10] = "mprotect",
    [11] = "munmap",
    [12] = "brk",
    [13] = "rt_sigaction",
    [14] = "rt_sigprocmask",
    [15] = "rt_sigreturn",
    [16] = "ioctl",
    [17] = "pread64",
    [18] = "pwrite64",
    [19] = "readv",
    [20] = "writev",
    [21] = "access",
    [22] = "pipe",
    [23] = "select",
    [24] = "sched_yield",
    [25] = "mremap",
    [26] = "msync",
    [27] = "mincore",
    [28] = "madvise",
    [32] = "dup",
    [33] = "dup2",
    [34] = "pause",
    [35] = "nanosleep",
    [37] = "alarm",
    [38] = "setitimer",
    [39] = "getpid",
    [40] = "sendfile",
    [41] = "socket",
    [42] = "connect",
    [43] = "accept",
    [44] = "sendto",
    [45] = "recvfrom",
    [46] = "sendmsg",
    [47] = "recvmsg",
    [48] = "shutdown",
    [49] = "bind",
    [50] = "listen",
    [54] = "setsockopt",
    [56] = "clone",
    [57] = "fork",
    [58] = "vfork",
    [59] = "execve",
    [60] = "exit",
    [61] = "wait4",
    [62] = "kill",
    [63] = "uname",
    [72] = "fcntl",
    [73] = "flock",
    [74] = "fsync",
    [75] = "fdatasync",
    [76] = "truncate",
    [77] = "ftruncate",
    [78] = "getdents",
    [79] = "getcwd",
    [80] = "chdir",
    [81] = "fchdir",
    [82] = "rename",
    [83] = "mkdir",
    [84] = "rmdir",
    [85] = "creat",
    [86] = "link",
    [87] = "unlink",
    [88] = "symlink",
    [89] = "readlink",
    [90] = "chmod",
    [91] = "fchmod",
    [92] = "chown",
    [95] = "umask",
    [96] = "gettimeofday",
    [97] = "getrlimit",
    [98] = "getrusage",
    [99] = "sysinfo",
    [100] = "times",
    [102] = "getuid",
    [104] = "getgid",
    [107] = "geteuid",
    [108] = "getegid",
    [109] = "setpgid",
    [110] = "getppid",
    [111] = "getpgrp",
    [112] = "setsid",
    [127] = "rt_sigpending",
    [130] = "rt_sigsuspend",
    [131] = "sigaltstack",
    [137] = "statfs",
    [138] = "fstatfs",
    [157] = "prctl",
    [158] = "arch_prctl",
    [160] = "setrlimit",
    [186] = "gettid",
    [200] = "tkill",
    [201] = "time",
    [202] = "futex",
    [204] = "sched_getaffinity",
    [213] = "epoll_create",
    [217] = "getdents64",
    [218] = "set_tid_address",
    [228] = "clock_gettime",
    [229] = "clock_getres",
    [230] = "clock_nanosleep",
    [231] = "exit_group",
    [232] = "epoll_wait",
    [233] = "epoll_ctl",
    [234] = "tgkill",
    [257] = "openat",
    [258] = "mkdirat",
    [262] = "newfstatat",
    [263] = "unlinkat",
    [264] = "renameat",
    [266] = "symlinkat",
    [267] = "readlinkat",
    [269] = "faccessat",
    [270] = "pselect6",
    [271] = "ppoll",
    [273] = "set_robust_list",
    [280] = "utimensat",
    [281] = "epoll_pwait",
    [288] = "accept4",
    [290] = "eventfd2",
    [291] = "epoll_create1",
    [292] = "dup3",
    [293] = "pipe2",
    [302] = "prlimit64",
    [316] = "renameat2",
    [318] = "getrandom",
    [319] = "memfd_create",
    [332] = "statx",
    [334] = "rseq",
    [435] = "clone3",
    [439] = "faccessat2",
};

const char *syscall_name(long nr)
{
	return nr >= 0 && nr < NSYS && names[nr] ? names[nr] : "?";
}

void syscall_report(void)
{
	char line[512];
	size_t o = 0;
	for (int i = 0; i < NSYS; i++) {
		if (!nosys_count[i])
			continue;
		o += (size_t)ksnprintf(line + o, sizeof(line) - o, "%s%s(%d) x%u", o ? ", " : "",
				       syscall_name(i), i, nosys_count[i]);
		if (o >= sizeof(line) - 40) {
			kprintf("capstan: unimplemented syscalls: %s\n", line);
			o = 0;
		}
	}
	if (o)
		kprintf("capstan: unimplemented syscalls: %s\n", line);
	else
		kprintf("capstan: unimplemented syscalls: none\n");
}

void syscall_init(void)
{
	struct node *tty;
	rlim_init();
	if (vfs_walk(vfs_root, "/dev/tty", true, &tty, NULL, NULL))
		panic("no /dev/tty");
	struct file *f = file_new(tty, O_RDWR);
	for (int i = 0; i < 3; i++)
		fd_alloc(f, i, false);
}

void syscall_dispatch(struct sysframe *fr)
{
	long nr = (long)fr->rax;
	uint64_t a = fr->rdi, b = fr->rsi, c = fr->rdx, d = fr->r10, e = fr->r8, g = fr->r9;
	long r;
	sys_last = nr;
	if (power_stop_requested())
		kexit(128 + 15, "stopped by power button");
	switch (nr) {
	case 0:
		r = sys_read((long)a, b, c);
		break;
	case 1:
		r = sys_write((long)a, b, c);
		break;
	case 2:
		r = sys_openat(AT_FDCWD, a, (long)b, (long)c);
		break;
	case 3:
		r = sys_close((long)a);
		break;
	case 4:
		r = sys_fstatat(AT_FDCWD, a, b, 0);
		break;
	case 5:
		r = sys_fstatat((long)a, 0, b, AT_EMPTY_PATH);
		break;
	case 6:
		r = sys_fstatat(AT_FDCWD, a, b, AT_SYMLINK_NOFOLLOW);
		break;
	case 7:
		r = sys_poll(a, b, (int)c);
		break;
	case 8:
		r = sys_lseek((long)a, (int64_t)b, (long)c);
		break;
	case 9:
		r = sys_mmap(a, b, (long)c, (long)d, (int)e, (int64_t)g);
		break;
	case 10:
		r = sys_mprotect(a, b, (long)c);
		break;
	case 11:
		r = sys_munmap(a, b);
		break;
	case 12:
		r = sys_brk(a);
		break;
	case 13:
		r = sys_rt_sigaction((long)a, b, c, (long)d);
		break;
	case 14:
		r = sys_rt_sigprocmask((long)a, b, c, (long)d);
		break;
	case 16: {
		struct file *f = fd_get((long)a);
		r = !f ? -EBADF : f->n->kind == K_TTY ? console_ioctl(b, c) : -ENOTTY;
		break;
	}
	case 17:
		r = sys_pread((long)a, b, c, (int64_t)d, false);
		break;
	case 18:
		r = sys_pread((long)a, b, c, (int64_t)d, true);
		break;
	case 19:
		r = sys_rwv((long)a, b, (long)c, false);
		break;
	case 20:
		r = sys_rwv((long)a, b, (long)c, true);
		break;
	case 21:
		r = sys_faccessat(AT_FDCWD, a, (long)b, 0);
		break;
	case 24:
		r = 0;
		break;
	case 25:
		r = sys_mremap(a, b, c, (long)d, e);
		break;
	case 28:
		r = sys_madvise(a, b, (long)c);
		break;
	case 32: {
		struct file *f = fd_get((long)a);
		r = f ? fd_alloc(f, 0, false) : -EBADF;
		break;
	}
	case 33:
		r = sys_dup3((long)a, (long)b, 0, true);
		break;
	case 35:
		r = sys_nanosleep_ts(1, 0, a, b);
		break;
	case 39:
	case 186:
		r = 1;
		break; /* getpid, gettid */
	case 59:
		r = sys_execve(a, b, c);
		break;
	case 60:
	case 231:
		sys_exit((long)a);
	case 62:
		r = sys_kill((long)a, (long)b);
		break;
	case 63:
		r = sys_uname(a);
		break;
	case 72:
		r = sys_fcntl((long)a, (long)b, c);
		break;
	case 74:
	case 75:
		r = fd_get((long)a) ? 0 : -EBADF;
		break; /* fsync: RAM is all there is */
	case 77:
		r = sys_ftruncate((long)a, (int64_t)b);
		break;
	case 79:
		r = sys_getcwd(a, b);
		break;
	case 80:
		r = sys_chdir(a);
		break;
	case 81: {
		struct file *f = fd_get((long)a);
		r = !f ? -EBADF : f->n->kind != K_DIR ? -ENOTDIR : (vfs_cwd = f->n, 0);
		break;
	}
	case 82:
		r = sys_renameat(AT_FDCWD, a, AT_FDCWD, b, 0);
		break;
	case 83:
		r = sys_mkdirat(AT_FDCWD, a, (long)b);
		break;
	case 84:
		r = sys_unlinkat(AT_FDCWD, a, AT_REMOVEDIR);
		break;
	case 87:
		r = sys_unlinkat(AT_FDCWD, a, 0);
		break;
	case 88:
		r = sys_symlinkat(a, AT_FDCWD, b);
		break;
	case 89:
		r = sys_readlinkat(AT_FDCWD, a, b, (long)c);
		break;
	case 95:
		r = umask_val;
		umask_val = (uint32_t)a & 0777;
		break;
	case 96: {
		if (a) {
			if (!vm_user_ok(a, 16)) {
				r = -EFAULT;
				break;
			}
			uint64_t t = clock_ns(0);
			((int64_t *)a)[0] = (int64_t)(t / 1000000000);
			((int64_t *)a)[1] = (int64_t)(t % 1000000000 / 1000);
		}
		r = 0;
		break;
	}
	case 97:
		r = sys_prlimit(0, (long)a, 0, b);
		break;
	case 99:
		r = sys_sysinfo(a);
		break;
	case 102:
	case 104:
	case 107:
	case 108:
	case 110:
		r = 0;
		break; /* root, no parent */
	case 127:      /* rt_sigpending: nothing is ever pending */
		if (b != 8) {
			r = -EINVAL;
			break;
		}
		if (!vm_user_ok(a, 8)) {
			r = -EFAULT;
			break;
		}
		*(uint64_t *)a = 0;
		r = 0;
		break;
	case 131:
		r = sys_sigaltstack(a, b);
		break;
	case 158:
		r = sys_arch_prctl((long)a, b);
		break;
	case 160:
		r = sys_prlimit(0, (long)a, b, 0);
		break;
	case 201: {
		int64_t t = (int64_t)(clock_ns(0) / 1000000000);
		if (a && !vm_user_ok(a, 8)) {
			r = -EFAULT;
			break;
		}
		if (a)
			*(int64_t *)a = t;
		r = t;
		break;
	}
	case 200:
		r = a == 1 ? sys_kill(1, (long)b) : -ESRCH;
		break;
	case 204: {
		if (b < 8) {
			r = -EINVAL;
			break;
		}
		if (!vm_user_ok(c, 8)) {
			r = -EFAULT;
			break;
		}
		*(uint64_t *)c = 1;
		r = 8;
		break;
	}
	case 217:
		r = sys_getdents64((long)a, b, c);
		break;
	case 218:
		r = 1;
		break; /* set_tid_address: one thread, never cleared */
	case 228:
		r = sys_clock_gettime((long)a, b);
		break;
	case 229: {
		if (b && !vm_user_ok(b, 16)) {
			r = -EFAULT;
			break;
		}
		if (b) {
			((int64_t *)b)[0] = 0;
			((int64_t *)b)[1] = 1;
		}
		r = (long)a >= 0 && (long)a <= 11 ? 0 : -EINVAL;
		break;
	}
	case 230:
		r = sys_nanosleep_ts((long)a, (long)b, c, d);
		break;
	case 234:
		r = a == 1 && (b == 1 || b == 0) ? sys_kill(1, (long)c) : -ESRCH;
		break;
	case 257:
		r = sys_openat((long)a, b, (long)c, (long)d);
		break;
	case 258:
		r = sys_mkdirat((long)a, b, (long)c);
		break;
	case 262:
		r = sys_fstatat((long)a, b, c, (long)d);
		break;
	case 263:
		r = sys_unlinkat((long)a, b, (long)c);
		break;
	case 264:
		r = sys_renameat((long)a, b, (long)c, d, 0);
		break;
	case 266:
		r = sys_symlinkat(a, (long)b, c);
		break;
	case 267:
		r = sys_readlinkat((long)a, b, c, (long)d);
		break;
	case 269:
	case 439:
		r = sys_faccessat((long)a, b, (long)c, (long)d);
		break;
	case 273:
		r = 0;
		break; /* set_robust_list: no other thread to wake */
	case 292:
		r = sys_dup3((long)a, (long)b, (long)c, false);
		break;
	case 302:
		r = sys_prlimit((long)a, (long)b, c, d);
		break;
	case 316:
		r = sys_renameat((long)a, b, (long)c, d, (long)e);
		break;
	case 318:
		r = sys_getrandom(a, b, (long)c);
		break;
	case 332:
		r = sys_statx((long)a, b, (long)c, (long)d, e);
		break;
	case 334:
		r = sys_rseq(a, (uint32_t)b, (long)c, (uint32_t)d);
		break;
	default:
		if (nr >= 0 && nr < NSYS)
			nosys_count[nr]++;
		kverbose("capstan: unimplemented syscall %s (%ld)\n", syscall_name(nr), nr);
		r = -ENOSYS;
	}
	fr->rax = (uint64_t)r;
}
