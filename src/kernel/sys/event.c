/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Descriptors without a file behind them: epoll (level- and edge-triggered,
 * EPOLLONESHOT), eventfd and timerfd, and the dispatch fd.c uses for them and
 * for sockets (read, write, readiness, release).  Each is an anonymous node
 * whose data points at its state.
 */
#include "../net/knet.h"
#include "sys.h"

#define EPOLLIN		  0x001
#define EPOLLOUT	  0x004
#define EPOLLERR	  0x008
#define EPOLLHUP	  0x010
#define EPOLLRDHUP	  0x2000
#define EPOLLONESHOT	  (1u << 30)
#define EPOLLET		  (1u << 31)
#define EPOLL_CTL_ADD	  1
#define EPOLL_CTL_DEL	  2
#define EPOLL_CTL_MOD	  3
#define EFD_SEMAPHORE	  1
#define TFD_TIMER_ABSTIME 1

struct epitem {
	struct epitem *next;
	int fd;
	struct file *f; /* checked against the table: a closed descriptor drops out */
	uint32_t events;
	uint64_t data;
	bool disabled; /* EPOLLONESHOT fired */
	unsigned last; /* edge-triggered: what was ready at the last scan */
	long last_avail;
	uint32_t last_arrivals;
};

struct epoll {
	struct epitem *items;
};

struct eventfd {
	uint64_t count;
	bool semaphore;
};

struct timerfd {
	int clock;
	uint64_t next_ns; /* monotonic deadline; 0 = disarmed */
	uint64_t interval_ns;
	uint64_t expirations;
};

struct __attribute__((packed)) linux_epoll_event {
	uint32_t events;
	uint64_t data;
};

struct linux_itimerspec {
	struct linux_timespec interval, value;
};

static long anon_install(enum node_kind kind, void *state, int flags, bool cloexec)
{
	struct node *n = kzalloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->kind = kind;
	n->mode = 0600;
	n->parent = n;
	n->data = state;
	struct file *f = file_new(n, O_RDWR | flags);
	if (!f) {
		kfree(n);
		return -ENOMEM;
	}
	long fd = fd_alloc(f, 0, cloexec);
	if (fd < 0) {
		f->refs = 1;
		file_put(f); /* releases n and state */
	}
	return fd;
}

/* ---- timerfd ---- */

static void timer_update(struct timerfd *t)
{
	uint64_t now = time_ns();
	if (!t->next_ns || now < t->next_ns)
		return;
	if (!t->interval_ns) {
		t->expirations++;
		t->next_ns = 0;
		return;
	}
	uint64_t n = (now - t->next_ns) / t->interval_ns + 1;
	t->expirations += n;
	t->next_ns += n * t->interval_ns;
}

/* The armed timerfds, so that waits end when one fires (a small fixed set). */
#define MAX_TIMERS 64
static struct timerfd *timers[MAX_TIMERS];

/*
 * The next time a timerfd fires.  Those already due count their expirations
 * first: a one-shot that fired unread (or sits in an epoll set as an
 * EPOLLONESHOT item already reported, as Erlang's poller keeps it) would
 * otherwise be "due now" for ever, and every waiter would spin in the kernel
 * without ever letting the thread run that it waits for.
 */
static uint64_t next_timer_ns(void)
{
	uint64_t m = UINT64_MAX;
	for (int i = 0; i < MAX_TIMERS; i++)
		if (timers[i] && timers[i]->next_ns) {
			timer_update(timers[i]);
			if (timers[i]->next_ns)
				m = MIN(m, timers[i]->next_ns);
		}
	return m;
}

/* Wait for the network, a timer or max_ns, whichever comes first. */
bool anon_wait(uint64_t max_ns)
{
	uint64_t t = next_timer_ns(), now = time_ns();
	if (t != UINT64_MAX)
		max_ns = MIN(max_ns, t > now ? t - now : 0);
	if (max_ns)
		return knet_wait(max_ns);
	knet_poll();
	return false;
}

SYSCALL2(timerfd_create, long, clock, long, flags)
{
	if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC && clock != CLOCK_BOOTTIME)
		return -EINVAL;
	if (flags & ~(O_NONBLOCK | O_CLOEXEC))
		return -EINVAL;
	int slot = 0;
	while (slot < MAX_TIMERS && timers[slot])
		slot++;
	if (slot == MAX_TIMERS)
		return -EMFILE;
	struct timerfd *t = kzalloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->clock = (int)clock;
	long fd = anon_install(K_TIMERFD, t, (int)(flags & O_NONBLOCK), flags & O_CLOEXEC);
	if (fd >= 0)
		timers[slot] = t;
	return fd;
}

static struct timerfd *timer_of(long fd)
{
	struct file *f = fd_get(fd);
	return f && f->n->kind == K_TIMERFD ? (struct timerfd *)f->n->data : NULL;
}

static void put_itimer(struct timerfd *t, struct linux_itimerspec *out)
{
	uint64_t now = time_ns(), left = t->next_ns > now ? t->next_ns - now : (t->next_ns ? 1 : 0);
	out->value =
	    (struct linux_timespec){(int64_t)(left / 1000000000), (int64_t)(left % 1000000000)};
	out->interval = (struct linux_timespec){(int64_t)(t->interval_ns / 1000000000),
						(int64_t)(t->interval_ns % 1000000000)};
}

SYSCALL4(timerfd_settime, long, fd, long, flags, uint64_t, unew, uint64_t, uold)
{
	struct timerfd *t = timer_of(fd);
	if (!fd_get(fd))
		return -EBADF;
	if (!t || (flags & ~3l))
		return -EINVAL;
	UOK(unew, sizeof(struct linux_itimerspec));
	const struct linux_itimerspec *v = (const struct linux_itimerspec *)unew;
	const struct linux_timespec *ts[2] = {&v->interval, &v->value};
	for (int i = 0; i < 2; i++)
		if (ts[i]->sec < 0 || ts[i]->nsec < 0 || ts[i]->nsec >= 1000000000)
			return -EINVAL;
	timer_update(t);
	if (uold) {
		UOK(uold, sizeof(struct linux_itimerspec));
		put_itimer(t, (struct linux_itimerspec *)uold);
	}
	uint64_t value = (uint64_t)v->value.sec * 1000000000 + (uint64_t)v->value.nsec;
	t->interval_ns = (uint64_t)v->interval.sec * 1000000000 + (uint64_t)v->interval.nsec;
	t->expirations = 0;
	if (!value) {
		t->next_ns = 0;
		return 0;
	}
	uint64_t now = time_ns();
	if (flags & TFD_TIMER_ABSTIME) {
		uint64_t cnow = clock_ns(t->clock);
		t->next_ns = value > cnow ? now + (value - cnow) : now;
	} else {
		t->next_ns = now + value;
	}
	if (!t->next_ns)
		t->next_ns = 1;
	knet_wake(); /* waits in other threads end by the new deadline */
	return 0;
}

SYSCALL2(timerfd_gettime, long, fd, uint64_t, ucur)
{
	struct timerfd *t = timer_of(fd);
	if (!fd_get(fd))
		return -EBADF;
	if (!t)
		return -EINVAL;
	UOK(ucur, sizeof(struct linux_itimerspec));
	timer_update(t);
	put_itimer(t, (struct linux_itimerspec *)ucur);
	return 0;
}

/* ---- eventfd ---- */

static long eventfd_make(uint64_t init, long flags)
{
	if (flags & ~(O_NONBLOCK | O_CLOEXEC | EFD_SEMAPHORE))
		return -EINVAL;
	struct eventfd *e = kzalloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->count = (uint32_t)init;
	e->semaphore = flags & EFD_SEMAPHORE;
	return anon_install(K_EVENTFD, e, (int)(flags & O_NONBLOCK), flags & O_CLOEXEC);
}

SYSCALL2(eventfd2, unsigned long, init, long, flags)
{
	return eventfd_make(init, flags);
}

SYSCALL1(eventfd, unsigned long, init)
{
	return eventfd_make(init, 0);
}

/* ---- read, write, readiness, release for the anonymous kinds ---- */

static unsigned ready_of(struct file *f);

static long wait_until(struct file *f, unsigned want)
{
	while (!(ready_of(f) & want)) {
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		if (anon_wait(WAIT_FOREVER))
			return -EINTR;
	}
	return 0;
}

long anon_read(struct file *f, void *buf, size_t len)
{
	switch (f->n->kind) {
	case K_SOCKET:
		return sock_read(f, buf, len);
	case K_EVENTFD: {
		struct eventfd *e = (struct eventfd *)f->n->data;
		if (len < 8)
			return -EINVAL;
		long r = wait_until(f, POLLIN);
		if (r)
			return r;
		uint64_t v = e->semaphore ? 1 : e->count;
		e->count -= v;
		knet_wake(); /* room for a writer that found it full */
		memcpy(buf, &v, 8);
		return 8;
	}
	case K_TIMERFD: {
		struct timerfd *t = (struct timerfd *)f->n->data;
		if (len < 8)
			return -EINVAL;
		long r = wait_until(f, POLLIN);
		if (r)
			return r;
		memcpy(buf, &t->expirations, 8);
		t->expirations = 0;
		return 8;
	}
	default:
		return -EINVAL;
	}
}

long anon_write(struct file *f, const void *buf, size_t len)
{
	switch (f->n->kind) {
	case K_SOCKET:
		return sock_write(f, buf, len);
	case K_EVENTFD: {
		struct eventfd *e = (struct eventfd *)f->n->data;
		uint64_t v;
		if (len < 8)
			return -EINVAL;
		memcpy(&v, buf, 8);
		if (v == UINT64_MAX)
			return -EINVAL;
		while (e->count > UINT64_MAX - 1 - v) {
			if (f->flags & O_NONBLOCK)
				return -EAGAIN;
			if (anon_wait(WAIT_FOREVER)) /* another thread of the program may read it */
				return -EINTR;
		}
		e->count += v;
		knet_wake(); /* readers and pollers, in any thread or process */
		return 8;
	}
	default:
		return -EINVAL;
	}
}

static unsigned ready_of(struct file *f)
{
	switch (f->n->kind) {
	case K_SOCKET:
		return sock_poll(f);
	case K_EVENTFD: {
		struct eventfd *e = (struct eventfd *)f->n->data;
		return (e->count ? POLLIN : 0) | (e->count < UINT64_MAX - 1 ? POLLOUT : 0);
	}
	case K_TIMERFD: {
		struct timerfd *t = (struct timerfd *)f->n->data;
		timer_update(t);
		return t->expirations ? POLLIN : 0;
	}
	case K_TTY:
		return POLLOUT | (console_readable() ? POLLIN : 0);
	case K_FIFO:
		return (unsigned short)pipe_poll(f);
	case K_EPOLL: {
		struct epoll *ep = (struct epoll *)f->n->data;
		for (struct epitem *i = ep->items; i; i = i->next)
			if (!i->disabled && fd_get(i->fd) == i->f && i->f->n->kind != K_EPOLL &&
			    (ready_of(i->f) & (i->events | EPOLLERR | EPOLLHUP)))
				return POLLIN;
		return 0;
	}
	default:
		return POLLIN | POLLOUT;
	}
}

unsigned anon_poll(struct file *f)
{
	return ready_of(f);
}

void anon_release(struct node *n)
{
	switch (n->kind) {
	case K_SOCKET:
		sock_release(n); /* frees n */
		return;
	case K_EPOLL: {
		struct epoll *ep = (struct epoll *)n->data;
		for (struct epitem *i = ep->items, *next; i; i = next) {
			next = i->next;
			kfree(i);
		}
		break;
	}
	case K_TIMERFD:
		for (int i = 0; i < MAX_TIMERS; i++)
			if (timers[i] == (struct timerfd *)n->data)
				timers[i] = NULL;
		break;
	default:
		break;
	}
	kfree(n->data);
	kfree(n);
}

/* ---- epoll ---- */

static long epoll_make(long flags)
{
	if (flags & ~O_CLOEXEC)
		return -EINVAL;
	struct epoll *ep = kzalloc(sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	return anon_install(K_EPOLL, ep, 0, flags & O_CLOEXEC);
}

SYSCALL1(epoll_create1, long, flags)
{
	return epoll_make(flags);
}

SYSCALL1(epoll_create, long, size)
{
	return size <= 0 ? -EINVAL : epoll_make(0);
}

static struct epoll *epoll_of(long epfd, long *err)
{
	struct file *f = fd_get(epfd);
	*err = !f ? -EBADF : f->n->kind != K_EPOLL ? -EINVAL : 0;
	return *err ? NULL : (struct epoll *)f->n->data;
}

/* Items whose descriptor was closed (or reused for another file) are gone. */
static void epoll_prune(struct epoll *ep)
{
	for (struct epitem **pp = &ep->items; *pp;) {
		struct epitem *i = *pp;
		if (fd_get(i->fd) != i->f) {
			*pp = i->next;
			kfree(i);
		} else {
			pp = &i->next;
		}
	}
}

SYSCALL4(epoll_ctl, long, epfd, long, op, long, fd, uint64_t, uev)
{
	long e;
	struct epoll *ep = epoll_of(epfd, &e);
	if (!ep)
		return e;
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	if (fd == epfd)
		return -EINVAL;
	if (f->n->kind == K_FILE || f->n->kind == K_DIR)
		return -EPERM; /* regular files are always ready: Linux refuses them */
	epoll_prune(ep);
	struct epitem **pp = &ep->items;
	while (*pp && (*pp)->fd != fd)
		pp = &(*pp)->next;
	struct linux_epoll_event ev = {0};
	if (op != EPOLL_CTL_DEL) {
		UOK(uev, sizeof(ev));
		memcpy(&ev, (void *)uev, sizeof(ev));
	}
	switch (op) {
	case EPOLL_CTL_ADD: {
		if (*pp)
			return -EEXIST;
		struct epitem *i = kzalloc(sizeof(*i));
		if (!i)
			return -ENOMEM;
		*i = (struct epitem){NULL, (int)fd, f, ev.events, ev.data, false, 0, 0, 0};
		*pp = i;
		return 0;
	}
	case EPOLL_CTL_MOD:
		if (!*pp)
			return -ENOENT;
		(*pp)->events = ev.events;
		(*pp)->data = ev.data;
		(*pp)->disabled = false;
		(*pp)->last = 0;
		return 0;
	case EPOLL_CTL_DEL: {
		if (!*pp)
			return -ENOENT;
		struct epitem *i = *pp;
		*pp = i->next;
		kfree(i);
		return 0;
	}
	}
	return -EINVAL;
}

static long avail_of(struct file *f)
{
	return f->n->kind == K_SOCKET ? sock_fionread(f) : 0;
}

static uint32_t arrivals_of(struct file *f)
{
	return f->n->kind == K_SOCKET ? sock_arrivals(f) : 0;
}

/* One scan: fill out[] with what is ready, as level/edge/oneshot say. */
static int epoll_scan(struct epoll *ep, struct linux_epoll_event *out, int max)
{
	int n = 0;
	epoll_prune(ep);
	for (struct epitem *i = ep->items; i && n < max; i = i->next) {
		if (i->disabled)
			continue;
		unsigned want =
		    (i->events & (EPOLLIN | EPOLLOUT | EPOLLRDHUP | 0x2)) | EPOLLERR | EPOLLHUP;
		unsigned m = ready_of(i->f) & want;
		if (i->events & EPOLLET) {
			/*
			 * A report on each rise of a condition and on each arrival, as Linux
			 * wakes on each.  Scans only sample: a program may drain a socket and
			 * get new data between two of them, and the state looks unchanged.
			 * TCP counts its arrivals; other sockets show growing data.
			 */
			long avail = avail_of(i->f);
			uint32_t arrivals = arrivals_of(i->f);
			unsigned rose = m & ~i->last;
			bool more = ((m & EPOLLIN) && avail > i->last_avail) ||
				    arrivals != i->last_arrivals;
			i->last = m;
			i->last_avail = avail;
			i->last_arrivals = arrivals;
			if (!rose && !more)
				continue;
		}
		if (!m)
			continue;
		out[n].events = m;
		out[n].data = i->data;
		n++;
		if (i->events & EPOLLONESHOT)
			i->disabled = true;
	}
	return n;
}

static long epoll_wait_common(long epfd, uint64_t uev, long max, long timeout_ms)
{
	long e;
	struct epoll *ep = epoll_of(epfd, &e);
	if (!ep)
		return e;
	if (max <= 0 || max > 65536)
		return -EINVAL;
	UOK(uev, (uint64_t)max * sizeof(struct linux_epoll_event));
	struct linux_epoll_event *out = (struct linux_epoll_event *)uev;
	uint64_t end = timeout_ms > 0 ? time_ns() + (uint64_t)timeout_ms * 1000000 : 0;
	for (;;) {
		knet_poll();
		int n = epoll_scan(ep, out, (int)max);
		uint64_t now = time_ns();
		if (n || timeout_ms == 0 || (timeout_ms > 0 && now >= end))
			return n;
		if (anon_wait(timeout_ms > 0 ? end - now : WAIT_FOREVER))
			return -EINTR;
	}
}

SYSCALL4(epoll_wait, long, epfd, uint64_t, uev, long, max, long, timeout_ms)
{
	return epoll_wait_common(epfd, uev, max, (int)timeout_ms);
}

/* The signal mask changes nothing: no signal is delivered during the wait. */
SYSCALL6(epoll_pwait, long, epfd, uint64_t, uev, long, max, long, timeout_ms, uint64_t, sigmask,
	 size_t, sigsz)
{
	return epoll_wait_common(epfd, uev, max, (int)timeout_ms);
}
