/* SPDX-License-Identifier: BSD-3-Clause */
/* What stat shows and its setters: modes, owners, times, sizes; sync and statfs. */
#include "sys.h"

#define S_ISUID	   04000
#define S_ISGID	   02000
#define UTIME_NOW  ((1l << 30) - 1)
#define UTIME_OMIT ((1l << 30) - 2)

/* The node a path names, or with AT_EMPTY_PATH and "" (or a NULL path) the descriptor's. */
static int node_at(long dirfd, uint64_t upath, long flags, bool null_ok, struct node **n)
{
	bool empty = (!upath && null_ok) ||
		     ((flags & AT_EMPTY_PATH) && upath && vm_user_ok(upath, 1) && !*(char *)upath);
	if (!empty)
		return lookup_at(dirfd, upath, !(flags & AT_SYMLINK_NOFOLLOW), n);
	if ((int)dirfd == AT_FDCWD) {
		*n = vfs_cwd;
		return 0;
	}
	struct file *f = fd_get(dirfd);
	if (!f)
		return -EBADF;
	*n = f->n;
	return 0;
}

/* ---- modes ---- */
static long set_mode(struct node *n, long mode)
{
	if (n->kind == K_LINK)
		return -EOPNOTSUPP; /* Linux: symbolic links have no mode of their own */
	n->mode = (n->mode & S_IFMT) | ((uint32_t)mode & 07777);
	vfs_touch(n, false);
	return 0;
}

static long chmod_at(long dirfd, uint64_t path, long mode, long flags)
{
	struct node *n;
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	int r = node_at(dirfd, path, flags, false, &n);
	return r ? r : set_mode(n, mode);
}

SYSCALL3(fchmodat, long, dirfd, uint64_t, path, long, mode)
{
	return chmod_at(dirfd, path, mode, 0);
}

SYSCALL2(chmod, uint64_t, path, long, mode)
{
	return chmod_at(AT_FDCWD, path, mode, 0);
}

SYSCALL2(fchmod, long, fd, long, mode)
{
	struct file *f = fd_get(fd);
	return f ? set_mode(f->n, mode) : -EBADF;
}

/* ---- owners: -1 keeps one; a change clears set-user-ID (and set-group-ID with group exec) ---- */
static long set_owner(struct node *n, uint32_t uid, uint32_t gid)
{
	if (cred_fsuid() != 0)
		return -EPERM;
	if (uid != (uint32_t)-1)
		n->uid = uid;
	if (gid != (uint32_t)-1)
		n->gid = gid;
	if (n->kind == K_FILE && (uid != (uint32_t)-1 || gid != (uint32_t)-1)) {
		n->mode &= ~(uint32_t)S_ISUID;
		if (n->mode & 010)
			n->mode &= ~(uint32_t)S_ISGID;
	}
	vfs_touch(n, false);
	return 0;
}

SYSCALL5(fchownat, long, dirfd, uint64_t, path, uint32_t, uid, uint32_t, gid, long, flags)
{
	struct node *n;
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	int r = node_at(dirfd, path, flags, false, &n);
	return r ? r : set_owner(n, uid, gid);
}

SYSCALL3(chown, uint64_t, path, uint32_t, uid, uint32_t, gid)
{
	return do_fchownat(AT_FDCWD, path, uid, gid, 0);
}

SYSCALL3(lchown, uint64_t, path, uint32_t, uid, uint32_t, gid)
{
	return do_fchownat(AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW);
}

SYSCALL3(fchown, long, fd, uint32_t, uid, uint32_t, gid)
{
	struct file *f = fd_get(fd);
	return f ? set_owner(f->n, uid, gid) : -EBADF;
}

/* ---- times: access and modification; the change time is now ---- */
static long set_times(struct node *n, const struct linux_timespec t[2])
{
	struct linux_timespec now = vfs_now();
	struct linux_timespec *dst[2] = {&n->atime, &n->mtime};
	for (int i = 0; i < 2; i++) {
		if (t && t[i].nsec == UTIME_OMIT)
			continue;
		if (t && t[i].nsec != UTIME_NOW && (t[i].nsec < 0 || t[i].nsec >= 1000000000))
			return -EINVAL;
		*dst[i] = !t || t[i].nsec == UTIME_NOW ? now : t[i];
	}
	n->ctime = now;
	return 0;
}

SYSCALL4(utimensat, long, dirfd, uint64_t, path, uint64_t, utimes, long, flags)
{
	struct node *n;
	struct linux_timespec t[2];
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	if (utimes) {
		UOK(utimes, sizeof(t));
		memcpy(t, (void *)utimes, sizeof(t));
	}
	int r = node_at(dirfd, path, flags, true, &n); /* a NULL path is futimens */
	return r ? r : set_times(n, utimes ? t : NULL);
}

/* futimesat, utimes and utime: the same in microseconds and seconds */
SYSCALL3(futimesat, long, dirfd, uint64_t, path, uint64_t, utv)
{
	struct node *n;
	struct linux_timespec t[2];
	if (utv) {
		UOK(utv, 2 * sizeof(struct linux_timeval));
		const struct linux_timeval *tv = (const void *)utv;
		for (int i = 0; i < 2; i++) {
			if (tv[i].usec < 0 || tv[i].usec >= 1000000)
				return -EINVAL;
			t[i] = (struct linux_timespec){tv[i].sec, tv[i].usec * 1000};
		}
	}
	int r = node_at(dirfd, path, 0, true, &n);
	return r ? r : set_times(n, utv ? t : NULL);
}

SYSCALL2(utimes, uint64_t, path, uint64_t, utv)
{
	return do_futimesat(AT_FDCWD, path, utv);
}

SYSCALL2(utime, uint64_t, path, uint64_t, ubuf)
{
	struct node *n;
	struct linux_timespec t[2];
	if (ubuf) {
		UOK(ubuf, 16);
		const int64_t *b = (const int64_t *)ubuf; /* actime, modtime */
		t[0] = (struct linux_timespec){b[0], 0};
		t[1] = (struct linux_timespec){b[1], 0};
	}
	int r = lookup_at(AT_FDCWD, path, true, &n);
	return r ? r : set_times(n, ubuf ? t : NULL);
}

/* ---- sizes ---- */
SYSCALL2(truncate, uint64_t, path, int64_t, len)
{
	struct node *n;
	int r = lookup_at(AT_FDCWD, path, true, &n);
	if (r)
		return r;
	if (len < 0)
		return -EINVAL;
	return vfs_truncate(n, (uint64_t)len);
}

/* fallocate: mode 0 reserves by growing (RAM holds every byte anyway); KEEP_SIZE has nothing to do
 */
SYSCALL4(fallocate, long, fd, long, mode, int64_t, off, int64_t, len)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	if (off < 0 || len <= 0)
		return -EINVAL;
	if ((f->flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	if (f->n->kind == K_FIFO)
		return -ESPIPE;
	if (f->n->kind != K_FILE)
		return f->n->kind == K_DIR ? -EISDIR : -ENODEV;
	if (mode & ~1l)
		return -EOPNOTSUPP;
	uint64_t end = (uint64_t)off + (uint64_t)len;
	if (mode == 0 && end > f->n->size)
		return vfs_truncate(f->n, end);
	return 0;
}

/* ---- RAM is all there is: syncing has nothing to wait for ---- */
SYSCALL0(sync)
{
	return 0;
}

SYSCALL1(syncfs, long, fd)
{
	return fd_get(fd) ? 0 : -EBADF;
}

SYSCALL1(fsync, long, fd)
{
	return fd_get(fd) ? 0 : -EBADF;
}

SYSCALL1(fdatasync, long, fd)
{
	return fd_get(fd) ? 0 : -EBADF;
}

/* ---- statfs: the overlay is bounded by free RAM, as a tmpfs ---- */
#define TMPFS_MAGIC 0x01021994
#define PROC_MAGIC  0x9fa0
#define SYSFS_MAGIC 0x62656572

static long put_statfs(struct node *n, uint64_t ubuf)
{
	int64_t sf[15] = {
	    0}; /* type bsize blocks bfree bavail files ffree fsid namelen frsize flags spare[4] */
	UOK(ubuf, sizeof(sf));
	int64_t total = (int64_t)pmm_total_pages(), avail = (int64_t)pmm_free_pages();
	sf[0] = TMPFS_MAGIC;
	sf[1] = (int64_t)PAGE_SIZE;
	sf[2] = total;
	sf[3] = sf[4] = avail;
	sf[5] = vfs_nodes + avail;
	sf[6] = avail;
	sf[8] = 255;
	sf[9] = (int64_t)PAGE_SIZE;
	sf[10] = 0x20;		/* ST_NOATIME: reads do not change access times */
	if (n->fs != FS_ROOT) { /* /proc and /sys hold no blocks */
		memset(sf, 0, sizeof(sf));
		sf[0] = n->fs == FS_PROC ? PROC_MAGIC : SYSFS_MAGIC;
		sf[1] = sf[9] = (int64_t)PAGE_SIZE;
		sf[8] = 255;
		sf[10] = n->fs == FS_PROC ? 0x20 | 0xe : 0x20 | 0xf; /* nosuid nodev noexec (ro) */
	}
	memcpy((void *)ubuf, sf, sizeof(sf));
	return 0;
}

SYSCALL2(statfs, uint64_t, path, uint64_t, ubuf)
{
	struct node *n;
	int r = lookup_at(AT_FDCWD, path, true, &n);
	return r ? r : put_statfs(n, ubuf);
}

SYSCALL2(fstatfs, long, fd, uint64_t, ubuf)
{
	struct file *f = fd_get(fd);
	return f ? put_statfs(f->n, ubuf) : -EBADF;
}
