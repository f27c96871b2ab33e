/* SPDX-License-Identifier: BSD-3-Clause */
/* Ethernet framing and ARP (RFC 826): a small cache, a few frames held per unresolved address. */
#include "net.h"

#define ETH_IP	  0x0800
#define ETH_ARP	  0x0806
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

static struct arp_entry *arp_find(uint32_t ip)
{
	for (int i = 0; i < ARP_SLOTS; i++)
		if (N->arp[i].ip == ip && (N->arp[i].valid || N->arp[i].tries))
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
static struct arp_entry *arp_slot(uint32_t ip)
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

static void arp_learn(struct netif *nif, uint32_t ip, const uint8_t *mac, bool create)
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
		xmit(nif, mac, ETH_IP, p->data, p->len);
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
	arp_learn(nif, spa, a + 8, for_us);
	if (for_us && op == 1)
		arp_send(nif, 2, a + 8, spa);
}

void eth_input(struct netif *nif, const uint8_t *f, size_t len, bool csum_ok)
{
	if (len < ETH_HLEN) {
		nif->rx_dropped++;
		return;
	}
	if (!nif->loopback && memcmp(f, nif->mac, 6) && memcmp(f, bcast, 6)) {
		nif->rx_dropped++;
		return;
	}
	switch (rd16(f + 12)) {
	case ETH_IP:
		ip_input(nif, f + ETH_HLEN, len - ETH_HLEN, csum_ok);
		break;
	case ETH_ARP:
		if (!nif->loopback)
			arp_input(nif, f + ETH_HLEN, len - ETH_HLEN);
		break;
	default:
		nif->rx_dropped++;
	}
}

void eth_output_ip(struct netif *nif, uint32_t nexthop, struct pkt *p)
{
	if (nif->loopback || nexthop == IP_BROADCAST ||
	    (nif->mask && (nexthop | nif->mask) == IP_BROADCAST)) {
		xmit(nif, nif->loopback ? (const uint8_t *)"\0\0\0\0\0\0" : bcast, ETH_IP, p->data,
		     p->len);
		net_free(p);
		return;
	}
	struct arp_entry *e = arp_find(nexthop);
	if (e && e->valid && e->nif == nif) {
		xmit(nif, e->mac, ETH_IP, p->data, p->len);
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
		arp_send(nif, 1, NULL, nexthop);
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
			arp_send(e->nif, 1, NULL, e->ip);
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
