// SPDX-License-Identifier: BSD-3-Clause
// The kernel's TCP/IP stack compiled for the host: two stacks on a simulated wire that can
// lose, reorder and duplicate frames, driven by a simulated clock (no real time passes).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "net/net.h"

/* ---- determinism: the stack's random numbers come from here ---- */
static uint64_t rng = 1;
static uint32_t xrand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}
void net_random_fill(void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len--)
		*p++ = (uint8_t)xrand();
}

/* ---- the wire ---- */
#define IP_A 0x0a000001u
#define IP_B 0x0a000002u
#define MAXQ 4096

struct frame {
	int to; /* 0: A, 1: B */
	uint64_t at;
	size_t len;
	uint8_t d[2048];
};
static struct frame *q[MAXQ];
static int nq;
static struct netstack sa, sb;
static struct netif ia, ib;

/* what the wire does to a frame from side `from`; returns copies to deliver (0 = lost) */
static int (*policy)(int from, const uint8_t *f, size_t len);
static int npolicy_calls;
static uint64_t latency = 1;
static int frames_sent[2], tcp_data_frames[2], tcp_pure_acks[2], tcp_fins[2];

static bool is_tcp(const uint8_t *f, size_t len)
{
	return len >= ETH_HLEN + IP_HLEN + TCP_HLEN && rd16(f + 12) == 0x0800 && f[23] == 6;
}
static size_t tcp_payload_len(const uint8_t *f)
{
	size_t tot = rd16(f + 16), thl = (size_t)(f[ETH_HLEN + IP_HLEN + 12] >> 4) * 4;
	return tot - IP_HLEN - thl;
}
static uint8_t tcp_flags(const uint8_t *f)
{
	return f[ETH_HLEN + IP_HLEN + 13];
}

static void enqueue(int to, const void *frame, size_t len, uint64_t at)
{
	assert_true(nq < MAXQ);
	struct frame *fr = malloc(sizeof(*fr));
	assert_non_null(fr);
	assert_true(len <= sizeof(fr->d));
	fr->to = to;
	fr->at = at;
	fr->len = len;
	memcpy(fr->d, frame, len);
	q[nq++] = fr;
}

static int wire_xmit(struct netif *nif, const void *frame, size_t len)
{
	int from = nif == &ia ? 0 : 1;
	frames_sent[from]++;
	if (is_tcp(frame, len)) {
		if (tcp_payload_len(frame))
			tcp_data_frames[from]++;
		else if (tcp_flags(frame) == 0x10)
			tcp_pure_acks[from]++;
		if (tcp_flags(frame) & 0x01)
			tcp_fins[from]++;
	}
	int copies = 1;
	if (policy) {
		npolicy_calls++;
		copies = policy(from, frame, len);
	}
	for (int i = 0; i < copies; i++)
		enqueue(!from, frame, len, net_now_ms + latency);
	return 0;
}

static void use(int side)
{
	N = side ? &sb : &sa;
}

/* Deliver due frames and run both stacks' timers, one simulated millisecond at a time. */
static void step(void)
{
	for (int i = 0; i < nq;) {
		struct frame *fr = q[i];
		if (fr->at > net_now_ms) {
			i++;
			continue;
		}
		memmove(q + i, q + i + 1, (size_t)(nq - i - 1) * sizeof(*q));
		nq--;
		use(fr->to);
		net_input(fr->to ? &ib : &ia, fr->d, fr->len, false);
		free(fr);
	}
	use(0);
	net_poll();
	use(1);
	net_poll();
	net_now_ms++;
}

static void run_ms(uint64_t ms)
{
	uint64_t end = net_now_ms + ms;
	while (net_now_ms < end)
		step();
}

/* run until cond() holds, at most limit simulated ms; returns whether it held */
static bool run_until(bool (*cond)(void *), void *arg, uint64_t limit)
{
	uint64_t end = net_now_ms + limit;
	while (net_now_ms < end) {
		if (cond(arg))
			return true;
		step();
	}
	return cond(arg);
}

static void setup_if(struct netif *i, const char *name, uint8_t last, uint32_t addr)
{
	memset(i, 0, sizeof(*i));
	snprintf(i->name, sizeof(i->name), "%s", name);
	uint8_t mac[6] = {0x52, 0x54, 0, 0x12, 0x34, last};
	memcpy(i->mac, mac, 6);
	i->addr = addr;
	i->mask = 0xffffff00u;
	i->mtu = ETH_MTU;
	i->xmit = wire_xmit;
	net_add_if(i);
}

static int setup(void **state)
{
	(void)state;
	rng = 0x12345678;
	net_now_ms = 1000;
	nq = 0;
	policy = NULL;
	npolicy_calls = 0;
	latency = 1;
	memset(frames_sent, 0, sizeof(frames_sent));
	memset(tcp_data_frames, 0, sizeof(tcp_data_frames));
	memset(tcp_pure_acks, 0, sizeof(tcp_pure_acks));
	memset(tcp_fins, 0, sizeof(tcp_fins));
	net_stack_init(&sa);
	setup_if(&ia, "eth0", 1, IP_A);
	net_stack_init(&sb);
	setup_if(&ib, "eth0", 2, IP_B);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	net_stack_release(&sa);
	net_stack_release(&sb);
	for (int i = 0; i < nq; i++)
		free(q[i]);
	nq = 0;
	return 0;
}

/* ---- connection helpers ---- */
struct pair {
	struct tcp_sock *listener, *client, *server;
};

static bool accepted(void *arg)
{
	struct pair *p = arg;
	use(1);
	if (!p->server && tcp_accept(p->listener, &p->server) == 0)
		return p->client->state == TCP_ESTABLISHED;
	return p->server && p->client->state == TCP_ESTABLISHED;
}

/* A client on a connects to port on b, from client_port (any when 0), and p->listener accepts
 * it within ms. */
static void connect_client(struct pair *p, uint16_t port, uint16_t client_port, uint64_t ms)
{
	use(0);
	p->client = tcp_new();
	if (client_port)
		assert_int_equal(tcp_bind(p->client, na_v4(0), client_port), 0);
	assert_int_equal(tcp_connect(p->client, na_v4(IP_B), port), -NET_EINPROGRESS);
	assert_true(run_until(accepted, p, ms));
	assert_int_equal(p->server->state, TCP_ESTABLISHED);
}

/* A listener on port of b and a connection to it. */
static void connect_pair(struct pair *p, uint16_t port, uint16_t client_port)
{
	memset(p, 0, sizeof(*p));
	use(1);
	p->listener = tcp_new();
	assert_int_equal(tcp_bind(p->listener, na_v4(0), port), 0);
	assert_int_equal(tcp_listen(p->listener, 16), 0);
	connect_client(p, port, client_port, 60000);
}

/* pattern data: byte i of a stream is a function of i, so any corruption shows */
static uint8_t pat(uint64_t i)
{
	return (uint8_t)(i * 2654435761u >> 13);
}

struct xfer {
	struct tcp_sock *src, *dst;
	int sside, dside;
	uint64_t total, sent, got;
	bool bad, closed_after;
	bool reader_paused;
};

static bool xfer_step(void *arg)
{
	struct xfer *x = arg;
	uint8_t buf[8192];
	use(x->sside);
	while (x->sent < x->total) {
		size_t n = (size_t)MIN((uint64_t)sizeof(buf), x->total - x->sent);
		for (size_t i = 0; i < n; i++)
			buf[i] = pat(x->sent + i);
		long r = tcp_send(x->src, buf, n);
		if (r == -NET_EAGAIN)
			break;
		assert_true(r > 0);
		x->sent += (uint64_t)r;
	}
	if (x->sent == x->total && x->closed_after && !x->src->fin_queued)
		tcp_shutdown(x->src, false, true);
	use(x->dside);
	while (!x->reader_paused) {
		long r = tcp_recv(x->dst, buf, sizeof(buf), false);
		if (r <= 0)
			break;
		for (long i = 0; i < r; i++)
			if (buf[i] != pat(x->got + (uint64_t)i))
				x->bad = true;
		x->got += (uint64_t)r;
	}
	return x->got == x->total;
}

static void transfer(struct tcp_sock *src, int sside, struct tcp_sock *dst, int dside,
		     uint64_t total, uint64_t limit_ms)
{
	struct xfer x = {.src = src, .dst = dst, .sside = sside, .dside = dside, .total = total};
	assert_true(run_until(xfer_step, &x, limit_ms));
	assert_false(x.bad);
	assert_int_equal(x.got, total);
}

/* ---- tests ---- */

/* RFC 1071 one 16-bit word at a time: what the word-at-a-time checksum must match */
static uint16_t csum_reference(const uint8_t *p, size_t len, uint32_t sum)
{
	uint64_t s = sum;
	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void test_csum_matches_reference(void **state)
{
	(void)state;
	static uint8_t buf[1600];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	memset(buf + 700, 0xff, 200); /* long runs of carries */
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len <= 1500; len += len < 80 ? 1 : 37)
			for (uint32_t sum = 0; sum < 0x30000; sum += 0x17fff)
				assert_int_equal(inet_csum(buf + off, len, sum),
						 csum_reference(buf + off, len, sum));
}

static void test_handshake_and_echo(void **state)
{
	(void)state;
	struct pair p;
	connect_pair(&p, 80, 0);
	use(0);
	assert_int_equal(tcp_send(p.client, "hello", 5), 5);
	run_ms(100);
	use(1);
	char buf[16];
	assert_int_equal(tcp_recv(p.server, buf, sizeof(buf), false), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(tcp_send(p.server, "world!", 6), 6);
	run_ms(100);
	use(0);
	assert_int_equal(tcp_recv(p.client, buf, sizeof(buf), false), 6);
	assert_memory_equal(buf, "world!", 6);
	/* the MSS both ends use is the Ethernet one */
	assert_int_equal(p.client->mss, 1460);
	assert_int_equal(p.server->mss, 1460);
	/* orderly close: client first */
	tcp_close(p.client, false);
	run_ms(100);
	use(1);
	assert_int_equal(p.server->state, TCP_CLOSE_WAIT);
	assert_int_equal(tcp_recv(p.server, buf, sizeof(buf), false), 0);
	assert_true(tcp_poll(p.server) & NET_POLLRDHUP);
	tcp_close(p.server, false);
	run_ms(100);
	/* the server's side is gone; the client's waits in TIME_WAIT, then goes */
	use(1);
	for (struct tcp_sock *t = tcb_first(&sb); t; t = tcb_next(&sb, t))
		assert_ptr_equal(t, p.listener);
	use(0);
	assert_non_null(tcb_first(&sa));
	assert_int_equal(tcb_first(&sa)->state, TCP_TIME_WAIT);
	run_ms(61000);
	assert_null(tcb_first(&sa));
}

static void test_bulk_clean(void **state)
{
	(void)state;
	struct pair p;
	connect_pair(&p, 80, 0);
	transfer(p.client, 0, p.server, 1, 4 << 20, 600000);
	transfer(p.server, 1, p.client, 0, 1 << 20, 600000);
	assert_int_equal(sa.stat_tcp_rexmits + sb.stat_tcp_rexmits, 0);
	/* drained buffers give their memory back */
	run_ms(1000);
	assert_true(p.server->rcvbuf.size <= 16384 && p.client->sndbuf.size <= 16384);
	assert_true(p.client->rcvbuf.size <= 16384 && p.server->sndbuf.size <= 16384);
	/* delayed ACKs: about one ACK per two full segments, not one per segment */
	assert_true(tcp_pure_acks[1] < tcp_data_frames[0] * 3 / 4);
}

static int lossy(int from, const uint8_t *f, size_t len)
{
	(void)from;
	(void)f;
	(void)len;
	return xrand() % 100 < 5 ? 0 : 1;
}

static void test_loss(void **state)
{
	(void)state;
	struct pair p;
	connect_pair(&p, 80, 0);
	policy = lossy;
	transfer(p.client, 0, p.server, 1, 2 << 20, 3600000);
	transfer(p.server, 1, p.client, 0, 1 << 20, 3600000);
	assert_true(sa.stat_tcp_fast_rexmits + sb.stat_tcp_fast_rexmits > 0);
}

/* connection setup survives losing the SYN, the SYN-ACK and the third ACK */
static int drop_first_three(int from, const uint8_t *f, size_t len)
{
	(void)from;
	(void)f;
	(void)len;
	return npolicy_calls <= 3 ? 0 : 1;
}

static void test_handshake_loss(void **state)
{
	(void)state;
	policy = drop_first_three;
	struct pair p;
	connect_pair(&p, 80, 0);
	transfer(p.client, 0, p.server, 1, 100000, 60000);
	assert_true(sa.stat_tcp_rexmits + sb.stat_tcp_rexmits > 0);
}

/* one data segment lost in a window: fast retransmit, no timeout */
static int drop_one_data(int from, const uint8_t *f, size_t len)
{
	static int seen;
	if (npolicy_calls == 1)
		seen = 0;
	if (from == 0 && is_tcp(f, len) && tcp_payload_len(f) && ++seen == 20)
		return 0;
	return 1;
}

static void test_fast_retransmit(void **state)
{
	(void)state;
	struct pair p;
	connect_pair(&p, 80, 0);
	policy = drop_one_data;
	npolicy_calls = 0;
	transfer(p.client, 0, p.server, 1, 1 << 20, 600000);
	assert_int_equal(sa.stat_tcp_fast_rexmits, 1);
	assert_int_equal(sa.stat_tcp_rexmits, 0);
	assert_false(p.client->in_recovery);
}

/* several losses in one window: NewReno's partial ACKs repair them without a timeout */
static int drop_three_in_window(int from, const uint8_t *f, size_t len)
{
	static int seen;
	if (npolicy_calls == 1)
		seen = 0;
	if (from == 0 && is_tcp(f, len) && tcp_payload_len(f)) {
		seen++;
		if (seen == 30 || seen == 33 || seen == 36)
			return 0;
	}
	return 1;
}

static void test_newreno_partial_acks(void **state)
{
	(void)state;
	struct pair p;
	connect_pair(&p, 80, 0);
	policy = drop_three_in_window;
	npolicy_calls = 0;
	transfer(p.client, 0, p.server, 1, 1 << 20, 600000);
	assert_int_equal(sa.stat_tcp_fast_rexmits, 1);
	assert_int_equal(sa.stat_tcp_rexmits, 0);
}

/* every other pair of frames swapped */
static int reorder(int from, const uint8_t *f, size_t len)
{
	(void)from;
	(void)f;
	(void)len;
	latency = (npolicy_calls % 2) ? 3 : 1;
	return 1;
}

static void test_reorder(void **state)
{
	(void)state;
	struct pair p;
	connect_pair(&p, 80, 0);
	policy = reorder;
	transfer(p.client, 0, p.server, 1, 1 << 20, 600000);
	transfer(p.server, 1, p.client, 0, 1 << 20, 600000);
}

static int duplicate(int from, const uint8_t *f, size_t len)
{
	(void)from;
	(void)f;
	(void)len;
	return 2;
}

static void test_duplicates(void **state)
{
	(void)state;
	policy = duplicate;
	struct pair p;
	connect_pair(&p, 80, 0);
	transfer(p.client, 0, p.server, 1, 1 << 20, 600000);
	transfer(p.server, 1, p.client, 0, 1 << 20, 600000);
	use(1);
	char c;
	assert_int_equal(tcp_recv(p.server, &c, 1, false), -NET_EAGAIN);
}

static void test_zero_window(void **state)
{
	(void)state;
	struct pair p;
	use(1);
	struct tcp_sock *l = tcp_new();
	assert_int_equal(tcp_set_bufsize(l, false, 8192), 0);
	assert_int_equal(tcp_bind(l, na_v4(0), 81), 0);
	assert_int_equal(tcp_listen(l, 4), 0);
	memset(&p, 0, sizeof(p));
	p.listener = l;
	use(0);
	p.client = tcp_new();
	assert_int_equal(tcp_connect(p.client, na_v4(IP_B), 81), -NET_EINPROGRESS);
	assert_true(run_until(accepted, &p, 10000));
	struct xfer x = {.src = p.client,
			 .dst = p.server,
			 .sside = 0,
			 .dside = 1,
			 .total = 300000,
			 .reader_paused = true};
	/* the reader sleeps: the window closes, the sender probes it */
	run_until(xfer_step, &x, 5000);
	use(0);
	assert_int_equal(p.client->snd_wnd, 0);
	assert_int_equal(p.server->rcvbuf.len, 8192);
	int before = frames_sent[0];
	run_ms(20000);
	assert_true(frames_sent[0] > before); /* persist probes */
	assert_true(frames_sent[0] < before + 40);
	assert_int_equal(p.client->state, TCP_ESTABLISHED);
	assert_int_equal(sa.stat_tcp_rexmits, 0);
	/* the reader wakes: everything arrives */
	x.reader_paused = false;
	assert_true(run_until(xfer_step, &x, 600000));
	assert_false(x.bad);
}

static void test_refused(void **state)
{
	(void)state;
	use(0);
	struct tcp_sock *c = tcp_new();
	assert_int_equal(tcp_connect(c, na_v4(IP_B), 9), -NET_EINPROGRESS);
	run_ms(100);
	use(0);
	assert_int_equal(c->state, TCP_CLOSED);
	assert_true(tcp_poll(c) & NET_POLLERR);
	assert_int_equal(tcp_take_error(c), NET_ECONNREFUSED);
	assert_int_equal(sb.stat_tcp_rst_sent, 1);
	tcp_close(c, false);
	assert_null(tcb_first(&sa));
}

static void test_reset_by_peer(void **state)
{
	(void)state;
	struct pair p;
	connect_pair(&p, 80, 0);
	use(1);
	tcp_close(p.server, true); /* SO_LINGER 0 */
	run_ms(100);
	use(0);
	char buf[4];
	assert_int_equal(p.client->state, TCP_CLOSED);
	assert_int_equal(tcp_recv(p.client, buf, sizeof(buf), false), -NET_ECONNRESET);
	assert_int_equal(tcp_send(p.client, "x", 1), -NET_EPIPE);
}

/* unread data at close means a RST, not a FIN (RFC 2525 2.17) */
static void test_close_with_unread_data(void **state)
{
	(void)state;
	struct pair p;
	connect_pair(&p, 80, 0);
	use(0);
	assert_int_equal(tcp_send(p.client, "abc", 3), 3);
	run_ms(100);
	use(1);
	tcp_close(p.server, false);
	run_ms(100);
	use(0);
	assert_int_equal(p.client->state, TCP_CLOSED);
	assert_int_equal(tcp_take_error(p.client), NET_ECONNRESET);
}

/* a RST whose sequence number is merely in the window draws a challenge ACK (RFC 5961) */
static void test_blind_reset_ignored(void **state)
{
	(void)state;
	struct pair p;
	connect_pair(&p, 80, 0);
	use(1);
	uint8_t f[ETH_HLEN + IP_HLEN + TCP_HLEN] = {0};
	memcpy(f, ib.mac, 6);
	memcpy(f + 6, ia.mac, 6);
	wr16(f + 12, 0x0800);
	uint8_t *ip = f + ETH_HLEN, *t = ip + IP_HLEN;
	ip[0] = 0x45;
	wr16(ip + 2, IP_HLEN + TCP_HLEN);
	ip[8] = 64;
	ip[9] = 6;
	wr32(ip + 12, IP_A);
	wr32(ip + 16, IP_B);
	wr16(ip + 10, inet_csum(ip, IP_HLEN, 0));
	wr16(t, p.client->lport);
	wr16(t + 2, 80);
	wr32(t + 4, p.server->rcv_nxt + 100);
	t[12] = 5 << 4;
	t[13] = 0x04;
	wr16(t + 16, inet_csum(t, TCP_HLEN, inet_pseudo(IP_A, IP_B, 6, TCP_HLEN)));
	int acks = tcp_pure_acks[1];
	net_input(&ib, f, sizeof(f), false);
	assert_int_equal(p.server->state, TCP_ESTABLISHED);
	assert_int_equal(tcp_pure_acks[1], acks + 1);
	/* the exact sequence number resets */
	wr32(t + 4, p.server->rcv_nxt);
	wr16(t + 16, 0);
	wr16(t + 16, inet_csum(t, TCP_HLEN, inet_pseudo(IP_A, IP_B, 6, TCP_HLEN)));
	net_input(&ib, f, sizeof(f), false);
	assert_int_equal(p.server->state, TCP_CLOSED);
}

static void test_simultaneous_open(void **state)
{
	(void)state;
	use(0);
	struct tcp_sock *a = tcp_new();
	assert_int_equal(tcp_bind(a, na_v4(0), 5000), 0);
	use(1);
	struct tcp_sock *b = tcp_new();
	assert_int_equal(tcp_bind(b, na_v4(0), 6000), 0);
	use(0);
	assert_int_equal(tcp_connect(a, na_v4(IP_B), 6000), -NET_EINPROGRESS);
	use(1);
	assert_int_equal(tcp_connect(b, na_v4(IP_A), 5000), -NET_EINPROGRESS);
	run_ms(1000);
	assert_int_equal(a->state, TCP_ESTABLISHED);
	assert_int_equal(b->state, TCP_ESTABLISHED);
	transfer(a, 0, b, 1, 100000, 60000);
	transfer(b, 1, a, 0, 100000, 60000);
}

static void test_simultaneous_close(void **state)
{
	(void)state;
	struct pair p;
	connect_pair(&p, 80, 0);
	use(0);
	tcp_shutdown(p.client, false, true);
	use(1);
	tcp_shutdown(p.server, false, true);
	assert_int_equal(p.client->state, TCP_FIN_WAIT_1);
	assert_int_equal(p.server->state, TCP_FIN_WAIT_1);
	run_ms(100);
	assert_int_equal(p.client->state, TCP_TIME_WAIT);
	assert_int_equal(p.server->state, TCP_TIME_WAIT);
	use(0);
	tcp_close(p.client, false);
	use(1);
	tcp_close(p.server, false);
	run_ms(61000);
	assert_null(tcb_first(&sa));
	assert_ptr_equal(tcb_first(&sb), p.listener);
	assert_null(tcb_next(&sb, tcb_first(&sb)));
}

/* The server closes first and holds the connection in TIME_WAIT; the client opens again from
 * the same port at once (as QEMU's user network does): its SYN opens a new connection, with
 * no wait for a retransmitted SYN. */
static void test_timewait_syn_reopens(void **state)
{
	(void)state;
	struct pair p;
	connect_pair(&p, 80, 40000);
	use(1);
	tcp_close(p.server, false);
	run_ms(100);
	use(0);
	tcp_close(p.client, false);
	run_ms(100);
	use(1);
	assert_int_equal(p.server->state, TCP_TIME_WAIT);
	run_ms(10);
	struct pair again = {.listener = p.listener};
	connect_client(&again, 80, 40000, 500); /* under RTO_INITIAL: the first SYN did it */
}

/* A segment from A's port sport to B's port 80, with no options or data. */
static size_t seg_to_b(uint8_t *f, uint16_t sport, uint32_t seq, uint32_t ack, uint8_t flags)
{
	memset(f, 0, ETH_HLEN + IP_HLEN + TCP_HLEN);
	memcpy(f, ib.mac, 6);
	memcpy(f + 6, ia.mac, 6);
	wr16(f + 12, 0x0800);
	uint8_t *ip = f + ETH_HLEN, *t = ip + IP_HLEN;
	ip[0] = 0x45;
	wr16(ip + 2, IP_HLEN + TCP_HLEN);
	ip[8] = 64;
	ip[9] = 6;
	wr32(ip + 12, IP_A);
	wr32(ip + 16, IP_B);
	wr16(ip + 10, inet_csum(ip, IP_HLEN, 0));
	wr16(t, sport);
	wr16(t + 2, 80);
	wr32(t + 4, seq);
	wr32(t + 8, ack);
	t[12] = 5 << 4;
	t[13] = flags;
	wr16(t + 14, 65535);
	wr16(t + 16, inet_csum(t, TCP_HLEN, inet_pseudo(IP_A, IP_B, 6, TCP_HLEN)));
	return ETH_HLEN + IP_HLEN + TCP_HLEN;
}

static void drain_wire(void);
static int drop_b_to_a(int from, const uint8_t *f, size_t len);

/* QEMU's user network after a port's reuse: its old connection on the same ports, in TIME_WAIT
 * there with sequence numbers of its own, answers each ACK from B with an ACK of its own. */
static uint32_t stale_seq, stale_ack;
static int stale_peer(int from, const uint8_t *f, size_t len)
{
	if (from != 1 || !is_tcp(f, len) || tcp_flags(f) != 0x10 || tcp_payload_len(f))
		return 1;
	uint8_t r[ETH_HLEN + IP_HLEN + TCP_HLEN];
	size_t n = seg_to_b(r, rd16(f + ETH_HLEN + IP_HLEN + 2), stale_seq, stale_ack, 0x10);
	enqueue(1, r, n, net_now_ms + latency);
	return 0;
}

/* An ACK outside the window draws an ACK, but at most one each 500 ms (RFC 5961 10, as Linux):
 * two ends that disagree answered each other's ACKs as fast as the wire went (an ACK loop
 * that took the guest's CPU).  A FIN sent again is still ACKed each time. */
static void test_ack_loop_damped(void **state)
{
	(void)state;
	struct pair p;
	connect_pair(&p, 80, 0);
	use(1);
	tcp_close(p.server, false);
	run_ms(100);
	use(0);
	uint16_t port = p.client->lport;
	uint32_t fin_seq = p.client->snd_nxt, fin_ack = p.client->rcv_nxt;
	tcp_close(p.client, false);
	run_ms(100);
	assert_int_equal(p.server->state, TCP_TIME_WAIT);
	stale_seq = p.server->rcv_nxt - 1000000;
	stale_ack = p.server->snd_nxt - 1000000;
	policy = stale_peer;
	int acks = tcp_pure_acks[1];
	uint8_t f[ETH_HLEN + IP_HLEN + TCP_HLEN];
	use(1);
	net_input(&ib, f, seg_to_b(f, port, stale_seq, stale_ack, 0x10), false);
	run_ms(2000);
	acks = tcp_pure_acks[1] - acks;
	assert_in_range(acks, 1, 5);
	assert_int_equal(p.server->state, TCP_TIME_WAIT);
	policy = drop_b_to_a; /* A, which holds nothing, would reset B's TIME_WAIT */
	drain_wire();
	acks = tcp_pure_acks[1];
	for (int i = 0; i < 2; i++) {
		use(1);
		net_input(&ib, f, seg_to_b(f, port, fin_seq, fin_ack, 0x11), false);
		run_ms(10);
	}
	assert_int_equal(tcp_pure_acks[1], acks + 2);
}

/* A server that closes first holds at most TCP_TIMEWAIT_MAX connections in TIME_WAIT, with no
 * buffer memory: one more ends the one nearest its end. */
static void test_timewait_bounded(void **state)
{
	(void)state;
	enum { BATCH = 256 };
	use(1);
	struct tcp_sock *l = tcp_new();
	assert_int_equal(tcp_bind(l, na_v4(0), 80), 0);
	assert_int_equal(tcp_listen(l, BATCH), 0);
	uint64_t first_end = 0; /* when the first batch's TIME_WAIT would end */
	for (int done = 0; done < TCP_TIMEWAIT_MAX + BATCH; done += BATCH) {
		struct tcp_sock *c[BATCH], *s;
		use(0);
		for (int i = 0; i < BATCH; i++) {
			c[i] = tcp_new();
			assert_int_equal(tcp_connect(c[i], na_v4(IP_B), 80), -NET_EINPROGRESS);
		}
		uint64_t end = net_now_ms + 5000; /* the first SYNs wait for ARP, or come again */
		for (int i = 0; i < BATCH; i++) {
			use(1);
			int r;
			while ((r = tcp_accept(l, &s)) != 0 && net_now_ms < end)
				step();
			assert_int_equal(r, 0);
			use(1);
			assert_int_equal(tcp_send(s, "bye", 3), 3);
			tcp_close(s, false);
		}
		run_ms(10);
		use(0);
		for (int i = 0; i < BATCH; i++) {
			char buf[4];
			assert_int_equal(tcp_recv(c[i], buf, sizeof(buf), false), 3);
			tcp_close(c[i], false);
		}
		run_ms(10);
		for (struct tcp_sock *t = tcb_first(&sb); t && !done; t = tcb_next(&sb, t))
			first_end = MAX(first_end, t->timewait_at);
	}
	int n = 0;
	for (struct tcp_sock *t = tcb_first(&sb); t; t = tcb_next(&sb, t)) {
		if (t == l)
			continue;
		assert_int_equal(t->state, TCP_TIME_WAIT);
		assert_true(t->timewait_at > first_end);
		assert_null(t->sndbuf.buf);
		assert_null(t->rcvbuf.buf);
		n++;
	}
	assert_int_equal(n, TCP_TIMEWAIT_MAX);
	assert_null(tcb_first(&sa));
}

/* The server closes first, the client then: the server sends one FIN, and once both FINs are
 * acknowledged TIME_WAIT is quiet.  (Each ACK of the FIN drew another FIN, one sequence
 * number further on, until the client's own FIN came.) */
static void test_fin_sent_once(void **state)
{
	(void)state;
	struct pair p;
	connect_pair(&p, 80, 0);
	use(1);
	tcp_close(p.server, false);
	run_ms(100);
	assert_int_equal(p.server->state, TCP_FIN_WAIT_2);
	use(0);
	assert_int_equal(p.client->state, TCP_CLOSE_WAIT);
	tcp_close(p.client, false);
	run_ms(100);
	assert_int_equal(p.server->state, TCP_TIME_WAIT);
	assert_null(tcb_first(&sa));
	assert_int_equal(tcp_fins[1], 1);
	int sent = frames_sent[1];
	run_ms(10000);
	assert_int_equal(frames_sent[1], sent);
}

static void test_backlog(void **state)
{
	(void)state;
	use(1);
	struct tcp_sock *l = tcp_new();
	assert_int_equal(tcp_bind(l, na_v4(0), 80), 0);
	assert_int_equal(tcp_listen(l, 2), 0);
	struct tcp_sock *c[3];
	use(0);
	for (int i = 0; i < 3; i++) {
		c[i] = tcp_new();
		assert_int_equal(tcp_connect(c[i], na_v4(IP_B), 80), -NET_EINPROGRESS);
	}
	run_ms(500);
	assert_int_equal(l->nchild, 2);
	assert_int_equal(c[2]->state, TCP_SYN_SENT);
	use(1);
	struct tcp_sock *s;
	assert_int_equal(tcp_accept(l, &s), 0);
	/* the third client's SYN retransmission now finds room */
	run_ms(5000);
	assert_int_equal(c[2]->state, TCP_ESTABLISHED);
	assert_int_equal(l->nchild, 2);
	/* closing the listener resets the connections nobody accepted */
	use(1);
	tcp_close(l, false);
	run_ms(100);
	assert_int_equal(c[1]->state, TCP_CLOSED);
	assert_int_equal(c[0]->state, TCP_ESTABLISHED);
}

static void test_nagle(void **state)
{
	(void)state;
	struct pair p;
	connect_pair(&p, 80, 0);
	latency = 20;
	use(0);
	int before = tcp_data_frames[0];
	for (int i = 0; i < 5; i++)
		assert_int_equal(tcp_send(p.client, "ab", 2), 2);
	/* one small segment in flight; the rest waits for its ACK */
	assert_int_equal(tcp_data_frames[0], before + 1);
	run_ms(300);
	assert_int_equal(tcp_data_frames[0], before + 2);
	use(0);
	p.client->nodelay = true;
	before = tcp_data_frames[0];
	for (int i = 0; i < 5; i++)
		assert_int_equal(tcp_send(p.client, "ab", 2), 2);
	assert_int_equal(tcp_data_frames[0], before + 5);
}

static void test_delayed_ack(void **state)
{
	(void)state;
	struct pair p;
	connect_pair(&p, 80, 0);
	run_ms(100);
	int acks = tcp_pure_acks[1];
	use(0);
	assert_int_equal(tcp_send(p.client, "x", 1), 1);
	run_ms(20);
	assert_int_equal(tcp_pure_acks[1], acks); /* held back */
	run_ms(100);
	assert_int_equal(tcp_pure_acks[1], acks + 1);
}

/* the in-order segments of one receive batch get one ACK, at its end (tcp_ack_batch) */
static void test_batch_ack(void **state)
{
	(void)state;
	struct pair p;
	connect_pair(&p, 80, 0);
	run_ms(100);
	static uint8_t buf[8 * 1460], got[sizeof(buf)];
	memset(buf, 'b', sizeof(buf));
	use(0);
	int acks = tcp_pure_acks[1], data = tcp_data_frames[0];
	assert_int_equal(tcp_send(p.client, buf, sizeof(buf)), sizeof(buf));
	sb.rx_batch = true;
	run_ms(2); /* the segments reach B together */
	sb.rx_batch = false;
	assert_true(tcp_data_frames[0] - data >= 4);
	assert_int_equal(tcp_pure_acks[1], acks); /* held back for the batch's end */
	use(1);
	tcp_ack_batch();
	assert_int_equal(tcp_pure_acks[1], acks + 1);
	run_ms(100);
	use(1);
	assert_int_equal(tcp_recv(p.server, got, sizeof(got), false), sizeof(got));
	assert_memory_equal(got, buf, sizeof(buf));
}

static bool closed(void *arg)
{
	return ((struct tcp_sock *)arg)->state == TCP_CLOSED;
}

static int drop_b_to_a(int from, const uint8_t *f, size_t len)
{
	(void)f;
	(void)len;
	return from == 1 ? 0 : 1;
}

/* RFC 6298: the timer backs off, doubling, and the connection ends with ETIMEDOUT */
static void test_rto_backoff(void **state)
{
	(void)state;
	struct pair p;
	connect_pair(&p, 80, 0);
	run_ms(100);
	policy = drop_b_to_a;
	use(0);
	assert_int_equal(tcp_send(p.client, "data", 4), 4);
	uint32_t rto0 = p.client->rto;
	assert_true(rto0 >= 200);
	run_ms(rto0 + 2);
	assert_int_equal(sa.stat_tcp_rexmits, 1);
	assert_int_equal(p.client->rto, 2 * rto0);
	assert_true(run_until(closed, p.client, 3600000));
	assert_int_equal(tcp_take_error(p.client), NET_ETIMEDOUT);
	assert_int_equal(sa.stat_tcp_rexmits, 15);
}

static void test_keepalive(void **state)
{
	(void)state;
	struct pair p;
	connect_pair(&p, 80, 0);
	use(0);
	p.client->keepalive = true;
	p.client->keepidle = 10;
	p.client->keepintvl = 2;
	p.client->keepcnt = 3;
	/* the peer answers probes: the connection lives */
	run_ms(60000);
	assert_int_equal(p.client->state, TCP_ESTABLISHED);
	assert_int_equal(p.client->keep_probes, 0);
	/* the peer vanishes: idle + 3 probes, then ETIMEDOUT */
	policy = drop_b_to_a;
	assert_true(run_until(closed, p.client, 30000));
	assert_int_equal(tcp_take_error(p.client), NET_ETIMEDOUT);
}

static void test_window_scale_and_mss(void **state)
{
	(void)state;
	ib.mtu = 1000;
	use(1);
	struct tcp_sock *l = tcp_new();
	tcp_set_bufsize(l, false, 1 << 20);
	assert_int_equal(tcp_bind(l, na_v4(0), 80), 0);
	assert_int_equal(tcp_listen(l, 4), 0);
	struct pair p = {.listener = l};
	use(0);
	p.client = tcp_new();
	assert_int_equal(tcp_connect(p.client, na_v4(IP_B), 80), -NET_EINPROGRESS);
	assert_true(run_until(accepted, &p, 10000));
	assert_int_equal(p.server->rcv_wscale, 5); /* 1 MiB in 16 bits */
	assert_int_equal(p.client->snd_wscale, 5);
	assert_int_equal(p.client->rcv_wscale, 2); /* the default 128 KiB */
	assert_int_equal(p.client->mss, 960);	   /* what the smaller MTU allows */
	assert_int_equal(p.server->mss, 960);
	transfer(p.client, 0, p.server, 1, 4 << 20, 600000);
	run_ms(100);
	assert_true(p.client->snd_wnd > 65535); /* the scaled window of the server's ACKs */
}

static void test_rst_for_stray_segment(void **state)
{
	(void)state;
	/* a connection the peer forgot (rebooted): data draws a RST, the sender resets */
	struct pair p;
	connect_pair(&p, 80, 0);
	use(1);
	net_stack_release(&sb);
	net_stack_init(&sb);
	setup_if(&ib, "eth0", 2, IP_B);
	use(0);
	assert_int_equal(tcp_send(p.client, "hi", 2), 2);
	run_ms(100);
	assert_int_equal(p.client->state, TCP_CLOSED);
	assert_int_equal(tcp_take_error(p.client), NET_ECONNRESET);
}

static void test_loopback(void **state)
{
	(void)state;
	use(0);
	struct tcp_sock *l = tcp_new();
	assert_int_equal(tcp_bind(l, na_v4(IP_LOOPBACK), 4369), 0); /* epmd */
	assert_int_equal(tcp_listen(l, 8), 0);
	struct tcp_sock *c = tcp_new();
	assert_int_equal(tcp_connect(c, na_v4(IP_LOOPBACK), 4369), -NET_EINPROGRESS);
	for (int i = 0; i < 10; i++)
		net_poll();
	struct tcp_sock *s;
	assert_int_equal(tcp_accept(l, &s), 0);
	assert_int_equal(c->state, TCP_ESTABLISHED);
	assert_int_equal(c->mss, LO_MTU - 40);
	assert_int_equal(frames_sent[0], 0); /* nothing on the wire */
	struct pair p = {.client = c, .server = s};
	transfer(p.client, 0, p.server, 0, 1 << 20, 10000);
	/* our own Ethernet address is local too, and goes through lo */
	struct udp_sock *u1 = udp_new(), *u2 = udp_new();
	assert_int_equal(udp_bind(u1, na_v4(0), 53), 0);
	assert_int_equal(udp_sendto(u2, "ping", 4, na_v4(IP_A), 53), 4);
	net_poll();
	char buf[8];
	struct naddr from;
	uint16_t port;
	assert_int_equal(udp_recvfrom(u1, buf, sizeof(buf), &from, &port, false), 4);
	assert_true(na_eq(from, na_v4(IP_A)));
	assert_int_equal(port, u2->lport);
	assert_int_equal(frames_sent[0], 0);
}

static void test_udp(void **state)
{
	(void)state;
	use(1);
	struct udp_sock *srv = udp_new();
	assert_int_equal(udp_bind(srv, na_v4(0), 7), 0);
	assert_int_equal(udp_bind(udp_new(), na_v4(0), 7), -NET_EADDRINUSE);
	use(0);
	struct udp_sock *cl = udp_new();
	assert_int_equal(udp_sendto(cl, "hello", 5, na_v4(IP_B), 7), 5);
	run_ms(10); /* ARP, then the datagram */
	use(1);
	assert_true(udp_poll(srv) & NET_POLLIN);
	char buf[3];
	struct naddr from;
	uint16_t port;
	/* truncated copy, full length returned (MSG_TRUNC is the caller's) */
	assert_int_equal(udp_recvfrom(srv, buf, sizeof(buf), &from, &port, false), 5);
	assert_memory_equal(buf, "hel", 3);
	assert_true(na_eq(from, na_v4(IP_A)));
	assert_int_equal(udp_recvfrom(srv, buf, sizeof(buf), &from, &port, false), -NET_EAGAIN);
	/* a closed port answers with ICMP port unreachable */
	int before = frames_sent[1];
	use(0);
	assert_int_equal(udp_sendto(cl, "x", 1, na_v4(IP_B), 9999), 1);
	run_ms(10);
	assert_int_equal(frames_sent[1], before + 1);
	/* a connected socket takes only its peer's datagrams */
	use(0);
	struct udp_sock *conn = udp_new();
	assert_int_equal(udp_bind(conn, na_v4(0), 7000), 0);
	assert_int_equal(udp_connect(conn, na_v4(IP_B), 8000), 0);
	use(1);
	struct udp_sock *other = udp_new();
	assert_int_equal(udp_sendto(other, "no", 2, na_v4(IP_A), 7000), 2);
	run_ms(10);
	use(0);
	assert_int_equal(udp_recvfrom(conn, buf, sizeof(buf), NULL, NULL, false), -NET_EAGAIN);
}

static void test_icmp_echo_and_arp(void **state)
{
	(void)state;
	/* A pings B by hand: an ARP request first, then the echo */
	uint8_t f[ETH_HLEN + IP_HLEN + 16] = {0};
	memcpy(f, ib.mac, 6);
	memcpy(f + 6, ia.mac, 6);
	wr16(f + 12, 0x0800);
	uint8_t *ip = f + ETH_HLEN, *m = ip + IP_HLEN;
	ip[0] = 0x45;
	wr16(ip + 2, IP_HLEN + 16);
	ip[8] = 64;
	ip[9] = 1;
	wr32(ip + 12, IP_A);
	wr32(ip + 16, IP_B);
	wr16(ip + 10, inet_csum(ip, IP_HLEN, 0));
	m[0] = 8;
	wr32(m + 4, 0x12340001);
	memcpy(m + 8, "pingpong", 8);
	wr16(m + 2, inet_csum(m, 16, 0));
	use(1);
	net_input(&ib, f, sizeof(f), false);
	/* B does not know A's MAC yet: it asks (an ARP request), holding the reply */
	assert_int_equal(nq, 1);
	assert_int_equal(rd16(q[0]->d + 12), 0x0806);
	run_ms(10);
	/* A answered the ARP; B's echo reply reached A (A's stack ignores the reply) */
	assert_int_equal(frames_sent[1], 2);
	assert_int_equal(frames_sent[0], 1);
	/* a bad checksum is ignored */
	m[9] ^= 1;
	net_input(&ib, f, sizeof(f), false);
	assert_int_equal(nq, 0);
}

/* ---- DHCP against a scripted server ---- */
static int dhcp_seen[8];
static uint32_t dhcp_xid;

static int dhcp_server(int from, const uint8_t *f, size_t len)
{
	if (from != 0 || len < ETH_HLEN + IP_HLEN + UDP_HLEN + 240 || f[23] != 17)
		return 0;
	const uint8_t *u = f + ETH_HLEN + IP_HLEN, *b = u + UDP_HLEN;
	if (rd16(u + 2) != 67)
		return 0;
	int type = b[240 + 2];
	dhcp_seen[type & 7]++;
	dhcp_xid = rd32(b + 4);
	/* the answer goes straight to the client's stack, broadcast */
	uint8_t r[ETH_HLEN + IP_HLEN + UDP_HLEN + 300] = {0};
	memset(r, 0xff, 6);
	memcpy(r + 6, "\x52\x54\x00\x00\x00\x99", 6);
	wr16(r + 12, 0x0800);
	uint8_t *ip = r + ETH_HLEN, *ru = ip + IP_HLEN, *rb = ru + UDP_HLEN;
	rb[0] = 2;
	rb[1] = 1;
	rb[2] = 6;
	wr32(rb + 4, dhcp_xid);
	wr32(rb + 16, 0x0a00020f);
	memcpy(rb + 28, b + 28, 6);
	uint8_t *o = rb + 236;
	wr32(o, 0x63825363);
	o += 4;
	static const uint8_t opts_tail[] = {1, 4,  255, 255, 255, 0, 3, 4,  10, 0, 2,
					    2, 6,  4,	10,  0,	  2, 3, 51, 4,	0, 0,
					    0, 60, 54,	4,   10,  0, 2, 2,  255};
	*o++ = 53;
	*o++ = 1;
	*o++ = type == 1 ? 2 : 5; /* OFFER for DISCOVER, ACK for REQUEST */
	memcpy(o, opts_tail, sizeof(opts_tail));
	o += sizeof(opts_tail);
	size_t blen = (size_t)(o - rb);
	wr16(ru, 67);
	wr16(ru + 2, 68);
	wr16(ru + 4, (uint16_t)(UDP_HLEN + blen));
	ip[0] = 0x45;
	wr16(ip + 2, (uint16_t)(IP_HLEN + UDP_HLEN + blen));
	ip[8] = 64;
	ip[9] = 17;
	wr32(ip + 12, 0x0a000202);
	wr32(ip + 16, 0xffffffff);
	wr16(ip + 10, inet_csum(ip, IP_HLEN, 0));
	enqueue(0, r, ETH_HLEN + IP_HLEN + UDP_HLEN + blen, net_now_ms + 1);
	return 0;
}

static bool bound(void *arg)
{
	use(0);
	return dhcp_bound(arg);
}

static void test_dhcp(void **state)
{
	(void)state;
	memset(dhcp_seen, 0, sizeof(dhcp_seen));
	use(0);
	ia.addr = ia.mask = 0;
	policy = dhcp_server;
	dhcp_start(&ia);
	assert_true(run_until(bound, &ia, 10000));
	assert_int_equal(ia.addr, 0x0a00020f);
	assert_int_equal(ia.mask, 0xffffff00);
	assert_int_equal(ia.gw, 0x0a000202);
	assert_int_equal(ia.dns, 0x0a000203);
	assert_int_equal(dhcp_seen[1], 1);
	assert_int_equal(dhcp_seen[3], 1);
	/* T1 at half the 60 s lease: a renewal REQUEST */
	run_ms(31000);
	assert_int_equal(dhcp_seen[3], 2);
	assert_true(dhcp_bound(&ia));
	/* and a route through the gateway now exists */
	uint32_t nh, src = 0;
	use(0);
	assert_ptr_equal(ip_route(0x08080808, &nh, &src), &ia);
	assert_int_equal(nh, 0x0a000202);
	assert_int_equal(src, 0x0a00020f);
}

static void test_dhcp_retries(void **state)
{
	(void)state;
	use(0);
	ia.addr = ia.mask = 0;
	policy = drop_b_to_a; /* B is no server: A's DISCOVERs go unanswered */
	dhcp_start(&ia);
	int before = frames_sent[0];
	run_ms(30000);
	/* after 1, 3, 7, 15 and 23 s (1, 2, 4, 8, 8 s apart), not one per ms */
	assert_int_equal(frames_sent[0] - before, 5);
	assert_false(dhcp_bound(&ia));
}

static void test_bind_rules(void **state)
{
	(void)state;
	use(0);
	struct tcp_sock *a = tcp_new(), *b = tcp_new();
	assert_int_equal(tcp_bind(a, na_v4(0), 8080), 0);
	assert_int_equal(tcp_listen(a, 4), 0);
	assert_int_equal(tcp_bind(b, na_v4(0), 8080), -NET_EADDRINUSE);
	b->reuseaddr = true;
	assert_int_equal(tcp_bind(b, na_v4(0), 8080), -NET_EADDRINUSE); /* a listener holds it */
	assert_int_equal(tcp_bind(b, na_v4(0x0b000001), 8081), -NET_EADDRNOTAVAIL);
	struct tcp_sock *c = tcp_new(), *d = tcp_new();
	c->reuseport = d->reuseport = true;
	assert_int_equal(tcp_bind(c, na_v4(0), 9090), 0);
	assert_int_equal(tcp_bind(d, na_v4(0), 9090), 0);
	assert_int_equal(tcp_connect(a, na_v4(IP_B), 80), -NET_EINVAL);
	uint32_t x;
	assert_int_equal(net_parse_ip("10.0.2.15", &x), 0);
	assert_int_equal(x, 0x0a00020f);
	assert_int_equal(net_parse_ip("10.0.2", &x), -1);
	assert_int_equal(net_parse_ip("10.0.2.256", &x), -1);
	assert_int_equal(net_parse_ip("1.2.3.4x", &x), -1);
	char buf[16];
	net_fmt_ip(buf, sizeof(buf), 0xc0a87a0f);
	assert_string_equal(buf, "192.168.122.15");
}

/* ---- IPv6 ---- */

static const uint8_t router_mac[6] = {0x52, 0x54, 0, 0, 0, 0x99};

static struct naddr addr6(uint16_t a, uint16_t b, uint16_t c, uint16_t last)
{
	struct naddr n = {{0}};
	wr16(n.b, a);
	wr16(n.b + 2, b);
	wr16(n.b + 4, c);
	wr16(n.b + 14, last);
	return n;
}

static void drain_wire(void)
{
	for (int i = 0; i < nq; i++)
		free(q[i]);
	nq = 0;
}

/* An ICMPv6 frame from the router's MAC: header, message (checksum filled in). */
static size_t icmp6_frame(uint8_t *f, const uint8_t *dmac, struct naddr src, struct naddr dst,
			  uint8_t hops, const uint8_t *msg, size_t mlen)
{
	memcpy(f, dmac, 6);
	memcpy(f + 6, router_mac, 6);
	wr16(f + 12, 0x86dd);
	uint8_t *h = f + ETH_HLEN, *m = h + IP6_HLEN;
	memset(h, 0, IP6_HLEN);
	h[0] = 0x60;
	wr16(h + 4, (uint16_t)mlen);
	h[6] = 58;
	h[7] = hops;
	memcpy(h + 8, src.b, 16);
	memcpy(h + 24, dst.b, 16);
	memcpy(m, msg, mlen);
	wr16(m + 2, 0);
	wr16(m + 2, inet_csum(m, mlen, net_pseudo(src, dst, 58, (uint32_t)mlen)));
	return ETH_HLEN + IP6_HLEN + mlen;
}

/* the ICMPv6 message of a frame A sent (checksum checked), or NULL */
static const uint8_t *icmp6_of(const struct frame *fr)
{
	const uint8_t *h = fr->d + ETH_HLEN;
	if (fr->len < ETH_HLEN + IP6_HLEN + 4 || rd16(fr->d + 12) != 0x86dd || h[6] != 58)
		return NULL;
	struct naddr s, d;
	memcpy(s.b, h + 8, 16);
	memcpy(d.b, h + 24, 16);
	uint16_t plen = rd16(h + 4);
	assert_int_equal(inet_csum(h + IP6_HLEN, plen, net_pseudo(s, d, 58, plen)), 0);
	return h + IP6_HLEN;
}

static size_t router_advert(uint8_t *f, uint16_t lifetime, uint8_t hops, uint16_t prefix_hi)
{
	uint8_t m[16 + 8 + 32] = {134, 0, 0, 0, 64, 0};
	wr16(m + 6, lifetime);
	uint8_t *o = m + 16;
	o[0] = 1; /* source link-layer address */
	o[1] = 1;
	memcpy(o + 2, router_mac, 6);
	o += 8;
	o[0] = 3; /* prefix information: on-link, autonomous */
	o[1] = 4;
	o[2] = 64;
	o[3] = 0xc0;
	wr32(o + 4, 86400);
	wr32(o + 8, 14400);
	struct naddr pfx = addr6(0x2001, 0xdb8, prefix_hi, 0);
	memcpy(o + 16, pfx.b, 16);
	const uint8_t all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
	return icmp6_frame(f, all_nodes_mac, addr6(0xfe80, 0, 0, 1), addr6(0xff02, 0, 0, 1), hops,
			   m, sizeof(m));
}

static void test_ip6_slaac(void **state)
{
	(void)state;
	use(0);
	ip6_start(&ia);
	char buf[48];
	net_fmt_ip6(buf, sizeof(buf), ia.ll6);
	assert_string_equal(buf, "fe80::5054:ff:fe12:3401");
	/* a router solicitation to ff02::2 (33:33:00:00:00:02), hop limit 255 */
	assert_int_equal(nq, 1);
	const uint8_t rs_mac[6] = {0x33, 0x33, 0, 0, 0, 2};
	assert_memory_equal(q[0]->d, rs_mac, 6);
	assert_int_equal(q[0]->d[ETH_HLEN + 7], 255);
	const uint8_t *m = icmp6_of(q[0]);
	assert_non_null(m);
	assert_int_equal(m[0], 133);
	assert_memory_equal(m + 10, ia.mac, 6); /* its source link-layer option */
	/* unanswered, it asks three times in all, then stops */
	drain_wire();
	run_ms(20000);
	assert_int_equal(frames_sent[0], 3);
	assert_int_equal(ip6_next_timer(), UINT64_MAX);
	/* a router advertisement that did not come from the link is ignored */
	uint8_t f[256];
	size_t n = router_advert(f, 1800, 64, 1);
	use(0);
	net_input(&ia, f, n, false);
	assert_int_equal(ia.prefix6, 0);
	/* a real one: the address from the prefix and the MAC, the router as the default */
	n = router_advert(f, 1800, 255, 1);
	net_input(&ia, f, n, false);
	assert_int_equal(ia.prefix6, 64);
	net_fmt_ip6(buf, sizeof(buf), ia.addr6);
	assert_string_equal(buf, "2001:db8:1:0:5054:ff:fe12:3401");
	assert_true(na_eq(ia.gw6, addr6(0xfe80, 0, 0, 1)));
	assert_true(net_is_local_na(ia.addr6));
	struct naddr src = {{0}}, nh;
	assert_ptr_equal(ip6_route(addr6(0x2001, 0xdb8, 2, 1), &nh, &src), &ia);
	assert_true(na_eq(nh, ia.gw6) && na_eq(src, ia.addr6));
	/* on the prefix: direct; link-local: from the link-local address */
	src = (struct naddr){{0}};
	assert_ptr_equal(ip6_route(addr6(0x2001, 0xdb8, 1, 7), &nh, &src), &ia);
	assert_true(na_eq(nh, addr6(0x2001, 0xdb8, 1, 7)) && na_eq(src, ia.addr6));
	src = (struct naddr){{0}};
	assert_ptr_equal(ip6_route(addr6(0xfe80, 0, 0, 7), &nh, &src), &ia);
	assert_true(na_eq(src, ia.ll6));
	/* the router learned from its advertisement: a packet to it needs no solicitation */
	drain_wire();
	struct udp_sock *u = udp_new();
	assert_int_equal(udp_sendto(u, "x", 1, addr6(0x2001, 0xdb8, 2, 1), 53), 1);
	assert_int_equal(nq, 1);
	assert_memory_equal(q[0]->d, router_mac, 6);
	/* lifetime 0: no longer a default router */
	n = router_advert(f, 0, 255, 1);
	net_input(&ia, f, n, false);
	assert_true(na_is_any(ia.gw6));
	assert_int_equal(udp_sendto(u, "x", 1, addr6(0x2001, 0xdb8, 2, 1), 53), -NET_ENETUNREACH);
	/* text forms */
	net_fmt_ip6(buf, sizeof(buf), na_loopback6());
	assert_string_equal(buf, "::1");
	net_fmt_ip6(buf, sizeof(buf), (struct naddr){{0}});
	assert_string_equal(buf, "::");
	net_fmt_ip6(buf, sizeof(buf), addr6(0x2001, 0xdb8, 0, 0));
	assert_string_equal(buf, "2001:db8::");
}

static void test_ip6_neighbors_and_echo(void **state)
{
	(void)state;
	use(0);
	ip6_start(&ia);
	drain_wire();
	/* an echo request from a neighbor A does not know yet */
	uint8_t req[12] = {128, 0, 0, 0, 0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g'}, f[256];
	struct naddr peer = addr6(0xfe80, 0, 0, 0x99);
	size_t n = icmp6_frame(f, ia.mac, peer, ia.ll6, 64, req, sizeof(req));
	net_input(&ia, f, n, false);
	/* A asks for it: a neighbor solicitation to its solicited-node group */
	assert_int_equal(nq, 1);
	const uint8_t *m = icmp6_of(q[0]);
	assert_non_null(m);
	assert_int_equal(m[0], 135);
	assert_memory_equal(m + 8, peer.b, 16);
	const uint8_t sn_mac[6] = {0x33, 0x33, 0xff, 0, 0, 0x99};
	assert_memory_equal(q[0]->d, sn_mac, 6);
	drain_wire();
	/* the advertisement releases the held reply */
	uint8_t na[32] = {136, 0, 0, 0, 0x60};
	memcpy(na + 8, peer.b, 16);
	na[24] = 2;
	na[25] = 1;
	memcpy(na + 26, router_mac, 6);
	n = icmp6_frame(f, ia.mac, peer, ia.ll6, 255, na, sizeof(na));
	net_input(&ia, f, n, false);
	assert_int_equal(nq, 1);
	assert_memory_equal(q[0]->d, router_mac, 6);
	m = icmp6_of(q[0]);
	assert_non_null(m);
	assert_int_equal(m[0], 129);
	assert_memory_equal(m + 4, req + 4, sizeof(req) - 4);
	drain_wire();
	/* A answers a solicitation for its own address, solicited and override */
	uint8_t ns[32] = {135};
	memcpy(ns + 8, ia.ll6.b, 16);
	ns[24] = 1;
	ns[25] = 1;
	memcpy(ns + 26, router_mac, 6);
	n = icmp6_frame(f, ia.mac, peer, ia.ll6, 255, ns, sizeof(ns));
	net_input(&ia, f, n, false);
	assert_int_equal(nq, 1);
	m = icmp6_of(q[0]);
	assert_non_null(m);
	assert_int_equal(m[0], 136);
	assert_int_equal(m[4], 0x60);
	assert_memory_equal(m + 8, ia.ll6.b, 16);
	assert_memory_equal(m + 26, ia.mac, 6);
	drain_wire();
	/* and ignores one for an address that is not its own, or one that was routed */
	ns[23] ^= 1;
	n = icmp6_frame(f, ia.mac, peer, ia.ll6, 255, ns, sizeof(ns));
	net_input(&ia, f, n, false);
	ns[23] ^= 1;
	n = icmp6_frame(f, ia.mac, peer, ia.ll6, 64, ns, sizeof(ns));
	net_input(&ia, f, n, false);
	/* a bad checksum is dropped too */
	n = icmp6_frame(f, ia.mac, peer, ia.ll6, 64, req, sizeof(req));
	f[n - 1] ^= 0xff;
	net_input(&ia, f, n, false);
	assert_int_equal(nq, 0);
}

static void test_ip6_tcp_udp_dual_stack(void **state)
{
	(void)state;
	use(0);
	ip6_start(&ia);
	use(1);
	ip6_start(&ib);
	run_ms(10);
	/* B listens on :: for both families; A connects to B's link-local address */
	struct pair p = {0};
	const struct naddr any6 = {{0}};
	p.listener = tcp_new();
	assert_int_equal(tcp_bind(p.listener, any6, 80), 0);
	assert_int_equal(tcp_listen(p.listener, 16), 0);
	use(0);
	p.client = tcp_new();
	assert_int_equal(tcp_connect(p.client, ib.ll6, 80), -NET_EINPROGRESS);
	assert_true(run_until(accepted, &p, 60000));
	assert_true(na_eq(p.server->raddr, ia.ll6) && na_eq(p.client->laddr, ia.ll6));
	assert_int_equal(p.client->mss, 1440); /* the IPv6 header is 20 bytes longer */
	transfer(p.client, 0, p.server, 1, 1 << 20, 600000);
	transfer(p.server, 1, p.client, 0, 256 << 10, 600000);
	/* an IPv4 client of the same listener is seen as ::ffff:10.0.0.1 */
	struct pair p4 = {.listener = p.listener};
	use(0);
	p4.client = tcp_new();
	p4.client->laddr = na_v4(0);
	assert_int_equal(tcp_connect(p4.client, na_v4(IP_B), 80), -NET_EINPROGRESS);
	assert_true(run_until(accepted, &p4, 60000));
	assert_true(na_eq(p4.server->raddr, na_v4(IP_A)));
	transfer(p4.client, 0, p4.server, 1, 64 << 10, 600000);
	/* the port is taken for IPv4 as well; a v6only listener leaves it to IPv4 */
	use(1);
	struct tcp_sock *t4 = tcp_new(), *l6 = tcp_new(), *t4b = tcp_new();
	assert_int_equal(tcp_bind(t4, na_v4(0), 80), -NET_EADDRINUSE);
	l6->v6only = true;
	assert_int_equal(tcp_bind(l6, any6, 81), 0);
	assert_int_equal(tcp_listen(l6, 4), 0);
	assert_int_equal(tcp_bind(t4b, na_v4(0), 81), 0);
	/* which refuses an IPv4 connection when nothing else listens there */
	use(0);
	struct tcp_sock *c = tcp_new();
	assert_int_equal(tcp_connect(c, na_v4(IP_B), 81), -NET_EINPROGRESS);
	run_ms(100);
	assert_int_equal(c->state, TCP_CLOSED);
	assert_int_equal(tcp_take_error(c), NET_ECONNREFUSED);
	/* UDP over IPv6, and ICMPv6 port unreachable for a closed port */
	use(1);
	struct udp_sock *srv = udp_new();
	assert_int_equal(udp_bind(srv, any6, 53), 0);
	use(0);
	struct udp_sock *cl = udp_new();
	assert_int_equal(udp_sendto(cl, "q6", 2, ib.ll6, 53), 2);
	run_ms(10);
	use(1);
	char buf[8];
	struct naddr from;
	uint16_t port;
	assert_int_equal(udp_recvfrom(srv, buf, sizeof(buf), &from, &port, false), 2);
	assert_true(na_eq(from, ia.ll6));
	assert_int_equal(port, cl->lport);
	int before = frames_sent[1];
	use(0);
	assert_int_equal(udp_sendto(cl, "x", 1, ib.ll6, 9999), 1);
	run_ms(10);
	assert_int_equal(frames_sent[1], before + 1);
	/* ::1 stays on lo */
	use(0);
	before = frames_sent[0];
	struct udp_sock *lo = udp_new();
	assert_int_equal(udp_bind(lo, na_loopback6(), 5353), 0);
	assert_int_equal(udp_sendto(cl, "lo", 2, na_loopback6(), 5353), 2);
	net_poll();
	assert_int_equal(udp_recvfrom(lo, buf, sizeof(buf), &from, &port, false), 2);
	assert_true(na_eq(from, na_loopback6()));
	/* and so does what goes to the machine's own link-local address */
	assert_int_equal(udp_sendto(cl, "ll", 2, ia.ll6, 5353), 2);
	struct udp_sock *own = udp_new();
	assert_int_equal(udp_bind(own, ia.ll6, 5354), 0);
	assert_int_equal(udp_sendto(cl, "ll", 2, ia.ll6, 5354), 2);
	net_poll();
	assert_int_equal(udp_recvfrom(own, buf, sizeof(buf), &from, &port, false), 2);
	assert_true(na_eq(from, ia.ll6));
	assert_int_equal(frames_sent[0], before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_handshake_and_echo, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bulk_clean, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_loss, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_handshake_loss, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fast_retransmit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_newreno_partial_acks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reorder, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_zero_window, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_by_peer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_with_unread_data, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_blind_reset_ignored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_simultaneous_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_simultaneous_close, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timewait_syn_reopens, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fin_sent_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ack_loop_damped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timewait_bounded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_backlog, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nagle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delayed_ack, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch_ack, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rto_backoff, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keepalive, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_window_scale_and_mss, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rst_for_stray_segment, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_loopback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_udp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_icmp_echo_and_arp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dhcp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dhcp_retries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bind_rules, setup, teardown),
	    cmocka_unit_test(test_csum_matches_reference),
	    cmocka_unit_test_setup_teardown(test_ip6_slaac, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ip6_neighbors_and_echo, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ip6_tcp_udp_dual_stack, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
