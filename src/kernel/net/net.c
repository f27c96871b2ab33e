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
	lo->addr6 = na_loopback6();
	lo->prefix6 = 128;
	lo->v6 = true;
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
	ip6_tick();
	tcp_tick();
	dhcp_tick();
}

uint64_t net_next_timer(void)
{
	if (N->loq)
		return 0;
	uint64_t t = MIN(MIN(arp_next_timer(), tcp_next_timer()), dhcp_next_timer());
	t = MIN(t, ip6_next_timer());
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

bool net_is_local_na(struct naddr a)
{
	if (na_is_v4(a))
		return net_is_local(na_to_v4(a));
	for (struct netif *i = N->ifs; i; i = i->next)
		if (i->v6 && ((i->prefix6 && na_eq(a, i->addr6)) ||
			      (!na_is_any(i->ll6) && na_eq(a, i->ll6))))
			return true;
	return false;
}

bool net_addr_accepts(struct naddr laddr, bool v6only, struct naddr dst)
{
	if (!na_is_any(laddr))
		return na_eq(laddr, dst);
	if (na_is_v4(laddr)) /* 0.0.0.0 */
		return na_is_v4(dst);
	return !(v6only && na_is_v4(dst));
}

bool net_addr_overlap(struct naddr a, bool a6only, struct naddr b, bool b6only)
{
	if (!na_is_any(a) && !na_is_any(b))
		return na_eq(a, b);
	if (na_is_any(a) && na_is_any(b)) {
		bool a4 = na_is_v4(a) || !a6only, b4 = na_is_v4(b) || !b6only;
		bool a6 = !na_is_v4(a), b6 = !na_is_v4(b);
		return (a4 && b4) || (a6 && b6);
	}
	return na_is_any(a) ? net_addr_accepts(a, a6only, b) : net_addr_accepts(b, b6only, a);
}

struct netif *net_route(struct naddr dst, struct naddr *src)
{
	if (na_is_v4(dst)) {
		uint32_t nexthop, s = na_is_any(*src) ? 0 : na_to_v4(*src);
		if (!na_is_any(*src) && !na_is_v4(*src))
			return NULL;
		struct netif *nif = ip_route(na_to_v4(dst), &nexthop, &s);
		if (nif)
			*src = na_v4(s);
		return nif;
	}
	if (na_is_v4(*src) && !na_is_any(*src))
		return NULL;
	struct naddr nexthop, s = na_is_v4(*src) ? (struct naddr){{0}} : *src;
	struct netif *nif = ip6_route(dst, &nexthop, &s);
	if (nif)
		*src = s;
	return nif;
}

uint32_t net_pseudo(struct naddr src, struct naddr dst, uint8_t proto, uint32_t len)
{
	if (na_is_v4(dst))
		return inet_pseudo(na_to_v4(src), na_to_v4(dst), proto, len);
	uint32_t s = inet_csum_add(src.b, 16, 0);
	s = inet_csum_add(dst.b, 16, s);
	return s + (len >> 16) + (len & 0xffff) + proto;
}

int net_output(struct pkt *p, struct naddr src, struct naddr dst, uint8_t proto, size_t len)
{
	if (na_is_v4(dst))
		return ip_output(p, na_to_v4(src), na_to_v4(dst), proto, len);
	return ip6_output(p, src, dst, proto, len);
}

uint32_t net_random32(void)
{
	uint32_t r;
	net_random_fill(&r, sizeof(r));
	return r;
}

/* The next free port of the Linux default range 32768-60999. */
uint16_t net_ephemeral_port(bool tcp)
{
	for (int tries = 0; tries < 28232; tries++) {
		uint16_t p = N->next_eport++;
		if (N->next_eport < 32768 || N->next_eport > 60999)
			N->next_eport = 32768;
		if (p < 32768 || p > 60999)
			continue;
		bool used = false;
		if (tcp) {
			for (struct tcp_sock *t = tcb_first(N); t && !used; t = tcb_next(N, t))
				used = t->lport == p;
		} else {
			for (struct udp_sock *u = N->udps; u && !used; u = u->next)
				used = u->lport == p;
		}
		if (!used)
			return p;
	}
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
