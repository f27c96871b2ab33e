/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Signal-driven I/O: a description with O_ASYNC (fcntl F_SETFL or ioctl
 * FIOASYNC) signals its owner (F_SETOWN: a process, or a group when negative;
 * F_SETOWN_EX: also a thread) when it becomes readable or writable.  The
 * signal is SIGIO, or the one F_SETSIG chose, which then carries si_code
 * POLL_IN/POLL_OUT/POLL_HUP, si_band and si_fd.  As on Linux: a pipe signals
 * its readers on every write and its writers on every read; a socket signals
 * on every arrival and, once a send found it full, when room comes back; the
 * console when input can be read.  Sockets of the network learn of arrivals
 * when the stack runs (knet_poll), so fasync_net compares what they show.
 */
#include "../net/knet.h"
#include "../proc/task.h"
#include "sys.h"

#define SIGIO	     29
#define F_SETOWN     8
#define F_GETOWN     9
#define F_SETSIG     10
#define F_GETSIG     11
#define F_SETOWN_EX  15
#define F_GETOWN_EX  16
#define F_OWNER_TID  0
#define F_OWNER_PID  1
#define F_OWNER_PGRP 2
#define POLL_IN	     1
#define POLL_OUT     2
#define POLL_HUP     6
#define POLLWRBAND   0x200

/* Who a description signals, and what it last showed (sockets of the network). */
struct fown {
	int type, id; /* F_OWNER_*; id 0: nobody */
	int sig;      /* F_SETSIG: 0 is SIGIO without details */
	int fd;	      /* si_fd: the descriptor O_ASYNC was set through */
	bool async;
	unsigned last;	   /* fasync_net: the readiness last seen */
	uint32_t arrivals; /* and the TCP arrivals counted */
	struct file *f;
	struct fown *next; /* the descriptions with O_ASYNC */
};

static struct fown *async_list;

static struct fown *fown_of(struct file *f)
{
	if (!f->own && (f->own = kzalloc(sizeof(struct fown))))
		f->own->f = f;
	return f->own;
}

static void unlist(struct fown *o)
{
	for (struct fown **pp = &async_list; *pp; pp = &(*pp)->next)
		if (*pp == o) {
			*pp = o->next;
			break;
		}
	o->next = NULL;
}

static bool is_net_sock(struct file *f)
{
	return f->n->kind == K_SOCKET && sock_is_inet(f);
}

int fasync_set(struct file *f, int fd, bool on)
{
	if (!on && !f->own)
		return 0;
	struct fown *o = fown_of(f);
	if (!o)
		return -ENOMEM;
	if (on && !o->async) {
		o->next = async_list;
		async_list = o;
		if (is_net_sock(f)) { /* from now on: what arrives later */
			o->last = sock_poll(f);
			o->arrivals = sock_arrivals(f);
		}
	} else if (!on && o->async) {
		unlist(o);
	}
	o->async = on;
	o->fd = fd;
	f->flags = on ? f->flags | O_ASYNC : f->flags & ~O_ASYNC;
	return 0;
}

void fasync_release(struct file *f)
{
	if (!f->own)
		return;
	if (f->own->async)
		unlist(f->own);
	kfree(f->own);
	f->own = NULL;
}

/* F_SETOWN's argument: a process or, negative, a group; 0 stops the signals. */
static long set_owner(struct file *f, int type, long id)
{
	if (type == F_OWNER_PID && id < 0) {
		type = F_OWNER_PGRP;
		id = -id;
	}
	if (id > 0x7fffffff)
		return -ESRCH;
	if (id) {
		bool found = false;
		if (type == F_OWNER_TID)
			found = task_by_tid(id);
		else if (type == F_OWNER_PID)
			found = proc_by_pid(id);
		else
			for (struct proc *p = proc_list; p && !found; p = p->next)
				found = p->state != P_DEAD && p->pgid == id;
		if (!found)
			return -ESRCH;
	}
	struct fown *o = fown_of(f);
	if (!o)
		return -ENOMEM;
	o->type = type;
	o->id = (int)id;
	return 0;
}

struct owner_ex {
	int32_t type, pid;
};

long fasync_fcntl(struct file *f, long cmd, uint64_t arg)
{
	struct fown *o = f->own;
	switch (cmd) {
	case F_SETOWN:
		return set_owner(f, F_OWNER_PID, (int)arg);
	case F_GETOWN:
		return !o ? 0 : o->type == F_OWNER_PGRP ? -o->id : o->id;
	case F_SETSIG:
		if (arg > NSIG)
			return -EINVAL;
		if (!(o = fown_of(f)))
			return -ENOMEM;
		o->sig = (int)arg;
		return 0;
	case F_GETSIG:
		return o ? o->sig : 0;
	case F_SETOWN_EX: {
		UOK(arg, sizeof(struct owner_ex));
		struct owner_ex ex = *(struct owner_ex *)arg;
		if (ex.type < F_OWNER_TID || ex.type > F_OWNER_PGRP || ex.pid < 0)
			return -EINVAL;
		return set_owner(f, ex.type, ex.pid);
	}
	case F_GETOWN_EX:
		UOK(arg, sizeof(struct owner_ex));
		*(struct owner_ex *)arg =
		    (struct owner_ex){o ? o->type : F_OWNER_PID, o ? o->id : 0};
		return 0;
	}
	return -EINVAL;
}

/* Linux's si_band for each reason */
static long band_of(int reason)
{
	switch (reason) {
	case POLL_IN:
		return POLLIN | POLLRDNORM;
	case POLL_OUT:
		return POLLOUT | POLLWRNORM | POLLWRBAND;
	default:
		return POLLHUP | POLLERR;
	}
}

static void send(const struct fown *o, int reason)
{
	struct ksiginfo k = {.code = SI_KERNEL};
	int sig = o->sig ? o->sig : SIGIO;
	if (o->sig) { /* F_SETSIG: the reason, the band and the descriptor come with it */
		k.code = reason;
		k.addr = (uint64_t)band_of(reason);
		k.io_fd = o->fd + 1;
	}
	if (o->type == F_OWNER_TID) {
		struct task *t = task_by_tid(o->id);
		if (t)
			signal_send(t, sig, &k);
	} else if (o->type == F_OWNER_PGRP) {
		signal_pgrp(o->id, sig, &k);
	} else {
		struct proc *p = proc_by_pid(o->id);
		if (p)
			signal_to_proc(p, sig, &k);
	}
}

/* Which side of a description an event concerns: readers get POLLIN, writers POLLOUT. */
static bool concerns(const struct file *f, unsigned band)
{
	int acc = f->flags & O_ACCMODE;
	return ((band & (POLLIN | POLLHUP)) && acc != O_WRONLY) ||
	       ((band & POLLOUT) && acc != O_RDONLY);
}

static int reason_of(unsigned band)
{
	return band & POLLIN ? POLL_IN : band & POLLOUT ? POLL_OUT : POLL_HUP;
}

/* key: the node of a pipe or FIFO, or the state (node->data) of a socket; NULL: the console */
static void notify(const void *key, unsigned band)
{
	for (struct fown *o = async_list, *next; o; o = next) {
		next = o->next; /* a signal may end a process and close its descriptors */
		struct node *n = o->f->n;
		bool match =
		    key ? n == key || (n->kind == K_SOCKET && n->data == key) : n->kind == K_TTY;
		if (match && o->id && concerns(o->f, band))
			send(o, reason_of(band));
	}
}

void fasync_node(const struct node *n, unsigned band)
{
	if (async_list)
		notify(n, band);
}

void fasync_sock(const void *s, unsigned band)
{
	if (async_list)
		notify(s, band);
}

void fasync_tty(void)
{
	if (async_list)
		notify(NULL, POLLIN);
}

/* After the stack ran: an arrival, new readiness or a hang-up on a socket of the network. */
void fasync_net(void)
{
	for (struct fown *o = async_list, *next; o; o = next) {
		next = o->next;
		if (!is_net_sock(o->f))
			continue;
		unsigned now = sock_poll(o->f), rose = now & ~o->last;
		uint32_t arrivals = sock_arrivals(o->f);
		bool in = (rose & POLLIN) || arrivals != o->arrivals;
		o->last = now;
		o->arrivals = arrivals;
		if (!o->id)
			continue;
		if (in)
			send(o, POLL_IN);
		if (rose & POLLOUT)
			send(o, POLL_OUT);
		if (rose & POLLHUP)
			send(o, POLL_HUP);
	}
}

/*
 * Waiting for a signal (pause, sigsuspend, sigtimedwait): one sleep, as
 * task_sleep(deadline, true); true when a signal came.  The NIC's and the
 * console's interrupts run the stack and the line discipline, which send
 * the SIGIO.  Where one has none (a NIC without an interrupt line, a console
 * without an I/O APIC) and an O_ASYNC description of it has an owner, the
 * sleep polls it in short steps: else that SIGIO would never come.  The
 * callers loop until what they wait for came.
 */
bool fasync_sleep(uint64_t deadline)
{
	bool poll = false;
	for (struct fown *o = async_list; o && !poll; o = o->next)
		poll = o->id && ((o->f->n->kind == K_TTY && !console_has_irq()) ||
				 (is_net_sock(o->f) && !knet_irq_driven()));
	if (!poll)
		return task_sleep(deadline, true) == W_SIGNAL;
	uint64_t now = time_ns(), step = IDLE_CONSOLE_NS;
	if (deadline)
		step = deadline > now ? MIN(step, deadline - now) : 0;
	return knet_wait(step);
}
