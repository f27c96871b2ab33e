/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP: RFC 793 (as updated by RFC 1122 and 9293), RTO per RFC 6298, congestion
 * control per RFC 5681 with NewReno recovery (RFC 6582), window scaling and
 * MSS (RFC 7323, 879), delayed ACKs, Nagle, keepalive, zero-window probes,
 * challenge ACKs for in-window RST and SYN (RFC 5961).  No SACK, no timestamps.
 */
#include "net.h"

#define PROTO_TCP 6

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

#define SEQ_LT(a, b) ((int32_t)((a) - (b)) < 0)
#define SEQ_LE(a, b) ((int32_t)((a) - (b)) <= 0)
#define SEQ_GT(a, b) ((int32_t)((a) - (b)) > 0)
#define SEQ_GE(a, b) ((int32_t)((a) - (b)) >= 0)

#define DEFAULT_BUF  (128 * 1024)
#define MIN_BUF	     2048
#define MAX_BUF	     (4 * 1024 * 1024)
#define DEFAULT_MSS  536 /* RFC 1122 4.2.2.6: when the peer sends no MSS option */
#define RTO_INITIAL  1000
#define RTO_MIN	     200 /* RFC 6298 allows below 1 s; Linux uses 200 ms */
#define RTO_MAX	     60000
#define DELACK_MS    40
#define TIMEWAIT_MS  60000 /* 2 MSL, Linux's length */
#define SYN_RETRIES  6
#define DATA_RETRIES 15
#define OOO_MAX_SEGS 64
#define KEEP_IDLE_S  7200
#define KEEP_INTVL_S 75
#define KEEP_CNT     9
#define OOW_ACK_MS   500 /* Linux's tcp_invalid_ratelimit */

struct ooo_seg {
	struct ooo_seg *next;
	uint32_t seq, len;
	bool fin;
	uint8_t data[];
};

/* ---- byte rings ---- */

#define RING_MIN   4096
#define RING_SLACK 16384 /* an empty ring keeps this much memory */

static uint32_t ring_free(const struct ring *r)
{
	return r->cap - r->len;
}

static void ring_peek(const struct ring *r, uint32_t off, void *dst, uint32_t n);

/* Room for want bytes in all, as far as memory allows (the data moves to the front). */
static void ring_grow(struct ring *r, uint32_t want)
{
	uint32_t size = r->size ? r->size : RING_MIN;
	while (size < want && size < r->cap)
		size *= 2;
	size = MIN(size, r->cap);
	if (size <= r->size)
		return;
	uint8_t *b = net_alloc(size);
	if (!b)
		return; /* keep what we have: the window still protects us */
	if (r->len)
		ring_peek(r, 0, b, r->len);
	net_free(r->buf);
	r->buf = b;
	r->size = size;
	r->head = 0;
}

static uint32_t ring_write(struct ring *r, const void *src, uint32_t n)
{
	const uint8_t *s = src;
	n = MIN(n, ring_free(r));
	if (r->len + n > r->size)
		ring_grow(r, r->len + n);
	n = MIN(n, r->size - r->len);
	if (!n)
		return 0;
	uint32_t tail = (r->head + r->len) % r->size;
	uint32_t first = MIN(n, r->size - tail);
	memcpy(r->buf + tail, s, first);
	memcpy(r->buf, s + first, n - first);
	r->len += n;
	return n;
}

/* copy n bytes starting off bytes into the ring, without consuming */
static void ring_peek(const struct ring *r, uint32_t off, void *dst, uint32_t n)
{
	uint8_t *d = dst;
	if (!n)
		return;
	uint32_t start = (r->head + off) % r->size;
	uint32_t first = MIN(n, r->size - start);
	memcpy(d, r->buf + start, first);
	memcpy(d + first, r->buf, n - first);
}

static void ring_drop(struct ring *r, uint32_t n)
{
	n = MIN(n, r->len);
	if (!n)
		return;
	r->head = (r->head + n) % r->size;
	r->len -= n;
	if (!r->len) {
		r->head = 0;
		if (r->size > RING_SLACK) {
			net_free(r->buf);
			r->buf = NULL;
			r->size = 0;
		}
	}
}

/* An empty ring gives its memory back (a connection that will put nothing more in it). */
static void ring_release(struct ring *r)
{
	if (r->len)
		return;
	net_free(r->buf);
	r->buf = NULL;
	r->size = 0;
	r->head = 0;
}

/* ---- connections ---- */

const char *tcp_state_name(enum tcp_state s)
{
	static const char *const names[] = {
	    "CLOSED",	  "LISTEN",	"SYN_SENT", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1",
	    "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING",  "LAST_ACK", "TIME_WAIT",
	};
	return (unsigned)s < ARRAY_LEN(names) ? names[s] : "?";
}

struct tcp_sock *tcp_new(void)
{
	struct tcp_sock *t = net_alloc(sizeof(*t));
	if (!t)
		return NULL;
	t->sndbuf.cap = DEFAULT_BUF;
	t->rcvbuf.cap = DEFAULT_BUF;
	t->keepidle = KEEP_IDLE_S;
	t->keepintvl = KEEP_INTVL_S;
	t->keepcnt = KEEP_CNT;
	t->next = N->tcbs;
	N->tcbs = t;
	return t;
}

static void unlink_child(struct tcp_sock *t)
{
	struct tcp_sock *l = t->parent;
	if (!l)
		return;
	for (struct tcp_sock **pp = &l->acceptq; *pp; pp = &(*pp)->acceptq_next)
		if (*pp == t) {
			*pp = t->acceptq_next;
			break;
		}
	l->nchild--;
	t->parent = NULL;
}

/* Takes t off its list: N->tcbs, or the TIME_WAIT queue for a connection in that state. */
static void tcb_unlink(struct tcp_sock *t)
{
	bool tw = t->state == TCP_TIME_WAIT;
	struct tcp_sock *prev = NULL;
	for (struct tcp_sock **pp = tw ? &N->tw_head : &N->tcbs; *pp; prev = *pp, pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			if (tw && N->tw_tail == t)
				N->tw_tail = prev;
			if (tw)
				N->ntimewait--;
			t->next = NULL;
			return;
		}
}

static void tcb_free(struct tcp_sock *t)
{
	tcb_unlink(t);
	unlink_child(t);
	for (struct ooo_seg *o = t->ooo, *n; o; o = n) {
		n = o->next;
		net_free(o);
	}
	net_free(t->sndbuf.buf);
	net_free(t->rcvbuf.buf);
	net_free(t);
}

/* The connection is over.  Returns true when t was freed (nobody holds it any more). */
static bool set_closed(struct tcp_sock *t, int error)
{
	if (t->state == TCP_TIME_WAIT) { /* back among the others until freed */
		tcb_unlink(t);
		t->next = N->tcbs;
		N->tcbs = t;
	}
	t->state = TCP_CLOSED;
	t->rexmit_at = t->delack_at = t->persist_at = t->timewait_at = 0;
	if (error && !t->error)
		t->error = error;
	if (t->user_closed) {
		tcb_free(t);
		return true;
	}
	return false;
}

static uint32_t rcv_space(const struct tcp_sock *t)
{
	return ring_free(&t->rcvbuf);
}

static uint16_t wnd_field(struct tcp_sock *t, bool syn)
{
	uint32_t w = rcv_space(t);
	if (!syn)
		w >>= t->rcv_wscale;
	return (uint16_t)MIN(w, 65535u);
}

/* One segment: seq, flags, and len bytes of the send buffer from data offset off. */
static void send_seg(struct tcp_sock *t, uint32_t seq, uint8_t flags, uint32_t off, uint32_t len)
{
	uint8_t opt[8];
	size_t olen = 0;
	if (flags & F_SYN) {
		struct naddr src = t->laddr;
		struct netif *nif = net_route(t->raddr, &src);
		uint32_t mtu = nif ? nif->mtu : ETH_MTU;
		opt[0] = 2;
		opt[1] = 4;
		wr16(opt + 2, (uint16_t)(mtu - net_hlen(t->raddr) - TCP_HLEN));
		olen = 4;
		/* offer scaling in a SYN; answer it in a SYN-ACK only when offered */
		if (t->state == TCP_SYN_SENT || t->wscale_ok) {
			opt[4] = 1;
			opt[5] = 3;
			opt[6] = 3;
			opt[7] = t->rcv_wscale;
			olen = 8;
		}
	}
	size_t hl = TCP_HLEN + olen;
	struct pkt *p = ip_pkt_alloc(hl + len);
	if (!p)
		return;
	uint8_t *h = pkt_payload(p);
	wr16(h, t->lport);
	wr16(h + 2, t->rport);
	wr32(h + 4, seq);
	wr32(h + 8, (flags & F_ACK) ? t->rcv_nxt : 0);
	h[12] = (uint8_t)(hl / 4) << 4;
	h[13] = flags;
	wr16(h + 14, wnd_field(t, flags & F_SYN));
	wr16(h + 16, 0);
	wr16(h + 18, 0);
	memcpy(h + TCP_HLEN, opt, olen);
	if (len)
		ring_peek(&t->sndbuf, off, h + hl, len);
	wr16(h + 16, inet_csum(h, hl + len,
			       net_pseudo(t->laddr, t->raddr, PROTO_TCP, (uint32_t)(hl + len))));
	if (flags & F_ACK) {
		uint32_t adv =
		    t->rcv_nxt + ((uint32_t)rd16(h + 14) << (flags & F_SYN ? 0 : t->rcv_wscale));
		if (SEQ_GT(adv, t->rcv_adv))
			t->rcv_adv = adv;
		t->ack_now = false;
		t->delack_at = 0;
		t->unacked_segs = 0;
	}
	net_output(p, t->laddr, t->raddr, PROTO_TCP, hl + len);
}

/* A RST answering a segment that belongs to no connection (RFC 793 "reset generation"). */
static void send_rst_for(struct naddr src, struct naddr dst, const uint8_t *h, uint32_t seglen)
{
	uint8_t flags = h[13];
	if (flags & F_RST)
		return;
	struct pkt *p = ip_pkt_alloc(TCP_HLEN);
	if (!p)
		return;
	uint8_t *r = pkt_payload(p);
	memset(r, 0, TCP_HLEN);
	wr16(r, rd16(h + 2));
	wr16(r + 2, rd16(h));
	if (flags & F_ACK) {
		wr32(r + 4, rd32(h + 8));
		r[13] = F_RST;
	} else {
		wr32(r + 8, rd32(h + 4) + seglen);
		r[13] = F_RST | F_ACK;
	}
	r[12] = (TCP_HLEN / 4) << 4;
	wr16(r + 16, inet_csum(r, TCP_HLEN, net_pseudo(dst, src, PROTO_TCP, TCP_HLEN)));
	N->stat_tcp_rst_sent++;
	net_output(p, dst, src, PROTO_TCP, TCP_HLEN);
}

static void send_rst(struct tcp_sock *t)
{
	struct pkt *p = ip_pkt_alloc(TCP_HLEN);
	if (!p)
		return;
	uint8_t *r = pkt_payload(p);
	memset(r, 0, TCP_HLEN);
	wr16(r, t->lport);
	wr16(r + 2, t->rport);
	wr32(r + 4, t->snd_nxt);
	wr32(r + 8, t->rcv_nxt);
	r[12] = (TCP_HLEN / 4) << 4;
	r[13] = F_RST | F_ACK;
	wr16(r + 16, inet_csum(r, TCP_HLEN, net_pseudo(t->laddr, t->raddr, PROTO_TCP, TCP_HLEN)));
	N->stat_tcp_rst_sent++;
	net_output(p, t->laddr, t->raddr, PROTO_TCP, TCP_HLEN);
}

static uint32_t flight(const struct tcp_sock *t)
{
	return t->snd_max - t->snd_una;
}

static void arm_rexmit(struct tcp_sock *t)
{
	t->rexmit_at = net_now_ms + t->rto;
}

static bool syn_states(const struct tcp_sock *t)
{
	return t->state == TCP_SYN_SENT || t->state == TCP_SYN_RCVD;
}

/* nothing follows a FIN, so it is acknowledged when everything is */
static bool fin_acked(const struct tcp_sock *t)
{
	return t->fin_sent && t->sndbuf.len == 0 && t->snd_una == t->snd_max;
}

/*
 * Send what the windows, Nagle and silly-window avoidance allow, then an ACK
 * if one is owed and nothing carried it.
 */
static void output(struct tcp_sock *t)
{
	if (t->state == TCP_CLOSED || t->state == TCP_LISTEN)
		return;
	if (syn_states(t)) {
		if (t->snd_nxt == t->iss) {
			if (!t->retries) { /* Karn: time only a SYN sent once */
				t->rtt_timing = true;
				t->rtt_start = net_now_ms;
			}
			send_seg(t, t->iss, F_SYN | (t->state == TCP_SYN_RCVD ? F_ACK : 0), 0, 0);
			t->snd_nxt = t->iss + 1;
			if (SEQ_GT(t->snd_nxt, t->snd_max))
				t->snd_max = t->snd_nxt;
			if (!t->rexmit_at)
				arm_rexmit(t);
		}
		if (t->ack_now && t->state == TCP_SYN_RCVD)
			send_seg(t, t->snd_nxt, F_ACK, 0, 0);
		return;
	}
	/* once the FIN is acknowledged only ACKs are left to send (the loop would see an empty
	 * buffer with the FIN queued, and send another FIN one sequence number further on) */
	while (!fin_acked(t)) {
		uint32_t off = t->snd_nxt - t->snd_una;
		if (off > t->sndbuf.len) /* the FIN is in flight */
			break;
		uint32_t avail = t->sndbuf.len - off;
		uint32_t win = MIN(t->snd_wnd, t->cwnd);
		uint32_t inflight = t->snd_nxt - t->snd_una;
		uint32_t usable = win > inflight ? win - inflight : 0;
		uint32_t len = MIN(MIN(avail, usable), t->mss);
		bool fin = t->fin_queued && off + len == t->sndbuf.len;
		if (len == 0 && !fin)
			break;
		if (len < t->mss && !fin) {
			/* Nagle (RFC 896): one small segment outstanding at a time */
			if (!t->nodelay && len == avail && inflight)
				break;
			/* sender-side SWS avoidance (RFC 1122 4.2.3.4); with nothing in flight
			 * no ACK would come to reopen the window, so send what fits */
			if (len < avail && len < t->max_sndwnd / 2 && inflight)
				break;
		}
		uint8_t flags = F_ACK | (fin ? F_FIN : 0) | (len && len == avail ? F_PSH : 0);
		if (!t->rtt_timing && t->snd_nxt == t->snd_max) {
			t->rtt_timing = true;
			t->rtt_seq = t->snd_nxt;
			t->rtt_start = net_now_ms;
		}
		send_seg(t, t->snd_nxt, flags, off, len);
		t->snd_nxt += len + (fin ? 1 : 0);
		if (fin)
			t->fin_sent = true;
		if (SEQ_GT(t->snd_nxt, t->snd_max))
			t->snd_max = t->snd_nxt;
		if (!t->rexmit_at)
			arm_rexmit(t);
		t->persist_at = 0;
		if (fin)
			break;
	}
	/* data waits for a window that is shut: probe it (RFC 1122 4.2.2.17) */
	if (t->snd_wnd == 0 && t->sndbuf.len > t->snd_nxt - t->snd_una && !flight(t) &&
	    !t->persist_at) {
		t->persist_backoff = t->rto;
		t->persist_at = net_now_ms + t->persist_backoff;
	}
	if (t->ack_now)
		send_seg(t, t->snd_nxt, F_ACK, 0, 0);
}

void tcp_ack_batch(void)
{
	for (struct tcp_sock *t = N->tcbs; t; t = t->next)
		if (t->unacked_segs >= 2) {
			t->ack_now = true;
			output(t);
		}
}

/* RFC 6298 2.2-2.3 */
static void rtt_sample(struct tcp_sock *t, uint32_t r)
{
	if (!t->srtt8) {
		t->srtt8 = r * 8;
		t->rttvar4 = r * 2;
	} else {
		int32_t delta = (int32_t)r - (int32_t)(t->srtt8 / 8);
		if (delta < 0)
			delta = -delta;
		t->rttvar4 = t->rttvar4 - t->rttvar4 / 4 + (uint32_t)delta;
		t->srtt8 = t->srtt8 - t->srtt8 / 8 + r;
	}
	uint32_t rto = t->srtt8 / 8 + MAX(1u, t->rttvar4);
	t->rto = MIN(MAX(rto, (uint32_t)RTO_MIN), (uint32_t)RTO_MAX);
}

/*
 * RFC 6528: a clock that ticks every 4 us plus a keyed hash of the
 * connection's addresses and ports.  A connection opened again on the same
 * ports so starts above the old one's numbers, and a peer holding the old one
 * in TIME_WAIT takes its SYN as a new connection (tcp_input does the same).
 */
static uint32_t isn(const struct tcp_sock *t)
{
	static uint32_t key;
	while (!key)
		key = net_random32();
	uint32_t h = key ^ ((uint32_t)t->lport << 16 | t->rport);
	for (int i = 0; i < 16; i++) /* FNV-1a over both addresses */
		h = (h ^ t->laddr.b[i] ^ (uint32_t)t->raddr.b[i] << 8) * 16777619u;
	h ^= h >> 15;
	return h + (uint32_t)(net_now_ms * 250);
}

static void init_send(struct tcp_sock *t)
{
	t->iss = isn(t);
	t->snd_una = t->snd_nxt = t->snd_max = t->iss;
	t->rto = RTO_INITIAL;
	t->mss = DEFAULT_MSS;
	t->ssthresh = 0xffffffffu;
	t->recover = t->iss;
	t->rcv_wscale = 0;
	while (t->rcv_wscale < 14 && (t->rcvbuf.cap >> t->rcv_wscale) > 65535)
		t->rcv_wscale++;
	t->last_rx = net_now_ms;
}

static void start_cc(struct tcp_sock *t)
{
	t->cwnd = 10 * (uint32_t)t->mss; /* RFC 6928 initial window, as Linux */
}

/* ---- user calls ---- */

static bool tuple_used(struct naddr laddr, uint16_t lport, struct naddr raddr, uint16_t rport)
{
	for (struct tcp_sock *t = tcb_first(N); t; t = tcb_next(N, t))
		if (t->lport == lport && t->rport == rport && na_eq(t->raddr, raddr) &&
		    na_eq(t->laddr, laddr) && t->state != TCP_CLOSED)
			return true;
	return false;
}

int tcp_bind(struct tcp_sock *t, struct naddr addr, uint16_t port)
{
	if (t->lport)
		return -NET_EINVAL;
	if (!na_is_any(addr) && !net_is_local_na(addr))
		return -NET_EADDRNOTAVAIL;
	if (!port)
		port = net_ephemeral_port(true);
	if (!port)
		return -NET_EADDRINUSE;
	for (struct tcp_sock *o = tcb_first(N); o; o = tcb_next(N, o)) {
		if (o == t || o->lport != port || o->parent)
			continue;
		if (!net_addr_overlap(o->laddr, o->v6only, addr, t->v6only))
			continue;
		if (t->reuseport && o->reuseport)
			continue;
		/* SO_REUSEADDR: anything but a listener may share the port */
		if (t->reuseaddr && o->reuseaddr && o->state != TCP_LISTEN)
			continue;
		if (t->reuseaddr && (o->state == TCP_TIME_WAIT || o->user_closed))
			continue;
		return -NET_EADDRINUSE;
	}
	t->laddr = addr;
	t->lport = port;
	return 0;
}

int tcp_listen(struct tcp_sock *t, int backlog)
{
	if (t->state != TCP_CLOSED && t->state != TCP_LISTEN)
		return -NET_EINVAL;
	if (!t->lport) {
		int e = tcp_bind(t, t->laddr, 0);
		if (e)
			return e;
	}
	if (backlog < 1)
		backlog = 1;
	t->backlog = (int)MIN((uint32_t)backlog, N->somaxconn);
	t->state = TCP_LISTEN;
	return 0;
}

int tcp_accept(struct tcp_sock *t, struct tcp_sock **out)
{
	if (t->state != TCP_LISTEN)
		return -NET_EINVAL;
	struct tcp_sock *c = t->acceptq;
	if (!c)
		return -NET_EAGAIN;
	unlink_child(c);
	c->user_closed = false;
	*out = c;
	return 0;
}

int tcp_connect(struct tcp_sock *t, struct naddr addr, uint16_t port)
{
	switch (t->state) {
	case TCP_CLOSED:
		break;
	case TCP_SYN_SENT:
	case TCP_SYN_RCVD:
		return -NET_EALREADY;
	case TCP_LISTEN:
		return -NET_EINVAL;
	default:
		return -NET_EISCONN;
	}
	if (t->error) /* the previous attempt's outcome, reported once by SO_ERROR/connect */
		return -tcp_take_error(t);
	if (!port)
		return -NET_ECONNREFUSED;
	struct naddr src = t->laddr;
	if ((t->v6only && na_is_v4(addr)) || !net_route(addr, &src))
		return -NET_ENETUNREACH;
	if (!t->lport) {
		int e = tcp_bind(t, t->laddr, 0);
		if (e)
			return e;
	}
	if (tuple_used(src, t->lport, addr, port))
		return -NET_EADDRNOTAVAIL;
	t->laddr = src;
	t->raddr = addr;
	t->rport = port;
	init_send(t);
	t->state = TCP_SYN_SENT;
	output(t);
	return -NET_EINPROGRESS;
}

static bool can_send(const struct tcp_sock *t)
{
	return t->state == TCP_ESTABLISHED || t->state == TCP_CLOSE_WAIT;
}

long tcp_send(struct tcp_sock *t, const void *buf, size_t len)
{
	if (t->error)
		return -tcp_take_error(t);
	if (!can_send(t) || t->fin_queued) {
		if (syn_states(t))
			return -NET_EAGAIN;
		return t->state == TCP_CLOSED && !t->rport ? -NET_ENOTCONN : -NET_EPIPE;
	}
	uint32_t n = ring_write(&t->sndbuf, buf, (uint32_t)MIN(len, (size_t)UINT32_MAX));
	if (!n)
		return len ? -NET_EAGAIN : 0;
	output(t);
	return n;
}

/* After the reader frees space: tell the peer when the window grew enough (RFC 1122 4.2.3.3). */
static void window_update(struct tcp_sock *t)
{
	if (t->state == TCP_CLOSED || syn_states(t) || t->fin_rcvd)
		return;
	uint32_t edge = t->rcv_nxt + rcv_space(t);
	uint32_t grow = edge - t->rcv_adv;
	if (SEQ_GT(edge, t->rcv_adv) && (grow >= 2u * t->mss || grow >= t->rcvbuf.cap / 2)) {
		t->ack_now = true;
		output(t);
	}
}

long tcp_recv(struct tcp_sock *t, void *buf, size_t len, bool peek)
{
	uint32_t n = (uint32_t)MIN(len, (size_t)t->rcvbuf.len);
	if (n) {
		ring_peek(&t->rcvbuf, 0, buf, n);
		if (!peek) {
			ring_drop(&t->rcvbuf, n);
			window_update(t);
		}
		return n;
	}
	if (!len)
		return 0;
	if (t->error)
		return -tcp_take_error(t);
	if (t->fin_rcvd)
		return 0;
	if (t->state == TCP_CLOSED)
		return t->rport ? 0 : -NET_ENOTCONN;
	if (t->state == TCP_LISTEN)
		return -NET_ENOTCONN;
	return -NET_EAGAIN;
}

int tcp_shutdown(struct tcp_sock *t, bool rd, bool wr)
{
	if (t->state == TCP_LISTEN || t->state == TCP_CLOSED || syn_states(t))
		return t->state == TCP_LISTEN ? 0 : -NET_ENOTCONN;
	(void)rd; /* reads after SHUT_RD return what arrived, then EOF: the socket layer's job */
	if (wr && !t->fin_queued) {
		t->fin_queued = true;
		if (t->state == TCP_ESTABLISHED)
			t->state = TCP_FIN_WAIT_1;
		else if (t->state == TCP_CLOSE_WAIT)
			t->state = TCP_LAST_ACK;
		output(t);
	}
	return 0;
}

static void abort_children(struct tcp_sock *l)
{
	for (struct tcp_sock *c = N->tcbs, *n; c; c = n) {
		n = c->next;
		if (c->parent != l)
			continue;
		send_rst(c);
		c->user_closed = true;
		set_closed(c, NET_ECONNABORTED);
	}
}

void tcp_close(struct tcp_sock *t, bool abort)
{
	t->user_closed = true;
	switch (t->state) {
	case TCP_LISTEN:
		abort_children(t);
		set_closed(t, 0);
		return;
	case TCP_CLOSED:
	case TCP_SYN_SENT:
		set_closed(t, 0);
		return;
	case TCP_TIME_WAIT:
		t->rcvbuf.len = 0; /* nobody will read it */
		ring_release(&t->rcvbuf);
		return; /* the stack frees it when 2 MSL have passed */
	default:
		break;
	}
	/* RFC 2525 2.17: unread data means the peer's data was lost: say so with a RST */
	if (abort || t->rcvbuf.len) {
		send_rst(t);
		set_closed(t, 0);
		return;
	}
	if (t->state == TCP_SYN_RCVD)
		t->fin_queued = true; /* sent once the handshake completes */
	else
		tcp_shutdown(t, true, true);
}

unsigned tcp_poll(struct tcp_sock *t)
{
	unsigned m = 0;
	if (t->state == TCP_LISTEN)
		return t->acceptq ? NET_POLLIN : 0;
	if (t->rcvbuf.len || t->fin_rcvd)
		m |= NET_POLLIN;
	if (t->fin_rcvd)
		m |= NET_POLLRDHUP;
	if (can_send(t) && !t->fin_queued && ring_free(&t->sndbuf) >= t->sndbuf.cap / 3)
		m |= NET_POLLOUT;
	if (t->error)
		m |= NET_POLLERR;
	if (t->state == TCP_CLOSED && t->rport)
		m |= NET_POLLHUP | NET_POLLIN;
	if (t->fin_rcvd && t->fin_queued)
		m |= NET_POLLHUP;
	return m;
}

int tcp_take_error(struct tcp_sock *t)
{
	int e = t->error;
	t->error = 0;
	return e;
}

int tcp_set_bufsize(struct tcp_sock *t, bool snd, uint32_t bytes)
{
	struct ring *r = snd ? &t->sndbuf : &t->rcvbuf;
	if (t->state != TCP_CLOSED && t->state != TCP_LISTEN)
		return 0; /* fixed once connected, as the window scale is */
	r->cap = MIN(MAX(bytes, (uint32_t)MIN_BUF), (uint32_t)MAX_BUF);
	return 0;
}

/* ---- input ---- */

struct seg {
	uint32_t seq, ack, len; /* len: data bytes */
	uint16_t wnd;
	uint8_t flags;
	const uint8_t *data;
	uint16_t mss;
	int wscale; /* -1: no option */
};

static void parse_options(struct seg *s, const uint8_t *o, size_t n)
{
	s->mss = 0;
	s->wscale = -1;
	while (n) {
		if (o[0] == 0)
			break;
		if (o[0] == 1) {
			o++;
			n--;
			continue;
		}
		if (n < 2 || o[1] < 2 || o[1] > n)
			break;
		if (o[0] == 2 && o[1] == 4)
			s->mss = rd16(o + 2);
		else if (o[0] == 3 && o[1] == 3)
			s->wscale = MIN(o[2], 14);
		n -= o[1];
		o += o[1];
	}
}

static struct tcp_sock *lookup(struct naddr src, uint16_t sport, struct naddr dst, uint16_t dport)
{
	struct tcp_sock *listener = NULL;
	for (struct tcp_sock *t = tcb_first(N); t; t = tcb_next(N, t)) {
		if (t->lport != dport)
			continue;
		if (t->state == TCP_LISTEN) {
			/* a listener on the address itself over a wildcard one */
			if (net_addr_accepts(t->laddr, t->v6only, dst) &&
			    (!listener || !na_is_any(t->laddr)))
				listener = t;
			continue;
		}
		if (t->state != TCP_CLOSED && t->rport == sport && na_eq(t->raddr, src) &&
		    na_eq(t->laddr, dst))
			return t;
	}
	return listener;
}

static void apply_syn_options(struct tcp_sock *t, const struct seg *s)
{
	struct naddr src = t->laddr;
	struct netif *nif = net_route(t->raddr, &src);
	uint32_t ours = (nif ? nif->mtu : ETH_MTU) - net_hlen(t->raddr) - TCP_HLEN;
	t->mss = (uint16_t)MIN(ours, s->mss ? MAX(s->mss, 64u) : (uint32_t)DEFAULT_MSS);
	if (s->wscale >= 0 &&
	    (t->state == TCP_SYN_SENT || t->state == TCP_LISTEN || t->state == TCP_SYN_RCVD)) {
		t->wscale_ok = true;
		t->snd_wscale = (uint8_t)s->wscale;
	} else {
		t->wscale_ok = false;
		t->snd_wscale = 0;
		t->rcv_wscale = 0;
	}
}

static void listen_input(struct tcp_sock *l, struct naddr src, struct naddr dst, const uint8_t *h,
			 struct seg *s)
{
	if (s->flags & F_RST)
		return;
	if (s->flags & F_ACK) {
		send_rst_for(src, dst, h, s->len);
		return;
	}
	if (!(s->flags & F_SYN))
		return;
	if (l->nchild >= l->backlog)
		return; /* full: the client retries its SYN */
	struct tcp_sock *c = tcp_new();
	if (!c)
		return;
	c->sndbuf.cap = l->sndbuf.cap;
	c->rcvbuf.cap = l->rcvbuf.cap;
	c->nodelay = l->nodelay;
	c->keepalive = l->keepalive;
	c->keepidle = l->keepidle;
	c->keepintvl = l->keepintvl;
	c->keepcnt = l->keepcnt;
	c->laddr = dst;
	c->lport = l->lport;
	c->raddr = src;
	c->rport = rd16(h);
	c->parent = l;
	c->user_closed = true; /* until accept() */
	l->nchild++;
	init_send(c);
	c->state = TCP_LISTEN; /* for apply_syn_options */
	apply_syn_options(c, s);
	c->state = TCP_SYN_RCVD;
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	c->snd_wnd = s->wnd; /* never scaled in a SYN */
	c->max_sndwnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = c->iss;
	start_cc(c);
	output(c);
}

/* SYN_SENT (RFC 793 p. 66). Returns true when t was freed. */
static bool syn_sent_input(struct tcp_sock *t, const uint8_t *h, struct seg *s)
{
	if (s->flags & F_ACK) {
		if (SEQ_LE(s->ack, t->iss) || SEQ_GT(s->ack, t->snd_max)) {
			if (!(s->flags & F_RST))
				send_rst_for(t->raddr, t->laddr, h, s->len);
			return false;
		}
	}
	if (s->flags & F_RST) {
		if (s->flags & F_ACK)
			return set_closed(t, NET_ECONNREFUSED);
		return false;
	}
	if (!(s->flags & F_SYN))
		return false;
	t->irs = s->seq;
	t->rcv_nxt = s->seq + 1;
	t->rcv_adv = t->rcv_nxt;
	apply_syn_options(t, s);
	start_cc(t);
	if (s->flags & F_ACK) {
		t->snd_una = s->ack;
		t->snd_wnd = s->wnd; /* a SYN's window is never scaled */
		t->max_sndwnd = t->snd_wnd;
		t->snd_wl1 = s->seq;
		t->snd_wl2 = s->ack;
		t->state = TCP_ESTABLISHED;
		t->rexmit_at = 0;
		t->retries = 0;
		if (t->rtt_timing) {
			t->rtt_timing = false;
			rtt_sample(t, (uint32_t)(net_now_ms - t->rtt_start));
		}
		t->ack_now = true;
		output(t);
		return false;
	}
	/* simultaneous open: answer with SYN-ACK from the same ISS */
	t->state = TCP_SYN_RCVD;
	t->snd_wnd = s->wnd;
	t->snd_nxt = t->iss;
	t->rexmit_at = 0;
	output(t);
	return false;
}

/* (Re)starts 2 MSL: t goes to the end of the TIME_WAIT queue, which stays in expiry order. */
static void wait_2msl(struct tcp_sock *t)
{
	tcb_unlink(t);
	t->state = TCP_TIME_WAIT;
	t->timewait_at = net_now_ms + TIMEWAIT_MS;
	if (N->tw_tail)
		N->tw_tail->next = t;
	else
		N->tw_head = t;
	N->tw_tail = t;
	N->ntimewait++;
}

/*
 * Only the connection's numbers matter now: its buffers go back (unless data awaits the
 * reader).  At most TCP_TIMEWAIT_MAX connections wait: one more ends the oldest now, as Linux
 * bounds them (tcp_max_tw_buckets).  A server that closes first holds every connection of the
 * last 60 s, thousands a second under load; a guest of 64 MiB ran out of memory.
 */
static void enter_time_wait(struct tcp_sock *t)
{
	t->rexmit_at = t->persist_at = 0;
	ring_release(&t->sndbuf);
	ring_release(&t->rcvbuf);
	wait_2msl(t);
	if (N->ntimewait > TCP_TIMEWAIT_MAX)
		set_closed(N->tw_head, 0);
}

/* Fast retransmit and NewReno (RFC 5681 3.2, RFC 6582 3.2). */
static void on_dupack(struct tcp_sock *t)
{
	t->dupacks++;
	if (t->in_recovery) {
		t->cwnd += t->mss;
		return;
	}
	/* RFC 6582 4.1: not again for losses of the window a timeout already handled */
	if (t->dupacks != 3 || !SEQ_GT(t->snd_una, t->recover))
		return;
	t->ssthresh = MAX(flight(t) / 2, 2u * t->mss);
	t->recover = t->snd_max;
	t->in_recovery = true;
	t->cwnd = t->ssthresh + 3u * t->mss;
	t->rtt_timing = false;
	N->stat_tcp_fast_rexmits++;
	uint32_t len = MIN((uint32_t)t->mss, t->sndbuf.len);
	bool fin = t->fin_sent && len == t->sndbuf.len;
	send_seg(t, t->snd_una, F_ACK | (fin ? F_FIN : 0), 0, len);
	arm_rexmit(t);
}

/* An ACK for new data; returns the bytes of the send buffer it released. */
static void on_newack(struct tcp_sock *t, uint32_t ack)
{
	uint32_t acked = ack - t->snd_una;
	uint32_t data = MIN(acked, t->sndbuf.len);
	if (t->rtt_timing && SEQ_GT(ack, t->rtt_seq)) {
		t->rtt_timing = false;
		rtt_sample(t, (uint32_t)(net_now_ms - t->rtt_start));
	}
	ring_drop(&t->sndbuf, data);
	t->snd_una = ack;
	if (SEQ_LT(t->snd_nxt, t->snd_una))
		t->snd_nxt = t->snd_una;
	t->retries = 0;
	if (t->in_recovery) {
		if (SEQ_GE(ack, t->recover)) { /* full ACK */
			t->in_recovery = false;
			t->cwnd = MIN(t->ssthresh, MAX(flight(t), (uint32_t)t->mss) + t->mss);
			t->dupacks = 0;
		} else { /* partial ACK: resend the next hole, deflate */
			uint32_t len = MIN((uint32_t)t->mss, t->sndbuf.len);
			if (len)
				send_seg(t, t->snd_una, F_ACK, 0, len);
			t->cwnd = t->cwnd > acked ? t->cwnd - acked : 0;
			if (acked >= t->mss)
				t->cwnd += t->mss;
			t->cwnd = MAX(t->cwnd, (uint32_t)t->mss);
		}
	} else {
		t->dupacks = 0;
		if (t->cwnd < t->ssthresh)
			t->cwnd += MIN(acked, (uint32_t)t->mss);
		else
			t->cwnd += MAX(1u, (uint32_t)t->mss * t->mss / t->cwnd);
	}
	t->cwnd = MIN(t->cwnd, 0x3fffffffu);
	if (t->snd_una == t->snd_max)
		t->rexmit_at = 0;
	else
		arm_rexmit(t);
}

/* Data and FIN that arrived in order, then whatever the out-of-order queue now continues. */
static void take_data(struct tcp_sock *t, struct seg *s);

static void ooo_insert(struct tcp_sock *t, const struct seg *s)
{
	int n = 0;
	struct ooo_seg **pp = &t->ooo;
	while (*pp && SEQ_LT((*pp)->seq, s->seq)) {
		pp = &(*pp)->next;
		n++;
	}
	if (*pp && (*pp)->seq == s->seq && (*pp)->len >= s->len)
		return; /* a duplicate */
	for (struct ooo_seg *o = *pp; o; o = o->next)
		n++;
	if (n >= OOO_MAX_SEGS)
		return;
	struct ooo_seg *o = net_alloc(sizeof(*o) + s->len);
	if (!o)
		return;
	o->seq = s->seq;
	o->len = s->len;
	o->fin = s->flags & F_FIN;
	memcpy(o->data, s->data, s->len);
	o->next = *pp;
	*pp = o;
}

static void ooo_drain(struct tcp_sock *t)
{
	while (t->ooo && SEQ_LE(t->ooo->seq, t->rcv_nxt) && !t->fin_rcvd) {
		struct ooo_seg *o = t->ooo;
		t->ooo = o->next;
		uint32_t skip = t->rcv_nxt - o->seq;
		if (skip < o->len || (skip == o->len && o->fin)) {
			struct seg s = {.seq = t->rcv_nxt,
					.len = o->len - skip,
					.data = o->data + skip,
					.flags = o->fin ? F_FIN : 0};
			take_data(t, &s);
		}
		net_free(o);
	}
}

static void take_fin(struct tcp_sock *t)
{
	t->fin_rcvd = true;
	t->rcv_nxt++;
	t->ack_now = true;
	switch (t->state) {
	case TCP_ESTABLISHED:
	case TCP_SYN_RCVD:
		t->state = TCP_CLOSE_WAIT;
		break;
	case TCP_FIN_WAIT_1:
		/* our FIN not yet acknowledged: simultaneous close */
		t->state = TCP_CLOSING;
		break;
	case TCP_FIN_WAIT_2:
		enter_time_wait(t);
		break;
	default:
		break;
	}
}

static void take_data(struct tcp_sock *t, struct seg *s)
{
	uint32_t n = ring_write(&t->rcvbuf, s->data, s->len);
	t->rcv_nxt += n;
	if (n == s->len && (s->flags & F_FIN))
		take_fin(t);
}

/* Segment text processing (RFC 793 "seventh, process the segment text"; eighth, FIN). */
static void data_input(struct tcp_sock *t, struct seg *s)
{
	bool has_fin = s->flags & F_FIN;
	if (!s->len && !has_fin)
		return;
	if (t->fin_rcvd) {
		t->ack_now = true; /* a retransmitted FIN: ACK it again */
		return;
	}
	if (s->seq != t->rcv_nxt) {
		ooo_insert(t, s);
		t->ack_now = true; /* a duplicate ACK tells the sender about the hole */
		return;
	}
	bool filled_hole = t->ooo != NULL;
	take_data(t, s);
	ooo_drain(t);
	if (has_fin || filled_hole || t->ooo || t->fin_rcvd)
		t->ack_now = true;
	else if (s->len) {
		/*
		 * RFC 1122 4.2.3.2 / RFC 5681 4.2: ACK at least every second full
		 * segment; but for the segments of one batch (frames the device had
		 * ready at once), one ACK at its end, as Linux acknowledges what GRO
		 * merged: each ACK sent costs a VM exit, and the data came together.
		 */
		if (s->len >= t->mss)
			t->unacked_segs++;
		if (t->unacked_segs >= 2 && !N->rx_batch)
			t->ack_now = true;
		else if (!t->delack_at)
			t->delack_at = net_now_ms + DELACK_MS;
	}
}

/* Trim a segment to the receive window; false when nothing of it is acceptable. */
static bool trim_to_window(struct tcp_sock *t, struct seg *s)
{
	uint32_t wnd = rcv_space(t);
	if (SEQ_GT(t->rcv_adv, t->rcv_nxt + wnd))
		wnd = t->rcv_adv - t->rcv_nxt; /* never reject what we offered */
	uint32_t seglen = s->len + ((s->flags & F_SYN) ? 1 : 0) + ((s->flags & F_FIN) ? 1 : 0);
	bool ok;
	if (seglen == 0)
		ok = wnd == 0 ? s->seq == t->rcv_nxt
			      : SEQ_GE(s->seq, t->rcv_nxt) && SEQ_LT(s->seq, t->rcv_nxt + wnd);
	else
		ok =
		    wnd != 0 && ((SEQ_GE(s->seq, t->rcv_nxt) && SEQ_LT(s->seq, t->rcv_nxt + wnd)) ||
				 (SEQ_GE(s->seq + seglen - 1, t->rcv_nxt) &&
				  SEQ_LT(s->seq + seglen - 1, t->rcv_nxt + wnd)));
	if (!ok)
		return false;
	if (SEQ_LT(s->seq, t->rcv_nxt)) { /* old data at the front */
		uint32_t d = t->rcv_nxt - s->seq;
		if (s->flags & F_SYN) {
			s->flags &= (uint8_t)~F_SYN;
			s->seq++;
			d--;
		}
		d = MIN(d, s->len);
		s->data += d;
		s->len -= d;
		s->seq += d;
	}
	uint32_t room = t->rcv_nxt + wnd - s->seq;
	if (s->len > room) { /* beyond the window at the back */
		s->len = room;
		s->flags &= (uint8_t)~F_FIN;
	}
	return true;
}

/*
 * An ACK answering a segment we do not accept: outside the window, a RST or a SYN out of
 * place, an ACK of what was never sent.  bare: the segment held no data and no FIN.  Such a
 * segment gets an ACK at most once per OOW_ACK_MS (RFC 5961 10, as Linux): two ends that
 * disagree about the sequence numbers otherwise answer each other's ACKs as fast as the wire
 * goes.  QEMU's user network does after a port's reuse: an old connection of its own on the
 * same ports, in TIME_WAIT, answers for the new one.  Data and FINs are always answered:
 * their sender waits for the ACK.
 */
static void ack_unacceptable(struct tcp_sock *t, bool bare)
{
	if (bare) {
		if (net_now_ms < t->oow_ack_after)
			return;
		t->oow_ack_after = net_now_ms + OOW_ACK_MS;
	}
	t->ack_now = true;
	output(t);
}

/* Returns true when t was freed. */
static bool conn_input(struct tcp_sock *t, const uint8_t *h, struct seg *s)
{
	t->arrivals++;
	if (t->state == TCP_SYN_SENT)
		return syn_sent_input(t, h, s);
	t->last_rx = net_now_ms;
	t->keep_probes = 0;
	bool bare = !s->len && !(s->flags & F_FIN); /* before the window trims it */
	if (!trim_to_window(t, s)) {
		if (!(s->flags & F_RST))
			ack_unacceptable(t, bare);
		return false;
	}
	if (s->flags & F_RST) {
		if (s->seq != t->rcv_nxt) { /* RFC 5961 3.2: challenge ACK */
			ack_unacceptable(t, bare);
			return false;
		}
		if (t->state == TCP_SYN_RCVD && t->parent)
			return set_closed(t, 0);
		int e = t->state == TCP_SYN_RCVD ? NET_ECONNREFUSED
			: (t->state == TCP_CLOSING || t->state == TCP_LAST_ACK ||
			   t->state == TCP_TIME_WAIT)
			    ? 0
			    : NET_ECONNRESET;
		t->sndbuf.len = 0;
		return set_closed(t, e);
	}
	if (s->flags & F_SYN) { /* RFC 5961 4.2: a SYN in a synchronized state */
		ack_unacceptable(t, true);
		return false;
	}
	if (!(s->flags & F_ACK))
		return false;

	if (t->state == TCP_SYN_RCVD) {
		if (SEQ_LE(s->ack, t->snd_una) || SEQ_GT(s->ack, t->snd_max)) {
			send_rst_for(t->raddr, t->laddr, h, s->len);
			return false;
		}
		t->state = t->fin_queued ? TCP_FIN_WAIT_1 : TCP_ESTABLISHED;
		t->snd_wnd = (uint32_t)s->wnd << t->snd_wscale;
		t->max_sndwnd = t->snd_wnd;
		t->snd_wl1 = s->seq;
		t->snd_wl2 = s->ack;
		t->snd_una = t->iss + 1;
		t->retries = 0;
		t->rexmit_at = t->snd_una == t->snd_max ? 0 : t->rexmit_at;
		if (t->rtt_timing) {
			t->rtt_timing = false;
			rtt_sample(t, (uint32_t)(net_now_ms - t->rtt_start));
		}
		if (t->parent) { /* ready for accept(), in arrival order */
			struct tcp_sock **pp = &t->parent->acceptq;
			while (*pp)
				pp = &(*pp)->acceptq_next;
			t->acceptq_next = NULL;
			*pp = t;
			t->parent->arrivals++;
		}
	}

	/* ACK processing */
	if (SEQ_GT(s->ack, t->snd_max)) {
		ack_unacceptable(t, bare);
		return false;
	}
	uint32_t wnd = (uint32_t)s->wnd << t->snd_wscale;
	if (SEQ_GT(s->ack, t->snd_una)) {
		on_newack(t, s->ack);
	} else if (s->ack == t->snd_una && !s->len && !(s->flags & F_FIN) && wnd == t->snd_wnd &&
		   flight(t) && t->snd_wnd) {
		on_dupack(t);
	}
	/* window update (RFC 793 p. 72) */
	if (SEQ_LT(t->snd_wl1, s->seq) || (t->snd_wl1 == s->seq && SEQ_LE(t->snd_wl2, s->ack))) {
		t->snd_wnd = wnd;
		t->snd_wl1 = s->seq;
		t->snd_wl2 = s->ack;
		t->max_sndwnd = MAX(t->max_sndwnd, wnd);
		if (wnd)
			t->persist_at = 0;
	}
	switch (t->state) {
	case TCP_FIN_WAIT_1:
		if (fin_acked(t))
			t->state = TCP_FIN_WAIT_2;
		break;
	case TCP_CLOSING:
		if (fin_acked(t)) {
			enter_time_wait(t);
			return false;
		}
		break;
	case TCP_LAST_ACK:
		if (fin_acked(t))
			return set_closed(t, 0);
		break;
	case TCP_TIME_WAIT:
		if (s->flags & F_FIN) {
			t->ack_now = true;
			wait_2msl(t);
			output(t);
		}
		return false;
	default:
		break;
	}

	switch (t->state) {
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT_1:
	case TCP_FIN_WAIT_2:
		data_input(t, s);
		break;
	case TCP_CLOSE_WAIT:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		if (s->len || (s->flags & F_FIN))
			t->ack_now = true; /* retransmissions of what we have */
		break;
	default:
		break;
	}
	output(t);
	return false;
}

void tcp_input(struct netif *nif, struct naddr src, struct naddr dst, const uint8_t *h, size_t len,
	       bool csum_ok)
{
	if (len < TCP_HLEN)
		return;
	size_t hl = (size_t)(h[12] >> 4) * 4;
	if (hl < TCP_HLEN || hl > len)
		return;
	if (!csum_ok && inet_csum(h, len, net_pseudo(src, dst, PROTO_TCP, (uint32_t)len))) {
		N->stat_bad_csum++;
		return;
	}
	if (na_is_v4(dst) && (na_to_v4(dst) == IP_BROADCAST ||
			      (nif->mask && na_to_v4(dst) == (nif->addr | ~nif->mask))))
		return;
	struct seg s = {
	    .seq = rd32(h + 4),
	    .ack = rd32(h + 8),
	    .flags = h[13] & 0x3f,
	    .wnd = rd16(h + 14),
	    .data = h + hl,
	    .len = (uint32_t)(len - hl),
	};
	parse_options(&s, h + TCP_HLEN, hl - TCP_HLEN);
	uint32_t seglen = s.len + ((s.flags & F_SYN) ? 1 : 0) + ((s.flags & F_FIN) ? 1 : 0);
	struct tcp_sock *t = lookup(src, rd16(h), dst, rd16(h + 2));
	/* RFC 1122 4.2.2.13, as Linux: a SYN above what a connection in TIME_WAIT received opens
	 * a new one (a client reusing its port soon, as QEMU's user network does) */
	if (t && t->state == TCP_TIME_WAIT && (s.flags & (F_SYN | F_ACK | F_RST)) == F_SYN &&
	    SEQ_GT(s.seq, t->rcv_nxt)) {
		set_closed(t, 0);
		t = lookup(src, rd16(h), dst, rd16(h + 2));
	}
	if (!t) {
		send_rst_for(src, dst, h, seglen);
		return;
	}
	if (t->state == TCP_LISTEN) {
		listen_input(t, src, dst, h, &s);
		return;
	}
	conn_input(t, h, &s);
}

/* ---- timers ---- */

static bool rexmit_timeout(struct tcp_sock *t)
{
	t->rexmit_at = 0;
	if (++t->retries > (syn_states(t) ? SYN_RETRIES : DATA_RETRIES)) {
		send_rst(t);
		return set_closed(t, NET_ETIMEDOUT);
	}
	N->stat_tcp_rexmits++;
	/* RFC 5681 (4) and RFC 6298 5.5-5.7 */
	if (!syn_states(t)) {
		t->ssthresh = MAX(flight(t) / 2, 2u * t->mss);
		t->cwnd = t->mss;
	}
	t->in_recovery = false;
	t->dupacks = 0;
	t->recover = t->snd_max;
	t->rtt_timing = false;
	t->rto = MIN(t->rto * 2, (uint32_t)RTO_MAX);
	if (t->state == TCP_SYN_RCVD && t->snd_una == t->iss)
		t->snd_nxt = t->iss;
	else if (t->state == TCP_SYN_SENT)
		t->snd_nxt = t->iss;
	else
		t->snd_nxt = t->snd_una;
	output(t);
	if (!t->rexmit_at && t->snd_una != t->snd_max)
		arm_rexmit(t);
	return false;
}

/* A segment the receiver must answer without accepting: seq one below snd_una, no data. */
static void send_probe(struct tcp_sock *t)
{
	send_seg(t, t->snd_una - 1, F_ACK, 0, 0);
}

static bool tick_one(struct tcp_sock *t)
{
	uint64_t now = net_now_ms;
	if (t->rexmit_at && t->rexmit_at <= now && rexmit_timeout(t))
		return true;
	if (t->persist_at && t->persist_at <= now) {
		send_probe(t);
		t->persist_backoff = MIN(t->persist_backoff * 2, (uint32_t)RTO_MAX);
		t->persist_at = now + t->persist_backoff;
	}
	if (t->delack_at && t->delack_at <= now) {
		t->ack_now = true;
		output(t);
	}
	if (t->keepalive && t->state == TCP_ESTABLISHED) {
		uint64_t due = t->last_rx + (uint64_t)t->keepidle * 1000 +
			       (uint64_t)t->keep_probes * t->keepintvl * 1000;
		if (due <= now) {
			if ((uint32_t)t->keep_probes >= t->keepcnt) {
				send_rst(t);
				return set_closed(t, NET_ETIMEDOUT);
			}
			t->keep_probes++;
			send_probe(t);
		}
	}
	return false;
}

void tcp_tick(void)
{
	while (N->tw_head && N->tw_head->timewait_at <= net_now_ms)
		set_closed(N->tw_head, 0);
	for (struct tcp_sock *t = N->tcbs, *n; t; t = n) {
		n = t->next;
		tick_one(t);
	}
}

uint64_t tcp_next_timer(void)
{
	uint64_t m = N->tw_head ? N->tw_head->timewait_at : UINT64_MAX;
	for (struct tcp_sock *t = N->tcbs; t; t = t->next) {
		uint64_t c[] = {t->rexmit_at, t->persist_at, t->delack_at};
		for (size_t i = 0; i < ARRAY_LEN(c); i++)
			if (c[i])
				m = MIN(m, c[i]);
		if (t->keepalive && t->state == TCP_ESTABLISHED)
			m = MIN(m, t->last_rx + (uint64_t)t->keepidle * 1000 +
				       (uint64_t)t->keep_probes * t->keepintvl * 1000);
	}
	return m;
}

/* The program is gone: close what it left open, as Linux closes a process's descriptors. */
void tcp_close_all(void)
{
	for (;;) {
		struct tcp_sock *t = tcb_first(N);
		while (t && t->user_closed)
			t = tcb_next(N, t);
		if (!t)
			return;
		tcp_close(t, false); /* may free children: start over */
	}
}

bool tcp_output_pending(void)
{
	for (struct tcp_sock *t = N->tcbs; t; t = t->next) {
		switch (t->state) {
		case TCP_FIN_WAIT_1:
		case TCP_CLOSING:
		case TCP_LAST_ACK:
			return true;
		case TCP_ESTABLISHED:
		case TCP_CLOSE_WAIT:
		case TCP_SYN_RCVD:
			if (t->sndbuf.len || t->fin_queued)
				return true;
			break;
		default:
			break;
		}
	}
	return false;
}

void tcp_release_all(void)
{
	while (tcb_first(N))
		tcb_free(tcb_first(N));
}
