/* SPDX-License-Identifier: BSD-3-Clause */
/* Pipes and FIFOs: a ring buffer shared by the read and the write ends of a K_FIFO node. */
#include "../net/knet.h"
#include "../proc/task.h"
#include "vfs.h"

#define PIPE_CAP 65536u /* what Linux gives a pipe by default */
#define PIPE_BUF 4096u	/* writes up to this size are never split */

struct pipe {
	char *buf;
	size_t head, len; /* the bytes waiting start at buf[head], wrapping at PIPE_CAP */
	int readers, writers;
};

static bool reads(const struct file *f)
{
	return (f->flags & O_ACCMODE) != O_WRONLY;
}

static bool writes(const struct file *f)
{
	return (f->flags & O_ACCMODE) != O_RDONLY;
}

/*
 * Waiting on a pipe: the sleeper notes the pipe, and whatever changes it
 * (data in or out, an end opened or closed) wakes its sleepers at once, in
 * any process, and those in poll, select or epoll too (knet_wake).
 */
static bool pipe_sleep(struct pipe *p)
{
	current->wait_on = p;
	bool signalled = kwait(WAIT_FOREVER);
	current->wait_on = NULL;
	return signalled;
}

static void pipe_changed(const struct pipe *p)
{
	for (struct task *t = task_list; t; t = t->next_all)
		if (t->wait_on == p && t->state == T_SLEEP)
			task_wake(t, W_WOKEN);
	knet_wake();
}

static int pipe_alloc(struct node *n)
{
	if (n->pipe)
		return 0;
	struct pipe *p = kzalloc(sizeof(*p));
	if (!p || !(p->buf = kmalloc(PIPE_CAP))) {
		kfree(p);
		return -ENOMEM;
	}
	n->pipe = p;
	return 0;
}

/* The two ends of a new anonymous pipe: a node in no directory, freed with its last end. */
int pipe_new(struct file **rd, struct file **wr)
{
	struct node *n = vfs_create(NULL, "pipe", K_FIFO, S_IFIFO | 0600);
	if (!n)
		return -ENOMEM;
	n->dead = n->unnamed = true; /* not reachable by any path */
	*rd = *wr = NULL;
	if (pipe_alloc(n) || !(*rd = file_new(n, O_RDONLY)) || !(*wr = file_new(n, O_WRONLY))) {
		kfree(*rd);
		kfree(n->pipe ? n->pipe->buf : NULL);
		kfree(n->pipe);
		kfree(n->name);
		kfree(n);
		return -ENOMEM;
	}
	n->pipe->readers = n->pipe->writers = 1;
	return 0;
}

/*
 * Opening a FIFO by name waits, as on Linux, until the other end is open too:
 * a reader for a writer and a writer for a reader; O_RDWR opens both ends at
 * once, and a non-blocking writer without a reader gets ENXIO.
 */
int pipe_open(struct file *f)
{
	int r = pipe_alloc(f->n);
	if (r)
		return r;
	struct pipe *p = f->n->pipe;
	bool nonblock = f->flags & O_NONBLOCK;
	if (writes(f) && !reads(f) && nonblock && !p->readers)
		return -ENXIO;
	if (reads(f))
		p->readers++;
	if (writes(f))
		p->writers++;
	pipe_changed(p);
	if (nonblock || (reads(f) && writes(f)))
		return 0;
	while (reads(f) ? !p->writers : !p->readers)
		if (pipe_sleep(p)) {
			pipe_close(f);
			return -ERESTARTSYS;
		}
	return 0;
}

/* A descriptor of one end goes away: the pipe goes with the last of them. */
void pipe_close(struct file *f)
{
	struct node *n = f->n;
	struct pipe *p = n->pipe;
	if (!p)
		return;
	if (reads(f))
		p->readers--;
	if (writes(f))
		p->writers--;
	pipe_changed(p);
	fasync_node(n, POLLIN | POLLOUT); /* the other end sees its end of file or EPIPE */
	if (p->readers || p->writers)
		return;
	kfree(p->buf);
	kfree(p);
	n->pipe = NULL; /* a FIFO keeps no data once nobody has it open */
}

long pipe_read(struct file *f, char *buf, size_t len)
{
	struct pipe *p = f->n->pipe;
	if (!len)
		return 0;
	while (!p->len) {
		if (!p->writers)
			return 0;
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		if (pipe_sleep(p))
			return -ERESTARTSYS;
	}
	size_t n = MIN(len, p->len), first = MIN(n, PIPE_CAP - p->head);
	memcpy(buf, p->buf + p->head, first);
	memcpy(buf + first, p->buf, n - first);
	p->head = (p->head + n) % PIPE_CAP;
	p->len -= n;
	if (!p->len)
		p->head = 0;
	pipe_changed(p); /* room for a waiting writer */
	fasync_node(f->n, POLLOUT);
	return (long)n;
}

/* Writes all of buf unless non-blocking; -EPIPE once no reader is left (the caller raises SIGPIPE).
 */
long pipe_write(struct file *f, const char *buf, size_t len)
{
	struct pipe *p = f->n->pipe;
	size_t done = 0;
	while (done < len) {
		if (!p->readers)
			return done ? (long)done : -EPIPE;
		size_t space = PIPE_CAP - p->len, want = len - done;
		/* up to PIPE_BUF bytes go in whole or not at all */
		if (!space || (len <= PIPE_BUF && space < len)) {
			if (f->flags & O_NONBLOCK)
				return done ? (long)done : -EAGAIN;
			if (pipe_sleep(p))
				return done ? (long)done : -ERESTARTSYS;
			continue;
		}
		size_t n = MIN(want, space), tail = (p->head + p->len) % PIPE_CAP;
		size_t first = MIN(n, PIPE_CAP - tail);
		memcpy(p->buf + tail, buf + done, first);
		memcpy(p->buf, buf + done + first, n - first);
		p->len += n;
		done += n;
		pipe_changed(p); /* data for a waiting reader */
		fasync_node(f->n, POLLIN);
	}
	return (long)done;
}

/* poll's view of one end: what read or write would do now without blocking. */
short pipe_poll(const struct file *f)
{
	const struct pipe *p = f->n->pipe;
	short ev = 0;
	if (!p)
		return 0;
	if (reads(f)) {
		if (p->len)
			ev |= POLLIN;
		if (!p->writers)
			ev |= POLLHUP;
	}
	if (writes(f)) {
		if (!p->readers)
			ev |= POLLERR;
		else if (PIPE_CAP - p->len >= PIPE_BUF)
			ev |= POLLOUT;
	}
	return ev;
}

size_t pipe_pending(const struct file *f)
{
	return f->n->pipe ? f->n->pipe->len : 0;
}

size_t pipe_capacity(void)
{
	return PIPE_CAP;
}
