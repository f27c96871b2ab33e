/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ethernet framing and the neighbor cache: ARP (RFC 826) for IPv4 and
 * neighbor solicitations (ip6.c) for IPv6, a few frames held per unresolved
 * address.
 */
#include "net.h"

#define ETH_IP	  0x0800
#define ETH_ARP	  0x0806
#define ETH_IP6	  0x86dd
#define ARP_TTL	  (60 * 1000)
#define ARP_WAIT  1000 /* between requests */
#define ARP_TRIES 3
#define ARP_HOLD  8 /* frames queued per unresolved address */

static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void xmit(struct netif *nif, const uint8_t *dst, uint16_t type, uint8_t *f, size_t len)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, nif->mac, 6);
	wr16(f + 12, type);
	nif->tx_frames++;
	nif->xmit(nif, f, len);
}

static void arp_send(struct netif *nif, uint16_t op, const uint8_t *tha, uint32_t tpa)
{
	uint8_t f[ETH_HLEN + 28];
	uint8_t *a = f + ETH_HLEN;
	wr16(a, 1);
	wr16(a + 2, ETH_IP);
	a[4] = 6;
	a[5] = 4;
	wr16(a + 6, op);
	memcpy(a + 8, nif->mac, 6);
	wr32(a + 14, nif->addr);
	memcpy(a + 18, op == 1 ? (const uint8_t *)"\0\0\0\0\0\0" : tha, 6);
	wr32(a + 24, tpa);
	xmit(nif, op == 1 ? bcast : tha, ETH_ARP, f, sizeof(f));
}

static uint16_t ethertype(struct naddr a)
{
	return na_is_v4(a) ? ETH_IP : ETH_IP6;
}

/* ask who has ip: an ARP request or a neighbor solicitation */
static void solicit(struct netif *nif, struct naddr ip)
{
	if (na_is_v4(ip))
		arp_send(nif, 1, NULL, na_to_v4(ip));
	else
		nd_solicit(nif, ip);
}

static struct arp_entry *arp_find(struct naddr ip)
{
	for (int i = 0; i < ARP_SLOTS; i++)
		if (na_eq(N->arp[i].ip, ip) && (N->arp[i].valid || N->arp[i].tries))
			return &N->arp[i];
	return NULL;
}

static void drop_pending(struct arp_entry *e)
{
	for (struct pkt *p = e->pending, *n; p; p = n) {
		n = p->next;
		net_free(p);
	}
	e->pending = NULL;
}

/* A slot for ip: its own, a free one, or the one expiring first. */
static struct arp_entry *arp_slot(struct naddr ip)
{
	struct arp_entry *e = arp_find(ip), *old = NULL;
	if (e)
		return e;
	for (int i = 0; i < ARP_SLOTS; i++) {
		e = &N->arp[i];
		if (!e->valid && !e->tries)
			return e;
		if (!old || e->expires < old->expires)
			old = e;
	}
	drop_pending(old);
	memset(old, 0, sizeof(*old));
	return old;
}

void neigh_learn(struct netif *nif, struct naddr ip, const uint8_t *mac, bool create)
{
	struct arp_entry *e = arp_find(ip);
	if (!e && !create)
		return;
	if (!e)
		e = arp_slot(ip);
	e->ip = ip;
	e->nif = nif;
	memcpy(e->mac, mac, 6);
	e->valid = true;
	e->tries = 0;
	e->expires = net_now_ms + ARP_TTL;
	struct pkt *p = e->pending;
	e->pending = NULL;
	while (p) {
		struct pkt *n = p->next;
		xmit(nif, mac, ethertype(ip), pkt_frame(p), p->len);
		net_free(p);
		p = n;
	}
}

static void arp_input(struct netif *nif, const uint8_t *a, size_t len)
{
	if (len < 28 || rd16(a) != 1 || rd16(a + 2) != ETH_IP || a[4] != 6 || a[5] != 4)
		return;
	uint16_t op = rd16(a + 6);
	uint32_t spa = rd32(a + 14), tpa = rd32(a + 24);
	if (!nif->addr || !spa || (a[8] & 1))
		return;
	bool for_us = tpa == nif->addr;
	/* RFC 826: update an entry we have; add one only when the request is for us */
	neigh_learn(nif, na_v4(spa), a + 8, for_us);
	if (for_us && op == 1)
		arp_send(nif, 2, a + 8, spa);
}

void eth_input(struct netif *nif, const uint8_t *f, size_t len, bool csum_ok)
{
	if (len < ETH_HLEN) {
		nif->rx_dropped++;
		return;
	}
	/* ours, broadcast, or IPv6 multicast (33:33:...) */
	if (!nif->loopback && memcmp(f, nif->mac, 6) && memcmp(f, bcast, 6) &&
	    !(f[0] == 0x33 && f[1] == 0x33)) {
		nif->rx_dropped++;
		return;
	}
	switch (rd16(f + 12)) {
	case ETH_IP:
		ip_input(nif, f + ETH_HLEN, len - ETH_HLEN, csum_ok);
		break;
	case ETH_IP6:
		ip6_input(nif, f + ETH_HLEN, len - ETH_HLEN, csum_ok);
		break;
	case ETH_ARP:
		if (!nif->loopback)
			arp_input(nif, f + ETH_HLEN, len - ETH_HLEN);
		break;
	default:
		nif->rx_dropped++;
	}
}

/* The link address a packet to ip goes to without asking: broadcast, multicast, loopback. */
static bool direct_mac(struct netif *nif, struct naddr ip, uint8_t mac[6])
{
	if (nif->loopback) {
		memset(mac, 0, 6);
		return true;
	}
	if (na_is_v4(ip)) {
		uint32_t a = na_to_v4(ip);
		if (a == IP_BROADCAST || (nif->mask && (a | nif->mask) == IP_BROADCAST)) {
			memcpy(mac, bcast, 6);
			return true;
		}
		return false;
	}
	if (na_is_multicast6(ip)) { /* RFC 2464 7 */
		mac[0] = mac[1] = 0x33;
		memcpy(mac + 2, ip.b + 12, 4);
		return true;
	}
	return false;
}

void eth_output(struct netif *nif, struct naddr nexthop, struct pkt *p)
{
	uint8_t mac[6];
	if (direct_mac(nif, nexthop, mac)) {
		xmit(nif, mac, ethertype(nexthop), pkt_frame(p), p->len);
		net_free(p);
		return;
	}
	struct arp_entry *e = arp_find(nexthop);
	if (e && e->valid && e->nif == nif) {
		xmit(nif, e->mac, ethertype(nexthop), pkt_frame(p), p->len);
		net_free(p);
		return;
	}
	if (!e) {
		e = arp_slot(nexthop);
		e->ip = nexthop;
		e->nif = nif;
		e->tries = 1;
		e->expires = net_now_ms + ARP_WAIT * ARP_TRIES;
		e->retry_at = net_now_ms + ARP_WAIT;
		solicit(nif, nexthop);
	}
	int n = 0;
	struct pkt **pp = &e->pending;
	while (*pp) {
		pp = &(*pp)->next;
		n++;
	}
	if (n >= ARP_HOLD) {
		net_free(p);
		return;
	}
	p->next = NULL;
	*pp = p;
}

void arp_tick(void)
{
	for (int i = 0; i < ARP_SLOTS; i++) {
		struct arp_entry *e = &N->arp[i];
		if (e->valid && e->expires <= net_now_ms) {
			memset(e, 0, sizeof(*e));
		} else if (!e->valid && e->tries && e->retry_at <= net_now_ms) {
			if (e->tries >= ARP_TRIES) {
				drop_pending(e);
				memset(e, 0, sizeof(*e));
				continue;
			}
			e->tries++;
			e->retry_at = net_now_ms + ARP_WAIT;
			e->expires = e->retry_at;
			solicit(e->nif, e->ip);
		}
	}
}

uint64_t arp_next_timer(void)
{
	uint64_t t = UINT64_MAX;
	for (int i = 0; i < ARP_SLOTS; i++)
		if (!N->arp[i].valid && N->arp[i].tries)
			t = MIN(t, N->arp[i].retry_at);
	return t;
}

void arp_flush(void)
{
	for (int i = 0; i < ARP_SLOTS; i++) {
		drop_pending(&N->arp[i]);
		memset(&N->arp[i], 0, sizeof(N->arp[i]));
	}
}
