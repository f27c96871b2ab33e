/* SPDX-License-Identifier: BSD-3-Clause */
/* Descriptors and the calls on them: read, write, seek, dup, fcntl, ioctl, poll. */
#include "sys.h"

static struct {
	struct file *f;
	bool cloexec;
} fds[NFD];

int fd_alloc(struct file *f, int from, bool cloexec)
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

struct file *fd_get(long fd)
{
	return fd >= 0 && fd < NFD ? fds[fd].f : NULL;
}

bool fd_cloexec(long fd)
{
	return fd_get(fd) && fds[fd].cloexec;
}

void fd_close_on_exec(void)
{
	for (int i = 0; i < NFD; i++)
		if (fds[i].f && fds[i].cloexec) {
			file_put(fds[i].f);
			fds[i].f = NULL;
			fds[i].cloexec = false;
		}
}

void file_put(struct file *f)
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

struct file *file_new(struct node *n, int flags)
{
	struct file *f = kzalloc(sizeof(*f));
	if (!f)
		return NULL;
	f->n = n;
	f->flags = flags;
	n->opens++;
	return f;
}

/* Descriptors 0, 1 and 2 are the console. */
void fd_init_console(void)
{
	struct node *tty;
	if (vfs_walk(vfs_root, "/dev/tty", true, &tty, NULL, NULL))
		panic("no /dev/tty");
	struct file *f = file_new(tty, O_RDWR);
	for (int i = 0; i < 3; i++)
		fd_alloc(f, i, false);
}

static long file_read(struct file *f, void *buf, size_t len, uint64_t off, bool seekable)
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

static long file_write(struct file *f, const void *buf, size_t len, uint64_t off, bool positioned)
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

SYSCALL3(read, long, fd, uint64_t, buf, size_t, len)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	UOK(buf, len);
	long r = file_read(f, (void *)buf, len, 0, false);
	if (r > 0 && f->n->kind == K_FILE)
		f->off += (uint64_t)r;
	return r;
}

SYSCALL3(write, long, fd, uint64_t, buf, size_t, len)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	UOK(buf, len);
	long r = file_write(f, (void *)buf, len, 0, false);
	if (r > 0 && f->n->kind == K_FILE)
		f->off = ((f->flags & O_APPEND) ? f->n->size : f->off + (uint64_t)r);
	return r;
}

static long rw_at(long fd, uint64_t buf, size_t len, int64_t off, bool write)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	if (f->n->kind == K_TTY)
		return -ESPIPE;
	if (off < 0)
		return -EINVAL;
	UOK(buf, len);
	return write ? file_write(f, (void *)buf, len, (uint64_t)off, true)
		     : file_read(f, (void *)buf, len, (uint64_t)off, true);
}

SYSCALL4(pread64, long, fd, uint64_t, buf, size_t, len, int64_t, off)
{
	return rw_at(fd, buf, len, off, false);
}

SYSCALL4(pwrite64, long, fd, uint64_t, buf, size_t, len, int64_t, off)
{
	return rw_at(fd, buf, len, off, true);
}

static long rw_vec(long fd, uint64_t uiov, long cnt, bool write)
{
	if (cnt < 0 || cnt > 1024)
		return -EINVAL;
	UOK(uiov, (uint64_t)cnt * sizeof(struct linux_iovec));
	const struct linux_iovec *iov = (const struct linux_iovec *)uiov;
	long total = 0;
	for (long i = 0; i < cnt; i++) {
		if (!iov[i].len)
			continue;
		long r = write ? do_write(fd, iov[i].base, iov[i].len)
			       : do_read(fd, iov[i].base, iov[i].len);
		if (r < 0)
			return total ? total : r;
		total += r;
		if ((uint64_t)r < iov[i].len)
			break;
	}
	return total;
}

SYSCALL3(readv, long, fd, uint64_t, iov, long, cnt)
{
	return rw_vec(fd, iov, cnt, false);
}

SYSCALL3(writev, long, fd, uint64_t, iov, long, cnt)
{
	return rw_vec(fd, iov, cnt, true);
}

SYSCALL3(lseek, long, fd, int64_t, off, long, whence)
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

SYSCALL1(close, long, fd)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	fds[fd].f = NULL;
	file_put(f);
	return 0;
}

static long dup_to(long old, long new, long flags, bool dup2)
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

SYSCALL1(dup, long, fd)
{
	struct file *f = fd_get(fd);
	return f ? fd_alloc(f, 0, false) : -EBADF;
}

SYSCALL2(dup2, long, old, long, new)
{
	return dup_to(old, new, 0, true);
}

SYSCALL3(dup3, long, old, long, new, long, flags)
{
	return dup_to(old, new, flags, false);
}

SYSCALL3(fcntl, long, fd, long, cmd, uint64_t, arg)
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

SYSCALL3(ioctl, long, fd, unsigned long, req, uint64_t, arg)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	return f->n->kind == K_TTY ? console_ioctl(req, arg) : -ENOTTY;
}

/* RAM is all there is: syncing a valid descriptor has nothing to do. */
SYSCALL1(fsync, long, fd)
{
	return fd_get(fd) ? 0 : -EBADF;
}

SYSCALL1(fdatasync, long, fd)
{
	return fd_get(fd) ? 0 : -EBADF;
}

SYSCALL2(ftruncate, long, fd, int64_t, len)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	if (len < 0 || (f->flags & O_ACCMODE) == 0)
		return -EINVAL;
	return vfs_truncate(f->n, (uint64_t)len);
}

SYSCALL3(poll, uint64_t, ufds, uint64_t, nfds, int, timeout_ms)
{
	if (nfds > NFD)
		return -EINVAL;
	UOK(ufds, nfds * sizeof(struct linux_pollfd));
	struct linux_pollfd *p = (struct linux_pollfd *)ufds;
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
				p[i].revents = POLLNVAL;
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
		if (task_sleep(now + (tty_in && wait > IDLE_CONSOLE_NS ? IDLE_CONSOLE_NS : wait),
			       true) == W_SIGNAL)
			return -EINTR;
	}
}
