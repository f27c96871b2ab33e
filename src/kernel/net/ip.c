/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 (RFC 791/1122; no fragments), ICMP echo and port unreachable, checksums, routes. */
#include "net.h"

#define PROTO_ICMP 1
#define PROTO_TCP  6
#define PROTO_UDP  17

/*
 * The one's complement sum of buf as big-endian 16-bit words, added to sum.
 * Eight bytes at a time in the CPU's order (the sum does not depend on the
 * order of the bytes within its words, RFC 1071 2(B)), then swapped: every
 * received segment is summed when the device does not vouch for it.  The
 * word is loaded with __builtin_memcpy: the kernel is built freestanding,
 * where a plain memcpy is a call to its rep movs routine for every 8 bytes.
 */
uint32_t inet_csum_add(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t s = 0;
#if defined(__x86_64__)
	/* 32 bytes a step in one carry chain: under TCG and nested KVM each instruction costs */
	for (; len >= 32; p += 32, len -= 32)
		__asm__("addq 0(%1), %0\n\tadcq 8(%1), %0\n\tadcq 16(%1), %0\n\t"
			"adcq 24(%1), %0\n\tadcq $0, %0"
			: "+r"(s)
			: "r"(p), "m"(*(const uint8_t(*)[32])p)
			: "cc");
#endif
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t w;
		__builtin_memcpy(&w, p, 8);
		s += w;
		s += s < w; /* the end-around carry */
	}
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = ((s & 0xff) << 8) | (s >> 8); /* little-endian words: to network order */
	for (; len >= 2; p += 2, len -= 2)
		s += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		s += (uint32_t)p[0] << 8;
	s += sum;
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

uint16_t inet_csum(const void *buf, size_t len, uint32_t sum)
{
	uint32_t s = inet_csum_add(buf, len, sum);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

uint32_t inet_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint32_t len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;
}

struct pkt *ip_pkt_alloc(size_t len)
{
	struct pkt *p = net_alloc(sizeof(*p) + ETH_HLEN + IP6_HLEN + len);
	if (p)
		p->len = (uint32_t)(ETH_HLEN + IP6_HLEN + len);
	return p;
}

/* Longest prefix among the interfaces' subnets, else the first default gateway. */
struct netif *ip_route(uint32_t dst, uint32_t *nexthop, uint32_t *src)
{
	if (net_is_local(dst)) {
		*nexthop = dst;
		if (src && !*src)
			*src = dst;
		return &N->lo;
	}
	struct netif *best = NULL, *gw = NULL;
	for (struct netif *i = N->ifs; i; i = i->next) {
		if (i->loopback || !i->addr)
			continue;
		if ((dst & i->mask) == (i->addr & i->mask) && (!best || i->mask > best->mask))
			best = i;
		if (i->gw && !gw)
			gw = i;
	}
	if (best)
		*nexthop = dst;
	else if (gw) {
		best = gw;
		*nexthop = gw->gw;
	} else
		return NULL;
	if (src && !*src)
		*src = best->addr;
	return best;
}

/* Write the IP header in front of len bytes of payload and hand the frame to the link. */
static int send_on(struct netif *nif, uint32_t nexthop, struct pkt *p, uint32_t src, uint32_t dst,
		   uint8_t proto, size_t len)
{
	p->off = IP6_HLEN - IP_HLEN;
	uint8_t *h = pkt_frame(p) + ETH_HLEN;
	if (IP_HLEN + len > nif->mtu) {
		net_free(p);
		return -NET_EMSGSIZE;
	}
	h[0] = 0x45;
	h[1] = 0;
	wr16(h + 2, (uint16_t)(IP_HLEN + len));
	wr16(h + 4, N->ip_id++);
	wr16(h + 6, 0x4000); /* don't fragment */
	h[8] = 64;
	h[9] = proto;
	wr16(h + 10, 0);
	wr32(h + 12, src);
	wr32(h + 16, dst);
	wr16(h + 10, inet_csum(h, IP_HLEN, 0));
	p->len = (uint32_t)(ETH_HLEN + IP_HLEN + len);
	eth_output(nif, na_v4(nexthop), p);
	return 0;
}

int ip_output_if(struct netif *nif, struct pkt *p, uint32_t src, uint32_t dst, uint8_t proto,
		 size_t len)
{
	return send_on(nif, dst, p, src, dst, proto, len);
}

int ip_output(struct pkt *p, uint32_t src, uint32_t dst, uint8_t proto, size_t len)
{
	uint32_t nexthop, s = src;
	struct netif *nif = ip_route(dst, &nexthop, &s);
	if (!nif) {
		net_free(p);
		return -NET_ENETUNREACH;
	}
	return send_on(nif, nexthop, p, s, dst, proto, len);
}

/* An ICMP message to dst; body is copied after the 8-byte header. */
static void icmp_send(uint32_t src, uint32_t dst, uint8_t type, uint8_t code, uint32_t rest,
		      const uint8_t *body, size_t blen)
{
	struct pkt *p = ip_pkt_alloc(8 + blen);
	if (!p)
		return;
	uint8_t *m = pkt_payload(p);
	m[0] = type;
	m[1] = code;
	wr16(m + 2, 0);
	wr32(m + 4, rest);
	memcpy(m + 8, body, blen);
	wr16(m + 2, inet_csum(m, 8 + blen, 0));
	ip_output(p, src, dst, PROTO_ICMP, 8 + blen);
}

static void icmp_input(uint32_t src, uint32_t dst, const uint8_t *m, size_t len)
{
	if (len < 8 || inet_csum(m, len, 0))
		return;
	if (m[0] == 8 && m[1] == 0 && dst != IP_BROADCAST) /* echo request */
		icmp_send(dst, src, 0, 0, rd32(m + 4), m + 8, len - 8);
}

/* RFC 1122 3.2.2.1: tell the sender nobody listens on that UDP port. */
static void icmp_port_unreachable(uint32_t src, uint32_t dst, const uint8_t *iph, size_t len)
{
	if (dst == IP_BROADCAST || (dst >> 28) == 0xe)
		return;
	icmp_send(dst, src, 3, 3, 0, iph, MIN(len, (size_t)IP_HLEN + 8));
}

static bool for_us(struct netif *nif, uint32_t dst)
{
	if (dst == IP_BROADCAST || net_is_local(dst))
		return true;
	if (nif->addr && nif->mask && dst == (nif->addr | ~nif->mask))
		return true;
	return !nif->addr; /* unconfigured (DHCP in progress): take what comes */
}

void ip_input(struct netif *nif, const uint8_t *h, size_t len, bool csum_ok)
{
	if (len < IP_HLEN || (h[0] >> 4) != 4)
		goto drop;
	size_t hl = (size_t)(h[0] & 15) * 4, tot = rd16(h + 2);
	if (hl < IP_HLEN || tot < hl || tot > len || inet_csum(h, hl, 0))
		goto drop;
	/* fragments are not reassembled: TCP's MSS and DF keep them away */
	if (rd16(h + 6) & 0x3fff)
		goto drop;
	uint32_t src = rd32(h + 12), dst = rd32(h + 16);
	if (!for_us(nif, dst) || ((src >> 24) == 127 && !nif->loopback))
		goto drop;
	const uint8_t *p = h + hl;
	size_t plen = tot - hl;
	switch (h[9]) {
	case PROTO_ICMP:
		icmp_input(src, dst, p, plen);
		return;
	case PROTO_UDP:
		if (!udp_input(nif, na_v4(src), na_v4(dst), p, plen, csum_ok))
			icmp_port_unreachable(src, dst, h, tot);
		return;
	case PROTO_TCP:
		tcp_input(nif, na_v4(src), na_v4(dst), p, plen, csum_ok);
		return;
	}
drop:
	nif->rx_dropped++;
}
