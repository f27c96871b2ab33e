/* SPDX-License-Identifier: BSD-3-Clause */
/* UDP (RFC 768) over IPv4 and IPv6: sockets with a queue of whole datagrams. */
#include "net.h"

#define PROTO_UDP	17
#define UDP_RCVBUF	(208 * 1024) /* Linux's default rmem */
#define UDP_MAX_PAYLOAD (65535 - IP_HLEN - UDP_HLEN)

struct udp_sock *udp_new(void)
{
	struct udp_sock *u = net_alloc(sizeof(*u));
	if (!u)
		return NULL;
	u->rcvbuf = UDP_RCVBUF;
	u->next = N->udps;
	N->udps = u;
	return u;
}

void udp_free(struct udp_sock *u)
{
	for (struct udp_sock **pp = &N->udps; *pp; pp = &(*pp)->next)
		if (*pp == u) {
			*pp = u->next;
			break;
		}
	for (struct pkt *p = u->rxq, *n; p; p = n) {
		n = p->next;
		net_free(p);
	}
	net_free(u);
}

static bool port_taken(const struct udp_sock *self, struct naddr addr, uint16_t port)
{
	for (struct udp_sock *u = N->udps; u; u = u->next) {
		if (u == self || u->lport != port)
			continue;
		if (!net_addr_overlap(u->laddr, u->v6only, addr, self->v6only))
			continue;
		if ((self->reuseaddr && u->reuseaddr) || (self->reuseport && u->reuseport))
			continue;
		return true;
	}
	return false;
}

int udp_bind(struct udp_sock *u, struct naddr addr, uint16_t port)
{
	if (u->lport)
		return -NET_EINVAL;
	if (!na_is_any(addr) && !net_is_local_na(addr) && !na_eq(addr, na_v4(IP_BROADCAST)))
		return -NET_EADDRNOTAVAIL;
	if (!port)
		port = net_ephemeral_port(false);
	if (!port || port_taken(u, addr, port))
		return -NET_EADDRINUSE;
	u->laddr = addr;
	u->lport = port;
	return 0;
}

int udp_connect(struct udp_sock *u, struct naddr addr, uint16_t port)
{
	if (na_is_any(addr) && !port) { /* AF_UNSPEC: dissolve the association */
		u->raddr = (struct naddr){{0}};
		u->rport = 0;
		return 0;
	}
	if (u->v6only && na_is_v4(addr))
		return -NET_ENETUNREACH;
	struct naddr src = u->laddr;
	if (!net_route(addr, &src))
		return -NET_ENETUNREACH;
	if (!u->lport) {
		int e = udp_bind(u, u->laddr, 0);
		if (e)
			return e;
	}
	if (na_is_any(u->laddr))
		u->laddr = src;
	u->raddr = addr;
	u->rport = port;
	return 0;
}

long udp_sendto(struct udp_sock *u, const void *buf, size_t len, struct naddr dst, uint16_t dport)
{
	if (na_is_any(dst) && !dport) {
		if (!u->rport)
			return -NET_ENOTCONN; /* Linux: EDESTADDRREQ for unconnected; close enough
					       */
		dst = u->raddr;
		dport = u->rport;
	}
	if (!dport)
		return -NET_EINVAL;
	if (len > UDP_MAX_PAYLOAD)
		return -NET_EMSGSIZE;
	if (u->v6only && na_is_v4(dst))
		return -NET_ENETUNREACH;
	if (!u->lport) {
		int e = udp_bind(u, u->laddr, 0);
		if (e)
			return e;
	}
	struct naddr src = u->laddr;
	struct netif *nif = net_route(dst, &src);
	if (!nif)
		return -NET_ENETUNREACH;
	if (net_hlen(dst) + UDP_HLEN + len > nif->mtu)
		return -NET_EMSGSIZE; /* no fragmentation */
	struct pkt *p = ip_pkt_alloc(UDP_HLEN + len);
	if (!p)
		return -NET_ENOMEM;
	uint8_t *h = pkt_payload(p);
	wr16(h, u->lport);
	wr16(h + 2, dport);
	wr16(h + 4, (uint16_t)(UDP_HLEN + len));
	wr16(h + 6, 0);
	memcpy(h + UDP_HLEN, buf, len);
	uint16_t c = inet_csum(h, UDP_HLEN + len,
			       net_pseudo(src, dst, PROTO_UDP, (uint32_t)(UDP_HLEN + len)));
	wr16(h + 6, c ? c : 0xffff);
	int e = net_output(p, src, dst, PROTO_UDP, UDP_HLEN + len);
	return e ? e : (long)len;
}

long udp_recvfrom(struct udp_sock *u, void *buf, size_t len, struct naddr *src, uint16_t *sport,
		  bool peek)
{
	struct pkt *p = u->rxq;
	if (!p)
		return -NET_EAGAIN;
	memcpy(buf, p->data, MIN(len, (size_t)p->len));
	if (src)
		*src = p->src;
	if (sport)
		*sport = p->sport;
	long n = p->len;
	if (!peek) {
		u->rxq = p->next;
		if (!u->rxq)
			u->rxtail = NULL;
		u->rxbytes -= p->len;
		net_free(p);
	}
	return n;
}

unsigned udp_poll(struct udp_sock *u)
{
	unsigned m = NET_POLLOUT;
	if (u->rxq)
		m |= NET_POLLIN;
	if (u->error)
		m |= NET_POLLERR;
	return m;
}

/* The best match: a connected socket over a bound-address one over a wildcard. */
static struct udp_sock *lookup(struct naddr src, uint16_t sport, struct naddr dst, uint16_t dport)
{
	struct udp_sock *best = NULL;
	int best_score = -1;
	bool bcast = na_eq(dst, na_v4(IP_BROADCAST));
	for (struct udp_sock *u = N->udps; u; u = u->next) {
		if (u->lport != dport)
			continue;
		int score = 0;
		if (!na_is_any(u->laddr)) {
			if (!na_eq(u->laddr, dst) && !(bcast && na_is_v4(u->laddr)))
				continue;
			score += 1;
		} else if (!net_addr_accepts(u->laddr, u->v6only, bcast ? na_v4(0) : dst)) {
			continue;
		}
		if (u->rport) {
			if (!na_eq(u->raddr, src) || u->rport != sport)
				continue;
			score += 2;
		}
		if (score > best_score) {
			best = u;
			best_score = score;
		}
	}
	return best;
}

bool udp_input(struct netif *nif, struct naddr src, struct naddr dst, const uint8_t *h, size_t len,
	       bool csum_ok)
{
	if (len < UDP_HLEN)
		return true;
	size_t ulen = rd16(h + 4);
	if (ulen < UDP_HLEN || ulen > len)
		return true;
	if (!na_is_v4(dst) && !rd16(h + 6))
		return true; /* RFC 8200 8.1: mandatory over IPv6 */
	if (!csum_ok && rd16(h + 6) &&
	    inet_csum(h, ulen, net_pseudo(src, dst, PROTO_UDP, (uint32_t)ulen))) {
		N->stat_bad_csum++;
		return true;
	}
	uint16_t sport = rd16(h), dport = rd16(h + 2);
	if (dport == 68 && nif->dhcp && na_is_v4(dst)) {
		dhcp_input(nif, h + UDP_HLEN, ulen - UDP_HLEN);
		return true;
	}
	struct udp_sock *u = lookup(src, sport, dst, dport);
	if (!u)
		return na_eq(dst, na_v4(IP_BROADCAST));
	size_t n = ulen - UDP_HLEN;
	if (u->rxbytes + n > u->rcvbuf)
		return true; /* full: dropped, as Linux does */
	struct pkt *p = net_alloc(sizeof(*p) + n);
	if (!p)
		return true;
	memcpy(p->data, h + UDP_HLEN, n);
	p->len = (uint32_t)n;
	p->src = src;
	p->sport = sport;
	if (u->rxtail)
		u->rxtail->next = p;
	else
		u->rxq = p;
	u->rxtail = p;
	u->rxbytes += (uint32_t)n;
	return true;
}
