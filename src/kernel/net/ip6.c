/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv6 (RFC 8200; no fragments), ICMPv6 echo and port unreachable (RFC 4443),
 * neighbor discovery (RFC 4861: solicitations and advertisements answered and
 * sent, router advertisements read) and stateless address autoconfiguration
 * (RFC 4862: a link-local address and one per advertised /64, from the MAC).
 * Duplicate address detection is not done: the addresses come from the MAC.
 */
#include "net.h"

#define PROTO_TCP   6
#define PROTO_UDP   17
#define PROTO_ICMP6 58
#define NH_HOPOPTS  0
#define NH_DSTOPTS  60

#define ICMP6_UNREACH  1
#define ICMP6_ECHO_REQ 128
#define ICMP6_ECHO_REP 129
#define ND_RS	       133
#define ND_RA	       134
#define ND_NS	       135
#define ND_NA	       136

#define OPT_SRC_LL 1
#define OPT_TGT_LL 2
#define OPT_PREFIX 3

#define ND_HOPS	 255 /* ND messages carry 255: proof they were not routed */
#define HOPS	 64
#define RS_TRIES 3
#define RS_WAIT	 4000 /* RFC 4861 RTR_SOLICITATION_INTERVAL, ms */

static struct naddr multicast(uint8_t scope, uint8_t last)
{
	struct naddr a = {{0}};
	a.b[0] = 0xff;
	a.b[1] = scope;
	a.b[15] = last;
	return a;
}

/* ff02::1:ffXX:XXXX, where a neighbor solicitation for a is sent */
static struct naddr solicited_node(struct naddr a)
{
	struct naddr m = multicast(2, 0);
	m.b[11] = 1;
	m.b[12] = 0xff;
	memcpy(m.b + 13, a.b + 13, 3);
	return m;
}

/* the modified EUI-64 interface identifier (RFC 4291 appendix A) in the low 64 bits */
static void set_iid(struct naddr *a, const uint8_t mac[6])
{
	a->b[8] = mac[0] ^ 2;
	a->b[9] = mac[1];
	a->b[10] = mac[2];
	a->b[11] = 0xff;
	a->b[12] = 0xfe;
	memcpy(a->b + 13, mac + 3, 3);
}

static bool same_prefix(struct naddr a, struct naddr b, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;
	if (memcmp(a.b, b.b, bytes))
		return false;
	return !rest || !((a.b[bytes] ^ b.b[bytes]) & (0xff << (8 - rest)));
}

static bool ours_on(struct netif *nif, struct naddr a)
{
	return (nif->prefix6 && na_eq(a, nif->addr6)) ||
	       (!na_is_any(nif->ll6) && na_eq(a, nif->ll6));
}

struct netif *ip6_route(struct naddr dst, struct naddr *nexthop, struct naddr *src)
{
	struct netif *out = NULL;
	*nexthop = dst;
	if (net_is_local_na(dst)) {
		out = &N->lo;
		if (na_is_any(*src))
			*src = dst;
		return out;
	}
	for (struct netif *i = N->ifs; i && !out; i = i->next) {
		if (i->loopback || !i->v6)
			continue;
		/* link-local and multicast: the first link (scope ids are not kept) */
		if (na_is_linklocal6(dst) || na_is_multicast6(dst) ||
		    (i->prefix6 && same_prefix(dst, i->addr6, i->prefix6)))
			out = i;
	}
	for (struct netif *i = N->ifs; i && !out; i = i->next)
		if (!i->loopback && i->v6 && !na_is_any(i->gw6)) {
			out = i;
			*nexthop = i->gw6;
		}
	if (!out)
		return NULL;
	if (na_is_any(*src))
		*src = na_is_linklocal6(dst) || na_is_multicast6(dst) || !out->prefix6 ? out->ll6
										       : out->addr6;
	return out;
}

static int send_on(struct netif *nif, struct naddr nexthop, struct pkt *p, struct naddr src,
		   struct naddr dst, uint8_t proto, size_t len, uint8_t hops)
{
	if (IP6_HLEN + len > nif->mtu) {
		net_free(p);
		return -NET_EMSGSIZE;
	}
	p->off = 0;
	uint8_t *h = p->data + ETH_HLEN;
	wr32(h, 0x60000000u);
	wr16(h + 4, (uint16_t)len);
	h[6] = proto;
	h[7] = hops;
	memcpy(h + 8, src.b, 16);
	memcpy(h + 24, dst.b, 16);
	p->len = (uint32_t)(ETH_HLEN + IP6_HLEN + len);
	eth_output(nif, nexthop, p);
	return 0;
}

int ip6_output(struct pkt *p, struct naddr src, struct naddr dst, uint8_t proto, size_t len)
{
	struct naddr nexthop, s = src;
	struct netif *nif = ip6_route(dst, &nexthop, &s);
	if (!nif) {
		net_free(p);
		return -NET_ENETUNREACH;
	}
	return send_on(nif, nexthop, p, s, dst, proto, len, HOPS);
}

/*
 * An ICMPv6 message: type, code, then body (what follows the checksum).  nif:
 * send there, to dst directly (neighbor discovery); NULL: route it.
 */
static void icmp6_send(struct netif *nif, struct naddr src, struct naddr dst, uint8_t type,
		       uint8_t code, const uint8_t *body, size_t blen, uint8_t hops)
{
	struct naddr nexthop = dst;
	if (!nif && !(nif = ip6_route(dst, &nexthop, &src)))
		return;
	struct pkt *p = ip_pkt_alloc(4 + blen);
	if (!p)
		return;
	uint8_t *m = pkt_payload(p);
	m[0] = type;
	m[1] = code;
	wr16(m + 2, 0);
	memcpy(m + 4, body, blen);
	wr16(m + 2,
	     inet_csum(m, 4 + blen, net_pseudo(src, dst, PROTO_ICMP6, (uint32_t)(4 + blen))));
	send_on(nif, nexthop, p, src, dst, PROTO_ICMP6, 4 + blen, hops);
}

/* reserved word, target, and our link address as option opt */
static void nd_send(struct netif *nif, struct naddr src, struct naddr dst, uint8_t type,
		    uint32_t flags, const struct naddr *target, uint8_t opt)
{
	uint8_t b[4 + 16 + 8];
	size_t n = 4;
	wr32(b, flags);
	if (target) {
		memcpy(b + n, target->b, 16);
		n += 16;
	}
	b[n] = opt;
	b[n + 1] = 1;
	memcpy(b + n + 2, nif->mac, 6);
	n += 8;
	icmp6_send(nif, src, dst, type, 0, b, n, ND_HOPS);
}

void nd_solicit(struct netif *nif, struct naddr target)
{
	if (nif->v6)
		nd_send(nif, nif->ll6, solicited_node(target), ND_NS, 0, &target, OPT_SRC_LL);
}

static void send_rs(struct netif *nif)
{
	nd_send(nif, nif->ll6, multicast(2, 2), ND_RS, 0, NULL, OPT_SRC_LL);
	nif->rs_sent++;
	nif->rs_at = nif->rs_sent < RS_TRIES ? net_now_ms + RS_WAIT : 0;
}

void ip6_start(struct netif *nif)
{
	struct naddr ll = {{0xfe, 0x80}};
	set_iid(&ll, nif->mac);
	nif->ll6 = ll;
	nif->v6 = true;
	nif->rs_sent = 0;
	send_rs(nif);
}

void ip6_tick(void)
{
	for (struct netif *i = N->ifs; i; i = i->next)
		if (i->rs_at && i->rs_at <= net_now_ms)
			send_rs(i);
}

uint64_t ip6_next_timer(void)
{
	uint64_t t = UINT64_MAX;
	for (struct netif *i = N->ifs; i; i = i->next)
		if (i->rs_at)
			t = MIN(t, i->rs_at);
	return t;
}

/* The link address in the first option of type want among len bytes of options, or NULL. */
static const uint8_t *find_ll_opt(const uint8_t *o, size_t len, uint8_t want)
{
	while (len >= 8) {
		size_t ol = (size_t)o[1] * 8;
		if (!ol || ol > len)
			return NULL;
		if (o[0] == want)
			return o + 2;
		o += ol;
		len -= ol;
	}
	return NULL;
}

static void ns_input(struct netif *nif, struct naddr src, const uint8_t *m, size_t len)
{
	struct naddr target;
	memcpy(target.b, m + 8, 16);
	if (!ours_on(nif, target) || na_is_multicast6(src))
		return;
	const uint8_t *mac = find_ll_opt(m + 24, len - 24, OPT_SRC_LL);
	bool dad = na_is_any(src);
	if (mac && !dad)
		neigh_learn(nif, src, mac, true); /* so the answer needs no question */
	/* solicited (unless answering a DAD probe) and override */
	nd_send(nif, target, dad ? multicast(2, 1) : src, ND_NA, dad ? 0x20000000u : 0x60000000u,
		&target, OPT_TGT_LL);
}

static void na_input(struct netif *nif, const uint8_t *m, size_t len)
{
	struct naddr target;
	memcpy(target.b, m + 8, 16);
	const uint8_t *mac = find_ll_opt(m + 24, len - 24, OPT_TGT_LL);
	if (mac && !na_is_multicast6(target))
		neigh_learn(nif, target, mac, false);
}

static void prefix_input(struct netif *nif, const uint8_t *o)
{
	uint8_t plen = o[2], flags = o[3];
	uint32_t valid = rd32(o + 4);
	struct naddr a = {{0}};
	memcpy(a.b, o + 16, 8);
	/* autonomous (A flag), a /64 as SLAAC over Ethernet needs, not link-local */
	if (!(flags & 0x40) || plen != 64 || !valid || na_is_linklocal6(a))
		return;
	set_iid(&a, nif->mac);
	nif->addr6 = a;
	nif->prefix6 = 64;
}

static void ra_input(struct netif *nif, struct naddr src, const uint8_t *m, size_t len)
{
	if (!na_is_linklocal6(src) || nif->loopback)
		return;
	const uint8_t *o = m + 16;
	size_t left = len - 16;
	while (left >= 8) {
		size_t ol = (size_t)o[1] * 8;
		if (!ol || ol > left)
			return; /* RFC 4861 6.1.2: a zero-length option voids the message */
		if (o[0] == OPT_SRC_LL)
			neigh_learn(nif, src, o + 2, true);
		else if (o[0] == OPT_PREFIX && ol >= 32)
			prefix_input(nif, o);
		o += ol;
		left -= ol;
	}
	if (rd16(m + 6))
		nif->gw6 = src;
	else if (na_eq(nif->gw6, src))
		nif->gw6 = (struct naddr){{0}};
	nif->rs_at = 0;
}

static void icmp6_input(struct netif *nif, struct naddr src, struct naddr dst, uint8_t hops,
			const uint8_t *m, size_t len)
{
	if (len < 8 || inet_csum(m, len, net_pseudo(src, dst, PROTO_ICMP6, (uint32_t)len)))
		return;
	bool nd = hops == ND_HOPS && m[1] == 0;
	switch (m[0]) {
	case ICMP6_ECHO_REQ:
		if (m[1] == 0) {
			struct naddr from = na_is_multicast6(dst) ? (struct naddr){{0}} : dst;
			icmp6_send(NULL, from, src, ICMP6_ECHO_REP, 0, m + 4, len - 4, HOPS);
		}
		break;
	case ND_NS:
		if (nd && len >= 24)
			ns_input(nif, src, m, len);
		break;
	case ND_NA:
		if (nd && len >= 24)
			na_input(nif, m, len);
		break;
	case ND_RA:
		if (nd && len >= 16)
			ra_input(nif, src, m, len);
		break;
	}
}

/* RFC 4443 3.1: port unreachable, with as much of the offending packet as fits */
static void icmp6_port_unreachable(struct naddr src, struct naddr dst, const uint8_t *h, size_t len)
{
	uint8_t b[4 + 512];
	size_t n = MIN(len, sizeof(b) - 4);
	memset(b, 0, 4);
	memcpy(b + 4, h, n);
	icmp6_send(NULL, dst, src, ICMP6_UNREACH, 4, b, 4 + n, HOPS);
}

static bool for_us(struct netif *nif, struct naddr dst)
{
	if (!nif->v6)
		return false;
	if (nif->loopback) /* what the machine sends to any of its own addresses */
		return net_is_local_na(dst);
	if (ours_on(nif, dst))
		return true;
	if (na_eq(dst, multicast(2, 1)) || na_eq(dst, multicast(1, 1)))
		return true;
	return na_eq(dst, solicited_node(nif->ll6)) ||
	       (nif->prefix6 && na_eq(dst, solicited_node(nif->addr6)));
}

void ip6_input(struct netif *nif, const uint8_t *h, size_t len, bool csum_ok)
{
	if (len < IP6_HLEN || (h[0] >> 4) != 6)
		goto drop;
	size_t plen = rd16(h + 4);
	if (IP6_HLEN + plen > len)
		goto drop;
	struct naddr src, dst;
	memcpy(src.b, h + 8, 16);
	memcpy(dst.b, h + 24, 16);
	struct naddr lo = na_loopback6();
	if (!for_us(nif, dst) || na_is_multicast6(src) || na_is_v4(src) ||
	    (!nif->loopback && (na_eq(src, lo) || na_eq(dst, lo))))
		goto drop;
	uint8_t nh = h[6];
	const uint8_t *p = h + IP6_HLEN;
	size_t left = plen;
	while (nh == NH_HOPOPTS || nh == NH_DSTOPTS) { /* skipped: none we act on */
		if (left < 8 || (size_t)(p[1] + 1) * 8 > left)
			goto drop;
		size_t el = (size_t)(p[1] + 1) * 8;
		nh = p[0];
		p += el;
		left -= el;
	}
	switch (nh) {
	case PROTO_ICMP6:
		icmp6_input(nif, src, dst, h[7], p, left);
		return;
	case PROTO_UDP:
		if (!udp_input(nif, src, dst, p, left, csum_ok) && !na_is_multicast6(dst))
			icmp6_port_unreachable(src, dst, h, IP6_HLEN + plen);
		return;
	case PROTO_TCP:
		if (!na_is_multicast6(dst))
			tcp_input(nif, src, dst, p, left, csum_ok);
		return;
	}
drop:
	nif->rx_dropped++;
}

/* RFC 5952: lowercase hex, the longest run of two or more zero groups as "::" */
int net_fmt_ip6(char *buf, size_t size, struct naddr a)
{
	char tmp[48];
	int n = 0, best = -1, bestlen = 1;
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && !a.b[2 * j] && !a.b[2 * j + 1])
			j++;
		if (j - i > bestlen) {
			best = i;
			bestlen = j - i;
		}
		i = j > i ? j : i + 1;
	}
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			tmp[n++] = ':';
			if (i == 0)
				tmp[n++] = ':';
			i += bestlen - 1;
			continue;
		}
		unsigned g = rd16(a.b + 2 * i);
		bool started = false;
		for (int sh = 12; sh >= 0; sh -= 4) {
			unsigned d = (g >> sh) & 15;
			if (d || started || sh == 0) {
				tmp[n++] = "0123456789abcdef"[d];
				started = true;
			}
		}
		if (i < 7)
			tmp[n++] = ':';
	}
	if (size == 0)
		return n;
	size_t k = MIN((size_t)n, size - 1);
	memcpy(buf, tmp, k);
	buf[k] = 0;
	return n;
}
