/* SPDX-License-Identifier: BSD-3-Clause */
/* The stack as a whole: interfaces, the loopback device, the input path, timers. */
#include "net.h"

struct netstack *N;
uint64_t net_now_ms;

/* Loopback frames are queued, not delivered at once, so input never re-enters itself. */
static int lo_xmit(struct netif *nif, const void *frame, size_t len)
{
	(void)nif;
	struct pkt *p = net_alloc(sizeof(*p) + len);
	if (!p)
		return -NET_ENOMEM;
	memcpy(p->data, frame, len);
	p->len = (uint32_t)len;
	if (N->lotail)
		N->lotail->next = p;
	else
		N->loq = p;
	N->lotail = p;
	return 0;
}

void net_stack_init(struct netstack *s)
{
	memset(s, 0, sizeof(*s));
	N = s;
	struct netif *lo = &s->lo;
	memcpy(lo->name, "lo", 3);
	lo->addr = IP_LOOPBACK;
	lo->mask = 0xff000000u;
	lo->mtu = LO_MTU;
	lo->loopback = true;
	lo->xmit = lo_xmit;
	s->ifs = lo;
	s->somaxconn = 4096;
	uint16_t r;
	net_random_fill(&r, sizeof(r));
	s->next_eport = (uint16_t)(32768 + r % 28232);
}

/* Frees what the stack holds (tests; the kernel's stack lives as long as the machine). */
void net_stack_release(struct netstack *s)
{
	N = s;
	tcp_release_all();
	while (s->udps)
		udp_free(s->udps);
	arp_flush();
	for (struct pkt *p = s->loq, *n; p; p = n) {
		n = p->next;
		net_free(p);
	}
	s->loq = s->lotail = NULL;
	for (struct netif *i = s->ifs; i; i = i->next)
		dhcp_release(i);
}

void net_add_if(struct netif *nif)
{
	if (!nif->mtu)
		nif->mtu = ETH_MTU;
	struct netif **pp = &N->ifs;
	while (*pp)
		pp = &(*pp)->next;
	nif->next = NULL;
	*pp = nif;
}

struct netif *net_find_if(const char *name)
{
	for (struct netif *i = N->ifs; i; i = i->next)
		if (!strcmp(i->name, name))
			return i;
	return NULL;
}

void net_input(struct netif *nif, const void *frame, size_t len, bool csum_ok)
{
	nif->rx_frames++;
	eth_input(nif, frame, len, csum_ok);
}

void net_poll(void)
{
	/* bounded: what loops back while delivering waits for the next round */
	struct pkt *p = N->loq;
	N->loq = N->lotail = NULL;
	while (p) {
		struct pkt *n = p->next;
		net_input(&N->lo, p->data, p->len, true);
		net_free(p);
		p = n;
	}
	arp_tick();
	tcp_tick();
	dhcp_tick();
}

uint64_t net_next_timer(void)
{
	if (N->loq)
		return 0;
	uint64_t t = MIN(MIN(arp_next_timer(), tcp_next_timer()), dhcp_next_timer());
	if (t == UINT64_MAX)
		return t;
	return t > net_now_ms ? t - net_now_ms : 0;
}

bool net_is_local(uint32_t addr)
{
	if ((addr >> 24) == 127)
		return true;
	for (struct netif *i = N->ifs; i; i = i->next)
		if (i->addr && i->addr == addr)
			return true;
	return false;
}

uint32_t net_random32(void)
{
	uint32_t r;
	net_random_fill(&r, sizeof(r));
	return r;
}

/* The next free port of the Linux default range 32768-60999. */
uint16_t net_ephemeral_port(bool tcp, uint32_t laddr)
{
	for (int tries = 0; tries < 28232; tries++) {
		uint16_t p = N->next_eport++;
		if (N->next_eport < 32768 || N->next_eport > 60999)
			N->next_eport = 32768;
		if (p < 32768 || p > 60999)
			continue;
		bool used = false;
		if (tcp) {
			for (struct tcp_sock *t = N->tcbs; t && !used; t = t->next)
				used = t->lport == p;
		} else {
			for (struct udp_sock *u = N->udps; u && !used; u = u->next)
				used = u->lport == p;
		}
		if (!used)
			return p;
	}
	(void)laddr;
	return 0;
}

int net_parse_ip(const char *s, uint32_t *out)
{
	uint32_t a = 0;
	for (int i = 0; i < 4; i++) {
		if (*s < '0' || *s > '9')
			return -1;
		uint32_t v = 0;
		int digits = 0;
		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (uint32_t)(*s++ - '0');
			digits++;
		}
		if (v > 255 || digits > 3)
			return -1;
		a = a << 8 | v;
		if (i < 3 && *s++ != '.')
			return -1;
	}
	if (*s)
		return -1;
	*out = a;
	return 0;
}

int net_fmt_ip(char *buf, size_t size, uint32_t a)
{
	char tmp[16];
	int n = 0;
	for (int i = 3; i >= 0; i--) {
		unsigned v = (a >> (8 * i)) & 0xff;
		if (v >= 100)
			tmp[n++] = (char)('0' + v / 100);
		if (v >= 10)
			tmp[n++] = (char)('0' + v / 10 % 10);
		tmp[n++] = (char)('0' + v % 10);
		if (i)
			tmp[n++] = '.';
	}
	if (size == 0)
		return n;
	size_t k = MIN((size_t)n, size - 1);
	memcpy(buf, tmp, k);
	buf[k] = 0;
	return n;
}
