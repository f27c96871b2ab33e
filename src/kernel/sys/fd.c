/* SPDX-License-Identifier: BSD-3-Clause */
/* Descriptors and the calls on them: read, write, seek, dup, fcntl, ioctl, poll. */
#include "../net/knet.h"
#include "sys.h"

/* The descriptors of a process: fork copies the table (the files are shared), clone with
 * CLONE_FILES shares it. */
struct fdtable {
	int refs;
	struct {
		struct file *f;
		bool cloexec;
	} fd[NFD];
};
#define fds (current->proc->fdt->fd) /* the calling process's */

struct fdtable *fd_table_copy(void)
{
	struct fdtable *t = kmalloc(sizeof(*t));
	if (!t)
		return NULL;
	memcpy(t, current->proc->fdt, sizeof(*t));
	t->refs = 1;
	for (int i = 0; i < NFD; i++)
		if (t->fd[i].f)
			t->fd[i].f->refs++;
	return t;
}

void fd_table_get(struct fdtable *t)
{
	t->refs++;
}

/* The last holder closes every descriptor in it. */
void fd_table_put(struct fdtable *t)
{
	if (--t->refs)
		return;
	for (int i = 0; i < NFD; i++)
		if (t->fd[i].f)
			file_put(t->fd[i].f);
	kfree(t);
}

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

struct file *fd_in(const struct fdtable *t, long fd)
{
	return fd >= 0 && fd < NFD ? t->fd[fd].f : NULL;
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
	struct node *n = f->n;
	if (--f->refs)
		return;
	fasync_release(f);
	n->opens--;
	if (n->kind >= K_SOCKET) {
		if (!n->opens)
			anon_release(n);
		kfree(f);
		return;
	}
	if (n->kind == K_FIFO && !(f->flags & O_PATH)) /* an O_PATH descriptor is no end */
		pipe_close(f);
	if (n->dead && !n->opens && n->kind == K_FILE) {
		kfree(n->data);
		n->data = NULL;
	}
	if (n->unnamed && !n->opens) {
		vfs_free(n);
		vfs_nodes--;
	}
	kfree(f->text);
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
	if (!(current->proc->fdt = kzalloc(sizeof(struct fdtable))))
		panic("out of memory for the descriptors");
	current->proc->fdt->refs = 1;
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
	if (n->kind >= K_SOCKET)
		return anon_read(f, buf, len);
	switch (n->kind) {
	case K_TTY:
		return console_read(buf, len, f->flags & O_NONBLOCK);
	case K_FIFO:
		return pipe_read(f, buf, len);
	case K_NULL:
		return 0;
	case K_ZERO:
		memset(buf, 0, len);
		return (long)len;
	case K_RANDOM:
	case K_URANDOM:
		random_fill(buf, len);
		return (long)len;
	case K_DIR:
		return -EISDIR;
	case K_PROC: {
		uint64_t at = seekable ? off : f->off;
		if (at >= f->text_len)
			return 0;
		size_t l = MIN(len, f->text_len - at);
		memcpy(buf, f->text + at, l);
		return (long)l;
	}
	default:
		return vfs_pread(n, buf, len, seekable ? off : f->off);
	}
}

static long file_write(struct file *f, const void *buf, size_t len, uint64_t off, bool positioned)
{
	struct node *n = f->n;
	if ((f->flags & O_ACCMODE) == 0 || (f->flags & O_PATH))
		return -EBADF;
	if (n->kind >= K_SOCKET)
		return anon_write(f, buf, len);
	switch (n->kind) {
	case K_TTY:
		return console_write_user(buf, len);
	case K_FIFO: {
		long r = pipe_write(f, buf, len);
		if (r == -EPIPE)
			signal_raise(SIGPIPE);
		return r;
	}
	case K_NULL:
	case K_ZERO:
	case K_RANDOM:
	case K_URANDOM:
		return (long)len;
	case K_DIR:
		return -EISDIR;
	case K_PROC:
		return -EINVAL; /* as Linux for a /proc file without a write method */
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
	if (r > 0 && (f->n->kind == K_FILE || f->n->kind == K_PROC))
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
	if (f->n->kind == K_TTY || f->n->kind == K_FIFO || f->n->kind >= K_SOCKET)
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
	if (f->n->kind == K_TTY || f->n->kind == K_FIFO || f->n->kind >= K_SOCKET)
		return -ESPIPE;
	if (f->n->kind == K_DIR) {
		if (whence != 0 || off != 0)
			return -EINVAL;
		f->dirpos = 0;
		return 0;
	}
	int64_t base = whence == 0   ? 0
		       : whence == 1 ? (int64_t)f->off
		       : whence == 2 ? (int64_t)(f->n->kind == K_PROC ? f->text_len : f->n->size)
				     : -1;
	if (base < 0 && whence != 0)
		return -EINVAL;
	if (base + off < 0)
		return -EINVAL;
	f->off = (uint64_t)(base + off);
	return (long)f->off;
}

long fd_close(long fd)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	fds[fd].f = NULL;
	file_put(f);
	return 0;
}

SYSCALL1(close, long, fd)
{
	return fd_close(fd);
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

/* close_range: CLOSE_RANGE_UNSHARE has nothing to unshare, the table is the process's own */
SYSCALL3(close_range, uint32_t, first, uint32_t, last, uint32_t, flags)
{
	if (flags & ~6u || first > last)
		return -EINVAL;
	for (uint64_t fd = first; fd <= last && fd < NFD; fd++) {
		if (!fds[fd].f)
			continue;
		if (flags & 4) { /* CLOSE_RANGE_CLOEXEC */
			fds[fd].cloexec = true;
		} else {
			file_put(fds[fd].f);
			fds[fd].f = NULL;
		}
	}
	return 0;
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
	case 4: /* F_SETFL: O_APPEND, O_NONBLOCK, O_ASYNC */
		f->flags = (f->flags & ~(O_APPEND | 04000)) | ((int)arg & (O_APPEND | 04000));
		return fasync_set(f, (int)fd, arg & O_ASYNC);
	case 5: /* F_GETLK: one process, so nothing ever conflicts */
		UOK(arg, 2);
		*(int16_t *)arg = 2; /* F_UNLCK */
		return 0;
	case 6:
	case 7:
		return 0;
	case F_GETPIPE_SZ:
		return f->n->kind == K_FIFO ? (long)pipe_capacity() : -EBADF;
	}
	return fasync_fcntl(f, cmd, arg); /* F_SETOWN and the like, or -EINVAL */
}

SYSCALL3(ioctl, long, fd, unsigned long, req, uint64_t, arg)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	switch (req) { /* the calls on any descriptor */
	case FIONBIO:  /* nginx makes its sockets non-blocking this way */
		UOK(arg, 4);
		f->flags = *(int *)arg ? f->flags | O_NONBLOCK : f->flags & ~O_NONBLOCK;
		return 0;
	case FIOCLEX:
	case FIONCLEX:
		fds[fd].cloexec = req == FIOCLEX;
		return 0;
	case FIOASYNC: /* nginx's master hears its channels this way */
		UOK(arg, 4);
		if (f->n->kind != K_FIFO && f->n->kind != K_SOCKET && f->n->kind != K_TTY)
			return -ENOTTY; /* as Linux says for what cannot signal */
		return fasync_set(f, (int)fd, *(int *)arg != 0);
	}
	if (f->n->kind == K_TTY)
		return console_ioctl(req, arg);
	if (req == FIONREAD && (f->n->kind == K_FIFO || f->n->kind == K_SOCKET)) {
		UOK(arg, 4);
		*(int *)arg = f->n->kind == K_FIFO ? (int)pipe_pending(f) : (int)sock_fionread(f);
		return 0;
	}
	return -ENOTTY;
}

/* pipe2: fds[0] reads what fds[1] writes */
SYSCALL2(pipe2, uint64_t, ufds, long, flags)
{
	struct file *rd, *wr;
	if (flags & ~(O_CLOEXEC | O_NONBLOCK))
		return -EINVAL;
	UOK(ufds, 2 * sizeof(int));
	int r = pipe_new(&rd, &wr);
	if (r)
		return r;
	rd->flags |= (int)flags & O_NONBLOCK;
	wr->flags |= (int)flags & O_NONBLOCK;
	int a = fd_alloc(rd, 0, flags & O_CLOEXEC);
	int b = a < 0 ? a : fd_alloc(wr, 0, flags & O_CLOEXEC);
	if (b < 0) {
		if (a >= 0)
			fds[a].f = NULL;
		rd->refs = wr->refs = 1;
		file_put(rd);
		file_put(wr);
		return -EMFILE;
	}
	((int *)ufds)[0] = a;
	((int *)ufds)[1] = b;
	return 0;
}

SYSCALL1(pipe, uint64_t, ufds)
{
	return do_pipe2(ufds, 0);
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

/*
 * Readiness, one hook per kind of file: what read or write would do now
 * without blocking, in poll's bits.  Files and devices never block.
 */
static short file_poll(struct file *f)
{
	switch (f->n->kind) {
	case K_TTY:
		return (short)(POLLOUT | (console_readable() ? POLLIN : 0));
	case K_FIFO:
		return pipe_poll(f);
	default:
		return f->n->kind >= K_SOCKET ? (short)anon_poll(f) : POLLIN | POLLOUT;
	}
}

/* One pass over the descriptors: how many have something to report. */
static long poll_scan(struct linux_pollfd *p, uint64_t nfds, bool *tty_in)
{
	long ready = 0;
	for (uint64_t i = 0; i < nfds; i++) {
		p[i].revents = 0;
		if (p[i].fd < 0)
			continue;
		struct file *f = fd_get(p[i].fd);
		if (!f) {
			p[i].revents = POLLNVAL;
		} else {
			short ev = file_poll(f);
			if (ev & POLLIN)
				ev |= POLLRDNORM;
			if (ev & POLLOUT)
				ev |= POLLWRNORM;
			/* errors and hang-ups are reported whether asked for or not */
			p[i].revents = (int16_t)(ev & (p[i].events | POLLERR | POLLHUP));
			*tty_in |= f->n->kind == K_TTY && (p[i].events & POLLIN);
		}
		if (p[i].revents)
			ready++;
	}
	return ready;
}

/* poll's loop, for poll, ppoll, select and pselect6; timeout_ns < 0 waits for ever. */
static long poll_wait(struct linux_pollfd *p, uint64_t nfds, int64_t timeout_ns)
{
	uint64_t end = timeout_ns > 0 ? time_ns() + (uint64_t)timeout_ns : 0;
	for (;;) {
		bool tty_in = false; /* waiting for console input: without its interrupt, poll it */
		knet_poll();
		long ready = poll_scan(p, nfds, &tty_in);
		uint64_t now = time_ns();
		if (ready || timeout_ns == 0 || (timeout_ns > 0 && now >= end))
			return ready;
		uint64_t wait = timeout_ns > 0 ? end - now : WAIT_FOREVER;
		if (tty_in && !console_has_irq())
			wait = MIN(wait, IDLE_CONSOLE_NS);
		if (anon_wait(wait))
			return -EINTR;
	}
}

static int64_t ts_timeout(uint64_t uts, int *err)
{
	*err = 0;
	if (!uts)
		return -1;
	if (!vm_user_ok(uts, sizeof(struct linux_timespec))) {
		*err = -EFAULT;
		return 0;
	}
	const struct linux_timespec *ts = (const void *)uts;
	if (ts->sec < 0 || ts->nsec < 0 || ts->nsec >= 1000000000) {
		*err = -EINVAL;
		return 0;
	}
	return ts->sec > INT64_MAX / 1000000000 - 1 ? -1 : ts->sec * 1000000000 + ts->nsec;
}

SYSCALL3(poll, uint64_t, ufds, uint64_t, nfds, int, timeout_ms)
{
	if (nfds > NFD)
		return -EINVAL;
	UOK(ufds, nfds * sizeof(struct linux_pollfd));
	return poll_wait((struct linux_pollfd *)ufds, nfds,
			 timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000000);
}

/*
 * ppoll's and pselect6's signal mask (none when umask is 0) is in force while they wait, as
 * rt_sigsuspend's: a signal it lets in ends the wait with EINTR, and the handler runs before
 * the caller's mask comes back (deliver, rt_sigreturn).  Without one, the mask comes back at
 * once (end_wait_mask), so nothing the caller blocks is delivered.
 */
static int wait_mask(uint64_t umask, uint64_t size)
{
	if (!umask)
		return 0;
	if (size != 8)
		return -EINVAL;
	if (!vm_user_ok(umask, 8))
		return -EFAULT;
	sigmask_for_wait(*(const uint64_t *)umask);
	return 0;
}

static long end_wait_mask(long r)
{
	if (current->mask_saved && r != -EINTR) {
		current->sigmask = current->saved_mask;
		current->mask_saved = false;
	}
	return r;
}

SYSCALL5(ppoll, uint64_t, ufds, uint64_t, nfds, uint64_t, uts, uint64_t, usigmask, size_t,
	 sigsetsize)
{
	int err;
	if (nfds > NFD)
		return -EINVAL;
	UOK(ufds, nfds * sizeof(struct linux_pollfd));
	int64_t t = ts_timeout(uts, &err);
	if (!err)
		err = wait_mask(usigmask, sigsetsize);
	if (err)
		return err;
	return end_wait_mask(poll_wait((struct linux_pollfd *)ufds, nfds, t));
}

/* select: the three bit sets become pollfds and the answers go back into the sets */
static long select_wait(long nfds, uint64_t ur, uint64_t uw, uint64_t ue, int64_t timeout_ns)
{
	static struct linux_pollfd p[NFD];
	uint64_t *set[3] = {(uint64_t *)ur, (uint64_t *)uw, (uint64_t *)ue};
	const int16_t want[3] = {POLLIN, POLLOUT, POLLPRI};
	if (nfds < 0)
		return -EINVAL;
	nfds = MIN(nfds, NFD);
	size_t bytes = (size_t)(nfds + 63) / 64 * 8;
	for (int k = 0; k < 3; k++)
		if (set[k])
			UOK(set[k], bytes);
	uint64_t n = 0;
	for (long fd = 0; fd < nfds; fd++) {
		int16_t ev = 0;
		for (int k = 0; k < 3; k++)
			if (set[k] && (set[k][fd / 64] >> (fd % 64) & 1))
				ev |= want[k];
		if (!ev)
			continue;
		if (!fd_get(fd))
			return -EBADF;
		p[n++] = (struct linux_pollfd){(int)fd, ev, 0};
	}
	long r = poll_wait(p, n, timeout_ns);
	for (int k = 0; k < 3; k++)
		if (set[k])
			memset(set[k], 0, bytes);
	long count = 0;
	for (uint64_t i = 0; r > 0 && i < n; i++) {
		int16_t rev = p[i].revents;
		bool hit[3] = {rev & (POLLIN | POLLHUP | POLLERR), rev & (POLLOUT | POLLERR),
			       rev & POLLPRI};
		for (int k = 0; k < 3; k++)
			if (set[k] && (p[i].events & want[k]) && hit[k]) {
				set[k][p[i].fd / 64] |= 1ull << (p[i].fd % 64);
				count++;
			}
	}
	return r < 0 ? r : count;
}

SYSCALL5(select, long, nfds, uint64_t, ur, uint64_t, uw, uint64_t, ue, uint64_t, utv)
{
	int64_t t = -1;
	if (utv) {
		UOK(utv, sizeof(struct linux_timeval));
		struct linux_timeval *tv = (struct linux_timeval *)utv;
		if (tv->sec < 0 || tv->usec < 0)
			return -EINVAL;
		t = tv->sec * 1000000000 + tv->usec * 1000;
	}
	uint64_t start = time_ns();
	long r = select_wait(nfds, ur, uw, ue, t);
	if (utv && t > 0) { /* Linux leaves the time not slept */
		int64_t left = t - (int64_t)(time_ns() - start);
		left = left < 0 ? 0 : left;
		struct linux_timeval *tv = (struct linux_timeval *)utv;
		*tv = (struct linux_timeval){left / 1000000000, left % 1000000000 / 1000};
	}
	return r;
}

/* pselect6's last argument: where its signal mask is, and the mask's size */
struct sigmask_arg {
	uint64_t mask, size;
};

SYSCALL6(pselect6, long, nfds, uint64_t, ur, uint64_t, uw, uint64_t, ue, uint64_t, uts, uint64_t,
	 usig)
{
	int err;
	int64_t t = ts_timeout(uts, &err);
	if (!err && usig) {
		UOK(usig, sizeof(struct sigmask_arg));
		const struct sigmask_arg *a = (const struct sigmask_arg *)usig;
		err = wait_mask(a->mask, a->size);
	}
	return err ? err : end_wait_mask(select_wait(nfds, ur, uw, ue, t));
}
