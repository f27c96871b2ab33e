/* SPDX-License-Identifier: BSD-3-Clause */
/* A DHCP client (RFC 2131/2132): DISCOVER, OFFER, REQUEST, ACK, renewal at T1, restart on NAK. */
#include "net.h"

#define PROTO_UDP 17
#define BOOTP_LEN 236
#define MAGIC	  0x63825363u

enum { DHCP_DISCOVER = 1, DHCP_OFFER, DHCP_REQUEST, DHCP_DECLINE, DHCP_ACK, DHCP_NAK };
enum dstate { SELECTING, REQUESTING, BOUND, RENEWING };

struct dhcp {
	enum dstate state;
	uint32_t xid, offered, server;
	uint64_t next_at, start;
	uint32_t wait_ms;
	uint32_t lease_s;
};

static void send_msg(struct netif *nif, struct dhcp *d, int type)
{
	size_t len = BOOTP_LEN + 4 + 3 + 6 + 6 + 6 + 1;
	struct pkt *p = ip_pkt_alloc(UDP_HLEN + len);
	if (!p)
		return;
	uint8_t *u = pkt_payload(p), *b = u + UDP_HLEN;
	memset(b, 0, len);
	b[0] = 1; /* BOOTREQUEST */
	b[1] = 1; /* Ethernet */
	b[2] = 6;
	wr32(b + 4, d->xid);
	wr16(b + 8, (uint16_t)MIN((net_now_ms - d->start) / 1000, 65535u));
	if (d->state == RENEWING)
		wr32(b + 12, nif->addr); /* ciaddr */
	else
		wr16(b + 10, 0x8000); /* broadcast replies: we cannot take unicast yet */
	memcpy(b + 28, nif->mac, 6);
	uint8_t *o = b + BOOTP_LEN;
	wr32(o, MAGIC);
	o += 4;
	*o++ = 53;
	*o++ = 1;
	*o++ = (uint8_t)type;
	if (type == DHCP_REQUEST && d->state == REQUESTING) {
		*o++ = 50;
		*o++ = 4;
		wr32(o, d->offered);
		o += 4;
		*o++ = 54;
		*o++ = 4;
		wr32(o, d->server);
		o += 4;
	}
	*o++ = 55; /* parameters: subnet mask, router, DNS */
	*o++ = 3;
	*o++ = 1;
	*o++ = 3;
	*o++ = 6;
	*o++ = 255;
	len = (size_t)(o - b);
	uint32_t src = d->state == RENEWING ? nif->addr : 0;
	wr16(u, 68);
	wr16(u + 2, 67);
	wr16(u + 4, (uint16_t)(UDP_HLEN + len));
	wr16(u + 6, 0);
	uint16_t c =
	    inet_csum(u, UDP_HLEN + len,
		      inet_pseudo(src, IP_BROADCAST, PROTO_UDP, (uint32_t)(UDP_HLEN + len)));
	wr16(u + 6, c ? c : 0xffff);
	ip_output_if(nif, p, src, IP_BROADCAST, PROTO_UDP, UDP_HLEN + len);
}

/* RFC 2131 4.1: retransmit with an exponential backoff, capped here at 8 s */
static void schedule(struct dhcp *d)
{
	d->next_at = net_now_ms + d->wait_ms;
	d->wait_ms = MIN(d->wait_ms * 2, 8000u);
}

static void restart(struct netif *nif, struct dhcp *d)
{
	d->state = SELECTING;
	d->xid = net_random32();
	d->start = net_now_ms;
	d->wait_ms = 1000;
	send_msg(nif, d, DHCP_DISCOVER);
	schedule(d);
}

void dhcp_start(struct netif *nif)
{
	if (!nif->dhcp)
		nif->dhcp = net_alloc(sizeof(struct dhcp));
	if (nif->dhcp)
		restart(nif, nif->dhcp);
}

bool dhcp_bound(struct netif *nif)
{
	return nif->dhcp && nif->dhcp->state == BOUND;
}

void dhcp_release(struct netif *nif)
{
	net_free(nif->dhcp);
	nif->dhcp = NULL;
}

struct offer {
	int type;
	uint32_t yiaddr, server, mask, router, dns, lease;
};

static int parse(const uint8_t *b, size_t len, uint32_t xid, const uint8_t *mac, struct offer *r)
{
	if (len < BOOTP_LEN + 4 || b[0] != 2 || rd32(b + 4) != xid || memcmp(b + 28, mac, 6) ||
	    rd32(b + BOOTP_LEN) != MAGIC)
		return -1;
	memset(r, 0, sizeof(*r));
	r->yiaddr = rd32(b + 16);
	const uint8_t *o = b + BOOTP_LEN + 4, *end = b + len;
	while (o < end && *o != 255) {
		if (*o == 0) {
			o++;
			continue;
		}
		if (end - o < 2 || end - o < 2 + o[1])
			return -1;
		const uint8_t *v = o + 2;
		uint8_t n = o[1];
		switch (o[0]) {
		case 53:
			if (n >= 1)
				r->type = v[0];
			break;
		case 54:
			if (n >= 4)
				r->server = rd32(v);
			break;
		case 1:
			if (n >= 4)
				r->mask = rd32(v);
			break;
		case 3:
			if (n >= 4)
				r->router = rd32(v);
			break;
		case 6:
			if (n >= 4)
				r->dns = rd32(v);
			break;
		case 51:
			if (n >= 4)
				r->lease = rd32(v);
			break;
		}
		o += 2 + n;
	}
	return r->type ? 0 : -1;
}

static uint32_t default_mask(uint32_t a)
{
	return a < 0x80000000u ? 0xff000000u : a < 0xc0000000u ? 0xffff0000u : 0xffffff00u;
}

void dhcp_input(struct netif *nif, const uint8_t *b, size_t len)
{
	struct dhcp *d = nif->dhcp;
	struct offer r;
	if (!d || parse(b, len, d->xid, nif->mac, &r))
		return;
	if (d->state == SELECTING && r.type == DHCP_OFFER && r.yiaddr && r.server) {
		d->offered = r.yiaddr;
		d->server = r.server;
		d->state = REQUESTING;
		d->wait_ms = 1000;
		send_msg(nif, d, DHCP_REQUEST);
		schedule(d);
	} else if ((d->state == REQUESTING || d->state == RENEWING) && r.type == DHCP_ACK &&
		   r.yiaddr) {
		nif->addr = r.yiaddr;
		nif->mask = r.mask ? r.mask : default_mask(r.yiaddr);
		nif->gw = r.router;
		nif->dns = r.dns;
		d->lease_s = r.lease ? r.lease : 3600;
		d->state = BOUND;
		/* T1 (RFC 2131 4.4.5): renew at half the lease */
		d->next_at = net_now_ms + (uint64_t)d->lease_s * 500;
	} else if ((d->state == REQUESTING || d->state == RENEWING) && r.type == DHCP_NAK) {
		nif->addr = 0;
		restart(nif, d);
	}
}

void dhcp_tick(void)
{
	for (struct netif *nif = N->ifs; nif; nif = nif->next) {
		struct dhcp *d = nif->dhcp;
		if (!d || d->next_at > net_now_ms)
			continue;
		switch (d->state) {
		case SELECTING:
			send_msg(nif, d, DHCP_DISCOVER);
			break;
		case REQUESTING:
		case RENEWING:
			if (d->wait_ms >= 8000 && d->state == REQUESTING) {
				restart(nif, d);
				continue;
			}
			send_msg(nif, d, DHCP_REQUEST);
			break;
		case BOUND:
			d->state = RENEWING;
			d->xid = net_random32();
			d->wait_ms = 1000;
			send_msg(nif, d, DHCP_REQUEST);
			break;
		}
		schedule(d);
	}
}

uint64_t dhcp_next_timer(void)
{
	uint64_t t = UINT64_MAX;
	for (struct netif *nif = N->ifs; nif; nif = nif->next)
		if (nif->dhcp)
			t = MIN(t, nif->dhcp->next_at);
	return t;
}
