/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sockets: AF_INET and AF_INET6 stream and datagram on the kernel's stack
 * (net/; an AF_INET6 socket takes IPv4 too, as ::ffff:a.b.c.d, unless
 * IPV6_V6ONLY is set), AF_UNIX
 * stream and datagram pairs (socketpair), their options, and the readiness
 * poll and select see.  A socket is an anonymous node of kind K_SOCKET whose
 * data points at its struct ksock; blocking calls wait in knet_wait.
 */
#include "../net/knet.h"
#include "../net/net.h"
#include "../proc/task.h"
#include "sys.h"

#define AF_UNIX	      1
#define AF_INET	      2
#define AF_INET6      10
#define SOCK_STREAM   1
#define SOCK_DGRAM    2
#define SOCK_NONBLOCK 04000
#define SOCK_CLOEXEC  02000000

#define SOL_SOCKET   1
#define IPPROTO_IP   0
#define IPPROTO_TCP  6
#define IPPROTO_UDP  17
#define IPPROTO_IPV6 41
#define IPV6_V6ONLY  26

#define MSG_PEEK     0x2
#define MSG_TRUNC    0x20
#define MSG_DONTWAIT 0x40
#define MSG_WAITALL  0x100
#define MSG_NOSIGNAL 0x4000

#define UNIX_BUF	 (208 * 1024)
#define UNIX_PATH	 108 /* sun_path's size */
#define SCM_MAX_FD	 253 /* descriptors in one message, as Linux */
#define SCM_RIGHTS	 1
#define SCM_CREDS	 2 /* SCM_CREDENTIALS */
#define MSG_CTRUNC	 0x8
#define MSG_CMSG_CLOEXEC 0x40000000

struct ucred {
	int32_t pid;
	uint32_t uid, gid;
};

/* An AF_UNIX name: sun_path's bytes (an abstract one starts with a 0 byte); len 0: unnamed. */
struct uname {
	uint32_t len;
	char path[UNIX_PATH];
};

/* What an AF_UNIX socket queues for its reader: bytes, and what travels with them. */
struct uchunk {
	struct uchunk *next;
	uint32_t len;
	int nfiles;
	struct file **files; /* SCM_RIGHTS in flight, each holding a reference */
	struct ucred cred;   /* the sender's, for SCM_CREDENTIALS */
	struct uname from;   /* datagrams: the sender's name */
	uint8_t data[];
};

struct ksock {
	int family, type, proto;
	struct tcp_sock *tcp;
	struct udp_sock *udp;
	/* AF_UNIX: what the peer wrote, as a queue of chunks (datagrams keep bounds) */
	struct ksock *peer;
	struct uchunk *uq, *uqtail;
	uint32_t uqbytes, uoff; /* uoff: bytes of the head chunk a stream read consumed */
	bool peer_gone;
	/* AF_UNIX names: its own (bind), its peer's, a datagram socket's destination */
	struct uname name, peername, dest;
	struct node *unode;  /* the socket file a path name made */
	struct ksock *unext; /* the named AF_UNIX sockets */
	bool ulisten, passcred;
	int ubacklog, nacc;
	struct ksock *accq, *accnext; /* connected server ends waiting for accept */
	struct ucred peercred;	      /* SO_PEERCRED */
	bool shut_rd, shut_wr;
	bool nospace; /* a send found the peer's queue full: its reads signal room (O_ASYNC) */
	bool linger;
	int linger_s;
	uint64_t rcvtimeo_ns, sndtimeo_ns;
	uint32_t rcvbuf, sndbuf; /* as getsockopt reports them */
	int unix_error;
};

struct linux_sockaddr_in {
	uint16_t family, port; /* port and address in network order */
	uint32_t addr;
	uint8_t zero[8];
};

struct linux_sockaddr_in6 {
	uint16_t family, port;
	uint32_t flowinfo;
	uint8_t addr[16];
	uint32_t scope_id;
};

struct linux_msghdr {
	uint64_t name;
	uint32_t namelen, pad0;
	uint64_t iov, iovlen, control, controllen;
	int32_t flags, pad1;
};

static uint16_t bswap16(uint16_t v)
{
	return (uint16_t)(v << 8 | v >> 8);
}

static struct ksock *sock_of(struct file *f)
{
	return f && f->n->kind == K_SOCKET ? (struct ksock *)f->n->data : NULL;
}

static long sock_fd(long fd, struct file **fp, struct ksock **sp)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	struct ksock *s = sock_of(f);
	if (!s)
		return -ENOTSOCK;
	if (fp)
		*fp = f;
	*sp = s;
	return 0;
}

/* ---- creating and releasing ---- */

static void sock_release_state(struct node *n);

/* A descriptor for s, which it owns from now on (released on failure too). */
static long install(struct ksock *s, long flags)
{
	struct node *n = kzalloc(sizeof(*n));
	if (!n) {
		struct node tmp = {.data = (char *)s};
		sock_release_state(&tmp);
		return -ENOMEM;
	}
	n->kind = K_SOCKET;
	n->mode = S_IFSOCK | 0777;
	n->parent = n;
	n->data = (char *)s;
	n->ino = 0x50000000u + (uint64_t)(uintptr_t)s % 0x10000000u;
	struct file *f = file_new(n, O_RDWR | (int)(flags & SOCK_NONBLOCK));
	if (!f) {
		sock_release(n);
		return -ENOMEM;
	}
	long fd = fd_alloc(f, 0, flags & SOCK_CLOEXEC);
	if (fd < 0) {
		f->refs = 1;
		file_put(f);
	}
	return fd;
}

/* sockets alive, for --netstat: a leak shows as a count that does not come back down */
static unsigned live_tcp, live_udp, live_unix;

static void count_sock(const struct ksock *s, int d)
{
	unsigned *c = s->tcp ? &live_tcp : s->udp ? &live_udp : &live_unix;
	*c += (unsigned)d;
}

void sock_report(void)
{
	unsigned st[TCP_TIME_WAIT + 1] = {0};
	for (struct tcp_sock *t = N ? tcb_first(N) : NULL; t; t = tcb_next(N, t))
		st[t->state]++;
	unsigned conns = 0;
	for (int i = 0; i <= TCP_TIME_WAIT; i++)
		conns += st[i];
	kprintf("capstan: netstat: sockets %u (tcp %u, udp %u, unix %u); tcp connections %u "
		"(listen %u, established %u, time-wait %u, other %u)\n",
		live_tcp + live_udp + live_unix, live_tcp, live_udp, live_unix, conns,
		st[TCP_LISTEN], st[TCP_ESTABLISHED], st[TCP_TIME_WAIT],
		conns - st[TCP_LISTEN] - st[TCP_ESTABLISHED] - st[TCP_TIME_WAIT]);
}

static struct ksock *ksock_new(int family, int type, int proto)
{
	struct ksock *s = kzalloc(sizeof(*s));
	if (!s)
		return NULL;
	s->family = family;
	s->type = type;
	s->proto = proto;
	s->rcvbuf = s->sndbuf = 2 * 128 * 1024;
	bool inet = family == AF_INET || family == AF_INET6;
	if (inet && type == SOCK_STREAM)
		s->tcp = tcp_new();
	else if (inet)
		s->udp = udp_new();
	if (inet && !s->tcp && !s->udp) {
		kfree(s);
		return NULL;
	}
	/* an AF_INET socket's unspecified address is 0.0.0.0, which takes no IPv6 */
	if (family == AF_INET && s->tcp)
		s->tcp->laddr = na_v4(0);
	if (family == AF_INET && s->udp)
		s->udp->laddr = na_v4(0);
	count_sock(s, 1);
	return s;
}

static struct ucred my_cred(void)
{
	return (struct ucred){current->proc->pid, cred_fsuid(), cred_fsgid()};
}

/* a socket that never had a descriptor */
static void ksock_free(struct ksock *s)
{
	if (s) {
		count_sock(s, -1);
		kfree(s);
	}
}

static void drop_files(struct file **files, int n)
{
	for (int i = 0; i < n; i++)
		file_put(files[i]);
	kfree(files);
}

static void unix_drop_queue(struct ksock *s)
{
	for (struct uchunk *p = s->uq, *n; p; p = n) {
		n = p->next;
		drop_files(p->files, p->nfiles);
		kfree(p);
	}
	s->uq = s->uqtail = NULL;
	s->uqbytes = 0;
}

static struct ksock *named; /* AF_UNIX sockets with a name, through unext */

static void unix_unname(struct ksock *s)
{
	for (struct ksock **pp = &named; *pp; pp = &(*pp)->unext)
		if (*pp == s) {
			*pp = s->unext;
			break;
		}
}

static void ksock_destroy(struct ksock *s)
{
	count_sock(s, -1);
	knet_poll();
	if (s->tcp)
		tcp_close(s->tcp, s->linger && s->linger_s == 0);
	if (s->udp)
		udp_free(s->udp);
	if (s->peer) {
		s->peer->peer = NULL;
		s->peer->peer_gone = true;
		if (s->type != SOCK_DGRAM)
			fasync_sock(s->peer, POLLHUP);
		knet_wake(); /* the peer's reader sees its end of file, its writer EPIPE */
	}
	if (s->name.len)
		unix_unname(s);
	/* connections nobody accepted: their clients see the other end gone */
	while (s->accq) {
		struct ksock *c = s->accq;
		s->accq = c->accnext;
		ksock_destroy(c);
	}
	unix_drop_queue(s); /* may close sockets in flight, and so come back here */
	kfree(s);
}

static void sock_release_state(struct node *n)
{
	ksock_destroy((struct ksock *)n->data);
}

/* The last descriptor is gone (fd.c's file_put calls this). */
void sock_release(struct node *n)
{
	sock_release_state(n);
	kfree(n);
}

SYSCALL3(socket, long, family, long, type, long, proto)
{
	int t = (int)(type & 0xf);
	if (type & ~(0xf | SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	if (family != AF_INET && family != AF_INET6 && family != AF_UNIX)
		return -EAFNOSUPPORT;
	if (t != SOCK_STREAM && t != SOCK_DGRAM)
		return -ESOCKTNOSUPPORT;
	if (family == AF_UNIX && proto)
		return -EPROTONOSUPPORT;
	if (proto && !(t == SOCK_STREAM && proto == IPPROTO_TCP) &&
	    !(t == SOCK_DGRAM && proto == IPPROTO_UDP))
		return -EPROTONOSUPPORT;
	int p = family == AF_UNIX ? 0 : t == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
	struct ksock *s = ksock_new((int)family, t, p);
	if (!s)
		return -ENOMEM;
	return install(s, type);
}

SYSCALL4(socketpair, long, family, long, type, long, proto, uint64_t, usv)
{
	int t = (int)(type & 0xf);
	if (family != AF_UNIX)
		return family == AF_INET || family == AF_INET6 ? -EOPNOTSUPP : -EAFNOSUPPORT;
	if (t != SOCK_STREAM && t != SOCK_DGRAM)
		return -ESOCKTNOSUPPORT;
	if (proto)
		return -EPROTONOSUPPORT;
	UOK(usv, 8);
	struct ksock *a = ksock_new(AF_UNIX, t, 0), *b = ksock_new(AF_UNIX, t, 0);
	if (!a || !b) {
		ksock_free(a);
		ksock_free(b);
		return -ENOMEM;
	}
	a->peer = b;
	b->peer = a;
	a->peercred = b->peercred = my_cred();
	long fa = install(a, type);
	if (fa < 0) {
		ksock_free(b); /* a was released and told b nothing it needs */
		return fa;
	}
	long fb = install(b, type);
	if (fb < 0) {
		fd_close(fa);
		return fb;
	}
	((int *)usv)[0] = (int)fa;
	((int *)usv)[1] = (int)fb;
	return 0;
}

/* ---- addresses ---- */

/* A sockaddr_in or, for an AF_INET6 socket, a sockaddr_in6 (unspec: AF_UNSPEC allowed). */
static long get_sin(const struct ksock *s, uint64_t uaddr, uint64_t len, struct naddr *addr,
		    uint16_t *port, bool *unspec)
{
	if (len < 2)
		return -EINVAL;
	UOK(uaddr, len);
	uint16_t family = *(const uint16_t *)uaddr;
	if (unspec)
		*unspec = family == 0;
	if (family == 0 && unspec)
		return 0;
	if (s->family == AF_INET6) {
		const struct linux_sockaddr_in6 *sin6 = (const struct linux_sockaddr_in6 *)uaddr;
		if (len < 24) /* RFC 2133's size, without scope_id, as Linux takes */
			return -EINVAL;
		if (family != AF_INET6)
			return -EAFNOSUPPORT;
		*port = bswap16(sin6->port);
		memcpy(addr->b, sin6->addr, 16);
		return 0;
	}
	const struct linux_sockaddr_in *sin = (const struct linux_sockaddr_in *)uaddr;
	if (len < sizeof(*sin))
		return -EINVAL;
	if (family != AF_INET)
		return -EAFNOSUPPORT;
	*port = bswap16(sin->port);
	*addr = na_v4(rd32((const uint8_t *)&sin->addr));
	return 0;
}

/* Copy a socket address out as the socket's family shows it. */
static long put_sin(const struct ksock *s, uint64_t uaddr, uint64_t ulen, struct naddr addr,
		    uint16_t port)
{
	if (!uaddr)
		return 0;
	UOK(ulen, 4);
	uint32_t len = *(uint32_t *)ulen;
	if ((int32_t)len < 0)
		return -EINVAL;
	union {
		struct linux_sockaddr_in in;
		struct linux_sockaddr_in6 in6;
	} u;
	uint32_t size;
	memset(&u, 0, sizeof(u));
	if (s->family == AF_INET6) {
		u.in6.family = AF_INET6;
		u.in6.port = bswap16(port);
		memcpy(u.in6.addr, addr.b, 16);
		size = sizeof(u.in6);
	} else {
		u.in.family = AF_INET;
		u.in.port = bswap16(port);
		wr32((uint8_t *)&u.in.addr, na_is_any(addr) ? 0 : na_to_v4(addr));
		size = sizeof(u.in);
	}
	uint32_t n = MIN(len, size);
	UOK(uaddr, n);
	memcpy((void *)uaddr, &u, n);
	*(uint32_t *)ulen = size;
	return 0;
}

/* ---- AF_UNIX names ---- */

/* A sockaddr_un: a path (up to its NUL), an abstract name (a 0 byte, then every byte), or
 * nothing but the family (len 0: bind picks an abstract name). */
static long get_sun(uint64_t uaddr, uint64_t len, struct uname *u, bool *unspec)
{
	if (len < 2 || len > 2 + UNIX_PATH)
		return -EINVAL;
	UOK(uaddr, len);
	uint16_t family = *(const uint16_t *)uaddr;
	if (unspec)
		*unspec = family == 0;
	if (family == 0 && unspec)
		return 0;
	if (family != AF_UNIX)
		return -EINVAL;
	const char *p = (const char *)uaddr + 2;
	uint32_t n = (uint32_t)len - 2;
	if (n && p[0]) {
		uint32_t k = 0;
		while (k < n && p[k])
			k++;
		n = k;
	}
	u->len = n;
	memcpy(u->path, p, n);
	return 0;
}

/* As Linux: a path counts its NUL; an unnamed sender of what was received has no address. */
static long put_sun(uint64_t uaddr, uint64_t ulen, const struct uname *u, bool received)
{
	if (!uaddr)
		return 0;
	UOK(ulen, 4);
	uint32_t len = *(uint32_t *)ulen;
	if ((int32_t)len < 0)
		return -EINVAL;
	uint8_t b[2 + UNIX_PATH + 1];
	uint16_t family = AF_UNIX;
	memcpy(b, &family, 2);
	memcpy(b + 2, u->path, u->len);
	uint32_t size = 2 + u->len;
	if (u->len && u->path[0])
		b[size++] = 0;
	if (!u->len && received)
		size = 0;
	uint32_t n = MIN(len, size);
	UOK(uaddr, n);
	memcpy((void *)uaddr, b, n);
	*(uint32_t *)ulen = size;
	return 0;
}

static struct ksock *find_abstract(const struct uname *u)
{
	for (struct ksock *k = named; k; k = k->unext)
		if (!k->unode && k->name.len == u->len && !memcmp(k->name.path, u->path, u->len))
			return k;
	return NULL;
}

static void path_of(const struct uname *u, char *out)
{
	memcpy(out, u->path, u->len);
	out[u->len] = 0;
}

/* The socket bound to a name: -ENOENT without the file, -ECONNREFUSED without a socket. */
static long unix_lookup(const struct uname *u, struct ksock **out)
{
	if (!u->len)
		return -EINVAL;
	if (!u->path[0]) {
		*out = find_abstract(u);
		return *out ? 0 : -ECONNREFUSED;
	}
	char path[UNIX_PATH + 1];
	path_of(u, path);
	struct node *n;
	int r = vfs_walk(vfs_cwd, path, true, &n, NULL, NULL);
	if (r)
		return r;
	if (n->kind == K_HLINK)
		n = n->target;
	if ((n->mode & S_IFMT) != S_IFSOCK)
		return -ECONNREFUSED;
	for (struct ksock *k = named; k; k = k->unext)
		if (k->unode == n) {
			*out = k;
			return 0;
		}
	return -ECONNREFUSED;
}

/* A path name makes a socket file; an abstract one lives in the socket alone. */
static long unix_bind(struct ksock *s, const struct uname *want)
{
	static uint32_t autobind_next;
	if (s->name.len)
		return -EINVAL;
	struct uname u = *want;
	if (!u.len) { /* five hex digits, as Linux's autobind */
		do {
			u.path[0] = 0;
			ksnprintf(u.path + 1, 6, "%05x", autobind_next++ & 0xfffff);
			u.len = 6;
		} while (find_abstract(&u));
	}
	if (!u.path[0]) {
		if (find_abstract(&u))
			return -EADDRINUSE;
	} else {
		char path[UNIX_PATH + 1], leaf[256];
		path_of(&u, path);
		struct node *n = NULL, *parent = NULL;
		int r = vfs_walk(vfs_cwd, path, false, &n, &parent, leaf);
		if (!r)
			return -EADDRINUSE;
		if (r != -ENOENT || !parent)
			return r;
		if (parent->kind != K_DIR)
			return -ENOTDIR;
		n = vfs_create(parent, leaf, K_FILE, S_IFSOCK | (0777 & ~proc_umask()));
		if (!n)
			return -ENOMEM;
		s->unode = n;
	}
	s->name = u;
	s->unext = named;
	named = s;
	return 0;
}

static long unix_listen(struct ksock *s, long backlog)
{
	if (s->type != SOCK_STREAM)
		return -EOPNOTSUPP;
	if (s->peer || s->peer_gone)
		return -EINVAL;
	if (!s->name.len) {
		struct uname none = {0};
		long e = unix_bind(s, &none);
		if (e)
			return e;
	}
	s->ulisten = true;
	s->ubacklog = (int)MIN(MAX(backlog, 1), 4096);
	s->peercred = my_cred();
	return 0;
}

struct uconnect {
	struct ksock *s;
	struct uname to;
};

/* A stream connection is made at once: the server's end waits in the listener's queue. */
static long unix_connect_op(void *arg)
{
	struct uconnect *c = arg;
	struct ksock *s = c->s, *l;
	if (s->peer || s->peer_gone || s->ulisten)
		return s->ulisten ? -EINVAL : -EISCONN;
	long e = unix_lookup(&c->to, &l);
	if (e)
		return e;
	if (l->type != s->type)
		return -EPROTOTYPE;
	if (!l->ulisten)
		return -ECONNREFUSED;
	if (l->nacc >= l->ubacklog)
		return -EAGAIN;
	struct ksock *n = ksock_new(AF_UNIX, s->type, 0);
	if (!n)
		return -ENOMEM;
	n->name = l->name;
	n->peername = s->name;
	n->peercred = my_cred();
	n->rcvbuf = l->rcvbuf;
	n->sndbuf = l->sndbuf;
	n->peer = s;
	s->peer = n;
	s->peername = l->name;
	s->peercred = l->peercred;
	struct ksock **pp = &l->accq;
	while (*pp)
		pp = &(*pp)->accnext;
	*pp = n;
	l->nacc++;
	fasync_sock(l, POLLIN);
	knet_wake();
	return 0;
}

static long unix_accept_op(void *arg)
{
	struct ksock **io = arg, *l = io[0];
	if (!l->accq)
		return -EAGAIN;
	io[1] = l->accq;
	l->accq = io[1]->accnext;
	io[1]->accnext = NULL;
	l->nacc--;
	return 0;
}

SYSCALL3(bind, long, fd, uint64_t, uaddr, uint64_t, len)
{
	struct ksock *s;
	long e = sock_fd(fd, NULL, &s);
	if (e)
		return e;
	if (s->family == AF_UNIX) {
		struct uname u;
		if ((e = get_sun(uaddr, len, &u, NULL)))
			return e;
		return unix_bind(s, &u);
	}
	struct naddr addr;
	uint16_t port;
	if ((e = get_sin(s, uaddr, len, &addr, &port, NULL)))
		return e;
	return s->tcp ? tcp_bind(s->tcp, addr, port) : udp_bind(s->udp, addr, port);
}

SYSCALL2(listen, long, fd, long, backlog)
{
	struct ksock *s;
	long e = sock_fd(fd, NULL, &s);
	if (e)
		return e;
	if (s->family == AF_UNIX)
		return unix_listen(s, backlog);
	if (!s->tcp)
		return -EOPNOTSUPP;
	return tcp_listen(s->tcp, backlog > 0x7fffffff ? 0x7fffffff : (int)backlog);
}

static bool nonblocking(struct file *f, long flags)
{
	return (f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT);
}

/*
 * Run op until it stops saying -EAGAIN, waiting for the network between tries,
 * unless the socket does not block or the timeout (0: none) passes.
 */
typedef long op_fn(void *ctx);
static long blocking(op_fn *op, void *ctx, bool nb, uint64_t timeout_ns)
{
	uint64_t end = timeout_ns ? time_ns() + timeout_ns : 0;
	for (;;) {
		knet_poll();
		long r = op(ctx);
		if (r != -EAGAIN || nb)
			return r;
		uint64_t now = time_ns();
		if (end && now >= end)
			return -EAGAIN;
		if (knet_wait(end ? end - now : WAIT_FOREVER))
			return -EINTR;
	}
}

struct accept_ctx {
	struct ksock *s;
	struct tcp_sock *out;
};

static long accept_op(void *arg)
{
	struct accept_ctx *c = arg;
	return tcp_accept(c->s->tcp, &c->out);
}

static long do_accept_flags(long fd, uint64_t uaddr, uint64_t ulen, long flags)
{
	struct file *f;
	struct ksock *s;
	long e = sock_fd(fd, &f, &s);
	if (e)
		return e;
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	if (s->family == AF_UNIX) {
		if (!s->ulisten)
			return s->type == SOCK_STREAM ? -EINVAL : -EOPNOTSUPP;
		struct ksock *io[2] = {s, NULL};
		e = blocking(unix_accept_op, io, nonblocking(f, 0), s->rcvtimeo_ns);
		if (e)
			return e;
		struct uname peer = io[1]->peername;
		long nfd = install(io[1], flags);
		if (nfd >= 0)
			put_sun(uaddr, ulen, &peer, false);
		return nfd;
	}
	if (!s->tcp)
		return -EOPNOTSUPP;
	if (s->tcp->state != TCP_LISTEN)
		return -EINVAL;
	struct accept_ctx c = {s, NULL};
	e = blocking(accept_op, &c, nonblocking(f, 0), s->rcvtimeo_ns);
	if (e)
		return e;
	struct ksock *n = kzalloc(sizeof(*n));
	if (!n) {
		tcp_close(c.out, true);
		return -ENOMEM;
	}
	n->family = s->family;
	n->type = SOCK_STREAM;
	n->proto = IPPROTO_TCP;
	n->tcp = c.out;
	count_sock(n, 1);
	n->rcvbuf = s->rcvbuf;
	n->sndbuf = s->sndbuf;
	long nfd = install(n, flags);
	if (nfd < 0)
		return nfd; /* the connection was reset with the socket */
	put_sin(s, uaddr, ulen, c.out->raddr, c.out->rport);
	return nfd;
}

SYSCALL3(accept, long, fd, uint64_t, uaddr, uint64_t, ulen)
{
	return do_accept_flags(fd, uaddr, ulen, 0);
}

SYSCALL4(accept4, long, fd, uint64_t, uaddr, uint64_t, ulen, long, flags)
{
	return do_accept_flags(fd, uaddr, ulen, flags);
}

static long connect_op(void *arg)
{
	struct tcp_sock *t = arg;
	if (t->state == TCP_SYN_SENT || t->state == TCP_SYN_RCVD)
		return -EAGAIN;
	if (t->error)
		return -tcp_take_error(t);
	return t->state == TCP_CLOSED ? -ECONNREFUSED : 0;
}

SYSCALL3(connect, long, fd, uint64_t, uaddr, uint64_t, len)
{
	struct file *f;
	struct ksock *s;
	long e = sock_fd(fd, &f, &s);
	if (e)
		return e;
	if (s->family == AF_UNIX) {
		struct uconnect c = {.s = s};
		bool unspec;
		if ((e = get_sun(uaddr, len, &c.to, &unspec)))
			return e;
		if (s->type == SOCK_DGRAM) {
			/* the default destination, checked now and looked up at each send */
			struct ksock *d;
			if (unspec) {
				memset(&s->dest, 0, sizeof(s->dest));
				return 0;
			}
			if ((e = unix_lookup(&c.to, &d)))
				return e;
			if (d->type != SOCK_DGRAM)
				return -EPROTOTYPE;
			s->dest = c.to;
			s->peername = c.to;
			return 0;
		}
		if (unspec)
			return -EINVAL;
		return blocking(unix_connect_op, &c, nonblocking(f, 0), s->sndtimeo_ns);
	}
	struct naddr addr;
	uint16_t port;
	bool unspec;
	if ((e = get_sin(s, uaddr, len, &addr, &port, &unspec)))
		return e;
	if (s->udp)
		return udp_connect(s->udp, unspec ? (struct naddr){{0}} : addr, unspec ? 0 : port);
	if (unspec)
		return -EINVAL;
	knet_poll();
	e = tcp_connect(s->tcp, addr, port);
	if (e != -EINPROGRESS)
		return e;
	if (nonblocking(f, 0))
		return -EINPROGRESS;
	return blocking(connect_op, s->tcp, false, s->sndtimeo_ns);
}

SYSCALL3(getsockname, long, fd, uint64_t, uaddr, uint64_t, ulen)
{
	struct ksock *s;
	long e = sock_fd(fd, NULL, &s);
	if (e)
		return e;
	if (s->family == AF_UNIX)
		return put_sun(uaddr, ulen, &s->name, false);
	if (s->tcp)
		return put_sin(s, uaddr, ulen, s->tcp->laddr, s->tcp->lport);
	return put_sin(s, uaddr, ulen, s->udp->laddr, s->udp->lport);
}

SYSCALL3(getpeername, long, fd, uint64_t, uaddr, uint64_t, ulen)
{
	struct ksock *s;
	long e = sock_fd(fd, NULL, &s);
	if (e)
		return e;
	if (s->family == AF_UNIX)
		return s->peer || s->peer_gone || s->dest.len
			   ? put_sun(uaddr, ulen, &s->peername, false)
			   : -ENOTCONN;
	if (s->tcp) {
		enum tcp_state st = s->tcp->state;
		if (st == TCP_CLOSED || st == TCP_LISTEN || st == TCP_SYN_SENT)
			return -ENOTCONN;
		return put_sin(s, uaddr, ulen, s->tcp->raddr, s->tcp->rport);
	}
	if (!s->udp->rport)
		return -ENOTCONN;
	return put_sin(s, uaddr, ulen, s->udp->raddr, s->udp->rport);
}

SYSCALL2(shutdown, long, fd, long, how)
{
	struct ksock *s;
	long e = sock_fd(fd, NULL, &s);
	if (e)
		return e;
	if (how < 0 || how > 2)
		return -EINVAL;
	bool rd = how != 1, wr = how != 0;
	if (s->family == AF_UNIX) {
		if (!s->peer && !s->peer_gone)
			return -ENOTCONN;
		s->shut_rd |= rd;
		s->shut_wr |= wr;
		knet_wake(); /* the peer's reader may see its end of file */
		return 0;
	}
	if (s->udp)
		return s->udp->rport ? 0 : -ENOTCONN;
	knet_poll();
	e = tcp_shutdown(s->tcp, rd, wr);
	if (!e) {
		s->shut_rd |= rd;
		s->shut_wr |= wr;
	}
	return e;
}

/* ---- data ---- */

/* EPIPE raises SIGPIPE in the writing thread, as a pipe does. */
static long epipe(long flags)
{
	if (!(flags & MSG_NOSIGNAL))
		signal_raise(SIGPIPE);
	return -EPIPE;
}

struct io {
	struct ksock *s;
	uint8_t *buf;
	size_t len;
	long flags;
	struct naddr addr; /* sendto destination / recvfrom source */
	uint16_t port;
	size_t done;   /* MSG_WAITALL progress */
	long full_len; /* datagrams: the length before truncation */
	/* AF_UNIX: the destination, and what came with the data: sender, credentials, and
	 * descriptors (SCM_RIGHTS; owned by the io until queued or installed) */
	struct uname to, from;
	struct ucred cred;
	bool has_cred;
	struct file **files;
	int nfiles;
};

static bool unix_writer_shut(const struct ksock *s)
{
	/* what this end reads comes from the peer: its SHUT_WR or its close ends the stream */
	return s->peer_gone || (s->peer && s->peer->shut_wr);
}

/* Take chunk p off s's queue (its descriptors were taken or are dropped with it). */
static void unix_pop(struct ksock *s, struct uchunk *p)
{
	s->uq = p->next;
	if (!s->uq)
		s->uqtail = NULL;
	s->uqbytes -= p->len;
	drop_files(p->files, p->nfiles);
	kfree(p);
}

/* What travels with a chunk goes to the reader: its sender, credentials, descriptors. */
static void unix_take_extras(struct io *io, struct uchunk *p, bool peek)
{
	if (!io->has_cred) {
		io->cred = p->cred;
		io->has_cred = true;
		io->from = p->from;
	}
	if (p->nfiles && !peek && !io->files) {
		io->files = p->files;
		io->nfiles = p->nfiles;
		p->files = NULL;
		p->nfiles = 0;
	}
}

/* A read made room: a writer that found it full hears of it (O_ASYNC), a blocked one wakes. */
static void unix_room(struct ksock *s)
{
	knet_wake();
	if (s->peer && s->peer->nospace) {
		s->peer->nospace = false;
		fasync_sock(s->peer, POLLOUT);
	}
}

static long unix_recv(struct io *io)
{
	struct ksock *s = io->s;
	if (!s->uq) {
		if (s->shut_rd || unix_writer_shut(s))
			return 0;
		return -EAGAIN;
	}
	bool peek = io->flags & MSG_PEEK;
	if (s->type == SOCK_DGRAM) {
		struct uchunk *p = s->uq;
		memcpy(io->buf, p->data, MIN(io->len, (size_t)p->len));
		io->full_len = p->len;
		unix_take_extras(io, p, peek);
		if (!peek) {
			unix_pop(s, p);
			unix_room(s);
		}
		return (long)MIN(io->len, (size_t)io->full_len);
	}
	size_t got = 0;
	struct uchunk *p = s->uq;
	uint32_t off = s->uoff;
	while (p && got < io->len) {
		/* as on Linux, descriptors end a read: they come with the bytes sent with them */
		if ((got || io->files) && p->nfiles)
			break;
		size_t n = MIN(io->len - got, (size_t)(p->len - off));
		memcpy(io->buf + got, p->data + off, n);
		unix_take_extras(io, p, peek);
		got += n;
		off += (uint32_t)n;
		if (off < p->len)
			break;
		struct uchunk *next = p->next;
		if (!peek)
			unix_pop(s, p);
		p = next;
		off = 0;
	}
	if (!peek) {
		s->uoff = off;
		if (got)
			unix_room(s);
	}
	return (long)got;
}

static long unix_send(struct io *io)
{
	struct ksock *s = io->s, *d = s->peer;
	if (s->type == SOCK_DGRAM && (io->to.len || (!d && s->dest.len))) {
		long e = unix_lookup(io->to.len ? &io->to : &s->dest, &d);
		if (e)
			return e;
		if (d->type != SOCK_DGRAM)
			return -EPROTOTYPE;
	} else if (io->to.len && s->type == SOCK_STREAM) {
		return s->peer ? -EISCONN : -EOPNOTSUPP;
	}
	if (!d && !s->peer_gone && !s->shut_wr)
		return -ENOTCONN;
	if (s->shut_wr || !d || d->shut_rd)
		return -EPIPE;
	if (s->type == SOCK_DGRAM && io->len > UNIX_BUF)
		return -EMSGSIZE;
	uint32_t room = d->uqbytes < UNIX_BUF ? UNIX_BUF - d->uqbytes : 0;
	size_t n = io->len;
	if (s->type == SOCK_DGRAM ? n > room : room == 0) {
		s->nospace = true;
		return -EAGAIN;
	}
	if (s->type == SOCK_STREAM)
		n = MIN(n, (size_t)room);
	struct uchunk *p = kzalloc(sizeof(*p) + n);
	if (!p)
		return -ENOMEM;
	p->len = (uint32_t)n;
	p->cred = my_cred();
	p->from = s->name;
	memcpy(p->data, io->buf, n);
	/* descriptors go with the first chunk of the message */
	p->files = io->files;
	p->nfiles = io->nfiles;
	io->files = NULL;
	io->nfiles = 0;
	if (d->uqtail)
		d->uqtail->next = p;
	else
		d->uq = p;
	d->uqtail = p;
	d->uqbytes += (uint32_t)n;
	fasync_sock(d, POLLIN);
	knet_wake();
	return (long)n;
}

/*
 * One try at what is left of io (a MSG_WAITALL receive and a blocking
 * stream send come back for the rest) through the socket's protocol; what
 * came with AF_UNIX data, and what an AF_UNIX send did not take, goes back
 * into io.
 */
static long io_step(struct io *io, bool send)
{
	struct ksock *s = io->s;
	struct io part = *io;
	part.buf += io->done;
	part.len -= io->done;
	long r;
	if (s->family == AF_UNIX) {
		r = send ? unix_send(&part) : unix_recv(&part);
		io->files = part.files;
		io->nfiles = part.nfiles;
		if (!send) {
			io->cred = part.cred;
			io->has_cred = part.has_cred;
			io->from = part.from;
			if (s->type == SOCK_DGRAM && r >= 0)
				io->full_len = part.full_len;
		}
	} else if (s->udp && send) {
		r = udp_sendto(s->udp, io->buf, io->len, io->addr, io->port);
	} else if (s->udp) {
		r = udp_recvfrom(s->udp, part.buf, part.len, &io->addr, &io->port,
				 io->flags & MSG_PEEK);
		if (r >= 0) {
			io->full_len = r;
			r = (long)MIN((size_t)r, part.len);
		}
	} else if (send) {
		r = tcp_send(s->tcp, part.buf, part.len);
	} else {
		r = s->shut_rd && !s->tcp->rcvbuf.len
			? 0
			: tcp_recv(s->tcp, part.buf, part.len, io->flags & MSG_PEEK);
	}
	return r;
}

static long recv_op(void *arg)
{
	struct io *io = arg;
	bool waitall =
	    (io->flags & MSG_WAITALL) && io->s->type == SOCK_STREAM && !(io->flags & MSG_PEEK);
	long r;
	/* MSG_WAITALL takes what there is until it has all it asked for or finds nothing more:
	 * an end of file already behind the data is seen now, where a wait for news would
	 * sleep on (nothing else comes) */
	while ((r = io_step(io, false)) > 0 && waitall) {
		io->done += (size_t)r;
		if (io->done == io->len)
			return (long)io->done;
	}
	if (r == 0 && io->done)
		return (long)io->done;
	if (r < 0 && r != -EAGAIN && io->done)
		return (long)io->done;
	return r;
}

static long send_op(void *arg)
{
	struct io *io = arg;
	long r = io_step(io, true);
	if (r > 0) {
		io->done += (size_t)r;
		/* a blocking stream send returns when all of it is queued */
		if (io->done < io->len && !(io->flags & MSG_DONTWAIT))
			return -EAGAIN;
		return (long)io->done;
	}
	if (r == -EAGAIN && io->done && (io->flags & MSG_DONTWAIT))
		return (long)io->done;
	if (r == 0 && !io->len)
		return 0;
	return r;
}

static long sock_recv_io(struct file *f, struct io *io)
{
	struct ksock *s = io->s;
	bool nb = nonblocking(f, io->flags);
	long r = blocking(recv_op, io, nb, s->rcvtimeo_ns);
	if (r == -EAGAIN && io->done)
		return (long)io->done;
	return r;
}

static long sock_send_io(struct file *f, struct io *io)
{
	struct ksock *s = io->s;
	bool nb = nonblocking(f, io->flags);
	if (nb)
		io->flags |= MSG_DONTWAIT;
	long r = blocking(send_op, io, nb, s->sndtimeo_ns);
	if (r == -EAGAIN && io->done)
		return (long)io->done;
	if (r == -EPIPE)
		return epipe(io->flags);
	return r;
}

/* read(2) and write(2) on a socket (fd.c) */
/* descriptors that came with data read without recvmsg are closed, as on Linux */
static void io_release(struct io *io)
{
	drop_files(io->files, io->nfiles);
	io->files = NULL;
	io->nfiles = 0;
}

long sock_read(struct file *f, void *buf, size_t len)
{
	struct io io = {.s = sock_of(f), .buf = buf, .len = len};
	long r = sock_recv_io(f, &io);
	io_release(&io);
	return r;
}

long sock_write(struct file *f, const void *buf, size_t len)
{
	struct io io = {.s = sock_of(f), .buf = (uint8_t *)buf, .len = len};
	return sock_send_io(f, &io);
}

/*
 * What sendto and sendmsg share: the destination a datagram names (an
 * address given to a TCP socket is ignored, as on Linux, unless the
 * connection is gone).
 */
static long take_dest(struct io *io, uint64_t uaddr, uint64_t alen)
{
	struct ksock *s = io->s;
	long e = 0;
	if (!uaddr)
		return 0;
	if (s->family == AF_UNIX)
		e = get_sun(uaddr, alen, &io->to, NULL);
	else if (s->udp && !(e = get_sin(s, uaddr, alen, &io->addr, &io->port, NULL)) && !io->port)
		e = -EINVAL;
	else if (s->tcp && s->tcp->state == TCP_CLOSED)
		e = -EPIPE;
	return e;
}

/* What recvfrom and recvmsg share: where the data came from, into uaddr (length at ulen). */
static void give_source(const struct io *io, uint64_t uaddr, uint64_t ulen)
{
	struct ksock *s = io->s;
	if (uaddr && s->udp)
		put_sin(s, uaddr, ulen, io->addr, io->port);
	else if (uaddr && s->tcp)
		put_sin(s, uaddr, ulen, s->tcp->raddr, s->tcp->rport);
	else if (uaddr)
		put_sun(uaddr, ulen, &io->from, true);
}

/* A receive's result: MSG_TRUNC asks for a datagram's whole length. */
static long recv_result(const struct io *io, long r)
{
	if ((io->flags & MSG_TRUNC) && io->s->type == SOCK_DGRAM)
		return io->full_len;
	return r;
}

SYSCALL6(sendto, long, fd, uint64_t, buf, size_t, len, long, flags, uint64_t, uaddr, uint64_t, alen)
{
	struct file *f;
	struct ksock *s;
	long e = sock_fd(fd, &f, &s);
	if (e)
		return e;
	UOK(buf, len);
	struct io io = {.s = s, .buf = (uint8_t *)buf, .len = len, .flags = flags};
	if ((e = take_dest(&io, uaddr, alen)))
		return e;
	return sock_send_io(f, &io);
}

SYSCALL6(recvfrom, long, fd, uint64_t, buf, size_t, len, long, flags, uint64_t, uaddr, uint64_t,
	 ulen)
{
	struct file *f;
	struct ksock *s;
	long e = sock_fd(fd, &f, &s);
	if (e)
		return e;
	UOK(buf, len);
	struct io io = {.s = s, .buf = (uint8_t *)buf, .len = len, .flags = flags};
	long r = sock_recv_io(f, &io);
	io_release(&io);
	if (r < 0)
		return r;
	give_source(&io, uaddr, ulen);
	return recv_result(&io, r);
}

/* A message's iovec, checked: each piece the program's, their total length. */
static long iov_total(const struct linux_msghdr *m, size_t *total)
{
	if (m->iovlen > 1024)
		return -EMSGSIZE;
	UOK(m->iov, m->iovlen * sizeof(struct linux_iovec));
	const struct linux_iovec *iov = (const struct linux_iovec *)m->iov;
	*total = 0;
	for (uint64_t i = 0; i < m->iovlen; i++) {
		UOK(iov[i].base, iov[i].len);
		*total += iov[i].len;
		if (*total > (1u << 30))
			return -EINVAL;
	}
	return 0;
}

/* Gather an iovec into one kernel buffer (datagrams keep their bounds that way). */
static long gather(const struct linux_msghdr *m, uint8_t **out, size_t *len)
{
	size_t total;
	long e = iov_total(m, &total);
	if (e)
		return e;
	const struct linux_iovec *iov = (const struct linux_iovec *)m->iov;
	uint8_t *b = kmalloc(total ? total : 1);
	if (!b)
		return -ENOMEM;
	size_t o = 0;
	for (uint64_t i = 0; i < m->iovlen; i++) {
		memcpy(b + o, (void *)iov[i].base, iov[i].len);
		o += iov[i].len;
	}
	*out = b;
	*len = total;
	return 0;
}

struct linux_cmsghdr {
	uint64_t len; /* header included */
	int32_t level, type;
};
#define CMSG_ALIGN(n) (((n) + 7) & ~(size_t)7)

/* sendmsg's ancillary data on an AF_UNIX socket: descriptors to pass, credentials to check. */
static long take_cmsgs(const struct linux_msghdr *m, struct io *io)
{
	if (m->controllen > 65536)
		return -ENOBUFS;
	UOK(m->control, m->controllen);
	const uint8_t *c = (const uint8_t *)m->control;
	size_t left = m->controllen;
	while (left >= sizeof(struct linux_cmsghdr)) {
		struct linux_cmsghdr h;
		memcpy(&h, c, sizeof(h));
		if (h.len < sizeof(h) || h.len > left || h.level != SOL_SOCKET)
			return -EINVAL;
		const uint8_t *data = c + sizeof(h);
		size_t dlen = h.len - sizeof(h);
		if (h.type == SCM_RIGHTS) {
			size_t n = dlen / 4;
			if (n > SCM_MAX_FD || io->files)
				return -EINVAL;
			if (n && !(io->files = kzalloc(n * sizeof(*io->files))))
				return -ENOMEM;
			for (size_t i = 0; i < n; i++) {
				int32_t fd;
				memcpy(&fd, data + 4 * i, 4);
				struct file *f = fd_get(fd);
				if (!f)
					return -EBADF; /* the caller drops those taken */
				f->refs++;
				io->files[io->nfiles++] = f;
			}
		} else if (h.type == SCM_CREDS) {
			struct ucred u, me = my_cred();
			if (dlen < sizeof(u))
				return -EINVAL;
			memcpy(&u, data, sizeof(u));
			/* one's own only (Linux lets privileged senders claim others) */
			if (u.pid != me.pid || u.uid != me.uid || u.gid != me.gid)
				return -EPERM;
		} else {
			return -EINVAL;
		}
		size_t adv = CMSG_ALIGN(h.len);
		if (adv >= left)
			break;
		c += adv;
		left -= adv;
	}
	return 0;
}

/* Append one control message at *used if it fits in room; false when it did not. */
static bool put_cmsg(uint8_t *out, size_t room, size_t *used, int type, const void *data,
		     size_t len)
{
	struct linux_cmsghdr h = {sizeof(h) + len, SOL_SOCKET, type};
	if (*used + h.len > room)
		return false;
	memcpy(out + *used, &h, sizeof(h));
	memcpy(out + *used + sizeof(h), data, len);
	*used = MIN(*used + CMSG_ALIGN(h.len), room);
	return true;
}

/* recvmsg's ancillary data: install the descriptors that came, and the sender's credentials. */
static void give_cmsgs(struct linux_msghdr *m, struct io *io, long flags)
{
	uint8_t *out = (uint8_t *)m->control;
	size_t room = out ? m->controllen : 0, used = 0;
	if (io->nfiles) {
		int fds[SCM_MAX_FD], n = 0;
		size_t fit = room > sizeof(struct linux_cmsghdr)
				 ? (room - sizeof(struct linux_cmsghdr)) / 4
				 : 0;
		for (int i = 0; i < io->nfiles && (size_t)i < fit; i++) {
			int fd = fd_alloc(io->files[i], 0, flags & MSG_CMSG_CLOEXEC);
			if (fd < 0)
				break;
			fds[n++] = fd;
		}
		if (n < io->nfiles)
			m->flags |= MSG_CTRUNC;
		if (n)
			put_cmsg(out, room, &used, SCM_RIGHTS, fds, 4 * (size_t)n);
		io_release(io); /* the installed ones live on in their descriptors */
	}
	if (io->s->passcred && io->has_cred &&
	    !put_cmsg(out, room, &used, SCM_CREDS, &io->cred, sizeof(io->cred)))
		m->flags |= MSG_CTRUNC;
	m->controllen = used;
}

SYSCALL3(sendmsg, long, fd, uint64_t, umsg, long, flags)
{
	struct file *f;
	struct ksock *s;
	long e = sock_fd(fd, &f, &s);
	if (e)
		return e;
	UOK(umsg, sizeof(struct linux_msghdr));
	const struct linux_msghdr *m = (const struct linux_msghdr *)umsg;
	struct io io = {.s = s, .flags = flags};
	if ((e = take_dest(&io, m->name, m->namelen)))
		return e;
	if (m->controllen && s->family != AF_UNIX)
		return -EOPNOTSUPP; /* no ancillary data over IP */
	if (m->controllen && (e = take_cmsgs(m, &io))) {
		io_release(&io);
		return e;
	}
	if ((e = gather(m, &io.buf, &io.len))) {
		io_release(&io);
		return e;
	}
	long r = sock_send_io(f, &io);
	io_release(&io); /* not sent: the references go */
	kfree(io.buf);
	return r;
}

SYSCALL3(recvmsg, long, fd, uint64_t, umsg, long, flags)
{
	struct file *f;
	struct ksock *s;
	long e = sock_fd(fd, &f, &s);
	if (e)
		return e;
	UOK(umsg, sizeof(struct linux_msghdr));
	struct linux_msghdr *m = (struct linux_msghdr *)umsg;
	size_t total;
	if ((e = iov_total(m, &total)))
		return e;
	const struct linux_iovec *iov = (const struct linux_iovec *)m->iov;
	if (m->control && m->controllen)
		UOK(m->control, m->controllen);
	uint8_t *b = kmalloc(total ? total : 1);
	if (!b)
		return -ENOMEM;
	struct io io = {.s = s, .buf = b, .len = total, .flags = flags};
	long r = sock_recv_io(f, &io);
	if (r < 0)
		io_release(&io);
	if (r >= 0) {
		size_t o = 0;
		for (uint64_t i = 0; i < m->iovlen && o < (size_t)r; i++) {
			size_t n = MIN(iov[i].len, (size_t)r - o);
			memcpy((void *)iov[i].base, b + o, n);
			o += n;
		}
		give_source(&io, m->name, umsg + 8 /* &m->namelen */);
		m->flags = 0;
		give_cmsgs(m, &io, flags);
		if (s->type == SOCK_DGRAM && io.full_len > r)
			m->flags |= MSG_TRUNC;
		r = recv_result(&io, r);
	}
	kfree(b);
	return r;
}

/* sendfile(out, in, offset, count): a file's bytes into a socket (or any descriptor). */
SYSCALL4(sendfile, long, out, long, in, uint64_t, uoff, size_t, count)
{
	struct file *fi = fd_get(in), *fo = fd_get(out);
	if (!fi || !fo)
		return -EBADF;
	if (fi->n->kind != K_FILE)
		return -EINVAL;
	uint64_t off = fi->off;
	if (uoff) {
		UOK(uoff, 8);
		off = *(uint64_t *)uoff;
	}
	static uint8_t chunk[16384];
	size_t done = 0;
	while (done < count) {
		long n = vfs_pread(fi->n, chunk, MIN(sizeof(chunk), count - done), off);
		if (n <= 0) {
			if (n < 0 && !done)
				return n;
			break;
		}
		long w;
		struct ksock *s = sock_of(fo);
		if (s) {
			struct io io = {.s = s, .buf = chunk, .len = (size_t)n};
			w = sock_send_io(fo, &io);
		} else if (fo->n->kind == K_TTY) {
			w = console_write((const char *)chunk, (size_t)n);
		} else if (fo->n->kind == K_FILE && (fo->flags & O_ACCMODE)) {
			uint64_t at = (fo->flags & O_APPEND) ? fo->n->size : fo->off;
			w = vfs_pwrite(fo->n, chunk, (size_t)n, at);
			if (w > 0)
				fo->off = at + (uint64_t)w;
		} else {
			w = -EINVAL;
		}
		if (w <= 0) {
			if (!done)
				return w;
			break;
		}
		off += (uint64_t)w;
		done += (size_t)w;
		if (w < n)
			break;
	}
	if (uoff)
		*(uint64_t *)uoff = off;
	else
		fi->off = off;
	return (long)done;
}

/* ---- options ---- */

#define SO_REUSEADDR  2
#define SO_TYPE	      3
#define SO_ERROR      4
#define SO_BROADCAST  6
#define SO_SNDBUF     7
#define SO_RCVBUF     8
#define SO_KEEPALIVE  9
#define SO_LINGER     13
#define SO_REUSEPORT  15
#define SO_PASSCRED   16
#define SO_PEERCRED   17
#define SO_RCVTIMEO   20
#define SO_SNDTIMEO   21
#define SO_ACCEPTCONN 30
#define SO_PROTOCOL   38
#define SO_DOMAIN     39
#define TCP_NODELAY   1
#define TCP_MAXSEG    2
#define TCP_KEEPIDLE  4
#define TCP_KEEPINTVL 5
#define TCP_KEEPCNT   6

SYSCALL5(setsockopt, long, fd, long, level, long, name, uint64_t, uval, uint64_t, len)
{
	struct ksock *s;
	long e = sock_fd(fd, NULL, &s);
	if (e)
		return e;
	if (len < 4)
		return -EINVAL;
	UOK(uval, len);
	int v = *(int *)uval;
	struct tcp_sock *t = s->tcp;
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_REUSEADDR:
			if (t)
				t->reuseaddr = v;
			if (s->udp)
				s->udp->reuseaddr = v;
			return 0;
		case SO_REUSEPORT:
			if (t)
				t->reuseport = v;
			if (s->udp)
				s->udp->reuseport = v;
			return 0;
		case SO_BROADCAST:
			if (s->udp)
				s->udp->broadcast = v;
			return 0;
		case SO_PASSCRED:
			s->passcred = v;
			return 0;
		case SO_KEEPALIVE:
			if (t)
				t->keepalive = v;
			return 0;
		case SO_SNDBUF:
		case SO_RCVBUF: {
			/* Linux doubles the value for its bookkeeping and reports that */
			uint32_t b = (uint32_t)MIN(MAX(v, 1024), 2 * 1024 * 1024) * 2;
			if (name == SO_SNDBUF)
				s->sndbuf = b;
			else
				s->rcvbuf = b;
			if (t)
				tcp_set_bufsize(t, name == SO_SNDBUF, b);
			if (s->udp && name == SO_RCVBUF)
				s->udp->rcvbuf = b;
			return 0;
		}
		case SO_LINGER:
			if (len < 8)
				return -EINVAL;
			s->linger = ((int *)uval)[0];
			s->linger_s = ((int *)uval)[1];
			return 0;
		case SO_RCVTIMEO:
		case SO_SNDTIMEO: {
			if (len < sizeof(struct linux_timeval))
				return -EINVAL;
			const struct linux_timeval *tv = (const struct linux_timeval *)uval;
			if (tv->usec < 0 || tv->usec >= 1000000 || tv->sec < 0)
				return -EDOM;
			uint64_t ns = (uint64_t)tv->sec * 1000000000ull + (uint64_t)tv->usec * 1000;
			if (name == SO_RCVTIMEO)
				s->rcvtimeo_ns = ns;
			else
				s->sndtimeo_ns = ns;
			return 0;
		}
		}
		return -ENOPROTOOPT;
	}
	if (level == IPPROTO_IPV6 && s->family == AF_INET6 && name == IPV6_V6ONLY) {
		/* Linux: fixed once the socket is bound */
		if ((t && t->lport) || (s->udp && s->udp->lport))
			return -EINVAL;
		if (t)
			t->v6only = v;
		else
			s->udp->v6only = v;
		return 0;
	}
	if (level == IPPROTO_TCP && t) {
		switch (name) {
		case TCP_NODELAY:
			t->nodelay = v;
			if (v)
				knet_poll(); /* queued small segments may leave now */
			return 0;
		case TCP_KEEPIDLE:
		case TCP_KEEPINTVL:
		case TCP_KEEPCNT:
			if (v < 1 || v > 32767)
				return -EINVAL;
			if (name == TCP_KEEPIDLE)
				t->keepidle = (uint32_t)v;
			else if (name == TCP_KEEPINTVL)
				t->keepintvl = (uint32_t)v;
			else
				t->keepcnt = (uint32_t)v;
			return 0;
		}
	}
	return -ENOPROTOOPT;
}

SYSCALL5(getsockopt, long, fd, long, level, long, name, uint64_t, uval, uint64_t, ulen)
{
	struct ksock *s;
	long e = sock_fd(fd, NULL, &s);
	if (e)
		return e;
	UOK(ulen, 4);
	uint32_t len = *(uint32_t *)ulen;
	if ((int32_t)len < 0)
		return -EINVAL;
	struct tcp_sock *t = s->tcp;
	int v[4] = {0};
	uint32_t n = 4;
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_TYPE:
			v[0] = s->type;
			break;
		case SO_PROTOCOL:
			v[0] = s->proto;
			break;
		case SO_DOMAIN:
			v[0] = s->family;
			break;
		case SO_ERROR:
			v[0] = t ? tcp_take_error(t) : s->udp ? s->udp->error : 0;
			if (s->udp)
				s->udp->error = 0;
			break;
		case SO_REUSEADDR:
			v[0] = t ? t->reuseaddr : s->udp ? s->udp->reuseaddr : 0;
			break;
		case SO_REUSEPORT:
			v[0] = t ? t->reuseport : s->udp ? s->udp->reuseport : 0;
			break;
		case SO_KEEPALIVE:
			v[0] = t ? t->keepalive : 0;
			break;
		case SO_BROADCAST:
			v[0] = s->udp ? s->udp->broadcast : 0;
			break;
		case SO_PASSCRED:
			v[0] = s->passcred;
			break;
		case SO_PEERCRED: {
			/* the peer's when it connected (or listened); none: pid 0, ids -1 */
			struct ucred none = {0, ~0u, ~0u};
			bool have = s->family == AF_UNIX && (s->peer || s->peer_gone);
			memcpy(v, have ? &s->peercred : &none, sizeof(struct ucred));
			n = sizeof(struct ucred);
			break;
		}
		case SO_SNDBUF:
			v[0] = (int)s->sndbuf;
			break;
		case SO_RCVBUF:
			v[0] = (int)s->rcvbuf;
			break;
		case SO_ACCEPTCONN:
			v[0] = (t && t->state == TCP_LISTEN) || s->ulisten;
			break;
		case SO_LINGER:
			v[0] = s->linger;
			v[1] = s->linger_s;
			n = 8;
			break;
		case SO_RCVTIMEO:
		case SO_SNDTIMEO: {
			uint64_t ns = name == SO_RCVTIMEO ? s->rcvtimeo_ns : s->sndtimeo_ns;
			struct linux_timeval tv = {(int64_t)(ns / 1000000000ull),
						   (int64_t)(ns % 1000000000ull / 1000)};
			memcpy(v, &tv, sizeof(tv));
			n = sizeof(tv);
			break;
		}
		default:
			return -ENOPROTOOPT;
		}
	} else if (level == IPPROTO_IPV6 && s->family == AF_INET6 && name == IPV6_V6ONLY) {
		v[0] = t ? t->v6only : s->udp->v6only;
	} else if (level == IPPROTO_TCP && t) {
		switch (name) {
		case TCP_NODELAY:
			v[0] = t->nodelay;
			break;
		case TCP_MAXSEG:
			v[0] = t->mss ? t->mss : 536;
			break;
		case TCP_KEEPIDLE:
			v[0] = (int)t->keepidle;
			break;
		case TCP_KEEPINTVL:
			v[0] = (int)t->keepintvl;
			break;
		case TCP_KEEPCNT:
			v[0] = (int)t->keepcnt;
			break;
		default:
			return -ENOPROTOOPT;
		}
	} else {
		return -ENOPROTOOPT;
	}
	n = MIN(n, len);
	UOK(uval, n);
	memcpy((void *)uval, v, n);
	*(uint32_t *)ulen = n;
	return 0;
}

/* ---- readiness (poll, select, FIONREAD) ---- */

unsigned sock_poll(struct file *f)
{
	struct ksock *s = sock_of(f);
	if (s->tcp) {
		unsigned m = tcp_poll(s->tcp);
		if (s->shut_rd)
			m |= POLLIN | NET_POLLRDHUP;
		return m;
	}
	if (s->udp)
		return udp_poll(s->udp);
	if (s->ulisten)
		return s->accq ? POLLIN : 0;
	unsigned m = 0;
	if (s->uq || s->shut_rd || unix_writer_shut(s))
		m |= POLLIN;
	if (s->type == SOCK_DGRAM && !s->peer && !s->peer_gone && !s->shut_wr)
		m |= POLLOUT; /* a datagram to a name is checked when it is sent */
	if (unix_writer_shut(s))
		m |= NET_POLLRDHUP;
	if (s->peer && !s->shut_wr && s->peer->uqbytes < UNIX_BUF && !s->peer->shut_rd)
		m |= POLLOUT;
	if (s->peer_gone || (s->shut_rd && s->shut_wr))
		m |= POLLHUP;
	return m;
}

bool sock_is_inet(struct file *f)
{
	struct ksock *s = sock_of(f);
	return s && (s->tcp || s->udp);
}

uint32_t sock_arrivals(struct file *f)
{
	struct ksock *s = sock_of(f);
	return s->tcp ? s->tcp->arrivals : 0;
}

long sock_fionread(struct file *f)
{
	struct ksock *s = sock_of(f);
	if (s->tcp)
		return s->tcp->state == TCP_LISTEN ? 0 : (long)s->tcp->rcvbuf.len;
	if (s->udp)
		return s->udp->rxq ? (long)s->udp->rxq->len : 0;
	if (s->type == SOCK_DGRAM)
		return s->uq ? (long)s->uq->len : 0;
	return (long)(s->uqbytes - s->uoff);
}
